//! Errors of build-root preparation.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why a build root could not be prepared.
#[derive(Debug, Error)]
pub enum RootError {
    #[error(
        "cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set; pass --cache-dir"
    )]
    NoCacheDir,
    #[error("{op} {} failed", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("there is no profile `{name}` (known: {known})")]
    UnknownProfile { name: String, known: String },
    #[error("profile {}: {message}", path.display())]
    BadProfile { path: PathBuf, message: String },
    #[error("`{request}` cannot be resolved from the repositories of profile `{profile}`{}",
        needed_by.as_ref().map(|p| format!(" (needed by {p})")).unwrap_or_default())]
    Unresolvable {
        request: String,
        profile: String,
        needed_by: Option<String>,
    },
    #[error("`{text}` is not a valid package or provider name: {reason}")]
    BadRequest { text: String, reason: String },
    #[error("repository `{repo}`: {message}")]
    Repository { repo: String, message: String },
    #[error("cannot read the stone {}", path.display())]
    Stone {
        path: PathBuf,
        #[source]
        source: moss_core::stone::StoneError,
    },
    #[error(transparent)]
    Fetch(#[from] moss_core::fetch::FetchError),
    #[error("the packages of the root do not fit together")]
    Tree(#[from] moss_core::tree::TreeError),
    #[error(transparent)]
    Blit(#[from] moss_core::blit::BlitError),
    #[error("{}", not_on_host(missing))]
    NotOnHost {
        missing: Vec<super::import::ondemand::NotOnHost>,
    },
    #[error("host import: {0}")]
    Import(String),
    #[error("this host has no dpkg (`dpkg-query` was not found): `boulder profile import-host` only knows Debian and Ubuntu; use another profile (`--profile aerynos`) or write one")]
    NoDpkg,
}

/// One line per missing request, then one `apt install` line for all.
fn not_on_host(missing: &[super::import::ondemand::NotOnHost]) -> String {
    let mut text = String::from("the build needs what this host has not installed:");
    let mut packages: Vec<&str> = Vec::new();
    for m in missing {
        match &m.apt {
            Some(apt) => {
                text.push_str(&format!(
                    "\n  {} is not installed on this host: apt install {apt}",
                    m.request
                ));
                if !packages.contains(&apt.as_str()) {
                    packages.push(apt);
                }
            }
            None => text.push_str(&format!(
                "\n  {} is not installed on this host (no Debian package is known to provide it)",
                m.request
            )),
        }
    }
    if packages.len() > 1 {
        text.push_str(&format!(
            "\ninstall them all with: apt install {}",
            packages.join(" ")
        ));
    }
    text
}

impl RootError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| RootError::Io { op, path, source }
    }
}
