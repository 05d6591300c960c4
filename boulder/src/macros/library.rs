//! Loading macro files into per-target macro sets.
//!
//! A library is built from *layers*: the files embedded in the binary first, then
//! each extra data directory in the order given. Inside a layer, a target's set is
//! `arch/base.yaml`, then `arch/<target>.yaml`, then every `actions/*.yaml` in
//! sorted path order; a later layer overrides names of an earlier one. A name that
//! two action files of one layer both define (or one file defines twice) is a
//! load error naming both files, so no result depends on directory order.
//!
//! The embedded library is loaded lazily: `boulder build` needs one or two of
//! its eight targets, so only the base file, the host's arch file and the
//! action files are read at start; another target's arch file is read, and
//! the target merged, when that target is first asked for. A library with
//! data directories is read whole at once, so every mistake in a packager's
//! own files is reported before anything runs (the embedded files are
//! checked by the tests instead).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::error::{LoadError, LoadProblem, LoadWarning};
use super::model::{
    Action, CompilerKind, Definition, Flag, FlagSet, PackageTemplate, PathRule, TuningGroup,
    TuningOption,
};
use super::schema::{FlagSetDef, MacroFile, OneOrMany, PathDef};
use super::syntax::MacroBody;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_macros.rs"));
}

/// One macro file handed to the loader.
#[derive(Debug, Clone)]
pub struct MacroSource {
    /// Path relative to the `macros/` directory: `arch/base.yaml`, `actions/cmake.yaml`.
    pub path: String,
    /// How the file is named in messages (a full path, or `… (embedded)`).
    pub label: String,
    pub text: String,
}

/// The macros of one build target (`x86_64`, `emul32/x86_64`, ...). The
/// items are shared between the targets (every target holds the whole
/// base file and every action file), so a library of eight targets is one
/// copy of each item, not eight.
#[derive(Debug, Clone, Default)]
pub struct TargetMacros {
    name: String,
    actions: BTreeMap<String, Arc<Action>>,
    definitions: BTreeMap<String, Arc<Definition>>,
    flags: BTreeMap<String, Arc<Flag>>,
    tuning: BTreeMap<String, Arc<TuningGroup>>,
    packages: Vec<PackageTemplate>,
    default_tuning_groups: Vec<String>,
}

impl TargetMacros {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(name).map(|a| &**a)
    }
    pub fn definition(&self, name: &str) -> Option<&Definition> {
        self.definitions.get(name).map(|d| &**d)
    }
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.get(name).map(|f| &**f)
    }
    pub fn tuning_group(&self, name: &str) -> Option<&TuningGroup> {
        self.tuning.get(name).map(|t| &**t)
    }
    /// Actions sorted by name.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.values().map(|a| &**a)
    }
    /// Definitions sorted by name.
    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.values().map(|d| &**d)
    }
    /// Flags sorted by name.
    pub fn flags(&self) -> impl Iterator<Item = &Flag> {
        self.flags.values().map(|f| &**f)
    }
    /// Tuning groups sorted by name.
    pub fn tuning_groups(&self) -> impl Iterator<Item = &TuningGroup> {
        self.tuning.values().map(|t| &**t)
    }
    /// Default subpackage templates in rule order (base first, then the target's).
    pub fn packages(&self) -> &[PackageTemplate] {
        &self.packages
    }
    /// Groups enabled unless a recipe mentions them.
    pub fn default_tuning_groups(&self) -> &[String] {
        &self.default_tuning_groups
    }
}

/// All macro files, resolved into one [`TargetMacros`] per arch file.
#[derive(Debug, Clone)]
pub struct MacroLibrary {
    /// Every target; one not merged yet is merged from `layers` when first
    /// asked for.
    targets: BTreeMap<String, OnceLock<TargetMacros>>,
    layers: Arc<Vec<ParsedLayer>>,
    host: String,
    warnings: Vec<LoadWarning>,
}

