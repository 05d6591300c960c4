//! "Did you mean …?" suggestions: pick the known name closest to a misspelt one.
//!
//! Shared by the macro engine (unknown actions, definitions, tuning groups) and the
//! recipe validator (unknown keys). The rule is deliberately simple and predictable:
//! a candidate is acceptable when its edit distance is at most a third of the longer
//! name (at least 1); names sharing a stem of three or more characters may differ by
//! up to half the longer name (`tune` → `tuning`), and a typed prefix of four or more
//! characters matches its completion (`cmake_inst` → `cmake_install`).
//! Among acceptable candidates the smallest distance wins; ties go to the
//! lexicographically smaller name, so the answer never depends on input order.

/// Returns the candidate closest to `name`, or `None` when nothing is close enough.
///
/// An exact match is never suggested (the caller would not be asking).
pub fn closest_name<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lowered = name.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name || candidate.is_empty() {
            continue;
        }
        let distance = edit_distance(&lowered, &candidate.to_ascii_lowercase());
        let longest = name.chars().count().max(candidate.chars().count());
        let limit = (longest / 3).max(1);
        // A shared stem of three or more characters allows a looser match
        // (`tune` → `tuning`, `cmake_inst` → `cmake_install`).
        let stem = common_prefix_len(&lowered, &candidate.to_ascii_lowercase());
        let stem_match = stem >= 3 && distance <= longest / 2 || stem >= 4 && stem == name.len();
        if distance > limit && !stem_match {
            continue;
        }
        let better = match best {
            None => true,
            Some((best_distance, best_name)) => {
                distance < best_distance || (distance == best_distance && candidate < best_name)
            }
        };
        if better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Edit distance over Unicode scalar values: insert, delete, substitute and
/// swap of two neighbours each cost 1 (optimal string alignment), so the common
/// typo `mkae` is one step from `make`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("cmake_buld", "cmake_build"), 1);
        assert_eq!(edit_distance("mkae", "make"), 1);
    }

    #[test]
    fn suggests_close_names() {
        let names = ["tuning", "toolchain", "upstreams", "unpack"];
        assert_eq!(closest_name("tune", names), Some("tuning"));
        assert_eq!(closest_name("upstream", names), Some("upstreams"));
        assert_eq!(closest_name("toolchian", names), Some("toolchain"));
        assert_eq!(closest_name("zzzzzz", names), None);
        assert_eq!(
            closest_name("cmake_inst", ["cmake", "cmake_install"]),
            Some("cmake_install")
        );
        assert_eq!(closest_name("tuning", names), None);
    }

    #[test]
    fn ties_break_alphabetically_regardless_of_order() {
        assert_eq!(closest_name("maka", ["make", "mako"]), Some("make"));
        assert_eq!(closest_name("maka", ["mako", "make"]), Some("make"));
    }

    #[test]
    fn short_names_need_a_close_match() {
        assert_eq!(closest_name("cc", ["cxx", "ld", "c"]), Some("c"));
        assert_eq!(closest_name("x", ["cmake"]), None);
    }
}
