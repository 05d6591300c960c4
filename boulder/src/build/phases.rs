//! Running the phase scripts: each as `bash <script>` with a cleared
//! environment, the phases of a build one after another in one sandbox
//! (its setup is paid once), stdout and stderr merged in order and streamed
//! line by line to the log and the reporter, each line tagged with its phase.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use moss_core::sandbox::{Sandbox, SandboxError, SequenceStep, Stdio};

use super::beneath::{Beneath, BeneathError};
use super::breakpoint::{OutputSync, ENV_PHASE, SYNC_MARKER};
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

/// The outcome of running phases in one sandbox.
pub struct PhasesRun {
    /// When the first phase started (its marker arrived); `None` when none
    /// did. The time before it is the sandbox's setup.
    pub first_started: Option<Instant>,
    /// How long each phase that started took, in order: the last one is
    /// the one that failed when `status` is not a success.
    pub elapsed: Vec<Duration>,
    /// The first failing phase's status, or the last one's.
    pub status: ExitStatus,
    /// The last output lines of the last phase that started (at most
    /// [`KEPT_LINES`]).
    pub lines: Vec<String>,
}

impl PhasesRun {
    /// The index of the last phase that started (the failing one on failure).
    pub fn last(&self) -> usize {
        self.elapsed.len().saturating_sub(1)
    }
}

/// The file name of a phase's script: `x86_64-build.sh`, `emul32_x86_64-setup.sh`.
pub fn script_name(script: &PhaseScript) -> String {
    format!(
        "{}-{}.sh",
        script.target.replace('/', "_"),
        script.phase.name()
    )
}

/// One phase to run: its script and its `HOME`.
pub struct PhaseJob<'a> {
    pub script: &'a PhaseScript,
    pub home: String,
}

/// Writes the scripts of `jobs` into `scripts` (bound read-only at
/// [`GUEST_SCRIPTS_DIR`] by the caller) and runs them one after another in
/// one `sandbox` (one setup for all; each its own bash, with its index in
/// [`ENV_PHASE`]), until one fails. `started(i)` is called when phase `i`
/// starts, before any of its output is logged.
pub fn run(
    sandbox: &Sandbox,
    jobs: &[PhaseJob<'_>],
    scripts: &Beneath,
    log: &BuildLog,
    report: Reporter<'_>,
    output_sync: &OutputSync,
    started: &mut dyn FnMut(usize),
) -> Result<PhasesRun, RunError> {
    let mut steps = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let name = script_name(job.script);
        scripts.write_file(&name, job.script.text.as_bytes(), 0o755)?;
        steps.push(SequenceStep {
            argv: vec![
                "/usr/bin/bash".into(),
                format!("{GUEST_SCRIPTS_DIR}/{name}").into(),
            ],
            env: vec![
                ("HOME".into(), job.home.clone().into()),
                (ENV_PHASE.into(), index.to_string().into()),
            ],
        });
    }
    // Where a phase's output starts: a line no phase can know in advance.
    let marker = format!(
        "##boulder-phase-{:016x}",
        RandomState::new().build_hasher().finish()
    );

    let mut times: Vec<Instant> = Vec::new();
    // One pipe for both streams keeps their lines in order.
    let mut child = sandbox
        .clone()
        .stdin(Stdio::Null)
        .stdout(Stdio::Piped)
        .stderr(Stdio::SameAsStdout)
        .spawn_sequence(steps, &marker)?;
    let mut kept = VecDeque::new();
    let mut current: Option<&PhaseJob<'_>> = None;
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
            if let Some(index) = line
                .strip_prefix(marker.as_str())
                .and_then(|rest| rest.trim().parse::<usize>().ok())
                .filter(|&i| i == times.len() && i < jobs.len())
            {
                log.flush();
                times.push(Instant::now());
                kept.clear();
                current = Some(&jobs[index]);
                started(index);
                continue;
            }
            if line == SYNC_MARKER {
                output_sync.arrived();
                continue;
            }
            let Some(job) = current else { continue };
            log.line(job.script.phase.name(), line);
            report(Event::Output {
                phase: job.script.phase,
                line,
            });
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(line.to_string());
        }
    }
    let status = child.wait_forwarding_signals()?;
    let ended = Instant::now();
    log.flush();
    let first_started = times.first().copied();
    if times.is_empty() {
        // Nothing started (no output at all): the first phase failed to.
        times.push(ended);
    }
    let elapsed = times
        .iter()
        .zip(times.iter().skip(1).chain(std::iter::once(&ended)))
        .map(|(start, end)| end.duration_since(*start))
        .collect();
    Ok(PhasesRun {
        first_started,
        elapsed,
        status,
        lines: kept.into(),
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
