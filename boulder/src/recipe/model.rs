//! The typed recipe: what a `stone.yaml` says, with the source span of every value.

use std::ops::Range;

use moss_core::yaml::OffsetMap;

/// A value and the byte range in the recipe file it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Spanned { value, span }
    }
}

/// A script (phase or environment) with the map from script offsets to file offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub text: String,
    pub span: Range<usize>,
    pub map: OffsetMap,
}

impl Script {
    /// The file offset of byte `offset` of the script text.
    pub fn file_offset(&self, offset: usize) -> usize {
        self.map.file_offset(offset)
    }
}

/// A parsed recipe. Fields that failed validation hold their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    pub source: Source,
    pub build: BuildBlock,
    pub package: PackageBlock,
    pub upstreams: Vec<Upstream>,
    pub profiles: Vec<Profile>,
    pub packages: Vec<SubPackage>,
    pub architectures: Vec<Spanned<String>>,
    pub tuning: Vec<TuningEntry>,
    pub options: Options,
}

/// Identity of the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub release: Spanned<u64>,
    pub homepage: Spanned<String>,
    pub license: Vec<Spanned<String>>,
}

impl<T: Default> Default for Spanned<T> {
    fn default() -> Self {
        Spanned::new(T::default(), 0..0)
    }
}

/// Phases of a build, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Setup,
    Build,
    Install,
    Check,
    Workload,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Setup,
        Phase::Build,
        Phase::Install,
        Phase::Check,
        Phase::Workload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Build => "build",
            Phase::Install => "install",
            Phase::Check => "check",
            Phase::Workload => "workload",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The build keys (top level or one profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildBlock {
    pub setup: Option<Script>,
    pub build: Option<Script>,
    pub install: Option<Script>,
    pub check: Option<Script>,
    pub workload: Option<Script>,
    pub environment: Option<Script>,
    pub builddeps: Vec<Spanned<String>>,
    pub checkdeps: Vec<Spanned<String>>,
}

impl BuildBlock {
    pub fn phase(&self, phase: Phase) -> Option<&Script> {
        match phase {
            Phase::Setup => self.setup.as_ref(),
            Phase::Build => self.build.as_ref(),
            Phase::Install => self.install.as_ref(),
            Phase::Check => self.check.as_ref(),
            Phase::Workload => self.workload.as_ref(),
        }
    }

    pub(crate) fn phase_mut(&mut self, phase: Phase) -> &mut Option<Script> {
        match phase {
            Phase::Setup => &mut self.setup,
            Phase::Build => &mut self.build,
            Phase::Install => &mut self.install,
            Phase::Check => &mut self.check,
            Phase::Workload => &mut self.workload,
        }
    }
}

/// The package keys (main package or one subpackage).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageBlock {
    pub summary: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub rundeps: Vec<Spanned<String>>,
    pub rundeps_exclude: Vec<Spanned<String>>,
    pub provides_exclude: Vec<Spanned<String>>,
    pub provides: Vec<Spanned<String>>,
    pub conflicts: Vec<Spanned<String>>,
    pub paths: Vec<PathRule>,
}

/// What kind of file a path rule is meant for (recorded; collection matches any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PathKind {
    #[default]
    Any,
    Exe,
    Symlink,
    Special,
}

/// A `paths` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    pub glob: Spanned<String>,
    pub kind: PathKind,
}

/// One `packages` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubPackage {
    pub name: Spanned<String>,
    pub block: PackageBlock,
}

/// One `profiles` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub target: Spanned<String>,
    pub build: BuildBlock,
}

/// A source to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    Archive {
        url: Spanned<String>,
        hash: Spanned<String>,
        rename: Option<Spanned<String>>,
        /// Defaults to true.
        unpack: bool,
        unpackdir: Option<Spanned<String>>,
        /// Defaults to 1 when unpacking.
        stripdirs: Option<u8>,
    },
    Git {
        url: Spanned<String>,
        git_ref: Spanned<String>,
        clonedir: Option<Spanned<String>>,
    },
}

/// The setting of a `tuning` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TuningSetting {
    /// `- group`: enable with its default option.
    Default,
    /// `- group: true|false`.
    Enabled(bool),
    /// `- group: option`.
    Option(String),
}

/// One `tuning` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuningEntry {
    pub group: Spanned<String>,
    pub setting: TuningSetting,
    /// Span of the option value (equal to the group span for bare entries).
    pub setting_span: Range<usize>,
}

/// Compiler toolchain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Toolchain {
    #[default]
    Llvm,
    Gnu,
}

/// Option flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub emul32: bool,
    pub mold: bool,
    pub toolchain: Toolchain,
    pub ccache: bool,
    pub cspgo: bool,
    pub samplepgo: bool,
    pub debug: bool,
    pub strip: bool,
    pub networking: bool,
    pub compressman: bool,
    pub lastrip: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            emul32: false,
            mold: false,
            toolchain: Toolchain::Llvm,
            ccache: false,
            cspgo: false,
            samplepgo: false,
            debug: true,
            strip: true,
            networking: false,
            compressman: false,
            lastrip: true,
        }
    }
}

/// A build target: the host architecture or its 32-bit companion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `x86_64` or `emul32/x86_64`.
    pub name: String,
    pub emul32: bool,
}

impl Recipe {
    /// Build targets in build order (emul32 first), for the host `arch`.
    pub fn targets(&self, arch: &str) -> Vec<Target> {
        let emul32_name = format!("emul32/{arch}");
        let (want_emul32, want_native) = if self.architectures.is_empty() {
            (self.options.emul32, true)
        } else {
            let has = |n: &str| self.architectures.iter().any(|a| a.value == n);
            (
                has(&emul32_name) || has("emul32"),
                has(arch) || has("native"),
            )
        };
        let mut targets = Vec::new();
        if want_emul32 {
            targets.push(Target {
                name: emul32_name,
                emul32: true,
            });
        }
        if want_native {
            targets.push(Target {
                name: arch.to_string(),
                emul32: false,
            });
        }
        targets
    }

    /// The profile block that applies to `target`, if any.
    /// The profile of `target`: the one named after it, else `emul32` for an
    /// emul32 target.
    pub fn profile_for(&self, target: &Target) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.target.value == target.name)
            .or_else(|| {
                self.profiles
                    .iter()
                    .find(|p| target.emul32 && p.target.value == "emul32")
            })
    }

    /// The script for `phase` on `target`: the profile's own, else the top-level one.
    pub fn phase_script(&self, target: &Target, phase: Phase) -> Option<&Script> {
        self.profile_for(target)
            .and_then(|p| p.build.phase(phase))
            .or_else(|| self.build.phase(phase))
    }

    /// The environment snippet for `target`, falling back like the phases do.
    pub fn environment(&self, target: &Target) -> Option<&Script> {
        self.profile_for(target)
            .and_then(|p| p.build.environment.as_ref())
            .or(self.build.environment.as_ref())
    }
}
