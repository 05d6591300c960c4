//! Tokenizes and expands arbitrary input against the embedded macro library;
//! any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    boulder::macros::fuzz_expand(data);
});
