//! Resolution by name and provider: priorities, releases, transitive
//! dependencies, declared conflicts and errors that explain the chain.

use moss_core::resolve::{
    parse_request, Candidate, CandidateSource, Origin, Prefer, Request, ResolveError, Resolver,
};
use moss_core::stone::{Dependency, DependencyKind, Meta};

fn pkg(name: &str, release: u64, provides: &[&str], depends: &[&str], conflicts: &[&str]) -> Meta {
    Meta {
        name: name.into(),
        version: format!("{release}.0"),
        source_release: release,
        build_release: 1,
        architecture: "x86_64".into(),
        provides: provides.iter().map(|p| p.parse().unwrap()).collect(),
        depends: depends.iter().map(|d| d.parse().unwrap()).collect(),
        conflicts: conflicts.iter().map(|c| c.parse().unwrap()).collect(),
        ..Default::default()
    }
}

fn source(name: &str, priority: u64, metas: &[Meta]) -> CandidateSource {
    let origin = if name == "installed" {
        Origin::Installed
    } else {
        Origin::Repository(name.into())
    };
    CandidateSource {
        origin: origin.clone(),
        priority,
        packages: metas
            .iter()
            .map(|m| {
                Candidate::from_meta(
                    format!("{name}-{}-{}", m.name, m.source_release),
                    m,
                    origin.clone(),
                )
            })
            .collect(),
    }
}

fn ids(selection: &[moss_core::resolve::Selected]) -> Vec<String> {
    let mut v: Vec<_> = selection.iter().map(|s| s.candidate.id.clone()).collect();
    v.sort();
    v
}

fn req(text: &str) -> Vec<Request> {
    vec![Request::parse(text).unwrap()]
}

