//! Parses and fully checks arbitrary bytes as a stone.yaml recipe (YAML tree with spans,
//! typed model, macro expansion of every phase); any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boulder::recipe::fuzz_check(data);
});
