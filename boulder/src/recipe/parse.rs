//! Turns a YAML tree into a [`Recipe`], collecting every problem instead of stopping at
//! the first one.

use super::model::{
    BuildBlock, Options, PackageBlock, PathKind, PathRule, Phase, Profile, Recipe, Script, Spanned,
    SubPackage, Toolchain, TuningEntry, TuningSetting, Upstream,
};
use super::problem::Problem;
use super::restricted::{self, Identity};
use super::schema::{self, KeySpec, ValueType};
use moss_core::name::NameKind;
use moss_core::yaml::{self, Node, NodeKind, PlainType, Scalar, Style};

/// Parses recipe text. Always returns a recipe (invalid fields keep their defaults) and
/// every problem found.
pub fn parse(text: &str) -> (Recipe, Vec<Problem>) {
    let mut reader = Reader::default();
    let recipe = match yaml::parse(text) {
        Ok(root) => reader.recipe(&root),
        Err(error) => {
            reader.problems.push(
                Problem::new("recipe::yaml", error.message, error.offset..error.offset)
                    .label("here"),
            );
            Recipe::default()
        }
    };
    (recipe, reader.problems)
}

#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

/// A key of a map that passed the known-key check.
struct Field<'n> {
    spec: &'static KeySpec,
    value: &'n Node,
}

fn key_text(node: &Node) -> Option<&str> {
    node.as_scalar().map(|s| s.value.as_str())
}

