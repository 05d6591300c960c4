//! Feeds arbitrary bytes to the stone reader. The logic lives in
//! `moss_core::stone::fuzz::fuzz_reader` so a stable unit test can replay
//! the corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    moss_core::stone::fuzz::fuzz_reader(data);
});
