//! Drops what a stone cannot or should not ship: anything outside `/usr`, and
//! libtool `.la` archives under `/usr/lib` and `/usr/lib32` when `lastrip` is on.

use super::context::{Decision, FileContext};

pub fn handle(file: &mut FileContext) -> Decision {
    let path = file.path();
    if !path.starts_with("/usr/") {
        return Decision::Ignore;
    }
    let in_lib = path.starts_with("/usr/lib/") || path.starts_with("/usr/lib32/");
    if file.options.lastrip && in_lib && path.ends_with(".la") {
        return Decision::Ignore;
    }
    Decision::Next
}