impl Reader {
    fn error(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn wrong_type(&mut self, what: &str, expected: &str, node: &Node) {
        self.error(
            Problem::new(
                "recipe::wrong-type",
                format!("`{what}` must be {expected}, found {}", node.describe()),
                node.span.clone(),
            )
            .label(format!("expected {expected}")),
        );
    }

    /// Checks the keys of a map against `keys` (unknown, duplicate, missing required) and
    /// returns the known ones.
    fn fields<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        keys: &[&'static [KeySpec]],
        context: &str,
        whole: &Node,
    ) -> Vec<Field<'n>> {
        let all = || keys.iter().flat_map(|k| k.iter());
        // A set: a map may hold any number of keys (hostile input), each looked up once.
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut fields = Vec::new();
        for (key, value) in entries {
            let Some(name) = key
                .as_scalar()
                .filter(|s| !s.is_null())
                .map(|s| s.value.as_str())
            else {
                self.error(
                    Problem::new(
                        "recipe::bad-key",
                        format!(
                            "keys of {context} must be plain names, found {}",
                            key.describe()
                        ),
                        key.span.clone(),
                    )
                    .label("not a key name"),
                );
                continue;
            };
            if !seen.insert(name) {
                self.error(
                    Problem::new(
                        "recipe::duplicate-key",
                        format!("`{name}` is given twice in {context}"),
                        key.span.clone(),
                    )
                    .label("second definition")
                    .help("remove one of them; YAML keeps only one value per key"),
                );
                continue;
            }
            match schema::lookup(all(), name) {
                Some(spec) => fields.push(Field { spec, value }),
                None => {
                    let suggestion = schema::suggest(all(), name);
                    // Upstream ignores unknown keys: `build` warns and goes on.
                    let mut problem = Problem::new(
                        "recipe::unknown-key",
                        format!("unknown key `{name}` in {context}"),
                        key.span.clone(),
                    )
                    .label("unknown key")
                    .suggest(suggestion)
                    .tolerated();
                    if suggestion.is_none() {
                        let names: Vec<&str> = all().map(|k| k.name).collect();
                        problem = problem.help(format!("known keys: {}", names.join(", ")));
                    }
                    self.error(problem);
                }
            }
        }
        for spec in all().filter(|k| k.required) {
            if !seen.contains(spec.name) {
                let at = whole.span.start..whole.span.start;
                self.error(
                    Problem::new(
                        "recipe::missing-key",
                        format!("{context} is missing the required key `{}`", spec.name),
                        at,
                    )
                    .label(format!("`{}` expected in this map", spec.name))
                    .help(format!(
                        "add `{}: …` ({})",
                        spec.name,
                        spec.ty.describe()
                    )),
                );
            }
        }
        fields
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            NodeKind::Mapping(entries) => Some(entries),
            _ if node.is_null() => Some(&[]),
            _ => {
                self.wrong_type(what, "a map", node);
                None
            }
        }
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match &node.kind {
            NodeKind::Sequence(items) => items,
            _ if node.is_null() => &[],
            _ => {
                self.wrong_type(what, "a list", node);
                &[]
            }
        }
    }

    /// A single-key map `key: value` (the form of upstreams, profiles, packages, ...).
    fn single_entry<'n>(&mut self, node: &'n Node, what: &str) -> Option<(&'n Node, &'n Node)> {
        match &node.kind {
            NodeKind::Mapping(entries) if entries.len() == 1 => {
                Some((&entries[0].0, &entries[0].1))
            }
            NodeKind::Mapping(entries) if entries.len() > 1 => {
                self.error(
                    Problem::new(
                        "recipe::wrong-type",
                        format!("each `{what}` entry must have exactly one key, found {}", entries.len()),
                        entries[1].0.span.clone(),
                    )
                    .label("unexpected second key")
                    .help("check the indentation: the properties belong one level deeper, under the first key"),
                );
                None
            }
            _ => {
                self.wrong_type(&format!("{what} entry"), "a single-key map", node);
                None
            }
        }
    }

    fn scalar_text(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node.as_scalar() {
            Some(s) if s.is_null() => None,
            Some(s) => Some(Spanned::new(s.value.clone(), node.span.clone())),
            None => {
                self.wrong_type(what, "a string", node);
                None
            }
        }
    }

    fn required_text(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        let text = self.scalar_text(node, what);
        match &text {
            None if node.is_null() => {
                self.error(
                    Problem::new(
                        "recipe::empty",
                        format!("`{what}` must not be empty"),
                        node.span.clone(),
                    )
                    .label("empty value"),
                );
                None
            }
            Some(t) if t.value.trim().is_empty() => {
                self.error(
                    Problem::new(
                        "recipe::empty",
                        format!("`{what}` must not be empty"),
                        node.span.clone(),
                    )
                    .label("empty value"),
                );
                None
            }
            _ => text,
        }
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        let scalar = node.as_scalar();
        let text = scalar.map(|s| s.value.as_str());
        let plain = scalar.map(Scalar::plain_type);
        match (text, plain) {
            (Some(t), Some(PlainType::Bool)) => Some(t.eq_ignore_ascii_case("true")),
            (Some("true"), Some(PlainType::Str)) => Some(true),
            (Some("false"), Some(PlainType::Str)) => Some(false),
            (_, Some(PlainType::Null)) => None,
            _ => {
                let mut problem = Problem::new(
                    "recipe::wrong-type",
                    format!("`{what}` must be true or false, found {}", node.describe()),
                    node.span.clone(),
                )
                .label("expected true or false");
                if let Some(t) = text {
                    let lowered = t.to_ascii_lowercase();
                    if matches!(lowered.as_str(), "yes" | "on" | "y") {
                        problem = problem.suggest(Some("true"));
                    } else if matches!(lowered.as_str(), "no" | "off" | "n") {
                        problem = problem.suggest(Some("false"));
                    }
                }
                self.error(problem);
                None
            }
        }
    }

    fn script(&mut self, node: &Node, what: &str, environment: bool) -> Option<Script> {
        match node.as_scalar() {
            Some(s) if s.is_null() => None,
            Some(s) => {
                let text = if environment && s.value == "(null)" {
                    String::new()
                } else {
                    s.value.clone()
                };
                Some(Script {
                    text,
                    span: node.span.clone(),
                    map: s.map.clone(),
                })
            }
            None => {
                self.wrong_type(what, "a script (string)", node);
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, what: &str) -> Vec<Spanned<String>> {
        let items = self.list(node, what);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.as_scalar() {
                Some(s) if !s.is_null() => {
                    out.push(Spanned::new(s.value.clone(), item.span.clone()))
                }
                _ => self.wrong_type(&format!("{what} entry"), "a string", item),
            }
        }
        out
    }

    /// Reports `value` (the text of `node`) unless it is a safe name or version (see
    /// [`moss_core::name`]); `literal` says the value is the node's text unchanged, so
    /// the offending character itself can be pointed at.
    fn path_safe(&mut self, node: &Node, value: &str, kind: NameKind, literal: bool) -> bool {
        let Err(error) = moss_core::name::check(kind, value) else {
            return true;
        };
        let span = match node.as_scalar() {
            Some(scalar) if literal && !value.is_empty() => {
                let start = scalar.file_offset(error.offset);
                start
                    ..start
                        + value[error.offset..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8)
            }
            _ => node.span.clone(),
        };
        let code = match kind {
            NameKind::Package | NameKind::Architecture => "recipe::bad-name",
            NameKind::Version => "recipe::bad-version",
        };
        self.error(
            Problem::new(code, error.to_string(), span)
                .label("not allowed in a name")
                .help("names and versions become file names: no `/`, NUL, control characters or whitespace, and no leading `.`"),
        );
        false
    }

    /// Checks `text` against the restricted package-field environment.
    fn restricted(&mut self, node: &Node, id: Identity<'_>) -> Option<String> {
        let scalar = node.as_scalar()?;
        match restricted::expand(&scalar.value, id) {
            Ok(expanded) => Some(expanded),
            Err(error) => {
                let start = scalar.file_offset(error.range.start);
                let end = scalar.file_offset(error.range.end.saturating_sub(1)) + 1;
                self.error(
                    Problem::new(
                        "recipe::package-macro",
                        error.message,
                        start..end.max(start),
                    )
                    .label("not available here")
                    .suggest(error.suggestion),
                );
                None
            }
        }
    }

    /// A list of dependencies or providers. Only `rundeps` are expanded (with the
    /// restricted package environment, `id`), as upstream does; the others are literal.
    fn deps(&mut self, node: &Node, what: &str, id: Option<Identity<'_>>) -> Vec<Spanned<String>> {
        let items = self.list(node, what);
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if item.as_scalar().is_none_or(Scalar::is_null) {
                self.wrong_type(&format!("{what} entry"), "a dependency string", item);
                continue;
            }
            let expanded = match id {
                Some(id) => match self.restricted(item, id) {
                    Some(expanded) => expanded,
                    None => continue,
                },
                None => item
                    .as_scalar()
                    .map(|s| s.value.clone())
                    .unwrap_or_default(),
            };
            if let Err((message, suggestion)) = check_dependency(&expanded) {
                self.error(
                    Problem::new("recipe::bad-dependency", message, item.span.clone())
                        .label("invalid dependency")
                        .suggest(suggestion),
                );
                continue;
            }
            out.push(Spanned::new(expanded, item.span.clone()));
        }
        out
    }

    fn recipe(&mut self, root: &Node) -> Recipe {
        let mut recipe = Recipe::default();
        let entries: &[(Node, Node)] = match &root.kind {
            NodeKind::Mapping(entries) => entries,
            _ if root.is_null() => {
                self.error(
                    Problem::new("recipe::empty", "the recipe is empty", 0..0)
                        .label("empty file")
                        .help(
                            "a recipe needs at least name, version, release, homepage and license",
                        ),
                );
                return recipe;
            }
            _ => {
                self.wrong_type("the recipe", "a map of keys", root);
                return recipe;
            }
        };
        let groups: [&'static [KeySpec]; 4] = [
            schema::SOURCE_KEYS,
            schema::PACKAGE_KEYS,
            schema::BUILD_KEYS,
            schema::OPTION_KEYS,
        ];
        let fields = self.fields(entries, &groups, "the recipe", root);

        // Identity first: package fields may refer to it.
        for field in &fields {
            let what = field.spec.name;
            match what {
                "name" => {
                    if let Some(name) = self.required_text(field.value, what) {
                        self.path_safe(field.value, &name.value, NameKind::Package, true);
                        recipe.source.name = name;
                    }
                }
                "version" => self.version(field.value, &mut recipe),
                "release" => self.release(field.value, &mut recipe),
                "homepage" => {
                    if let Some(homepage) = self.required_text(field.value, what) {
                        recipe.source.homepage = homepage;
                    }
                }
                "license" => recipe.source.license = self.license(field.value),
                _ => {}
            }
        }
        let name = recipe.source.name.value.clone();
        let version = recipe.source.version.value.clone();
        let id = Identity {
            name: &name,
            version: &version,
            release: recipe.source.release.value,
        };

        let mut clang: Option<(bool, &Node)> = None;
        let mut toolchain_given = false;
        for field in &fields {
            let what = field.spec.name;
            let value = field.value;
            match field.spec.ty {
                ValueType::Script | ValueType::Environment | ValueType::Deps
                    if schema::lookup(schema::BUILD_KEYS, what).is_some() =>
                {
                    self.build_field(&mut recipe.build, field);
                }
                ValueType::Bool => {
                    let Some(flag) = self.bool(value, what) else {
                        continue;
                    };
                    let options: &mut Options = &mut recipe.options;
                    match what {
                        "emul32" => options.emul32 = flag,
                        "mold" => options.mold = flag,
                        "ccache" => options.ccache = flag,
                        "cspgo" => options.cspgo = flag,
                        "samplepgo" => options.samplepgo = flag,
                        "debug" => options.debug = flag,
                        "strip" => options.strip = flag,
                        "networking" => options.networking = flag,
                        "compressman" => options.compressman = flag,
                        "lastrip" => options.lastrip = flag,
                        "clang" => clang = Some((flag, value)),
                        _ => {}
                    }
                }
                ValueType::Toolchain => {
                    toolchain_given = true;
                    if let Some(toolchain) = self.toolchain(value) {
                        recipe.options.toolchain = toolchain;
                    }
                }
                ValueType::Upstreams => recipe.upstreams = self.upstreams(value),
                ValueType::Profiles => recipe.profiles = self.profiles(value),
                ValueType::Packages => recipe.packages = self.packages(value, id),
                ValueType::Architectures => recipe.architectures = self.architectures(value),
                ValueType::Tuning => recipe.tuning = self.tuning(value),
                _ if schema::lookup(schema::PACKAGE_KEYS, what).is_some() => {
                    self.package_field(&mut recipe.package, field, id);
                }
                _ => {}
            }
        }
        if let Some((flag, node)) = clang {
            if toolchain_given {
                self.error(
                    Problem::new(
                        "recipe::conflicting-options",
                        "`clang` and `toolchain` both choose the toolchain",
                        node.span.clone(),
                    )
                    .label("remove this")
                    .help("keep only `toolchain: llvm` or `toolchain: gnu`"),
                );
            } else {
                recipe.options.toolchain = if flag {
                    Toolchain::Llvm
                } else {
                    Toolchain::Gnu
                };
            }
        }
        if recipe.targets(crate::recipe::HOST_ARCH).is_empty() {
            let span = fields
                .iter()
                .find(|f| f.spec.name == "architectures")
                .map_or(0..0, |f| f.value.span.clone());
            self.error(
                Problem::new(
                    "recipe::no-targets",
                    format!(
                        "no supported build targets for {}",
                        crate::recipe::HOST_ARCH
                    ),
                    span,
                )
                .label("no target for this host")
                .help("list `native` or the host architecture"),
            );
        }
        recipe
    }

    fn version(&mut self, node: &Node, recipe: &mut Recipe) {
        let Some(version) = self.required_text(node, "version") else {
            return;
        };
        if !version.value.starts_with(|c: char| c.is_ascii_digit()) {
            self.error(
                Problem::new(
                    "recipe::bad-version",
                    format!("version `{}` must start with a digit", version.value),
                    node.span.clone(),
                )
                .label("not a version"),
            );
        } else {
            self.path_safe(node, &version.value, NameKind::Version, true);
        }
        recipe.source.version = version;
    }

    fn release(&mut self, node: &Node, recipe: &mut Recipe) {
        let scalar = node.as_scalar();
        let number = scalar
            .filter(|s| s.plain_type() == PlainType::Int)
            .and_then(|s| s.value.parse::<u64>().ok());
        match number {
            Some(0) => self.error(
                Problem::new(
                    "recipe::bad-release",
                    "`release` must be greater than 0",
                    node.span.clone(),
                )
                .label("release 0")
                .help("releases start at 1 and go up with every change of the recipe"),
            ),
            Some(n) => recipe.source.release = Spanned::new(n, node.span.clone()),
            None => {
                let mut problem = Problem::new(
                    "recipe::bad-release",
                    format!(
                        "`release` must be an integer greater than 0, found {}",
                        node.describe()
                    ),
                    node.span.clone(),
                )
                .label("expected an integer");
                if let Some(s) = scalar.filter(|s| s.style != Style::Plain) {
                    if s.value.parse::<u64>().is_ok_and(|n| n > 0) {
                        problem = problem
                            .help(format!("write it without quotes: `release: {}`", s.value));
                    }
                }
                self.error(problem);
            }
        }
    }

    fn license(&mut self, node: &Node) -> Vec<Spanned<String>> {
        if let Some(scalar) = node.as_scalar() {
            let Some(text) = self.required_text(node, "license") else {
                return Vec::new();
            };
            // A YAML list written inside a block string (`license: |` then `- X` lines).
            let lines: Vec<&str> = text
                .value
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if scalar.style == Style::Literal
                && lines.len() > 1
                && lines.iter().all(|l| l.starts_with("- "))
            {
                return lines
                    .iter()
                    .map(|l| Spanned::new(l[2..].trim().to_string(), node.span.clone()))
                    .collect();
            }
            return vec![Spanned::new(text.value.trim().to_string(), text.span)];
        }
        let licenses = match &node.kind {
            NodeKind::Sequence(_) => self.strings(node, "license"),
            _ => {
                self.wrong_type("license", "a string or a list of strings", node);
                return Vec::new();
            }
        };
        if licenses.is_empty() {
            self.error(
                Problem::new(
                    "recipe::empty",
                    "`license` must name at least one license",
                    node.span.clone(),
                )
                .label("empty list"),
            );
        }
        licenses
    }

    fn toolchain(&mut self, node: &Node) -> Option<Toolchain> {
        let text = self.scalar_text(node, "toolchain")?;
        match text.value.as_str() {
            "llvm" => Some(Toolchain::Llvm),
            "gnu" => Some(Toolchain::Gnu),
            other => {
                let suggestion =
                    crate::suggest::closest_name(other, ["llvm", "gnu"]).or(match other {
                        "gcc" => Some("gnu"),
                        "clang" => Some("llvm"),
                        _ => None,
                    });
                self.error(
                    Problem::new(
                        "recipe::bad-toolchain",
                        format!("unknown toolchain `{other}`: expected `llvm` or `gnu`"),
                        node.span.clone(),
                    )
                    .label("unknown toolchain")
                    .suggest(suggestion),
                );
                None
            }
        }
    }

    fn build_field(&mut self, block: &mut BuildBlock, field: &Field<'_>) {
        let what = field.spec.name;
        match what {
            "environment" => block.environment = self.script(field.value, what, true),
            "builddeps" => block.builddeps = self.deps(field.value, what, None),
            "checkdeps" => block.checkdeps = self.deps(field.value, what, None),
            _ => {
                if let Some(phase) = Phase::from_name(what) {
                    *block.phase_mut(phase) = self.script(field.value, what, false);
                }
            }
        }
    }

    fn package_field(&mut self, block: &mut PackageBlock, field: &Field<'_>, id: Identity<'_>) {
        let what = field.spec.name;
        let value = field.value;
        match what {
            "summary" | "description" => {
                let Some(text) = self.scalar_text(value, what) else {
                    return;
                };
                let Some(expanded) = self.restricted(value, id) else {
                    return;
                };
                let text = Spanned::new(expanded.trim().to_string(), text.span);
                if what == "summary" {
                    block.summary = Some(text);
                } else {
                    block.description = Some(text);
                }
            }
            "rundeps" => block.rundeps = self.deps(value, what, Some(id)),
            "provides" => block.provides = self.deps(value, what, None),
            "conflicts" => block.conflicts = self.deps(value, what, None),
            "rundeps-exclude" => block.rundeps_exclude = self.strings(value, what),
            "provides-exclude" => block.provides_exclude = self.strings(value, what),
            "paths" => block.paths = self.paths(value, id),
            _ => {}
        }
    }

    fn paths(&mut self, node: &Node, id: Identity<'_>) -> Vec<PathRule> {
        let mut rules = Vec::new();
        for item in self.list(node, "paths") {
            let (glob_node, kind) = match &item.kind {
                NodeKind::Scalar(s) if !s.is_null() => (item, PathKind::Any),
                NodeKind::Mapping(_) => {
                    let Some((glob, kind_node)) = self.single_entry(item, "paths") else {
                        continue;
                    };
                    let Some(kind) = self.path_kind(kind_node) else {
                        continue;
                    };
                    (glob, kind)
                }
                _ => {
                    self.wrong_type("paths entry", "a glob or `glob: kind`", item);
                    continue;
                }
            };
            if glob_node.as_scalar().is_none_or(Scalar::is_null) {
                self.wrong_type("paths entry", "a glob string", glob_node);
                continue;
            }
            let Some(glob) = self.restricted(glob_node, id) else {
                continue;
            };
            rules.push(PathRule {
                glob: Spanned::new(glob, glob_node.span.clone()),
                kind,
            });
        }
        rules
    }

    fn path_kind(&mut self, node: &Node) -> Option<PathKind> {
        if node.is_null() {
            return Some(PathKind::Any);
        }
        let text = self.scalar_text(node, "path kind")?;
        match text.value.as_str() {
            "any" => Some(PathKind::Any),
            "exe" => Some(PathKind::Exe),
            "symlink" => Some(PathKind::Symlink),
            "special" => Some(PathKind::Special),
            other => {
                self.error(
                    Problem::new(
                        "recipe::bad-path-kind",
                        format!(
                            "unknown path kind `{other}`: expected any, exe, symlink or special"
                        ),
                        node.span.clone(),
                    )
                    .label("unknown kind")
                    .suggest(crate::suggest::closest_name(
                        other,
                        schema::PATH_KINDS.iter().copied(),
                    )),
                );
                None
            }
        }
    }

    fn upstreams(&mut self, node: &Node) -> Vec<Upstream> {
        let mut upstreams = Vec::new();
        for item in self.list(node, "upstreams") {
            let Some((key, value)) = self.single_entry(item, "upstreams") else {
                continue;
            };
            let Some(uri) = self.scalar_text(key, "upstream URL") else {
                self.wrong_type("upstream URL", "a URL", key);
                continue;
            };
            let (is_git, url_text) = match uri.value.strip_prefix("git|") {
                Some(rest) => (true, rest.to_string()),
                None => (false, uri.value.clone()),
            };
            let scheme_ok = url_text.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !rest.is_empty()
            });
            // A plain path, absolute or explicitly relative (to the recipe's
            // directory), names a local archive; a bare name is more likely a
            // URL missing its scheme.
            let local_path = !is_git
                && ["/", "./", "../"]
                    .iter()
                    .any(|start| url_text.starts_with(start) && url_text.len() > start.len());
            if !scheme_ok && !local_path {
                self.error(
                    Problem::new(
                        "recipe::bad-url",
                        format!("upstream `{}` is not a URL", uri.value),
                        key.span.clone(),
                    )
                    .label("expected scheme://host/path")
                    .help("archives are `https://…: <sha256>` (or a local `./file`, `/path/file`), git repositories `git|https://…: <ref>`"),
                );
                continue;
            }
            let url = Spanned::new(url_text, key.span.clone());
            let upstream = if is_git {
                self.git_upstream(url, key, value)
            } else {
                self.archive_upstream(url, key, value)
            };
            upstreams.extend(upstream);
        }
        upstreams
    }

    fn hash(&mut self, node: &Node) -> Option<Spanned<String>> {
        let hash = self.scalar_text(node, "hash")?;
        if hash.value.len() != 64 || !hash.value.chars().all(|c| c.is_ascii_hexdigit()) {
            self.error(
                Problem::new(
                    "recipe::bad-hash",
                    format!(
                        "upstream hash must be a sha256 digest (64 hexadecimal digits), found {} characters",
                        hash.value.chars().count()
                    ),
                    node.span.clone(),
                )
                .label("not a sha256"),
            );
            return None;
        }
        Some(hash)
    }

    fn archive_upstream(
        &mut self,
        url: Spanned<String>,
        key: &Node,
        value: &Node,
    ) -> Option<Upstream> {
        if value.is_null() {
            self.error(
                Problem::new(
                    "recipe::missing-hash",
                    "archive upstream without a hash",
                    key.span.clone(),
                )
                .label("no hash")
                .help("write `URL: <sha256>` or give a map with `hash: <sha256>`"),
            );
            return None;
        }
        if value.as_scalar().is_some() {
            let hash = self.hash(value)?;
            return Some(Upstream::Archive {
                url,
                hash,
                rename: None,
                unpack: true,
                unpackdir: None,
                stripdirs: None,
            });
        }
        let entries = self.map(value, "upstream properties")?;
        if let Some((git_key, _)) = entries
            .iter()
            .find(|(k, _)| matches!(key_text(k), Some("ref" | "clonedir")))
        {
            self.error(
                Problem::new(
                    "recipe::upstream-kind",
                    format!(
                        "`{}` belongs to git upstreams, but this URL has no `git|` prefix",
                        key_text(git_key).unwrap_or_default()
                    ),
                    git_key.span.clone(),
                )
                .label("git property")
                .help("prefix the URL with `git|` for a git repository"),
            );
            return None;
        }
        let fields = self.fields(entries, &[schema::ARCHIVE_KEYS], "an archive upstream", key);
        let mut hash = None;
        let mut rename = None;
        let mut unpack = true;
        let mut unpackdir = None;
        let mut stripdirs = None;
        for field in &fields {
            match field.spec.name {
                "hash" => hash = self.hash(field.value),
                "rename" => rename = self.relative(field.value, "rename"),
                "unpack" => unpack = self.bool(field.value, "unpack").unwrap_or(true),
                "unpackdir" => unpackdir = self.relative(field.value, "unpackdir"),
                "stripdirs" => stripdirs = self.small_int(field.value, "stripdirs"),
                _ => {}
            }
        }
        Some(Upstream::Archive {
            url,
            hash: hash?,
            rename,
            unpack,
            unpackdir,
            stripdirs,
        })
    }

    fn git_upstream(&mut self, url: Spanned<String>, key: &Node, value: &Node) -> Option<Upstream> {
        if value.is_null() {
            self.error(
                Problem::new(
                    "recipe::missing-ref",
                    "git upstream without a ref",
                    key.span.clone(),
                )
                .label("no ref")
                .help("write `git|URL: <branch, tag or commit>` or give a map with `ref: …`"),
            );
            return None;
        }
        if value.as_scalar().is_some() {
            let git_ref = self.required_text(value, "ref")?;
            return Some(Upstream::Git {
                url,
                git_ref,
                clonedir: None,
            });
        }
        let entries = self.map(value, "upstream properties")?;
        if let Some((plain_key, _)) = entries.iter().find(|(k, _)| {
            matches!(
                key_text(k),
                Some("hash" | "rename" | "unpack" | "unpackdir" | "stripdirs")
            )
        }) {
            self.error(
                Problem::new(
                    "recipe::upstream-kind",
                    format!(
                        "`{}` belongs to archive upstreams, but this URL is a git repository (`git|`)",
                        key_text(plain_key).unwrap_or_default()
                    ),
                    plain_key.span.clone(),
                )
                .label("archive property")
                .help("git upstreams take `ref` and `clonedir`"),
            );
            return None;
        }
        let fields = self.fields(entries, &[schema::GIT_KEYS], "a git upstream", key);
        let mut git_ref = None;
        let mut clonedir = None;
        for field in &fields {
            match field.spec.name {
                "ref" => git_ref = self.required_text(field.value, "ref"),
                "clonedir" => clonedir = self.relative(field.value, "clonedir"),
                _ => {}
            }
        }
        Some(Upstream::Git {
            url,
            git_ref: git_ref?,
            clonedir,
        })
    }

    fn relative(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        let text = self.required_text(node, what)?;
        if text.value.starts_with('/') || text.value.split('/').any(|part| part == "..") {
            self.error(
                Problem::new(
                    "recipe::bad-path",
                    format!("`{what}` must be a relative path inside the build directory"),
                    node.span.clone(),
                )
                .label("absolute or escaping path"),
            );
            return None;
        }
        Some(text)
    }

    fn small_int(&mut self, node: &Node, what: &str) -> Option<u8> {
        let value = node
            .as_scalar()
            .filter(|s| s.plain_type() == PlainType::Int)
            .and_then(|s| s.value.parse::<u8>().ok());
        if value.is_none() {
            self.wrong_type(what, "an integer from 0 to 255", node);
        }
        value
    }

    fn profiles(&mut self, node: &Node) -> Vec<Profile> {
        let mut profiles = Vec::new();
        for item in self.list(node, "profiles") {
            let Some((key, value)) = self.single_entry(item, "profiles") else {
                continue;
            };
            let Some(target) = self.scalar_text(key, "profile target") else {
                continue;
            };
            if !schema::TARGETS.contains(&target.value.as_str()) {
                self.error(
                    Problem::new(
                        "recipe::unknown-target",
                        format!("unknown profile target `{}`", target.value),
                        key.span.clone(),
                    )
                    .label("unknown target")
                    .suggest(crate::suggest::closest_name(
                        &target.value,
                        schema::TARGETS.iter().copied(),
                    ))
                    .help(format!("known targets: {}", schema::TARGETS.join(", "))),
                );
                continue;
            }
            let Some(entries) = self.map(value, "profile") else {
                continue;
            };
            let context = format!("profile `{}`", target.value);
            let fields = self.fields(entries, &[schema::BUILD_KEYS], &context, key);
            let mut build = BuildBlock::default();
            for field in &fields {
                self.build_field(&mut build, field);
            }
            profiles.push(Profile { target, build });
        }
        profiles
    }

    fn packages(&mut self, node: &Node, id: Identity<'_>) -> Vec<SubPackage> {
        let mut packages: Vec<SubPackage> = Vec::new();
        let mut names = std::collections::HashSet::new();
        for item in self.list(node, "packages") {
            let Some((key, value)) = self.single_entry(item, "packages") else {
                continue;
            };
            if key.as_scalar().is_none_or(Scalar::is_null) {
                self.wrong_type("package name", "a string", key);
                continue;
            }
            let Some(name) = self.restricted(key, id) else {
                continue;
            };
            let literal = key.as_scalar().is_some_and(|s| s.value == name);
            if !self.path_safe(key, &name, NameKind::Package, literal) {
                continue;
            }
            if !names.insert(name.clone()) {
                // Upstream merges the two (v4l-utils does it on purpose); so do we.
                self.error(
                    Problem::new(
                        "recipe::duplicate-package",
                        format!("package `{name}` is defined twice; the definitions are merged"),
                        key.span.clone(),
                    )
                    .label("second definition")
                    .help(
                        "as upstream does: the paths and rundeps of both count (these paths take precedence), and this definition's summary and description (or else the recipe's) replace the earlier ones",
                    )
                    .warning(),
                );
            }
            let Some(entries) = self.map(value, "package") else {
                continue;
            };
            let context = format!("package `{name}`");
            let fields = self.fields(entries, &[schema::PACKAGE_KEYS], &context, key);
            let mut block = PackageBlock::default();
            for field in &fields {
                self.package_field(&mut block, field, id);
            }
            packages.push(SubPackage {
                name: Spanned::new(name, key.span.clone()),
                block,
            });
        }
        packages
    }

    fn architectures(&mut self, node: &Node) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for arch in self.strings(node, "architectures") {
            if schema::TARGETS.contains(&arch.value.as_str()) {
                out.push(arch);
            } else {
                self.error(
                    Problem::new(
                        "recipe::unknown-target",
                        format!("unknown architecture `{}`", arch.value),
                        arch.span.clone(),
                    )
                    .label("unknown target")
                    .suggest(crate::suggest::closest_name(
                        &arch.value,
                        schema::TARGETS.iter().copied(),
                    )),
                );
            }
        }
        out
    }

    fn tuning(&mut self, node: &Node) -> Vec<TuningEntry> {
        let mut entries = Vec::new();
        for item in self.list(node, "tuning") {
            let entry = match &item.kind {
                NodeKind::Scalar(s) if !s.is_null() => TuningEntry {
                    group: Spanned::new(s.value.clone(), item.span.clone()),
                    setting: TuningSetting::Default,
                    setting_span: item.span.clone(),
                },
                NodeKind::Mapping(_) => {
                    let Some((key, value)) = self.single_entry(item, "tuning") else {
                        continue;
                    };
                    let Some(group) = self.scalar_text(key, "tuning group") else {
                        continue;
                    };
                    let setting = match value.as_scalar().map(Scalar::plain_type) {
                        Some(PlainType::Null) => TuningSetting::Default,
                        Some(PlainType::Bool) => TuningSetting::Enabled(
                            value
                                .as_scalar()
                                .is_some_and(|s| s.value.eq_ignore_ascii_case("true")),
                        ),
                        Some(_) => TuningSetting::Option(
                            value
                                .as_scalar()
                                .map(|s| s.value.clone())
                                .unwrap_or_default(),
                        ),
                        None => {
                            self.wrong_type(
                                &format!("tuning `{}`", group.value),
                                "true, false or an option name",
                                value,
                            );
                            continue;
                        }
                    };
                    TuningEntry {
                        group,
                        setting,
                        setting_span: value.span.clone(),
                    }
                }
                _ => {
                    self.wrong_type("tuning entry", "a group name or `group: setting`", item);
                    continue;
                }
            };
            entries.push(entry);
        }
        entries
    }
}

