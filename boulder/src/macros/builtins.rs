//! Builtins (`%(_name)`): values boulder computes per phase from the recipe and
//! the build target, rather than reading them from macro files.

use std::collections::HashMap;

use super::model::Toolchain;
use super::syntax::MacroBody;

/// The PGO stage a script is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgoStage {
    #[default]
    None,
    One,
    Two,
    Use,
}

impl PgoStage {
    /// The value of `%(pgo_stage)` / `$PGO_STAGE`.
    pub fn as_str(self) -> &'static str {
        match self {
            PgoStage::None => "NONE",
            PgoStage::One => "ONE",
            PgoStage::Two => "TWO",
            PgoStage::Use => "USE",
        }
    }

    /// The stage's name in headers and messages: `one`, `two`, `use` (`none`).
    pub fn name(self) -> &'static str {
        match self {
            PgoStage::None => "none",
            PgoStage::One => "one",
            PgoStage::Two => "two",
            PgoStage::Use => "use",
        }
    }

    /// The tuning groups the stage switches on.
    pub fn tuning_groups(self, samplepgo: bool) -> Vec<&'static str> {
        match self {
            PgoStage::None => vec![],
            PgoStage::One => vec!["pgostage1"],
            PgoStage::Two => vec!["pgostage2"],
            PgoStage::Use if samplepgo => vec!["pgouse", "pgosample"],
            PgoStage::Use => vec!["pgouse"],
        }
    }
}

/// What the macro engine needs to know about the recipe and the build.
#[derive(Debug, Clone)]
pub struct RecipeFacts {
    pub name: String,
    pub version: String,
    pub release: u64,
    /// Parallel jobs (`%(jobs)`); the CPU count by default.
    pub jobs: usize,
    pub toolchain: Toolchain,
    /// `mold: true` in the recipe.
    pub mold: bool,
    /// `--compiler-cache`: ccache/sccache and the go/cargo/zig caches.
    pub compiler_cache: bool,
    pub pgo_stage: PgoStage,
    pub samplepgo: bool,
    /// The work dir of the phases (first unpacked upstream); the build root if `None`.
    pub workdir: Option<String>,
    /// `%(sourcedateepoch)`, seconds since the epoch.
    pub source_date_epoch: i64,
}

impl RecipeFacts {
    pub fn new(name: impl Into<String>, version: impl Into<String>, release: u64) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            release,
            jobs: crate::cpus::available(),
            toolchain: Toolchain::Llvm,
            mold: false,
            compiler_cache: false,
            pgo_stage: PgoStage::None,
            samplepgo: false,
            workdir: None,
            source_date_epoch: 0,
        }
    }
}

/// Guest paths of the build container.
pub mod paths {
    pub const PKGDIR: &str = "/mason/recipe/pkg";
    pub const SOURCEDIR: &str = "/mason/sourcedir";
    pub const INSTALLROOT: &str = "/mason/install";
    pub const BUILD: &str = "/mason/build";
    pub const CCACHE: &str = "/mason/ccache";
    pub const SCCACHE: &str = "/mason/sccache";
    pub const GOCACHE: &str = "/mason/gocache";
    pub const GOMODCACHE: &str = "/mason/gomodcache";
    pub const CARGOCACHE: &str = "/mason/cargocache";
    pub const ZIGCACHE: &str = "/mason/zigcache";
}

struct Compilers {
    c: &'static str,
    cxx: &'static str,
    objc: &'static str,
    objcxx: &'static str,
    cpp: &'static str,
    objcpp: &'static str,
    objcxxcpp: &'static str,
    d: &'static str,
    ar: &'static str,
    objcopy: &'static str,
    nm: &'static str,
    ranlib: &'static str,
    strip: &'static str,
}

const LLVM: Compilers = Compilers {
    c: "clang",
    cxx: "clang++",
    objc: "clang",
    objcxx: "clang++",
    cpp: "clang-cpp",
    objcpp: "clang -E -",
    objcxxcpp: "clang++ -E",
    d: "ldc2",
    ar: "llvm-ar",
    objcopy: "llvm-objcopy",
    nm: "llvm-nm",
    ranlib: "llvm-ranlib",
    strip: "llvm-strip",
};

