//! Times for people: a Unix epoch as a UTC date and how long ago it was.

/// `2026-12-03 09:41 UTC (5 minutes ago)`; `now` is the current epoch.
pub fn describe(epoch: i64, now: i64) -> String {
    format!("{} ({})", utc(epoch), ago(now.saturating_sub(epoch)))
}

/// `2026-12-03 09:41 UTC`.
pub fn utc(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let seconds = epoch.rem_euclid(86_400);
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60
    )
}

/// `just now`, `42 seconds ago`, `5 minutes ago`, `3 hours ago`, `12 days ago`.
pub fn ago(seconds: i64) -> String {
    if seconds < 0 {
        return "in the future".to_string();
    }
    let (count, unit) = match seconds {
        0..=9 => return "just now".to_string(),
        10..=119 => (seconds, "second"),
        120..=7_199 => (seconds / 60, "minute"),
        7_200..=172_799 => (seconds / 3600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    format!("{count} {unit}s ago")
}

/// The proleptic Gregorian date of a count of days since 1970-01-01
/// (the era arithmetic of the civil calendar: 400-year cycles of 146097 days).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The current Unix time (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_become_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc(-86_400), "1969-12-31 00:00 UTC");
    }

    #[test]
    fn ages_are_rounded_down_to_a_readable_unit() {
        assert_eq!(ago(3), "just now");
        assert_eq!(ago(42), "42 seconds ago");
        assert_eq!(ago(300), "5 minutes ago");
        assert_eq!(ago(3 * 3600), "3 hours ago");
        assert_eq!(ago(12 * 86_400), "12 days ago");
        assert_eq!(describe(100, 400), "1970-01-01 00:01 UTC (5 minutes ago)");
    }
}
