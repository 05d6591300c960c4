//! The default subpackage templates of the original (its `arch/base.yaml`
//! `packages:`), for a recipe called `name`, in the order they are added as
//! rules (later wins). The build should prefer the macro library's own
//! `packages:` when it has them; this built-in copy keeps collection usable
//! without one and gives tests the real rules.

use super::analysis::PackageSettings;
use super::rules::PackagePaths;

/// A template package: its collection paths and settings (rundeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub paths: PackagePaths,
    pub settings: PackageSettings,
}

/// The default templates for recipe `name`.
pub fn default_templates(name: &str) -> Vec<Template> {
    let template = |suffix: &str, paths: &[&str], rundeps: &[String]| Template {
        paths: PackagePaths::new(format!("{name}{suffix}"), paths),
        settings: PackageSettings {
            rundeps: rundeps.to_vec(),
            ..PackageSettings::default()
        },
    };
    let main = name.to_string();
    let devel = format!("{name}-devel");
    let bit32 = format!("{name}-32bit");
    vec![
        template("", &["*"], &[]),
        template("-docs", &["/usr/share/gtk-doc", "/usr/share/help"], &[]),
        template(
            "-devel",
            &[
                "/usr/include",
                "/usr/lib/*.a",
                "/usr/lib/cmake",
                "/usr/lib/lib*.so",
                "/usr/lib/pkgconfig",
                "/usr/share/aclocal",
                "/usr/share/cmake",
                "/usr/share/man/man2",
                "/usr/share/man/man3",
                "/usr/share/man/man9",
                "/usr/share/pkgconfig",
                "/usr/share/gir-1.0",
                "/usr/share/vala/vapi",
                "/usr/share/vala-*/vapi",
                "/usr/lib/qt6/mkspecs",
                "/usr/lib/qt6/metatypes",
                "/usr/lib/qt6/sbom",
                "/usr/share/qt6/mkspecs",
                "/usr/share/qt6/metatypes",
                "/usr/share/kdevappwizard",
            ],
            std::slice::from_ref(&main),
        ),
        template("-dbginfo", &["/usr/lib/debug"], &[]),
        template("-libs", &[], &[]),
        template(
            "-32bit",
            &["/usr/lib32", "/usr/lib32/lib*.so.*"],
            std::slice::from_ref(&main),
        ),
        template(
            "-32bit-devel",
            &[
                "/usr/lib32/*.a",
                "/usr/lib32/cmake",
                "/usr/lib32/lib*.so",
                "/usr/lib32/pkgconfig",
            ],
            &[bit32, devel],
        ),
        template("-32bit-dbginfo", &["/usr/lib32/debug"], &[]),
        template("-demos", &["/usr/lib/qt*/examples"], &[]),
    ]
}