/// Which files [`MacroLibrary::load`] reads before it returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Every file, and every target merged and checked.
    Whole,
    /// The base file, the host's arch file and the actions; the rest when
    /// a target needs it.
    HostFirst,
}

impl MacroLibrary {
    /// The macro files compiled into boulder, read lazily (see the module
    /// comment): the host target is ready, the others are read on first use.
    pub fn embedded() -> Result<Self, LoadError> {
        Self::load(vec![Self::embedded_sources()], Reading::HostFirst)
    }

    /// The files compiled into boulder, as the loader is handed them.
    pub fn embedded_sources() -> Vec<MacroSource> {
        embedded::EMBEDDED_MACROS
            .iter()
            .map(|(path, text)| MacroSource {
                path: (*path).to_string(),
                label: format!("macros/{path} (embedded)"),
                text: (*text).to_string(),
            })
            .collect()
    }

    /// The embedded library, loaded once per process and shared (parsing the
    /// YAML costs milliseconds; checking thousands of recipes should pay it once).
    pub fn embedded_shared() -> Result<&'static MacroLibrary, &'static LoadError> {
        static LIBRARY: std::sync::OnceLock<Result<MacroLibrary, LoadError>> =
            std::sync::OnceLock::new();
        LIBRARY.get_or_init(Self::embedded).as_ref()
    }

    /// The embedded files, then `<dir>/macros/{arch,actions}` of every directory
    /// in order; later directories win.
    pub fn with_data_dirs(dirs: &[PathBuf]) -> Result<Self, LoadError> {
        if dirs.is_empty() {
            return Self::embedded();
        }
        let mut layers = vec![Self::embedded_sources()];
        let mut problems = Vec::new();
        for dir in dirs {
            match read_data_dir(dir) {
                Ok(layer) => layers.push(layer),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(LoadError { problems });
        }
        Self::from_layers(layers)
    }

    /// The embedded files, then the user's data directory (see [`user_data_dir`]),
    /// then `extra_dirs` (e.g. `--data-dir`), later winning.
    pub fn with_user_and_extra_dirs(extra_dirs: &[PathBuf]) -> Result<Self, LoadError> {
        let dirs: Vec<PathBuf> = user_data_dir()
            .into_iter()
            .chain(extra_dirs.iter().cloned())
            .collect();
        Self::with_data_dirs(&dirs)
    }

    /// Builds a library from in-memory layers (earliest first), every file
    /// read and every target checked at once.
    pub fn from_layers(layers: Vec<Vec<MacroSource>>) -> Result<Self, LoadError> {
        Self::load(layers, Reading::Whole)
    }

    fn load(layers: Vec<Vec<MacroSource>>, reading: Reading) -> Result<Self, LoadError> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let target_names: Vec<String> = {
            let mut names: Vec<String> = layers
                .iter()
                .flatten()
                .filter_map(|source| arch_key(&source.path))
                .filter(|name| *name != "base")
                .map(str::to_string)
                .collect();
            names.sort();
            names.dedup();
            names
        };
        if target_names.is_empty() {
            problems.push(LoadProblem::NoTargets);
        }
        let host = host_target(&target_names);
        let read_now = |key: &str| reading == Reading::Whole || key == "base" || key == host;
        let parsed: Vec<ParsedLayer> = layers
            .into_iter()
            .map(|layer| ParsedLayer::parse(layer, &read_now, &mut problems, &mut warnings))
            .collect();
        let mut targets = BTreeMap::new();
        for name in target_names {
            let merged = OnceLock::new();
            if read_now(&name) {
                let target = merge_target(&name, &parsed);
                check_tuning_flags(&target, &mut problems);
                let _ = merged.set(target);
            }
            targets.insert(name, merged);
        }
        problems.dedup();
        if !problems.is_empty() {
            return Err(LoadError { problems });
        }
        Ok(Self {
            targets,
            layers: Arc::new(parsed),
            host,
            warnings,
        })
    }

