//! `boulder recipe update` and `boulder recipe bump`: edit a recipe in
//! place and print the diff of what changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::maintain::{self, diff, Edited, UpdateRequest, UpstreamChange};
use crate::upstream::UpstreamCache;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The recipe file (or a directory holding `stone.yaml`).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The new version. Archive URLs and git refs holding the old version
    /// follow it unless `--upstream` gives their new value.
    #[arg(long, visible_alias = "ver", value_name = "VERSION")]
    pub version: Option<String>,
    /// New value of the recipe's upstreams, in recipe order (repeatable): an
    /// archive URL (fetched for its sha256; http(s)://, file:// or a local
    /// path), or `git|REF` for a git upstream.
    #[arg(short = 'u', long = "upstream", value_name = "URL")]
    pub upstreams: Vec<String>,
    /// Keep `release` as it is (by default it goes up by one).
    #[arg(long)]
    pub no_bump: bool,
    /// Print the diff without writing the recipe.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Args)]
pub struct BumpArgs {
    /// The recipe file (or a directory holding `stone.yaml`).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Set `release` to this number instead of raising it by one.
    #[arg(short = 'n', long, value_name = "N")]
    pub release: Option<u64>,
    /// Print the diff without writing the recipe.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run_update(args: UpdateArgs) -> miette::Result<ExitCode> {
    let (file, text) = read_recipe(&args.path)?;
    let (recipe, _) = crate::recipe::parse(&text);
    let cache = args.cache.open()?;
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let upstreams = UpstreamCache::new(cache.dir()).with_base(base);
    let fetch = |url: &str, name: &str| {
        eprintln!("fetching {url}");
        upstreams.fetch_any(url, name).map(|(_, hash)| hash)
    };
    let mut changes = Vec::with_capacity(args.upstreams.len());
    for given in &args.upstreams {
        changes.push(match UpstreamChange::parse(given) {
            UpstreamChange::Url(url) if !url.contains("://") => {
                // A recipe's upstream is a URL: a local file becomes file://.
                let path = std::fs::canonicalize(&url)
                    .map_err(|e| miette::miette!("cannot read the upstream file {url}: {e}"))?;
                eprintln!(
                    "note: the upstream {url} is written as file://{}; put its public URL in before publishing the recipe",
                    path.display()
                );
                UpstreamChange::Url(format!("file://{}", path.display()))
            }
            change => change,
        });
    }
    let request = UpdateRequest {
        version: args.version,
        upstreams: changes,
        no_bump: args.no_bump,
    };
    let edited = maintain::update(&text, &recipe, &request, &fetch).into_diagnostic()?;
    finish(&file, &text, edited, args.dry_run)
}

pub fn run_bump(args: BumpArgs) -> miette::Result<ExitCode> {
    let (file, text) = read_recipe(&args.path)?;
    let (recipe, _) = crate::recipe::parse(&text);
    let edited = maintain::bump(&text, &recipe, args.release).into_diagnostic()?;
    finish(&file, &text, edited, args.dry_run)
}

fn read_recipe(path: &Path) -> miette::Result<(PathBuf, String)> {
    let files = crate::recipe::discover(&[path.to_path_buf()]).into_diagnostic()?;
    let [file] = files.as_slice() else {
        return Err(miette::miette!(
            "{} holds {} recipes; give one",
            path.display(),
            files.len()
        ));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| miette::miette!("cannot read {}: {e}", file.display()))?;
    Ok((file.clone(), text))
}

/// Prints the diff and the notes, and writes the recipe unless `dry_run`.
fn finish(file: &Path, old: &str, edited: Edited, dry_run: bool) -> miette::Result<ExitCode> {
    for note in &edited.notes {
        eprintln!("note: {note}");
    }
    // The edit replaces scalars with scalars; should it ever break the
    // recipe, the file is left alone.
    let before: Vec<String> = crate::recipe::parse(old)
        .1
        .into_iter()
        .map(|p| p.message)
        .collect();
    let introduced: Vec<String> = crate::recipe::parse(&edited.text)
        .1
        .into_iter()
        .map(|p| p.message)
        .filter(|message| !before.contains(message))
        .collect();
    if !introduced.is_empty() {
        return Err(miette::miette!(
            "the edited recipe would not parse as before, so {} was left as it was:\n{}",
            file.display(),
            introduced.join("\n")
        ));
    }
    let name = file.display().to_string();
    super::recipe::write_stdout(&diff::unified(&name, old, &edited.text));
    if !dry_run && edited.text != old {
        std::fs::write(file, &edited.text)
            .map_err(|e| miette::miette!("cannot write {}: {e}", file.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
