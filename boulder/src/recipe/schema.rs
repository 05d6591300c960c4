//! The recipe schema: every key boulder accepts, with its type and meaning.
//!
//! This one table drives both the validator (which keys exist, what type each wants) and
//! the generated book page `book/src/reference/recipe.md`, so the two cannot drift.

/// The shape a key's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A single-line or multi-line string (numbers are accepted and kept as written).
    Text,
    /// A version string or YAML number; must start with an ASCII digit.
    Version,
    /// A positive integer.
    Release,
    /// A string or a list of strings.
    License,
    /// A URL.
    Url,
    /// A shell script in the macro language.
    Script,
    /// A shell snippet prepended to every phase; `(null)` means empty.
    Environment,
    /// A list of dependency strings: `name` or `kind(name)`.
    Deps,
    /// A list of plain strings.
    StringList,
    /// A list of regular expressions.
    RegexList,
    /// A YAML boolean, or the strings `"true"` / `"false"`.
    Bool,
    /// `llvm` or `gnu`.
    Toolchain,
    /// A list of build target names.
    Architectures,
    /// A list of upstream entries.
    Upstreams,
    /// A list of `target: {build keys}` maps.
    Profiles,
    /// A list of `name: {package keys}` maps.
    Packages,
    /// A list of path globs, each a string or `glob: kind`.
    Paths,
    /// A list of tuning entries.
    Tuning,
    /// A sha256 digest (64 hexadecimal digits).
    Hash,
    /// A small non-negative integer (0–255).
    SmallInt,
    /// A git reference: branch, tag or commit.
    GitRef,
    /// A relative directory name.
    RelativeDir,
}

impl ValueType {
    /// How the type is written in the reference.
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::Text => "string",
            ValueType::Version => "string or number",
            ValueType::Release => "integer > 0",
            ValueType::License => "string or list of strings",
            ValueType::Url => "URL string",
            ValueType::Script => "script (macro language)",
            ValueType::Environment => "script (macro language)",
            ValueType::Deps => "list of dependencies",
            ValueType::StringList => "list of strings",
            ValueType::RegexList => "list of regular expressions",
            ValueType::Bool => "boolean",
            ValueType::Toolchain => "`llvm` or `gnu`",
            ValueType::Architectures => "list of target names",
            ValueType::Upstreams => "list of upstreams",
            ValueType::Profiles => "list of `target: {…}`",
            ValueType::Packages => "list of `name: {…}`",
            ValueType::Paths => "list of globs or `glob: kind`",
            ValueType::Tuning => "list of tuning entries",
            ValueType::Hash => "sha256 (64 hex digits)",
            ValueType::SmallInt => "integer 0–255",
            ValueType::GitRef => "string",
            ValueType::RelativeDir => "relative path",
        }
    }
}

/// One accepted key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub ty: ValueType,
    pub required: bool,
    /// The default, as shown in the reference ("" when there is none).
    pub default: &'static str,
    pub doc: &'static str,
    /// Misspellings seen in real recipes that should point at this key.
    pub aliases: &'static [&'static str],
}

const fn key(
    name: &'static str,
    ty: ValueType,
    default: &'static str,
    doc: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        ty,
        required: false,
        default,
        doc,
        aliases: &[],
    }
}

const fn required(name: &'static str, ty: ValueType, doc: &'static str) -> KeySpec {
    KeySpec {
        name,
        ty,
        required: true,
        default: "",
        doc,
        aliases: &[],
    }
}

const fn aliased(spec: KeySpec, aliases: &'static [&'static str]) -> KeySpec {
    KeySpec { aliases, ..spec }
}

use ValueType as T;