    /// Keys of the loaded files that no macro schema knows (ignored, as upstream
    /// ignores them); callers print them.
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Target names, sorted (`aarch64`, `emul32/x86_64`, `x86_64`, ...).
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }

    pub fn target(&self, name: &str) -> Option<&TargetMacros> {
        let (name, merged) = self.targets.get_key_value(name)?;
        Some(merged.get_or_init(|| merge_target(name, &self.layers)))
    }

    /// The native target of this machine (`x86_64` on x86-64), used by listings.
    pub fn host_target(&self) -> &TargetMacros {
        // `load` refuses a library without targets, so the host exists (and
        // was merged there).
        self.targets[&self.host].get_or_init(|| merge_target(&self.host, &self.layers))
    }

    pub fn action(&self, name: &str) -> Option<&Action> {
        self.host_target().action(name)
    }
    pub fn definition(&self, name: &str) -> Option<&Definition> {
        self.host_target().definition(name)
    }
    pub fn tuning_group(&self, name: &str) -> Option<&TuningGroup> {
        self.host_target().tuning_group(name)
    }
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.host_target().actions()
    }
    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.host_target().definitions()
    }
    pub fn tuning_groups(&self) -> impl Iterator<Item = &TuningGroup> {
        self.host_target().tuning_groups()
    }
}

/// `$XDG_DATA_HOME/boulder` (default `~/.local/share/boulder`) when it holds a
/// `macros/` directory; the place for a packager's own macro files.
pub fn user_data_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    let dir = base.join("boulder");
    dir.join("macros").is_dir().then_some(dir)
}

/// The host's target among the sorted target names.
fn host_target(names: &[String]) -> String {
    let arch = std::env::consts::ARCH;
    if names.iter().any(|name| name == arch) {
        return arch.to_string();
    }
    names
        .iter()
        .find(|name| !name.contains('/'))
        .or_else(|| names.first())
        .cloned()
        .unwrap_or_default()
}

/// `x86_64` for `arch/x86_64.yaml`, `emul32/x86_64` for
/// `arch/emul32/x86_64.yaml`; `None` for an action file.
fn arch_key(path: &str) -> Option<&str> {
    path.strip_prefix("arch/")
        .and_then(|rest| rest.strip_suffix(".yaml"))
}

fn read_data_dir(dir: &Path) -> Result<Vec<MacroSource>, LoadProblem> {
    let root = dir.join("macros");
    let io = |path: &Path, error: std::io::Error| LoadProblem::Io {
        path: path.display().to_string(),
        message: error.to_string(),
    };
    if !root.is_dir() {
        return Err(LoadProblem::Io {
            path: root.display().to_string(),
            message: "not a directory (a data directory holds macros/arch and macros/actions)"
                .to_string(),
        });
    }
    let mut sources = Vec::new();
    for sub in ["arch", "actions"] {
        let base = root.join(sub);
        if !base.is_dir() {
            continue;
        }
        // Actions are flat; arch files may sit in subdirectories (`emul32/x86_64.yaml`).
        let depth = if sub == "arch" { usize::MAX } else { 1 };
        for entry in walkdir::WalkDir::new(&base)
            .max_depth(depth)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|error| LoadProblem::Io {
                path: base.display().to_string(),
                message: error.to_string(),
            })?;
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|ext| ext != "yaml") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap_or(path);
            let text = std::fs::read_to_string(path).map_err(|error| io(path, error))?;
            sources.push(MacroSource {
                path: relative.to_string_lossy().replace('\\', "/"),
                label: path.display().to_string(),
                text,
            });
        }
    }
    Ok(sources)
}

/// The items of one file, converted and syntax-checked.
#[derive(Debug, Default)]
struct FileItems {
    label: String,
    actions: Vec<Arc<Action>>,
    definitions: Vec<Arc<Definition>>,
    flags: Vec<Arc<Flag>>,
    tuning: Vec<Arc<TuningGroup>>,
    packages: Vec<PackageTemplate>,
    default_tuning_groups: Vec<String>,
}

