//! Keeping a recipe current: `recipe update` (a new version and its
//! upstreams, with their hashes) and `recipe bump` (a new release). Both
//! edit the recipe's text at the parser's spans, so comments and layout
//! stay, and report the change as a unified diff.
//!
//! As upstream boulder does, an update raises `release` by one (moss orders
//! the builds of a package by release, so it never goes back to 1).

pub(crate) mod diff;

use thiserror::Error;

use crate::recipe::edit::{scalar_like, TextEdits};
use crate::recipe::model::Upstream as RecipeUpstream;
use crate::recipe::Recipe;
use crate::upstream::{Upstream, UpstreamError};

/// A new value for one upstream of the recipe, in recipe order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamChange {
    /// An archive's new URL (its sha256 is fetched).
    Url(String),
    /// A git upstream's new ref (`git|REF` on the command line).
    GitRef(String),
}

impl UpstreamChange {
    /// `git|REF` is a ref for a git upstream; anything else an archive URL.
    pub fn parse(text: &str) -> UpstreamChange {
        match text.strip_prefix("git|") {
            Some(git_ref) => UpstreamChange::GitRef(git_ref.to_string()),
            None => UpstreamChange::Url(text.to_string()),
        }
    }
}

/// What `recipe update` changes.
#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    pub version: Option<String>,
    /// Applied to the recipe's upstreams in order; upstreams past the end
    /// of this list get the old version replaced by the new one in their
    /// URL (or git ref), when it appears there.
    pub upstreams: Vec<UpstreamChange>,
    /// Leave `release` as it is.
    pub no_bump: bool,
}