/// Checks the `name` / `kind(name)` syntax of a dependency or provider string.
fn check_dependency(text: &str) -> Result<(), (String, Option<&'static str>)> {
    if text.trim().is_empty() || text.contains(char::is_whitespace) {
        return Err((
            format!("dependency `{text}` must be a single word: `name` or `kind(name)`"),
            None,
        ));
    }
    let Some(open) = text.find('(') else {
        if text.contains(')') {
            return Err((format!("dependency `{text}` has an unmatched `)`"), None));
        }
        return Ok(());
    };
    let kind = &text[..open];
    let inner = text[open + 1..].strip_suffix(')');
    match inner {
        Some(inner) if !inner.is_empty() => {
            if schema::DEPENDENCY_KINDS.contains(&kind) {
                Ok(())
            } else {
                Err((
                    format!(
                        "unknown dependency kind `{kind}`; known kinds: {}",
                        schema::DEPENDENCY_KINDS.join(", ")
                    ),
                    crate::suggest::closest_name(kind, schema::DEPENDENCY_KINDS.iter().copied()),
                ))
            }
        }
        _ => Err((
            format!("dependency `{text}` must look like `kind(name)`"),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_syntax() {
        assert!(check_dependency("binary(cargo)").is_ok());
        assert!(check_dependency("glibc-devel").is_ok());
        assert!(check_dependency("pkgconfig(").is_err());
        assert_eq!(
            check_dependency("pkgconfg(zlib)").unwrap_err().1,
            Some("pkgconfig")
        );
    }
}