#[derive(Debug)]
struct ParsedLayer {
    arch: BTreeMap<String, ArchFile>,
    actions: Vec<FileItems>,
}

/// An arch file, read at load or kept as text until a target needs it.
#[derive(Debug)]
struct ArchFile {
    unread: Option<MacroSource>,
    items: OnceLock<FileItems>,
}

impl ArchFile {
    /// The file's items. A file read late is one of the embedded library's,
    /// which the tests read whole and find without problems, so what a late
    /// read finds wrong is not reported.
    fn items(&self) -> &FileItems {
        self.items.get_or_init(|| match &self.unread {
            Some(source) => read_file(source).items,
            None => FileItems::default(),
        })
    }
}

impl ParsedLayer {
    /// Reads the layer's action files and the arch files `read_now` names;
    /// the other arch files are kept unread.
    fn parse(
        mut sources: Vec<MacroSource>,
        read_now: &dyn Fn(&str) -> bool,
        problems: &mut Vec<LoadProblem>,
        warnings: &mut Vec<LoadWarning>,
    ) -> Self {
        sources.sort_by(|a, b| a.path.cmp(&b.path));
        let mut arch = BTreeMap::new();
        let mut actions = Vec::new();
        let mut layer_seen = HashMap::new();
        let (now, later): (Vec<MacroSource>, Vec<MacroSource>) = sources
            .into_iter()
            .partition(|source| arch_key(&source.path).is_none_or(read_now));
        for source in later {
            if let Some(key) = arch_key(&source.path) {
                let key = key.to_string();
                let unread = Some(source);
                arch.insert(
                    key,
                    ArchFile {
                        unread,
                        items: OnceLock::new(),
                    },
                );
            }
        }
        for (source, read) in now.iter().zip(read_files(&now)) {
            problems.extend(read.problems);
            warnings.extend(read.warnings);
            let items = read.items;
            if let Some(key) = arch_key(&source.path) {
                check_duplicates(&items, &mut HashMap::new(), problems);
                arch.insert(
                    key.to_string(),
                    ArchFile {
                        unread: None,
                        items: OnceLock::from(items),
                    },
                );
            } else if source.path.starts_with("actions/") {
                check_duplicates(&items, &mut layer_seen, problems);
                actions.push(items);
            }
        }
        Self { arch, actions }
    }
}

/// One macro file parsed and converted, with what it found wrong.
struct ReadFile {
    items: FileItems,
    problems: Vec<LoadProblem>,
    warnings: Vec<LoadWarning>,
}

/// Parses and converts one file; a file that is not valid YAML gives one
/// problem and no items (it keeps its place in the layer).
fn read_file(source: &MacroSource) -> ReadFile {
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    let file: MacroFile = if source.text.trim().is_empty() {
        MacroFile::default()
    } else {
        match moss_core::yaml::from_str(&source.text) {
            Ok(file) => file,
            Err(error) => {
                problems.push(LoadProblem::Yaml {
                    file: source.label.clone(),
                    message: error.to_string(),
                });
                MacroFile::default()
            }
        }
    };
    let items = convert(&source.label, file, &mut problems, &mut warnings);
    ReadFile {
        items,
        problems,
        warnings,
    }
}

/// Below this much text one thread reads the files faster than two.
const PARALLEL_READ_BYTES: usize = 16 * 1024;

/// [`read_file`] of every source, in their order. The files are read on
/// up to two threads (the embedded library, 67 KB of YAML, takes a few
/// milliseconds: a part of every `boulder build`); the larger files are
/// handed out first so both threads finish together.
fn read_files(sources: &[MacroSource]) -> Vec<ReadFile> {
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    let threads = crate::cpus::available().min(2);
    if threads < 2 || total < PARALLEL_READ_BYTES {
        return sources.iter().map(read_file).collect();
    }
    let mut by_size: Vec<usize> = (0..sources.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(sources[i].text.len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&index) = by_size.get(taken) else {
                return done;
            };
            done.push((index, read_file(&sources[index])));
        }
    };
    let mut read: Vec<(usize, ReadFile)> = std::thread::scope(|scope| {
        let helper = scope.spawn(work);
        let mut read = work();
        // A panic in the helper is a bug in the reader; pass it on.
        read.extend(
            helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
        read
    });
    read.sort_by_key(|(index, _)| *index);
    read.into_iter().map(|(_, file)| file).collect()
}