#[test]
fn every_provider_kind_parses() {
    let cases = [
        ("name(foo)", DependencyKind::PackageName, "foo"),
        ("foo", DependencyKind::PackageName, "foo"),
        (
            "soname(libz.so.1(x86_64))",
            DependencyKind::SharedLibrary,
            "libz.so.1(x86_64)",
        ),
        ("pkgconfig(zlib)", DependencyKind::PkgConfig, "zlib"),
        ("pkgconfig32(zlib)", DependencyKind::PkgConfig32, "zlib"),
        ("binary(ls)", DependencyKind::Binary, "ls"),
        ("sysbinary(mount)", DependencyKind::SystemBinary, "mount"),
        ("cmake(Foo)", DependencyKind::CMake, "Foo"),
        ("python(six)", DependencyKind::Python, "six"),
        (
            "interpreter(/usr/lib/ld-linux-x86-64.so.2(x86_64))",
            DependencyKind::Interpreter,
            "/usr/lib/ld-linux-x86-64.so.2(x86_64)",
        ),
    ];
    for (text, kind, name) in cases {
        assert_eq!(
            parse_request(text).unwrap(),
            Dependency::new(kind, name),
            "{text}"
        );
    }
    for bad in ["", "weird(x)", "soname(x", "cmake()"] {
        assert!(
            matches!(parse_request(bad), Err(ResolveError::BadRequest { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn priority_wins_over_release_and_release_within_a_repository() {
    let low = source(
        "low",
        1,
        &[pkg("foo", 9, &["soname(libfoo.so.1(x86_64))"], &[], &[])],
    );
    let high = source(
        "high",
        10,
        &[
            pkg("foo", 2, &["soname(libfoo.so.1(x86_64))"], &[], &[]),
            pkg("foo", 3, &["soname(libfoo.so.1(x86_64))"], &[], &[]),
        ],
    );
    let r = Resolver::new(vec![low, high], Prefer::Installed);
    let sel = r.resolve(&req("soname(libfoo.so.1(x86_64))")).unwrap();
    assert_eq!(ids(&sel), ["high-foo-3"]);
    assert!(sel[0].explicit);
    assert_eq!(sel[0].candidate.origin, Origin::Repository("high".into()));
}

#[test]
fn dependencies_are_followed_transitively_by_any_kind() {
    let repo = source(
        "r",
        0,
        &[
            pkg(
                "app",
                1,
                &["binary(app)"],
                &["soname(libmid.so.2(x86_64))", "pkgconfig(data)"],
                &[],
            ),
            pkg(
                "mid",
                1,
                &["soname(libmid.so.2(x86_64))"],
                &["name(base)"],
                &[],
            ),
            pkg("data", 1, &["pkgconfig(data)"], &["base"], &[]),
            pkg("base", 1, &[], &[], &[]),
            pkg("unrelated", 1, &[], &[], &[]),
        ],
    );
    let r = Resolver::new(vec![repo], Prefer::Installed);
    let sel = r.resolve(&req("binary(app)")).unwrap();
    assert_eq!(ids(&sel), ["r-app-1", "r-base-1", "r-data-1", "r-mid-1"]);
    let explicit: Vec<_> = sel
        .iter()
        .filter(|s| s.explicit)
        .map(|s| s.candidate.name.as_str())
        .collect();
    assert_eq!(explicit, ["app"]);
    let mid = sel.iter().find(|s| s.candidate.name == "mid").unwrap();
    assert_eq!(mid.reason, "dependency soname(libmid.so.2(x86_64)) of app");
}

#[test]
fn conflicting_candidates_are_passed_over() {
    // Best provider of sh conflicts with something already selected: take the next one.
    let repo = source(
        "r",
        5,
        &[
            pkg("tool", 1, &[], &["pkgconfig(core)", "binary(sh)"], &[]),
            pkg("core", 1, &["pkgconfig(core)"], &[], &[]),
            pkg("fancy-sh", 1, &["binary(sh)"], &[], &["name(core)"]),
        ],
    );
    let other = source("o", 1, &[pkg("plain-sh", 1, &["binary(sh)"], &[], &[])]);
    let r = Resolver::new(vec![repo, other], Prefer::Installed);
    let sel = r.resolve(&req("tool")).unwrap();
    assert_eq!(ids(&sel), ["o-plain-sh-1", "r-core-1", "r-tool-1"]);
}

#[test]
fn an_unsatisfiable_conflict_explains_itself() {
    let repo = source(
        "r",
        0,
        &[
            pkg("pizza", 1, &[], &["name(topping)"], &[]),
            pkg("topping", 1, &[], &["binary(fruit)"], &[]),
            pkg("pineapple", 1, &["binary(fruit)"], &[], &[]),
        ],
    );
    let installed = source(
        "installed",
        0,
        &[pkg("italian", 1, &[], &[], &["name(pineapple)"])],
    );
    let r = Resolver::new(vec![repo, installed.clone()], Prefer::Installed);
    let keep: Vec<_> = r.resolve(&req("italian")).unwrap();
    let err = r.resolve_onto(keep, &req("pizza")).unwrap_err();
    let ResolveError::Unsatisfiable {
        wanted,
        chain,
        refused,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(wanted, "binary(fruit)");
    assert_eq!(
        chain,
        &[
            "topping 1.0-1 (repository r)",
            "pizza 1.0-1 (repository r)",
            "request name(pizza)"
        ]
    );
    assert_eq!(refused.len(), 1);
    let text = err.to_string();
    assert!(
        text.contains("italian 1.0-1 (installed) conflicts with name(pineapple)"),
        "{text}"
    );
    assert!(text.contains("needed by topping"), "{text}");
}

#[test]
fn nothing_provides_is_reported_with_the_chain() {
    let repo = source(
        "r",
        0,
        &[pkg("a", 1, &[], &["soname(libgone.so(x86_64))"], &[])],
    );
    let err = Resolver::new(vec![repo], Prefer::Installed)
        .resolve(&req("a"))
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "cannot satisfy soname(libgone.so(x86_64)), needed by a 1.0-1 (repository r), needed by request name(a): no installed package or configured repository provides it"
    );
    let err = Resolver::new(vec![], Prefer::Installed)
        .resolve(&req("pkgconfig(nope)"))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot satisfy pkgconfig(nope): no installed"),
        "{err}"
    );
}

#[test]
fn preference_between_installed_and_available() {
    let installed = source("installed", 0, &[pkg("foo", 1, &[], &[], &[])]);
    let repo = source("r", 0, &[pkg("foo", 2, &[], &[], &[])]);
    let keep = Resolver::new(vec![installed.clone(), repo.clone()], Prefer::Installed);
    assert_eq!(
        ids(&keep.resolve(&req("foo")).unwrap()),
        ["installed-foo-1"]
    );
    let update = Resolver::new(vec![installed, repo], Prefer::Available);
    assert_eq!(ids(&update.resolve(&req("foo")).unwrap()), ["r-foo-2"]);
}

#[test]
fn one_release_per_name_and_dependencies_of_kept_packages_are_checked() {
    let installed = source(
        "installed",
        0,
        &[pkg("lib", 1, &["soname(libx.so.1(x86_64))"], &[], &[])],
    );
    let repo = source(
        "r",
        0,
        &[
            pkg("lib", 2, &["soname(libx.so.2(x86_64))"], &[], &[]),
            pkg("app", 1, &[], &["soname(libx.so.2(x86_64))"], &[]),
        ],
    );
    let r = Resolver::new(vec![installed, repo], Prefer::Installed);
    let keep = r.resolve(&req("lib")).unwrap();
    let err = r.resolve_onto(keep.clone(), &req("app")).unwrap_err();
    assert!(
        err.to_string().contains("lib 2.0-2 (repository r) is passed over because lib 1.0-1 (installed) is already selected"),
        "{err}"
    );
    // A kept package keeps its explicit flag; a request for it marks it explicit.
    let mut kept = keep;
    kept[0].explicit = false;
    let sel = r
        .resolve_onto(kept, &req("soname(libx.so.1(x86_64))"))
        .unwrap();
    assert_eq!(sel.len(), 1);
    assert!(sel[0].explicit);
}
