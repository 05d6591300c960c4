//! ELF files: `soname()` providers and dependencies, `interpreter()`
//! dependencies, debug info split by build-id, and stripping. An ELF file is
//! included as soon as this handler has seen it.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::context::{Decision, FileContext};
use super::debug_split::{self, debug_file_path};
use super::elf_info::{has_elf_magic, read_elf, ElfInfo};
use crate::package::relation::{Kind, Relation};

pub fn handle(file: &mut FileContext) -> Decision {
    if !file.entry.is_regular() || is_debug_file(file.path()) {
        return Decision::Next;
    }
    let data = match read_if_elf(&file.on_disk) {
        Ok(Some(data)) => data,
        Ok(None) => return Decision::Next,
        Err(error) => {
            file.warn(format!("cannot read file: {error}"));
            return Decision::Next;
        }
    };
    let Some(info) = read_elf(&data) else {
        return Decision::Next;
    };
    drop(data);

    add_needed(file, &info);
    add_sonames(file, &info);
    if let Some(interpreter) = &info.interpreter {
        file.depends.insert(Relation::new(
            Kind::Interpreter,
            format!("{interpreter}({})", info.isa),
        ));
    }
    split_and_strip(file, &info);
    Decision::Include
}

/// Split debug files are data, not programs to analyse again.
fn is_debug_file(path: &str) -> bool {
    path.ends_with(".debug") && path.split('/').any(|c| c == "debug")
}

fn read_if_elf(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        let read = file.read(&mut magic[filled..])?;
        if read == 0 {
            return Ok(None);
        }
        filled += read;
    }
    if !has_elf_magic(&magic) {
        return Ok(None);
    }
    let mut data = magic.to_vec();
    file.read_to_end(&mut data)?;
    Ok(Some(data))
}

/// `soname(lib(isa))` for each `DT_NEEDED`; a library found through the
/// file's run paths (or its own directory) below a library directory is
/// named by its path after `/usr/<dir>/`, as its provider is.
fn add_needed(file: &mut FileContext, info: &ElfInfo) {
    let own_dir = parent_of(file.path());
    let mut search: Vec<PathBuf> = info
        .search_paths
        .iter()
        .map(|p| {
            p.replace("${ORIGIN}", &own_dir)
                .replace("$ORIGIN", &own_dir)
        })
        .filter(|p| p.starts_with('/'))
        .map(PathBuf::from)
        .collect();
    search.push(PathBuf::from(&own_dir));
    for needed in &info.needed {
        let name = search
            .iter()
            .map(|dir| normalise(&dir.join(needed)))
            .find(|candidate| {
                exists_below(file.install_root, candidate)
                    || exists_below(&file.options.system_root, candidate)
            })
            .map(|found| drop_components(&found, 3))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| needed.clone());
        file.depends
            .insert(Relation::new(Kind::Soname, format!("{name}({})", info.isa)));
    }
}

/// `soname()` providers for shared libraries, plus `interpreter()` ones for
/// the dynamic loader under the paths programs name it by.
fn add_sonames(file: &mut FileContext, info: &ElfInfo) {
    let file_name = file.entry.file_name();
    if !file_name.contains(".so") {
        return;
    }
    let soname = info.soname.clone().unwrap_or_else(|| file_name.to_string());
    let subdir = drop_components(Path::new(&parent_of(file.path())), 3);
    let provided = if subdir.is_empty() {
        soname.clone()
    } else {
        format!("{subdir}/{soname}")
    };
    file.provides.insert(Relation::new(
        Kind::Soname,
        format!("{provided}({})", info.isa),
    ));

    if soname.starts_with("ld-") && file.path().starts_with("/usr/lib") {
        let prefixes: &[&str] = if info.is_64 {
            &["/usr/lib64/", "/lib64/", "/lib/"]
        } else {
            &["/usr/lib/", "/lib32/", "/lib/"]
        };
        let mut names: Vec<String> = prefixes.iter().map(|p| format!("{p}{soname}")).collect();
        names.push(file.path().to_string());
        for name in names {
            let text = format!("{name}({})", info.isa);
            file.provides
                .insert(Relation::new(Kind::Interpreter, text.clone()));
            file.provides.insert(Relation::new(Kind::Soname, text));
        }
    }
}

