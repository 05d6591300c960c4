//! The binaries start and report their version.

#[test]
fn moss_and_boulder_report_their_version() {
    for name in ["moss", "boulder"] {
        let out = e2e::command(name)
            .arg("version")
            .output()
            .expect("run binary");
        assert!(out.status.success(), "{name} version failed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(name), "unexpected output: {text}");
    }
}