fn check_duplicates(
    items: &FileItems,
    seen: &mut HashMap<(&'static str, String), String>,
    problems: &mut Vec<LoadProblem>,
) {
    let names = items
        .actions
        .iter()
        .map(|a| ("action", &a.name))
        .chain(items.definitions.iter().map(|d| ("definition", &d.name)))
        .chain(items.flags.iter().map(|f| ("flag", &f.name)))
        .chain(items.tuning.iter().map(|t| ("tuning group", &t.name)));
    for (item, name) in names {
        match seen.get(&(item, name.clone())) {
            Some(first) => problems.push(LoadProblem::Duplicate {
                item,
                name: name.clone(),
                first: first.clone(),
                second: items.label.clone(),
            }),
            None => {
                seen.insert((item, name.clone()), items.label.clone());
            }
        }
    }
}

fn parse_body(
    label: &str,
    item: &'static str,
    name: &str,
    text: &str,
    problems: &mut Vec<LoadProblem>,
) -> MacroBody {
    match MacroBody::parse(text) {
        Ok(body) => body,
        Err(errors) => {
            for error in errors {
                problems.push(LoadProblem::Syntax {
                    file: label.to_string(),
                    item,
                    name: name.to_string(),
                    macro_name: error.name,
                    offset: error.span.start,
                });
            }
            MacroBody::literal(text)
        }
    }
}

fn convert(
    label: &str,
    file: MacroFile,
    problems: &mut Vec<LoadProblem>,
    warnings: &mut Vec<LoadWarning>,
) -> FileItems {
    for key in file.unknown.keys() {
        warnings.push(LoadWarning {
            file: label.to_string(),
            place: "the file".to_string(),
            key: key.clone(),
        });
    }
    let mut items = FileItems {
        label: label.to_string(),
        default_tuning_groups: file.default_tuning_groups,
        ..FileItems::default()
    };
    for (name, def) in file.actions.into_iter().flatten() {
        for key in def.unknown.keys() {
            warnings.push(LoadWarning {
                file: label.to_string(),
                place: format!("action `{name}`"),
                key: key.clone(),
            });
        }
        let command = def.command.trim().to_string();
        let body = parse_body(label, "action", &name, &command, problems);
        items.actions.push(Arc::new(Action {
            name,
            description: def.description.trim().to_string(),
            example: def.example.map(|e| e.trim().to_string()),
            tip: def.tip.map(|t| t.trim().to_string()),
            command,
            dependencies: def.dependencies,
            source: label.to_string(),
            body,
        }));
    }
    for (name, value) in file.definitions.into_iter().flatten() {
        let value = value.trim().to_string();
        let body = parse_body(label, "definition", &name, &value, problems);
        items.definitions.push(Arc::new(Definition {
            name,
            value,
            source: label.to_string(),
            body,
        }));
    }
    for (name, def) in file.flags.into_iter().flatten() {
        items.flags.push(Arc::new(Flag {
            root: flag_set(&def.root()),
            gnu: def.gnu.as_ref().map(flag_set).unwrap_or_default(),
            llvm: def.llvm.as_ref().map(flag_set).unwrap_or_default(),
            name,
            source: label.to_string(),
        }));
    }
    for (name, def) in file.tuning.into_iter().flatten() {
        let options: Vec<TuningOption> = def
            .options
            .into_iter()
            .flatten()
            .map(|(name, option)| TuningOption {
                name,
                enabled: list(option.enabled),
                disabled: list(option.disabled),
            })
            .collect();
        if let Some(default) = &def.default {
            if !options.iter().any(|option| &option.name == default) {
                problems.push(LoadProblem::UnknownDefault {
                    file: label.to_string(),
                    group: name.clone(),
                    option: default.clone(),
                });
            }
        }
        items.tuning.push(Arc::new(TuningGroup {
            name,
            enabled: list(def.enabled),
            disabled: list(def.disabled),
            default: def.default,
            options,
            source: label.to_string(),
        }));
    }
    for (name, def) in file.packages.into_iter().flatten() {
        items.packages.push(PackageTemplate {
            name,
            summary: def.summary,
            description: def.description,
            paths: def.paths.into_iter().flat_map(path_rules).collect(),
            rundeps: def.rundeps,
            rundeps_exclude: def.rundeps_exclude,
            provides_exclude: def.provides_exclude,
            conflicts: def.conflicts,
            source: label.to_string(),
        });
    }
    items
}

fn list(value: Option<OneOrMany>) -> Vec<String> {
    value.map(OneOrMany::into_vec).unwrap_or_default()
}

fn path_rules(def: PathDef) -> Vec<PathRule> {
    match def {
        PathDef::Glob(pattern) => vec![PathRule {
            pattern,
            kind: None,
        }],
        PathDef::Typed(map) => map
            .into_iter()
            .map(|(pattern, kind)| PathRule {
                pattern,
                kind: Some(kind),
            })
            .collect(),
    }
}

fn flag_set(def: &FlagSetDef) -> FlagSet {
    let mut set = FlagSet::default();
    for kind in CompilerKind::ALL {
        let value = match kind {
            CompilerKind::C => &def.c,
            CompilerKind::Cxx => &def.cxx,
            CompilerKind::F => &def.f,
            CompilerKind::D => &def.d,
            CompilerKind::Rust => &def.rust,
            CompilerKind::Vala => &def.vala,
            CompilerKind::Go => &def.go,
            CompilerKind::Ld => &def.ld,
        };
        set.set(kind, value.clone());
    }
    set
}

fn merge_target(name: &str, layers: &[ParsedLayer]) -> TargetMacros {
    let mut target = TargetMacros {
        name: name.to_string(),
        ..TargetMacros::default()
    };
    for layer in layers {
        let arch_files = [layer.arch.get("base"), layer.arch.get(name)];
        for items in arch_files.into_iter().flatten().map(ArchFile::items) {
            merge_items(&mut target, items);
            for package in &items.packages {
                match target.packages.iter_mut().find(|p| p.name == package.name) {
                    Some(existing) => *existing = package.clone(),
                    None => target.packages.push(package.clone()),
                }
            }
            if !items.default_tuning_groups.is_empty() {
                target.default_tuning_groups = items.default_tuning_groups.clone();
            }
        }
        for items in &layer.actions {
            merge_items(&mut target, items);
        }
    }
    target
}

fn merge_items(target: &mut TargetMacros, items: &FileItems) {
    for action in &items.actions {
        target.actions.insert(action.name.clone(), action.clone());
    }
    for definition in &items.definitions {
        target
            .definitions
            .insert(definition.name.clone(), definition.clone());
    }
    for flag in &items.flags {
        target.flags.insert(flag.name.clone(), flag.clone());
    }
    for group in &items.tuning {
        target.tuning.insert(group.name.clone(), group.clone());
    }
}

fn check_tuning_flags(target: &TargetMacros, problems: &mut Vec<LoadProblem>) {
    for group in target.tuning.values() {
        let referenced = group.enabled.iter().chain(&group.disabled).chain(
            group
                .options
                .iter()
                .flat_map(|o| o.enabled.iter().chain(&o.disabled)),
        );
        for flag in referenced {
            if !target.flags.contains_key(flag) {
                let problem = LoadProblem::UnknownFlag {
                    file: group.source.clone(),
                    group: group.name.clone(),
                    flag: flag.clone(),
                    target: target.name.clone(),
                };
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
    }
}
