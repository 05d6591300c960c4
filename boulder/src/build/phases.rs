//! Running the phase scripts: each as `bash <script>` in the sandbox with a
//! cleared environment, stdout and stderr merged in order and streamed line
//! by line to the log and the reporter.

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use moss_core::sandbox::{Sandbox, SandboxError, Stdio};

use super::log::{BuildLog, Event, Reporter};
use super::script::PhaseScript;

/// How many output lines of a phase are kept for the failure report.
const KEPT_LINES: usize = 20_000;

/// Where phase scripts go, relative to the build directory (`/mason/build`).
pub const SCRIPTS_DIR: &str = ".boulder-scripts";

/// The outcome of one phase.
pub struct PhaseRun {
    pub status: ExitStatus,
    /// The last output lines (at most [`KEPT_LINES`]).
    pub lines: Vec<String>,
    pub elapsed: Duration,
    /// The script on the host.
    pub script: PathBuf,
}

/// The file name of a phase's script: `x86_64-build.sh`, `emul32_x86_64-setup.sh`.
pub fn script_name(script: &PhaseScript) -> String {
    format!(
        "{}-{}.sh",
        script.target.replace('/', "_"),
        script.phase.name()
    )
}

/// Writes `script` under `build_dir` and runs it in `sandbox`.
pub fn run(
    sandbox: &Sandbox,
    script: &PhaseScript,
    build_dir: &Path,
    log: &BuildLog,
    report: Reporter<'_>,
) -> Result<PhaseRun, RunError> {
    let dir = build_dir.join(SCRIPTS_DIR);
    fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
    let name = script_name(script);
    let host = dir.join(&name);
    fs::write(&host, &script.text).map_err(|e| RunError::Io(host.clone(), e))?;
    fs::set_permissions(&host, fs::Permissions::from_mode(0o755))
        .map_err(|e| RunError::Io(host.clone(), e))?;
    let guest = format!("{}/{SCRIPTS_DIR}/{name}", crate::macros::paths::BUILD);

    let started = Instant::now();
    // One pipe for both streams keeps their lines in order.
    let mut child = sandbox
        .clone()
        .stdin(Stdio::Null)
        .stdout(Stdio::Piped)
        .stderr(Stdio::Inherit)
        .spawn([
            "/usr/bin/bash",
            "-c",
            "exec 2>&1; exec /usr/bin/bash \"$0\"",
            guest.as_str(),
        ])?;
    let tag = script.phase.name();
    let mut kept = VecDeque::new();
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&raw);
            let line = text.trim_end_matches(['\n', '\r']);
            log.line(tag, line);
            report(Event::Output {
                phase: script.phase,
                line,
            });
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(line.to_string());
        }
    }
    let status = child.wait_forwarding_signals()?;
    log.flush();
    Ok(PhaseRun {
        status,
        lines: kept.into(),
        elapsed: started.elapsed(),
        script: host,
    })
}

/// Why a phase could not be run at all (a failing phase is not an error here).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write {}", .0.display())]
    Io(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}
