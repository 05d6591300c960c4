//! Trigger files: the original's example fixture parses with every field,
//! its pattern captures, its type filter applies, and trigger files are
//! found and matched in a tree on disk.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use moss_core::trigger::{
    self, inhibited, Action, Environment, Handler, PathType, Scope, TreePath, Trigger,
};

fn fixture() -> Option<PathBuf> {
    test_support::shared_fixtures(env!("CARGO_MANIFEST_DIR"), "trigger_fixture")
        .map(|dir| dir.join("recipes/trigger.yml"))
}

fn node(path: &str, kind: PathType) -> TreePath {
    TreePath {
        path: path.into(),
        kind: Some(kind),
    }
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn original_example_parses_with_every_field() {
    let Some(path) = fixture() else { return };
    let text = fs::read_to_string(&path).unwrap();
    let t = Trigger::parse(&text, &path).expect("the original's example is a valid trigger");
    assert_eq!(t.name, "depmod");
    assert!(t.description.as_deref().unwrap_or("").contains("YAML"));
    assert_eq!(t.before.as_deref(), Some("some.trigger"));
    assert_eq!(t.after.as_deref(), Some("some.trigger"));
    assert_eq!(
        t.inhibitors.paths,
        ["/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_dsa_key"]
    );
    assert_eq!(t.inhibitors.environment, ["chroot", "live"]);
    assert_eq!(t.handlers.len(), 2);
    assert_eq!(
        t.handlers["depmod"],
        Handler::Run {
            run: "/sbin/depmod".into(),
            args: vec!["-a".into(), "$(version)".into()]
        }
    );
    assert_eq!(t.paths.len(), 1);
    assert_eq!(t.paths[0].kind, Some(PathType::Directory));
    assert_eq!(t.paths[0].handlers, ["depmod"]);
}

#[test]
#[cfg_attr(lacks_fixtures, ignore = "needs ../shared/fixtures")]
fn original_example_matches_once_per_kernel_directory() {
    let Some(path) = fixture() else { return };
    let t = Trigger::parse(&fs::read_to_string(&path).unwrap(), &path).unwrap();
    let tree = [
        node("/usr/lib/modules", PathType::Directory),
        node("/usr/lib/modules/6.1.0-1.lts", PathType::Directory),
        node("/usr/lib/modules/6.1.0-1.lts/kernel", PathType::Directory),
        node(
            "/usr/lib/modules/6.1.0-1.lts/kernel/a.ko",
            PathType::Regular,
        ),
        node("/usr/lib/modules/6.9.2/kernel", PathType::Directory),
        // Not a directory: the type filter leaves it out.
        node("/usr/lib/modules/7.0.0/kernel", PathType::Symlink),
        node("/usr/lib/modules/8.0.0/extra", PathType::Directory),
    ];
    // `before`/`after` name a trigger that is not loaded: ignored.
    let jobs = trigger::plan(std::slice::from_ref(&t), &tree).unwrap();
    assert_eq!(jobs.len(), 1);
    let actions: Vec<&Action> = jobs[0].actions.iter().map(|(_, a)| a).collect();
    assert_eq!(
        actions,
        [
            &Action::Run(vec![
                "/sbin/depmod".into(),
                "-a".into(),
                "6.1.0-1.lts".into()
            ]),
            &Action::Run(vec!["/sbin/depmod".into(), "-a".into(), "6.9.2".into()]),
        ]
    );
    // Inhibited in a chroot, on live media, and once the ssh keys exist.
    let mut env = Environment::default();
    assert_eq!(inhibited(&t, &env, &|_| false), None);
    assert!(inhibited(&t, &env, &|p| p == "/etc/ssh/ssh_host_dsa_key").is_some());
    env.names.insert("chroot".into());
    assert!(inhibited(&t, &env, &|_| false).is_some());
}

#[test]
fn trigger_files_are_found_by_scope_and_matched_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let usr = dir.path().join("usr");
    let triggers = usr.join("share/moss/triggers");
    fs::create_dir_all(triggers.join("tx.d")).unwrap();
    fs::create_dir_all(triggers.join("sys.d")).unwrap();
    let yaml = |name: &str| {
        format!(
            "name: {name}\nhandlers:\n  h:\n    run: /usr/bin/{name}\n    args: [\"$(lib)\"]\n\
             paths:\n  \"/usr/lib/(lib:lib*.so)\":\n    handlers: [h]\n    type: symlink\n"
        )
    };
    fs::write(triggers.join("tx.yaml"), yaml("top")).unwrap();
    fs::write(triggers.join("tx.d/b.yaml"), yaml("second")).unwrap();
    fs::write(triggers.join("tx.d/ignored.txt"), "not a trigger").unwrap();
    fs::write(triggers.join("tx.d/c.kdl"), "trigger").unwrap();
    fs::write(triggers.join("sys.d/s.yaml"), yaml("system")).unwrap();
    fs::create_dir_all(usr.join("lib")).unwrap();
    fs::write(usr.join("lib/libx.so.1"), "elf").unwrap();
    fs::write(usr.join("lib/libreal.so"), "elf").unwrap();
    symlink("libx.so.1", usr.join("lib/libx.so")).unwrap();

    let (tx, warnings) = trigger::load(&usr, Scope::Transaction).unwrap();
    let names: Vec<&str> = tx.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["top", "second"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("c.kdl"), "{warnings:?}");
    let (sys, _) = trigger::load(&usr, Scope::System).unwrap();
    assert_eq!(sys.len(), 1);
    assert_eq!(sys[0].name, "system");

    let paths = trigger::tree_paths(&usr).unwrap();
    assert!(paths.contains(&node("/usr", PathType::Directory)));
    assert!(paths.contains(&node("/usr/lib/libx.so", PathType::Symlink)));
    let jobs = trigger::plan(&tx, &paths).unwrap();
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        // Only the symlink matches: libreal.so is a regular file.
        let argv: Vec<&Action> = job.actions.iter().map(|(_, a)| a).collect();
        assert_eq!(
            argv,
            [&Action::Run(vec![
                format!("/usr/bin/{}", job.trigger),
                "libx.so".into()
            ])]
        );
    }

    // Two files defining one trigger name are refused.
    fs::write(triggers.join("tx.d/z.yaml"), yaml("top")).unwrap();
    let err = trigger::load(&usr, Scope::Transaction).unwrap_err();
    assert!(err.to_string().contains("already defined"), "{err}");
}
