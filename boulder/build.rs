//! Embeds the workspace `macros/` directory: generates a sorted list of
//! `(relative path, include_str!(file))` so the binary carries the macro files
//! and their order never depends on the file system. Also records the git
//! commit for `--version` (`BOULDER_VERSION_TEXT`), when built from a checkout.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            if let Ok(relative) = path.strip_prefix(root) {
                let relative = relative.to_string_lossy().replace('\\', "/");
                if relative.starts_with("arch/") || relative.starts_with("actions/") {
                    out.push((relative, path.clone()));
                }
            }
        }
    }
}

fn main() {
    // Tests whose requirement (fixtures, a host tool) is absent show as ignored.
    test_support::probe::declare();
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    build_stamp::record_version_text("BOULDER_VERSION_TEXT");
    let root = manifest.join("../macros");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut code = String::from("pub static EMBEDDED_MACROS: &[(&str, &str)] = &[\n");
    for (relative, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        code.push_str(&format!(
            "    ({relative:?}, include_str!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = fs::write(out.join("embedded_macros.rs"), code) {
        panic!("cannot write embedded_macros.rs: {error}");
    }
}
