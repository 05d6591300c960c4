//! The process umask, read without changing it.

/// The process umask from `/proc/self/status`. `umask(2)` can only set it,
/// and setting then restoring it races with every other thread creating a
/// file meanwhile, so it is never read that way. `None` when it cannot be
/// read: callers then apply every mode explicitly.
pub fn process_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_plausible_umask() {
        let umask = super::process_umask().expect("/proc/self/status has a Umask line");
        assert_eq!(umask & !0o777, 0, "{umask:o}");
    }
}