fn split_and_strip(file: &mut FileContext, info: &ElfInfo) {
    let debug_file = if file.options.debug {
        split_debug(file, info)
    } else {
        None
    };
    if let Some(debug_on_disk) = debug_file {
        let tools = &file.options.tools;
        if file.options.strip && debug_split::is_gnu(tools) {
            let program_dir = is_program_dir(file.path());
            if debug_split::strip_with_debuglink(tools, &file.on_disk, &debug_on_disk, program_dir)
                .is_ok()
            {
                file.modified = true;
                return;
            }
            // The separate steps below say which of the two failed.
        }
        match debug_split::add_debuglink(tools, &file.on_disk, &debug_on_disk) {
            Ok(()) => file.modified = true,
            Err(error) => file.warn(format!("debug link not added: {error}")),
        }
    }
    strip_if_wanted(file);
}

/// Copies the debug info of a file with a build-id into the build-id tree
/// (unless an identical file did already); returns the debug file the
/// caller links the file to.
fn split_debug(file: &mut FileContext, info: &ElfInfo) -> Option<PathBuf> {
    let tools = &file.options.tools;
    let debug_path = info
        .build_id
        .as_deref()
        .and_then(|id| debug_file_path(id, info.is_64))?;
    if let Some(link) = symlink_on_the_way(file.install_root, &debug_path) {
        file.warn(format!(
            "debug info not split off: {link} is a symlink, and debug files are only written inside the install tree"
        ));
        return None;
    }
    let debug_on_disk = file.install_root.join(debug_path.trim_start_matches('/'));
    if !debug_on_disk.exists() {
        if let Err(error) = debug_split::keep_debug(tools, &file.on_disk, &debug_on_disk) {
            file.warn(format!("debug info not split off: {error}"));
            return None;
        }
    }
    file.generated.push(debug_path);
    Some(debug_on_disk)
}

/// Programs (in a `bin` or `sbin` directory) are stripped of everything
/// unneeded, other files of debug info and unneeded symbols.
fn is_program_dir(path: &str) -> bool {
    let parent = parent_of(path);
    parent.ends_with("/bin") || parent.ends_with("/sbin")
}

fn strip_if_wanted(file: &mut FileContext) {
    let tools = &file.options.tools;
    if file.options.strip {
        match debug_split::strip(tools, &file.on_disk, is_program_dir(file.path())) {
            Ok(()) => file.modified = true,
            Err(error) => file.warn(format!("not stripped: {error}")),
        }
    }
}

/// The first directory of `path` (below `root`) that is a symlink, if any.
fn symlink_on_the_way(root: &Path, path: &str) -> Option<String> {
    let mut current = root.to_path_buf();
    let mut shown = String::new();
    let parent = parent_of(path);
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        current.push(part);
        shown.push('/');
        shown.push_str(part);
        match current.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => return Some(shown),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

fn parent_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((dir, _)) => dir.to_string(),
    }
}

/// `a/b/../c/./d` → `a/c/d`, without touching the filesystem.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The path without its first `count` components (the root counts as one):
/// `/usr/lib/foo/libx.so`, 3 → `foo/libx.so`.
fn drop_components(path: &Path, count: usize) -> String {
    path.components()
        .skip(count)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn exists_below(root: &Path, absolute: &Path) -> bool {
    let relative = absolute.strip_prefix("/").unwrap_or(absolute);
    root.join(relative).symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(
            drop_components(Path::new("/usr/lib/foo/libx.so"), 3),
            "foo/libx.so"
        );
        assert_eq!(drop_components(Path::new("/usr/lib"), 3), "");
        assert_eq!(
            normalise(Path::new("/usr/bin/../lib/./libgreet.so.1")),
            PathBuf::from("/usr/lib/libgreet.so.1")
        );
        assert_eq!(parent_of("/usr/bin/x"), "/usr/bin");
        assert_eq!(parent_of("/x"), "/");
        assert!(is_debug_file("/usr/lib/debug/.build-id/ab/cd.debug"));
        assert!(!is_debug_file("/usr/lib/libfoo.debug"));
    }
}
