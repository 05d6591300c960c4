//! `moss sandbox ROOT [OPTIONS] -- CMD...`: run a command in the rootless
//! sandbox. Meant for tests, scripting and poking at a build root.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::{miette, IntoDiagnostic};

use crate::sandbox::Sandbox;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Directory that becomes `/` inside the sandbox.
    pub root: PathBuf,
    /// Bind a host path read-only: HOST:GUEST (GUEST defaults to HOST).
    #[arg(long = "bind-ro", value_name = "HOST[:GUEST]")]
    pub bind_ro: Vec<String>,
    /// Bind a host path writable: HOST:GUEST (GUEST defaults to HOST).
    #[arg(long = "bind-rw", value_name = "HOST[:GUEST]")]
    pub bind_rw: Vec<String>,
    /// Mount an empty tmpfs at GUEST.
    #[arg(long = "tmpfs", value_name = "GUEST")]
    pub tmpfs: Vec<PathBuf>,
    /// Share the host's network (default: a private network with loopback only).
    #[arg(long = "net")]
    pub net: bool,
    /// Hostname inside the sandbox.
    #[arg(long, default_value = "moss")]
    pub hostname: String,
    /// Working directory inside the sandbox.
    #[arg(long, default_value = "/")]
    pub workdir: PathBuf,
    /// Leave the root directory itself writable (`/usr` stays read-only).
    #[arg(long = "rw-root")]
    pub rw_root: bool,
    /// Start from an empty environment (PATH is set to /usr/bin:/usr/sbin:/bin:/sbin).
    #[arg(long = "env-clear")]
    pub env_clear: bool,
    /// Set an environment variable: KEY=VALUE.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Print setup timings to stderr when the command has ended.
    #[arg(long)]
    pub timings: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

fn split_bind(spec: &str) -> (PathBuf, PathBuf) {
    match spec.split_once(':') {
        Some((host, guest)) => (PathBuf::from(host), PathBuf::from(guest)),
        None => (PathBuf::from(spec), PathBuf::from(spec)),
    }
}

/// Where the user's cache is: `$XDG_CACHE_HOME`, else `$HOME/.cache`.
fn user_cache() -> Option<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".cache")))
}

/// Prints the id-mapping limitation once per user: a file in the user's
/// cache remembers that it was shown (without a cache it is shown each time).
fn warn_once(limitation: &str) {
    let marker = user_cache().map(|dir| dir.join("moss").join("uidmap-warning-shown"));
    if marker.as_ref().is_some_and(|m| m.exists()) {
        return;
    }
    eprintln!("warning: {limitation}");
    if let Some(marker) = marker {
        let remembered = marker
            .parent()
            .is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
            && std::fs::write(&marker, format!("{limitation}\n")).is_ok();
        if remembered {
            eprintln!("(shown once; delete {} to see it again)", marker.display());
        }
    }
}

pub fn run(args: SandboxArgs) -> miette::Result<ExitCode> {
    let mut sandbox = Sandbox::new(&args.root)
        .hostname(&args.hostname)
        .networking(args.net)
        .workdir(&args.workdir)
        .read_only_root(!args.rw_root);
    for spec in &args.bind_ro {
        let (host, guest) = split_bind(spec);
        sandbox = sandbox.bind_ro(host, guest);
    }
    for spec in &args.bind_rw {
        let (host, guest) = split_bind(spec);
        sandbox = sandbox.bind_rw(host, guest);
    }
    for guest in &args.tmpfs {
        sandbox = sandbox.tmpfs(guest);
    }
    if args.env_clear {
        sandbox = sandbox
            .env_clear()
            .env("PATH", crate::sandbox::DEFAULT_PATH);
    }
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| miette!("--env expects KEY=VALUE, got {kv:?}"))?;
        sandbox = sandbox.env(k, v);
    }
    let mut child = sandbox.spawn(&args.command).into_diagnostic()?;
    if let Some(limit) = child.id_mapping().limitation() {
        warn_once(limit);
    }
    let status = child.wait_forwarding_signals().into_diagnostic()?;
    if args.timings {
        let t = child.timings();
        let ms = |d: std::time::Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
        eprintln!(
            "sandbox timings: mapped {}, mounted {}, pivoted {}, exec {}, exited {}, reaped {}",
            ms(t.mapped),
            ms(t.mounted),
            ms(t.pivoted),
            ms(t.exec),
            ms(t.exited),
            ms(t.reaped)
        );
    }
    use std::os::unix::process::ExitStatusExt;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        _ => 1,
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