/// Why a recipe could not be updated or bumped.
#[derive(Debug, Error)]
pub enum MaintainError {
    #[error("the recipe has no valid `{0}`; `boulder recipe check` shows why")]
    MissingField(&'static str),
    #[error("upstream {index} of the recipe is {recipe}, but the new value `{given}` is {wanted} (archives take a URL, git upstreams `git|REF`)")]
    KindMismatch {
        index: usize,
        recipe: &'static str,
        given: String,
        wanted: &'static str,
    },
    #[error("{given} new upstream(s) given, but the recipe has {recipe}")]
    TooManyUpstreams { given: usize, recipe: usize },
    #[error("nothing to update: give --version or --upstream")]
    NothingToDo,
    #[error("`release` {0} cannot be raised further")]
    ReleaseOverflow(u64),
    #[error("the new release {new} is not above the current {current}")]
    ReleaseNotRaised { current: u64, new: u64 },
    #[error(transparent)]
    Fetch(#[from] UpstreamError),
}

/// The edited recipe text and notes for the user.
#[derive(Debug, Clone)]
pub struct Edited {
    pub text: String,
    /// Things the user should look at (an upstream kept as it was, …).
    pub notes: Vec<String>,
}

/// Fetches an archive upstream and returns its sha256: `(url, file name)`.
pub type HashFetcher<'a> = dyn Fn(&str, &str) -> Result<String, UpstreamError> + 'a;

/// Applies `request` to the recipe `text` (parsed as `recipe`): the version,
/// each upstream's URL and hash (fetched with `fetch`) or git ref, and the
/// release raised by one unless `no_bump`.
pub fn update(
    text: &str,
    recipe: &Recipe,
    request: &UpdateRequest,
    fetch: &HashFetcher<'_>,
) -> Result<Edited, MaintainError> {
    if request.version.is_none() && request.upstreams.is_empty() {
        return Err(MaintainError::NothingToDo);
    }
    if request.upstreams.len() > recipe.upstreams.len() {
        return Err(MaintainError::TooManyUpstreams {
            given: request.upstreams.len(),
            recipe: recipe.upstreams.len(),
        });
    }
    let mut edits = TextEdits::new();
    let mut notes = Vec::new();
    let old_version = recipe.source.version.value.clone();
    if let Some(version) = &request.version {
        let span = field_span(text, &recipe.source.version.span, "version")?;
        edits.replace(span.clone(), scalar_like(&text[span], version));
    }
    // The old version inside a URL or ref follows the new one, when the
    // command line gave no value for that upstream.
    let follow = |value: &str| -> Option<String> {
        let version = request.version.as_deref()?;
        if old_version.is_empty() || version == old_version {
            return None;
        }
        let replaced = replace_version(value, &old_version, version);
        (replaced != value).then_some(replaced)
    };
    for (index, upstream) in recipe.upstreams.iter().enumerate() {
        let given = request.upstreams.get(index);
        match upstream {
            RecipeUpstream::Archive {
                url, hash, rename, ..
            } => {
                let new_url = match given {
                    Some(UpstreamChange::Url(new)) => new.clone(),
                    Some(UpstreamChange::GitRef(r)) => {
                        return Err(MaintainError::KindMismatch {
                            index: index + 1,
                            recipe: "an archive",
                            given: format!("git|{r}"),
                            wanted: "a git ref",
                        })
                    }
                    None => match follow(&url.value) {
                        Some(new) => new,
                        None => {
                            if request.version.is_some() {
                                notes.push(format!(
                                    "upstream {} kept: its URL does not hold the old version {old_version}",
                                    index + 1
                                ));
                            }
                            continue;
                        }
                    },
                };
                let name = Upstream::Archive {
                    url: new_url.clone(),
                    hash: String::new(),
                    rename: rename.as_ref().map(|r| r.value.clone()),
                    unpack: true,
                    unpackdir: None,
                    stripdirs: None,
                }
                .name()?;
                let sha256 = fetch(&new_url, &name)?;
                let url_span = field_span(text, &url.span, "upstream URL")?;
                edits.replace(url_span.clone(), scalar_like(&text[url_span], &new_url));
                let hash_span = field_span(text, &hash.span, "upstream hash")?;
                edits.replace(hash_span.clone(), scalar_like(&text[hash_span], &sha256));
            }
            RecipeUpstream::Git { git_ref, .. } => {
                let new_ref = match given {
                    Some(UpstreamChange::GitRef(new)) => new.clone(),
                    Some(UpstreamChange::Url(u)) => {
                        return Err(MaintainError::KindMismatch {
                            index: index + 1,
                            recipe: "a git repository",
                            given: u.clone(),
                            wanted: "an archive URL",
                        })
                    }
                    None => match follow(&git_ref.value) {
                        Some(new) => new,
                        None => {
                            if request.version.is_some() {
                                notes.push(format!(
                                    "git upstream {} kept at `{}`: give `--upstream 'git|REF'` to move it",
                                    index + 1,
                                    git_ref.value
                                ));
                            }
                            continue;
                        }
                    },
                };
                let span = field_span(text, &git_ref.span, "git ref")?;
                edits.replace(span.clone(), scalar_like(&text[span], &new_ref));
            }
        }
    }
    if !request.no_bump {
        let current = recipe.source.release.value;
        let next = current
            .checked_add(1)
            .ok_or(MaintainError::ReleaseOverflow(current))?;
        release_edit(text, recipe, next, &mut edits)?;
    }
    Ok(Edited {
        text: edits.apply(text),
        notes,
    })
}

/// `text` with each whole occurrence of the version `old` replaced by
/// `new`: not inside a longer number or word (`foo2-2.tar` with version 2
/// changes only the second `2`; `1.0` is not the start of `1.0.1`), though a
/// `v` prefix (`v1.0`) is allowed.
fn replace_version(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, _) in text.match_indices(old) {
        if start < at {
            continue;
        }
        let before = &text[..start];
        let after = &text[start + old.len()..];
        let mut prev = before.chars().rev();
        let left_ok = match prev.next() {
            None => true,
            Some('v' | 'V') => !prev.next().is_some_and(|c| c.is_ascii_alphanumeric()),
            Some(c) => !c.is_ascii_alphanumeric(),
        };
        let mut next = after.chars();
        let right_ok = match next.next() {
            None => true,
            Some('.') => !next.next().is_some_and(|c| c.is_ascii_digit()),
            Some(c) => !c.is_ascii_digit(),
        };
        if left_ok && right_ok {
            out.push_str(&text[at..start]);
            out.push_str(new);
            at = start + old.len();
        }
    }
    out.push_str(&text[at..]);
    out
}

/// Raises the recipe's `release` by one, or to `to`.
pub fn bump(text: &str, recipe: &Recipe, to: Option<u64>) -> Result<Edited, MaintainError> {
    let current = recipe.source.release.value;
    let next = match to {
        Some(n) => n,
        None => current
            .checked_add(1)
            .ok_or(MaintainError::ReleaseOverflow(current))?,
    };
    if next <= current {
        return Err(MaintainError::ReleaseNotRaised { current, new: next });
    }
    let mut edits = TextEdits::new();
    release_edit(text, recipe, next, &mut edits)?;
    Ok(Edited {
        text: edits.apply(text),
        notes: Vec::new(),
    })
}

fn release_edit(
    text: &str,
    recipe: &Recipe,
    release: u64,
    edits: &mut TextEdits,
) -> Result<(), MaintainError> {
    if recipe.source.release.value == 0 {
        return Err(MaintainError::MissingField("release"));
    }
    let span = field_span(text, &recipe.source.release.span, "release")?;
    // `release` is a number: quotes around it would make it a string.
    edits.replace(span, release.to_string());
    Ok(())
}

/// The span of a scalar the parser found, refused when it is missing or a
/// block scalar (which a one-line value cannot replace).
fn field_span(
    text: &str,
    span: &std::ops::Range<usize>,
    what: &'static str,
) -> Result<std::ops::Range<usize>, MaintainError> {
    let original = text.get(span.clone()).unwrap_or_default();
    let trimmed = original.trim_start();
    if original.is_empty() || trimmed.starts_with('|') || trimmed.starts_with('>') {
        return Err(MaintainError::MissingField(what));
    }
    // A span may run past the scalar (blanks, a comment); edit the scalar only.
    Ok(span.start..span.start + scalar_len(original))
}

/// The length of the scalar at the start of `text`: up to its closing
/// quote, or for a plain scalar up to a comment or the end of the line.
fn scalar_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            text.len()
        }
        Some(b'\'') => {
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            text.len()
        }
        _ => {
            let line = text.split('\n').next().unwrap_or(text);
            let line = line.find(" #").map_or(line, |at| &line[..at]);
            line.trim_end().len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = "\
# A comment that stays.
name        : hello
version     : \"1.0\"   # upstream's latest
release     : 4
homepage    : https://example.org
license     : MIT
upstreams   :
    - https://example.org/hello-1.0.tar.gz : 0000000000000000000000000000000000000000000000000000000000000000
    - git|https://example.org/extra.git :
        ref: v1.0
        clonedir: extra
summary     : hi
description : |
    hi
";

    fn parsed(text: &str) -> Recipe {
        crate::recipe::parse(text).0
    }

    #[test]
    fn update_follows_the_version_into_urls_and_refs_and_raises_release() {
        let recipe = parsed(RECIPE);
        let fetched = std::cell::RefCell::new(Vec::new());
        let fetch = |url: &str, name: &str| {
            fetched
                .borrow_mut()
                .push((url.to_string(), name.to_string()));
            Ok("ab".repeat(32))
        };
        let request = UpdateRequest {
            version: Some("1.1".into()),
            ..UpdateRequest::default()
        };
        let edited = update(RECIPE, &recipe, &request, &fetch).expect("update");
        assert_eq!(
            *fetched.borrow(),
            [(
                "https://example.org/hello-1.1.tar.gz".to_string(),
                "hello-1.1.tar.gz".to_string()
            )]
        );
        let expected = RECIPE
            .replace("\"1.0\"   #", "\"1.1\"   #")
            .replace("hello-1.0.tar.gz", "hello-1.1.tar.gz")
            .replace(&"0".repeat(64), &"ab".repeat(32))
            .replace("ref: v1.0", "ref: v1.1")
            .replace("release     : 4", "release     : 5");
        assert_eq!(edited.text, expected);
    }

    #[test]
    fn versions_are_replaced_only_where_whole() {
        assert_eq!(
            replace_version("https://h/foo2/foo2-2.tar.gz", "2", "3"),
            "https://h/foo2/foo2-3.tar.gz"
        );
        assert_eq!(
            replace_version("https://h/v1.0/x-1.0.tar.gz", "1.0", "1.1"),
            "https://h/v1.1/x-1.1.tar.gz"
        );
        assert_eq!(replace_version("x-1.0.1.tar", "1.0", "2.0"), "x-1.0.1.tar");
    }

    #[test]
    fn a_hash_in_a_map_is_replaced_and_its_properties_kept() {
        let text = "\
name        : hello
version     : 1.0.2
release     : 1
homepage    : https://example.org
license     : MIT
upstreams   :
    - https://example.org/hello-1.0.2.tar.gz :
        hash: 0000000000000000000000000000000000000000000000000000000000000000 # pinned
        stripdirs: 2
summary     : hi
description : |
    hi
";
        let recipe = parsed(text);
        let fetch = |_: &str, _: &str| Ok("cd".repeat(32));
        let request = UpdateRequest {
            version: Some("1.0.3".into()),
            no_bump: true,
            ..UpdateRequest::default()
        };
        let edited = update(text, &recipe, &request, &fetch).expect("update");
        let expected = text
            .replace("1.0.2", "1.0.3")
            .replace(&"0".repeat(64), &"cd".repeat(32));
        assert_eq!(edited.text, expected);
    }

    #[test]
    fn explicit_upstreams_must_match_the_kind_and_count() {
        let recipe = parsed(RECIPE);
        let fetch = |_: &str, _: &str| Ok("ab".repeat(32));
        let wrong = UpdateRequest {
            upstreams: vec![UpstreamChange::parse("git|v2")],
            ..UpdateRequest::default()
        };
        assert!(matches!(
            update(RECIPE, &recipe, &wrong, &fetch),
            Err(MaintainError::KindMismatch { index: 1, .. })
        ));
        let many = UpdateRequest {
            upstreams: vec![UpstreamChange::Url("https://x/a.tar".into()); 3],
            ..UpdateRequest::default()
        };
        assert!(matches!(
            update(RECIPE, &recipe, &many, &fetch),
            Err(MaintainError::TooManyUpstreams {
                given: 3,
                recipe: 2
            })
        ));
    }

    #[test]
    fn bump_raises_release_only() {
        let recipe = parsed(RECIPE);
        let edited = bump(RECIPE, &recipe, None).expect("bump");
        assert_eq!(
            edited.text,
            RECIPE.replace("release     : 4", "release     : 5")
        );
        assert_eq!(
            bump(RECIPE, &recipe, Some(9)).expect("bump").text,
            RECIPE.replace("release     : 4", "release     : 9")
        );
        assert!(matches!(
            bump(RECIPE, &recipe, Some(4)),
            Err(MaintainError::ReleaseNotRaised { .. })
        ));
    }
}
