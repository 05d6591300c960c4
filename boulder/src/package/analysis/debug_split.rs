//! Splitting debug info off ELF files and stripping them, with binutils (or
//! LLVM's drop-in tools) run as real commands on the real files.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The programs used to split and strip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// `objcopy` (or `llvm-objcopy`).
    pub objcopy: PathBuf,
    /// `strip` (or `llvm-strip`).
    pub strip: PathBuf,
}

impl Tools {
    /// The GNU tools in `/usr/bin`.
    pub fn gnu() -> Self {
        Self {
            objcopy: "/usr/bin/objcopy".into(),
            strip: "/usr/bin/strip".into(),
        }
    }

    /// The LLVM tools in `/usr/bin` (the original's default toolchain).
    pub fn llvm() -> Self {
        Self {
            objcopy: "/usr/bin/llvm-objcopy".into(),
            strip: "/usr/bin/llvm-strip".into(),
        }
    }
}

/// Where the debug file of an ELF file with `build_id` goes, as an
/// install-tree path: `/usr/lib/debug/.build-id/ab/cdef….debug`
/// (`/usr/lib32/debug/…` for 32-bit files).
pub fn debug_file_path(build_id: &[u8], is_64: bool) -> Option<String> {
    if build_id.len() < 2 {
        return None;
    }
    let hex: String = build_id.iter().map(|b| format!("{b:02x}")).collect();
    let lib = if is_64 { "lib" } else { "lib32" };
    Some(format!(
        "/usr/{lib}/debug/.build-id/{}/{}.debug",
        &hex[..2],
        &hex[2..]
    ))
}

/// Copies the debug sections of `file` into `debug_file` (creating its
/// directory). Returns a failure description.
pub fn keep_debug(tools: &Tools, file: &Path, debug_file: &Path) -> Result<(), String> {
    if let Some(dir) = debug_file.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    run(
        &tools.objcopy,
        &["--only-keep-debug".into(), file.into(), debug_file.into()],
    )
}

/// Records `debug_file` in `file`'s `.gnu_debuglink` section.
pub fn add_debuglink(tools: &Tools, file: &Path, debug_file: &Path) -> Result<(), String> {
    let mut link = OsString::from("--add-gnu-debuglink=");
    link.push(debug_file);
    run(&tools.objcopy, &[link, file.into()])
}

/// Whether the tools are GNU binutils, whose `objcopy` strips and adds the
/// debug link in one run with the bytes `objcopy --add-gnu-debuglink` then
/// `strip` give. (LLVM's `llvm-strip` drops the link `llvm-objcopy` added,
/// so a single `llvm-objcopy` run would keep it: other bytes.)
pub fn is_gnu(tools: &Tools) -> bool {
    tools
        .objcopy
        .file_name()
        .is_some_and(|name| name == "objcopy")
        && tools.strip.file_name().is_some_and(|name| name == "strip")
}

/// [`add_debuglink`] then [`strip`] in one `objcopy` run (GNU tools only,
/// see [`is_gnu`]): one process less per ELF file. On failure the file is
/// unchanged (objcopy replaces it only when it succeeds).
pub fn strip_with_debuglink(
    tools: &Tools,
    file: &Path,
    debug_file: &Path,
    is_program_dir: bool,
) -> Result<(), String> {
    let mut link = OsString::from("--add-gnu-debuglink=");
    link.push(debug_file);
    let mut args: Vec<OsString> = if is_program_dir {
        vec!["--strip-all".into()]
    } else {
        vec!["--strip-debug".into(), "--strip-unneeded".into()]
    };
    args.push(link);
    args.push(file.into());
    run(&tools.objcopy, &args)
}

/// Strips `file`: everything unneeded for programs in a `bin` or `sbin`
/// directory, `-g --strip-unneeded` for everything else (libraries, objects).
pub fn strip(tools: &Tools, file: &Path, is_program_dir: bool) -> Result<(), String> {
    if is_program_dir {
        run(&tools.strip, &[file.into()])
    } else {
        run(
            &tools.strip,
            &["-g".into(), "--strip-unneeded".into(), file.into()],
        )
    }
}

fn run(program: &Path, args: &[OsString]) -> Result<(), String> {
    let shown = || {
        let mut text = program.display().to_string();
        for arg in args {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
        }
        text
    };
    let output = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", shown()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed ({}): {}",
            shown(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_paths_follow_the_build_id() {
        assert_eq!(
            debug_file_path(&[0xab, 0xcd, 0x01], true).as_deref(),
            Some("/usr/lib/debug/.build-id/ab/cd01.debug")
        );
        assert_eq!(
            debug_file_path(&[0x0f, 0xff], false).as_deref(),
            Some("/usr/lib32/debug/.build-id/0f/ff.debug")
        );
        assert_eq!(debug_file_path(&[0x01], true), None);
    }

    #[test]
    fn a_missing_tool_is_a_described_failure() {
        let tools = Tools {
            objcopy: "/nonexistent/objcopy".into(),
            strip: "/nonexistent/strip".into(),
        };
        let error = strip(&tools, Path::new("/tmp/x"), true).expect_err("no such tool");
        assert!(error.contains("/nonexistent/strip"), "{error}");
    }
}