/// Keys of a `profiles` entry and the build part of the top level.
pub const BUILD_KEYS: &[KeySpec] = &[
    aliased(
        key(
            "setup",
            T::Script,
            "",
            "Phase script that prepares the sources (configure, patch).",
        ),
        &["prepare", "configure"],
    ),
    aliased(
        key("build", T::Script, "", "Phase script that compiles."),
        &["compile"],
    ),
    key(
        "install",
        T::Script,
        "",
        "Phase script that installs into `%(installroot)`.",
    ),
    aliased(
        key(
            "check",
            T::Script,
            "",
            "Phase script that runs the test suite.",
        ),
        &["test", "tests"],
    ),
    key(
        "workload",
        T::Script,
        "",
        "PGO workload script, run after the instrumented build; its presence turns on profile-guided optimisation (see below).",
    ),
    key(
        "environment",
        T::Environment,
        "",
        "Shell snippet run before every phase script; `(null)` means empty.",
    ),
    aliased(
        key(
            "builddeps",
            T::Deps,
            "[]",
            "Packages installed into the build root: `name` or `kind(name)`.",
        ),
        &["dependencies", "depends", "build-deps"],
    ),
    key(
        "checkdeps",
        T::Deps,
        "[]",
        "Packages installed into the build root for the `check` phase.",
    ),
];

/// Keys of a `packages` entry and the package part of the top level.
pub const PACKAGE_KEYS: &[KeySpec] = &[
    key("summary", T::Text, "", "One-line summary of the package."),
    key("description", T::Text, "", "Longer description (trimmed)."),
    aliased(
        key(
            "rundeps",
            T::Deps,
            "[]",
            "Extra runtime dependencies: `name` or `kind(name)`.",
        ),
        &["runtime-deps", "requires"],
    ),
    key(
        "rundeps-exclude",
        T::RegexList,
        "[]",
        "Regexes removing matching automatic runtime dependencies (matched against `kind(name)`).",
    ),
    key(
        "provides-exclude",
        T::RegexList,
        "[]",
        "Regexes removing matching automatic providers.",
    ),
    key(
        "provides",
        T::Deps,
        "[]",
        "Extra providers recorded for the package (a boulder extension).",
    ),
    key(
        "conflicts",
        T::Deps,
        "[]",
        "Providers this package conflicts with.",
    ),
    aliased(
        key(
            "paths",
            T::Paths,
            "[]",
            "Files collected into this package: a glob or `glob: any|exe|symlink|special`.",
        ),
        &["files"],
    ),
];

/// Source, option and structural keys of the top level (build and package keys are
/// accepted there as well).
pub const SOURCE_KEYS: &[KeySpec] = &[
    required("name", T::Text, "Source name; also the name of the main package."),
    required(
        "version",
        T::Version,
        "Upstream version; must start with a digit.",
    ),
    required(
        "release",
        T::Release,
        "Packaging release, raised on every change.",
    ),
    required("homepage", T::Url, "Project homepage."),
    required(
        "license",
        T::License,
        "SPDX license identifier(s).",
    ),
    aliased(
        key(
            "upstreams",
            T::Upstreams,
            "[]",
            "Sources to fetch: archives (`URL: sha256` or a map) or git (`git|URL: ref` or a map).",
        ),
        &["sources", "upstream", "source"],
    ),
    key(
        "profiles",
        T::Profiles,
        "[]",
        "Per-target overrides of the build keys; each field falls back to the top level on its own.",
    ),
    aliased(
        key(
            "packages",
            T::Packages,
            "[]",
            "Subpackages and their package keys.",
        ),
        &["subpackages"],
    ),
    key(
        "architectures",
        T::Architectures,
        "[]",
        "Targets to build: `x86_64`, `native`, `emul32`, `emul32/x86_64`; empty means the host (and emul32 when enabled).",
    ),
    aliased(
        key(
            "tuning",
            T::Tuning,
            "[]",
            "Tuning groups: `- group`, `- group: true|false` or `- group: option`.",
        ),
        &["tune", "tunings"],
    ),
];

