//! Records the git commit for `moss --version` (`MOSS_VERSION_TEXT`), when
//! built from a checkout, and marks the tests whose requirement (the original
//! tools' fixtures, a host tool) this machine lacks, so that they show as
//! ignored rather than passing.

fn main() {
    build_stamp::record_version_text("MOSS_VERSION_TEXT");
    test_support::probe::declare();
}
