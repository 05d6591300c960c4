//! Tuning resolution: recipe `tuning:` requests + default groups → one flag
//! string per compiler kind.
//!
//! Compatible with the original tool on purpose: every flag *string* is trimmed,
//! strings of one character or less are dropped, and the rest are de-duplicated
//! and sorted lexicographically before joining with spaces. Sorting loses the
//! author's order (`-march` may land after `-f…`), but it is what makes our
//! CFLAGS byte-identical to the original's for the same flags.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::error::{TuningError, TuningErrorKind};
use super::library::TargetMacros;
use super::model::{CompilerKind, Toolchain, TuningGroup};
use crate::suggest::closest_name;

/// One entry of a recipe's `tuning:` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuningRequest {
    pub group: String,
    pub setting: TuningSetting,
    /// Where the entry sits in the recipe file; copied into errors.
    pub span: Option<Range<usize>>,
}

impl TuningRequest {
    pub fn new(group: impl Into<String>, setting: TuningSetting) -> Self {
        Self {
            group: group.into(),
            setting,
            span: None,
        }
    }
}

/// `- group` / `- group: true` → `Enable`; `- group: false` → `Disable`;
/// `- group: option` → `Option`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TuningSetting {
    Enable,
    Disable,
    Option(String),
}

/// The decided state of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupState {
    Enabled(Option<String>),
    Disabled,
}

/// The outcome of tuning: group states and the final flag strings.
#[derive(Debug, Clone, Default)]
pub struct ResolvedTuning {
    /// Groups in the order they were decided.
    pub groups: Vec<(String, GroupState)>,
    /// Flag string per compiler kind (unexpanded; may contain `%(jobs)` etc.).
    pub flags: BTreeMap<CompilerKind, String>,
}

fn validate(target: &TargetMacros, request: &TuningRequest) -> Result<(), TuningError> {
    let Some(group) = target.tuning_group(&request.group) else {
        return Err(TuningError {
            span: request.span.clone(),
            kind: TuningErrorKind::UnknownGroup(request.group.clone()),
            suggestion: closest_name(
                &request.group,
                target.tuning_groups().map(|g| g.name.as_str()),
            )
            .map(str::to_string),
        });
    };
    if let TuningSetting::Option(option) = &request.setting {
        if group.option(option).is_none() {
            return Err(TuningError {
                span: request.span.clone(),
                kind: TuningErrorKind::UnknownOption {
                    group: group.name.clone(),
                    option: option.clone(),
                    known: group.options.iter().map(|o| o.name.clone()).collect(),
                },
                suggestion: closest_name(option, group.options.iter().map(|o| o.name.as_str()))
                    .map(str::to_string),
            });
        }
    }
    Ok(())
}

/// Decides every group's state and builds the flag strings.
/// `extra_groups` are enabled after the defaults (PGO stage groups).
pub fn resolve(
    target: &TargetMacros,
    toolchain: Toolchain,
    requests: &[TuningRequest],
    extra_groups: &[&str],
) -> Result<ResolvedTuning, Vec<TuningError>> {
    let mut errors = Vec::new();
    let mut states: Vec<(String, GroupState)> = Vec::new();
    let set = |states: &mut Vec<(String, GroupState)>, name: &str, state: GroupState| match states
        .iter_mut()
        .find(|(group, _)| group == name)
    {
        Some(entry) => entry.1 = state,
        None => states.push((name.to_string(), state)),
    };

    set(&mut states, "architecture", GroupState::Enabled(None));
    let mut mentioned = BTreeSet::new();
    for request in requests {
        if let Err(error) = validate(target, request) {
            errors.push(error);
            continue;
        }
        mentioned.insert(request.group.as_str());
        let state = match &request.setting {
            TuningSetting::Enable => GroupState::Enabled(None),
            TuningSetting::Disable => GroupState::Disabled,
            TuningSetting::Option(option) => GroupState::Enabled(Some(option.clone())),
        };
        set(&mut states, &request.group, state);
    }
    for group in target.default_tuning_groups() {
        if !mentioned.contains(group.as_str()) {
            set(&mut states, group, GroupState::Enabled(None));
        }
    }
    for group in extra_groups {
        set(&mut states, group, GroupState::Enabled(None));
    }

    let mut flag_names: Vec<&str> = Vec::new();
    for (name, state) in &states {
        let Some(group) = target.tuning_group(name) else {
            // Defaults and `architecture` come from our own files; a missing group is a
            // library problem, reported like an unknown request.
            errors.push(TuningError {
                span: None,
                kind: TuningErrorKind::UnknownGroup(name.clone()),
                suggestion: None,
            });
            continue;
        };
        flag_names.extend(group_flags(group, state).iter().map(String::as_str));
    }

    let mut strings: BTreeMap<CompilerKind, BTreeSet<&str>> = BTreeMap::new();
    for flag_name in flag_names {
        let Some(flag) = target.flag(flag_name) else {
            errors.push(TuningError {
                span: None,
                kind: TuningErrorKind::UnknownFlag {
                    group: String::new(),
                    flag: flag_name.to_string(),
                },
                suggestion: None,
            });
            continue;
        };
        for kind in CompilerKind::ALL {
            if let Some(value) = flag.value(toolchain, kind) {
                let value = value.trim();
                if value.len() > 1 {
                    strings.entry(kind).or_default().insert(value);
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let flags = CompilerKind::ALL
        .into_iter()
        .map(|kind| {
            let joined = strings
                .get(&kind)
                .map(|set| set.iter().copied().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            (kind, joined)
        })
        .collect();
    Ok(ResolvedTuning {
        groups: states,
        flags,
    })
}

fn group_flags<'g>(group: &'g TuningGroup, state: &GroupState) -> &'g [String] {
    match state {
        GroupState::Disabled => &group.disabled,
        GroupState::Enabled(option) => {
            let chosen = option.as_deref().or(group.default.as_deref());
            match chosen.and_then(|name| group.option(name)) {
                Some(option) => &option.enabled,
                None => &group.enabled,
            }
        }
    }
}
