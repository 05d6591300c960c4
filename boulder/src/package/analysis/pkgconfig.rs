//! `pkgconfig(name)` providers for `.pc` files in a `pkgconfig` directory
//! (`pkgconfig32(name)` below `lib32`), and dependencies on the modules they
//! require. A module required by a 32-bit `.pc` is `pkgconfig32` when its
//! `.pc` exists next to it or in the build root's `/usr/lib32/pkgconfig`.

use std::fs;
use std::path::Path;

use super::context::{Decision, FileContext};
use super::pc_file::PcFile;
use crate::package::relation::{Kind, Relation};

pub fn handle(file: &mut FileContext) -> Decision {
    let path = file.path().to_string();
    let Some(module) = file.entry.file_name().strip_suffix(".pc") else {
        return Decision::Next;
    };
    let components: Vec<&str> = path.split('/').collect();
    if !file.entry.is_regular() || !components.contains(&"pkgconfig") || module.is_empty() {
        return Decision::Next;
    }
    let is_32bit = components.contains(&"lib32");
    let kind = if is_32bit {
        Kind::Pkgconfig32
    } else {
        Kind::Pkgconfig
    };
    file.provides.insert(Relation::new(kind, module));

    let text = match fs::read(&file.on_disk) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => {
            file.warn(format!("cannot read pkg-config file: {error}"));
            return Decision::Next;
        }
    };
    let dir = path.rsplit_once('/').map_or("/", |(dir, _)| dir);
    let required = match PcFile::parse(&text, dir).required_modules() {
        Ok(required) => required,
        Err(error) => {
            file.warn(format!(
                "pkg-config file not understood, its requirements are skipped: {error}"
            ));
            return Decision::Next;
        }
    };
    let local_dir = file.on_disk.parent().map(Path::to_path_buf);
    let system_dir = file.options.system_root.join("usr/lib32/pkgconfig");
    for name in required {
        let exists_32bit = |dir: &Path| dir.join(format!("{name}.pc")).exists();
        let dep_kind = if is_32bit
            && (local_dir.as_deref().is_some_and(exists_32bit) || exists_32bit(&system_dir))
        {
            Kind::Pkgconfig32
        } else {
            Kind::Pkgconfig
        };
        file.depends.insert(Relation::new(dep_kind, name));
    }
    Decision::Next
}
