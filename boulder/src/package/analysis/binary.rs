//! `binary(x)` for everything in `/usr/bin`, `sysbinary(x)` for `/usr/sbin`.

use super::context::{Decision, FileContext};
use crate::package::entry::EntryKind;
use crate::package::relation::{Kind, Relation};

pub fn handle(file: &mut FileContext) -> Decision {
    if file.entry.kind == EntryKind::Directory {
        return Decision::Next;
    }
    let path = file.path();
    let kind = if path
        .strip_prefix("/usr/bin/")
        .is_some_and(|n| !n.contains('/'))
    {
        Kind::Binary
    } else if path
        .strip_prefix("/usr/sbin/")
        .is_some_and(|n| !n.contains('/'))
    {
        Kind::Sysbinary
    } else {
        return Decision::Next;
    };
    let name = file.entry.file_name().to_string();
    file.provides.insert(Relation::new(kind, name));
    Decision::Next
}
