//! `boulder recipe new URL|FILE...`: fetch an upstream archive and write a
//! first `stone.yaml` (and `monitoring.yaml`) for it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::draft::{self, Source};
use crate::recipe::check;
use crate::recipe::problem::Strictness;
use crate::upstream::{Upstream, UpstreamCache};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The upstream archive: an http(s):// or file:// URL, or a local file.
    /// Further ones are listed as upstreams too; the first is the project.
    #[arg(value_name = "URL|FILE", required = true)]
    pub sources: Vec<String>,
    /// Where to write: a directory (`DIR/stone.yaml`, made if missing) or a
    /// file path ending in `.yaml`.
    #[arg(short, long, value_name = "PATH", default_value = ".")]
    pub output: PathBuf,
    /// Replace an existing recipe.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// A recipe's upstream is a URL: a local file becomes `file://`.
fn as_url(source: &str) -> miette::Result<String> {
    if source.contains("://") {
        return Ok(source.to_string());
    }
    let path =
        std::fs::canonicalize(source).map_err(|e| miette::miette!("cannot read {source}: {e}"))?;
    Ok(format!("file://{}", path.display()))
}

pub fn run_new(args: NewArgs) -> miette::Result<ExitCode> {
    let mut urls = Vec::with_capacity(args.sources.len());
    for source in &args.sources {
        urls.push(as_url(source)?);
    }
    let url = urls[0].clone();
    let target = if args.output.extension().is_some_and(|e| e == "yaml") {
        args.output.clone()
    } else {
        args.output.join("stone.yaml")
    };
    if target.exists() && !args.force {
        return Err(miette::miette!(
            help = "pass --force to replace it",
            "{} exists already",
            target.display()
        ));
    }

    let file_name = Upstream::archive(url.as_str(), "")
        .name()
        .into_diagnostic()?;
    let cache = args.cache.open()?;
    let upstreams = UpstreamCache::new(cache.dir());
    eprintln!("fetching {url}");
    let (_, sha256) = upstreams.fetch_any(&url, &file_name).into_diagnostic()?;
    let unpacked = tempfile::tempdir().into_diagnostic()?;
    let whole = Upstream::Archive {
        url: url.clone(),
        hash: sha256.clone(),
        rename: None,
        unpack: true,
        unpackdir: Some(PathBuf::from("tree")),
        stripdirs: Some(0),
    };
    let tree = upstreams
        .fetch(&whole)
        .and_then(|fetched| fetched.extract_into(unpacked.path()))
        .into_diagnostic()?;

    let mut draft = draft::draft(&Source {
        url: &url,
        file_name: &file_name,
        sha256: &sha256,
        tree: &tree,
    });
    for extra in &urls[1..] {
        let name = Upstream::archive(extra.as_str(), "")
            .name()
            .into_diagnostic()?;
        eprintln!("fetching {extra}");
        let (_, hash) = upstreams.fetch_any(extra, &name).into_diagnostic()?;
        draft.extra_upstreams.push((extra.clone(), hash));
    }
    let text = draft.render();
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| miette::miette!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(&target, &text)
        .map_err(|e| miette::miette!("cannot write {}: {e}", target.display()))?;
    let monitoring = target.with_file_name("monitoring.yaml");
    if !monitoring.exists() || args.force {
        std::fs::write(&monitoring, draft.monitoring())
            .map_err(|e| miette::miette!("cannot write {}: {e}", monitoring.display()))?;
    }

    let licenses = if draft.licenses.ids.is_empty() {
        "not recognised".to_string()
    } else {
        draft.licenses.ids.join(", ")
    };
    eprintln!(
        "{} {}: build system {}, licence {licenses}, {} build dependencies",
        draft.name,
        draft.version,
        draft.system.name(),
        draft.builddeps.len()
    );
    // The draft is checked as `recipe check` would; it must pass as written.
    let engine = check::Engine::with_data_dirs(&[]).into_diagnostic()?;
    let report = engine.check_file(&target).into_diagnostic()?;
    for diagnostic in report.diagnostics_with(Strictness::Strict) {
        eprintln!("{:?}", miette::Report::new(diagnostic));
    }
    println!("wrote {}; look for FIXME in it", target.display());
    Ok(if report.error_count(Strictness::Strict) == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