const GNU: Compilers = Compilers {
    c: "gcc",
    cxx: "g++",
    objc: "gcc",
    objcxx: "g++",
    cpp: "gcc -E",
    objcpp: "gcc -E",
    objcxxcpp: "g++ -E",
    d: "ldc2",
    ar: "gcc-ar",
    objcopy: "objcopy",
    nm: "gcc-nm",
    ranlib: "gcc-ranlib",
    strip: "strip",
};

/// The plain-text builtins for `target` (the flag builtins are added by the
/// context after tuning). Values are literal: a `%` in a version stays a `%`.
pub fn plain_builtins(facts: &RecipeFacts, target: &str) -> HashMap<String, MacroBody> {
    let buildroot = format!("{}/{target}", paths::BUILD);
    let workdir = facts.workdir.clone().unwrap_or_else(|| buildroot.clone());
    let tools = match facts.toolchain {
        Toolchain::Llvm => &LLVM,
        Toolchain::Gnu => &GNU,
    };
    let cache = |path: &str| {
        if facts.compiler_cache {
            path.to_string()
        } else {
            String::new()
        }
    };
    let linker = if facts.mold {
        "ld.mold"
    } else {
        match facts.toolchain {
            Toolchain::Llvm => "ld.lld",
            Toolchain::Gnu => "ld.bfd",
        }
    };
    let compiler_path = if facts.compiler_cache {
        "/usr/lib/ccache/bin:/usr/bin:/bin"
    } else {
        "/usr/bin:/bin"
    };
    let values: Vec<(&str, String)> = vec![
        ("name", facts.name.clone()),
        ("version", facts.version.clone()),
        ("release", facts.release.to_string()),
        ("jobs", facts.jobs.to_string()),
        ("pkgdir", paths::PKGDIR.to_string()),
        ("sourcedir", paths::SOURCEDIR.to_string()),
        ("installroot", paths::INSTALLROOT.to_string()),
        ("pgo_dir", format!("{buildroot}-pgo")),
        ("buildroot", buildroot),
        ("workdir", workdir),
        ("compiler_cache", paths::CCACHE.to_string()),
        ("scompiler_cache", paths::SCCACHE.to_string()),
        ("sourcedateepoch", facts.source_date_epoch.to_string()),
        ("compiler_go_cache", cache(paths::GOCACHE)),
        ("compiler_go_mod_cache", cache(paths::GOMODCACHE)),
        ("compiler_cargo_cache", cache(paths::CARGOCACHE)),
        ("compiler_zig_cache", cache(paths::ZIGCACHE)),
        ("rustc_wrapper", cache("/usr/bin/sccache")),
        ("compiler_c", tools.c.to_string()),
        ("compiler_cxx", tools.cxx.to_string()),
        ("compiler_objc", tools.objc.to_string()),
        ("compiler_objcxx", tools.objcxx.to_string()),
        ("compiler_cpp", tools.cpp.to_string()),
        ("compiler_objcpp", tools.objcpp.to_string()),
        ("compiler_objcxxcpp", tools.objcxxcpp.to_string()),
        ("compiler_d", tools.d.to_string()),
        ("compiler_ar", tools.ar.to_string()),
        ("compiler_objcopy", tools.objcopy.to_string()),
        ("compiler_nm", tools.nm.to_string()),
        ("compiler_ranlib", tools.ranlib.to_string()),
        ("compiler_strip", tools.strip.to_string()),
        ("compiler_path", compiler_path.to_string()),
        ("compiler_ld", linker.to_string()),
        ("pgo_stage", facts.pgo_stage.as_str().to_string()),
    ];
    values
        .into_iter()
        .map(|(name, value)| (name.to_string(), MacroBody::literal(value)))
        .collect()
}
