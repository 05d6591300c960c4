//! `binary(x)` for everything in `/usr/bin`, `sysbinary(x)` for `/usr/sbin`.

use super::context::{Decision, FileContext};
use crate::package::relation::{Kind, Relation};
use moss_core::stone::LayoutKind;

pub fn handle(file: &mut FileContext) -> Decision {
    if file.entry.kind == LayoutKind::Directory {
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
