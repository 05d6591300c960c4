//! The loaded, validated macro items that the library hands out.

use super::syntax::MacroBody;

/// An action macro (`%name`): a shell snippet with documentation and the
/// packages it needs in the build root.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub description: String,
    pub example: Option<String>,
    /// A hint for packagers (`tip:` / upstream's `Tip:`).
    pub tip: Option<String>,
    /// The command text, trimmed (so `%install_bin foo` appends `foo` on the same line).
    pub command: String,
    pub dependencies: Vec<String>,
    /// The file that defined it, e.g. `actions/cmake.yaml (embedded)`.
    pub source: String,
    pub(crate) body: MacroBody,
}

/// A definition (`%(name)`): a value that may itself contain macros.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    /// The value text, trimmed.
    pub value: String,
    pub source: String,
    pub(crate) body: MacroBody,
}

/// The compiler kinds that tuning produces a flag string for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CompilerKind {
    C,
    Cxx,
    F,
    D,
    Rust,
    Vala,
    Go,
    Ld,
}

impl CompilerKind {
    pub const ALL: [CompilerKind; 8] = [
        CompilerKind::C,
        CompilerKind::Cxx,
        CompilerKind::F,
        CompilerKind::D,
        CompilerKind::Rust,
        CompilerKind::Vala,
        CompilerKind::Go,
        CompilerKind::Ld,
    ];

    /// The builtin (and definition) carrying the flag string: `cflags`, `ldflags`, ...
    pub fn builtin_name(self) -> &'static str {
        match self {
            CompilerKind::C => "cflags",
            CompilerKind::Cxx => "cxxflags",
            CompilerKind::F => "fflags",
            CompilerKind::D => "dflags",
            CompilerKind::Rust => "rustflags",
            CompilerKind::Vala => "valaflags",
            CompilerKind::Go => "goflags",
            CompilerKind::Ld => "ldflags",
        }
    }

    /// The environment variable the prologue exports it as.
    pub fn env_name(self) -> &'static str {
        match self {
            CompilerKind::C => "CFLAGS",
            CompilerKind::Cxx => "CXXFLAGS",
            CompilerKind::F => "FFLAGS",
            CompilerKind::D => "DFLAGS",
            CompilerKind::Rust => "RUSTFLAGS",
            CompilerKind::Vala => "VALAFLAGS",
            CompilerKind::Go => "GOFLAGS",
            CompilerKind::Ld => "LDFLAGS",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Values of one flag for every compiler kind (`None` = not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagSet {
    values: [Option<String>; 8],
}

impl FlagSet {
    pub fn get(&self, kind: CompilerKind) -> Option<&str> {
        self.values[kind.index()].as_deref()
    }

    pub fn set(&mut self, kind: CompilerKind, value: Option<String>) {
        self.values[kind.index()] = value;
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// The toolchain a recipe builds with; selects per-toolchain flag values and
/// compiler names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Toolchain {
    #[default]
    Llvm,
    Gnu,
}

/// A named compiler flag with a root value and per-toolchain overrides.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: String,
    pub root: FlagSet,
    pub gnu: FlagSet,
    pub llvm: FlagSet,
    pub source: String,
}

impl Flag {
    /// The value for `kind` under `toolchain`: the toolchain value first, else the root value.
    pub fn value(&self, toolchain: Toolchain, kind: CompilerKind) -> Option<&str> {
        let specific = match toolchain {
            Toolchain::Llvm => &self.llvm,
            Toolchain::Gnu => &self.gnu,
        };
        specific.get(kind).or_else(|| self.root.get(kind))
    }
}

/// A tuning group (`tuning:` in a macro file), switched on and off by recipes.
#[derive(Debug, Clone)]
pub struct TuningGroup {
    pub name: String,
    /// Flags applied when enabled without an option (and without a default option).
    pub enabled: Vec<String>,
    /// Flags applied when the recipe disables the group.
    pub disabled: Vec<String>,
    /// The option used when the group is enabled without naming one.
    pub default: Option<String>,
    pub options: Vec<TuningOption>,
    pub source: String,
}

impl TuningGroup {
    pub fn option(&self, name: &str) -> Option<&TuningOption> {
        self.options.iter().find(|option| option.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct TuningOption {
    pub name: String,
    pub enabled: Vec<String>,
    pub disabled: Vec<String>,
}

/// A default subpackage template from an arch file (`packages:`).
#[derive(Debug, Clone)]
pub struct PackageTemplate {
    /// The name pattern, e.g. `%(name)-devel`.
    pub name: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub paths: Vec<PathRule>,
    pub rundeps: Vec<String>,
    pub rundeps_exclude: Vec<String>,
    pub provides_exclude: Vec<String>,
    pub conflicts: Vec<String>,
    pub source: String,
}

/// A collection rule: a glob with an optional kind (`any`, `exe`, `symlink`, `special`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    pub pattern: String,
    pub kind: Option<String>,
}
