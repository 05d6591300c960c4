//! `cmake(Name)` for CMake package files `NameConfig.cmake` and
//! `name-config.cmake` (but not `Name-Config.cmake`, as in the original).

use super::context::{Decision, FileContext};
use crate::package::relation::{Kind, Relation};
use moss_core::stone::LayoutKind;

pub fn handle(file: &mut FileContext) -> Decision {
    if file.entry.kind == LayoutKind::Directory {
        return Decision::Next;
    }
    if let Some(name) = cmake_package_name(file.entry.file_name()) {
        file.provides.insert(Relation::new(Kind::Cmake, name));
    }
    Decision::Next
}

/// The package name a CMake config file provides, if it is one.
pub fn cmake_package_name(file_name: &str) -> Option<&str> {
    if file_name.ends_with("-Config.cmake") {
        return None;
    }
    let name = file_name
        .strip_suffix("-config.cmake")
        .or_else(|| file_name.strip_suffix("Config.cmake"))?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::cmake_package_name;

    #[test]
    fn config_file_names() {
        assert_eq!(cmake_package_name("GreetConfig.cmake"), Some("Greet"));
        assert_eq!(
            cmake_package_name("bash-completion-config.cmake"),
            Some("bash-completion")
        );
        assert_eq!(cmake_package_name("Greet-Config.cmake"), None);
        assert_eq!(cmake_package_name("GreetConfigVersion.cmake"), None);
        assert_eq!(cmake_package_name("Config.cmake"), None);
        assert_eq!(cmake_package_name("greet.cmake"), None);
    }
}