/// Option flags of the top level.
pub const OPTION_KEYS: &[KeySpec] = &[
    key(
        "emul32",
        T::Bool,
        "false",
        "Also build the 32-bit `emul32` target.",
    ),
    key("mold", T::Bool, "false", "Link with mold."),
    key("toolchain", T::Toolchain, "llvm", "Compiler toolchain."),
    key(
        "clang",
        T::Bool,
        "",
        "Older spelling of the toolchain choice: `true` means `llvm`, `false` means `gnu`.",
    ),
    key(
        "ccache",
        T::Bool,
        "false",
        "Use the compiler cache for this recipe.",
    ),
    key(
        "cspgo",
        T::Bool,
        "false",
        "Context-sensitive PGO second stage (LLVM only).",
    ),
    key(
        "samplepgo",
        T::Bool,
        "false",
        "Enable the `pgosample` tuning group in the PGO use stage.",
    ),
    key(
        "debug",
        T::Bool,
        "true",
        "Split debug information into `-dbginfo` packages.",
    ),
    key("strip", T::Bool, "true", "Strip ELF files."),
    key(
        "networking",
        T::Bool,
        "false",
        "Allow network access inside the build container.",
    ),
    key(
        "compressman",
        T::Bool,
        "false",
        "Compress man and info pages with zstd.",
    ),
    key(
        "lastrip",
        T::Bool,
        "true",
        "Remove libtool `.la` files from the library directories.",
    ),
];

/// Keys of an archive upstream written as a map.
pub const ARCHIVE_KEYS: &[KeySpec] = &[
    required("hash", T::Hash, "sha256 of the file."),
    key(
        "rename",
        T::Text,
        "",
        "Store and refer to the file under this name.",
    ),
    aliased(
        key(
            "unpack",
            T::Bool,
            "true",
            "Unpack the archive into the build directory.",
        ),
        &["extract", "unpacked"],
    ),
    key(
        "unpackdir",
        T::RelativeDir,
        "file name",
        "Directory (relative to the build directory) to unpack into.",
    ),
    key(
        "stripdirs",
        T::SmallInt,
        "1",
        "Leading path components stripped when unpacking.",
    ),
];

/// Keys of a git upstream written as a map.
pub const GIT_KEYS: &[KeySpec] = &[
    aliased(
        required("ref", T::GitRef, "Branch, tag or commit to check out."),
        &["tag", "branch", "commit", "rev"],
    ),
    key(
        "clonedir",
        T::RelativeDir,
        "repository name",
        "Directory (relative to the build directory) to clone into.",
    ),
];

/// Build targets a recipe or profile may name.
pub const TARGETS: &[&str] = &[
    "x86_64",
    "emul32/x86_64",
    "emul32",
    "native",
    "aarch64",
    "riscv64",
    "x86",
];

/// Provider kinds allowed in `kind(name)` dependency strings.
pub const DEPENDENCY_KINDS: &[&str] = &[
    "name",
    "soname",
    "pkgconfig",
    "pkgconfig32",
    "interpreter",
    "cmake",
    "python",
    "binary",
    "sysbinary",
];

/// Path kinds of a `glob: kind` entry.
pub const PATH_KINDS: &[&str] = &["any", "exe", "symlink", "special"];

/// All keys accepted at the top level.
pub fn top_level_keys() -> impl Iterator<Item = &'static KeySpec> {
    SOURCE_KEYS
        .iter()
        .chain(PACKAGE_KEYS)
        .chain(BUILD_KEYS)
        .chain(OPTION_KEYS)
}

/// Finds `name` in `keys`.
pub fn lookup<'a>(keys: impl IntoIterator<Item = &'a KeySpec>, name: &str) -> Option<&'a KeySpec> {
    keys.into_iter().find(|k| k.name == name)
}

/// The key a misspelt `name` most likely meant: a recorded alias first, then the closest
/// spelling.
pub fn suggest<'a>(
    keys: impl IntoIterator<Item = &'a KeySpec> + Clone,
    name: &str,
) -> Option<&'a str> {
    if let Some(spec) = keys.clone().into_iter().find(|k| k.aliases.contains(&name)) {
        return Some(spec.name);
    }
    crate::suggest::closest_name(name, keys.into_iter().map(|k| k.name))
}
