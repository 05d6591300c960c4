//! Running the phase scripts: each as `bash <script>` in the sandbox with a
//! cleared environment, stdout and stderr merged in order and streamed line
//! by line to the log and the reporter.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use moss_core::sandbox::{Sandbox, SandboxError, Stdio};

use super::beneath::{Beneath, BeneathError};
use super::log::{BuildLog, Event, Reporter};
use super::script::PhaseScript;

/// How many output lines of a phase are kept for the failure report.
const KEPT_LINES: usize = 20_000;

/// Where the phase scripts appear inside the sandbox: a read-only bind of
/// the build's `scripts` directory, which lies outside everything the build
/// can write (a script written into `/mason` would go through whatever the
/// previous phase planted there).
pub const GUEST_SCRIPTS_DIR: &str = "/mason/.boulder-scripts";

/// The mount point of [`GUEST_SCRIPTS_DIR`], relative to `/mason`.
pub const SCRIPTS_MOUNT_POINT: &str = ".boulder-scripts";

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

/// Writes `script` into `scripts` (bound read-only at
/// [`GUEST_SCRIPTS_DIR`] by the caller) and runs it in `sandbox`.
pub fn run(
    sandbox: &Sandbox,
    script: &PhaseScript,
    scripts: &Beneath,
    log: &BuildLog,
    report: Reporter<'_>,
) -> Result<PhaseRun, RunError> {
    let name = script_name(script);
    let host = scripts.display_path(&name);
    scripts.write_file(&name, script.text.as_bytes(), 0o755)?;
    let guest = format!("{GUEST_SCRIPTS_DIR}/{name}");

    let started = Instant::now();
    // One pipe for both streams keeps their lines in order; one bash.
    let mut child = sandbox
        .clone()
        .stdin(Stdio::Null)
        .stdout(Stdio::Piped)
        .stderr(Stdio::SameAsStdout)
        .spawn(["/usr/bin/bash", guest.as_str()])?;
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
    #[error(transparent)]
    Write(#[from] BeneathError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}
