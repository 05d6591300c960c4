//! Download progress for the terminal: indicatif bars when stderr is a
//! terminal, one plain line per finished download otherwise; and the
//! one-line summary of a repository transaction.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client::OpReport;
use crate::fetch::{FetchObserver, FetchOrigin};

/// Draws bars or prints lines.
pub struct Progress {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    active: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    /// Bars on a terminal, lines otherwise.
    pub fn new() -> Self {
        let bars = std::io::stderr().is_terminal().then(|| Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            active: Mutex::new(HashMap::new()),
        });
        Progress { bars }
    }
}

impl FetchObserver for Progress {
    fn started(&self, label: &str, total: Option<u64>) {
        let Some(bars) = &self.bars else { return };
        let bar = bars.multi.add(ProgressBar::new(total.unwrap_or(0)));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:30!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        if let Ok(mut active) = bars.active.lock() {
            active.insert(label.to_string(), bar);
        }
    }

    fn advanced(&self, label: &str, bytes: u64) {
        let Some(bars) = &self.bars else { return };
        if let Ok(active) = bars.active.lock() {
            if let Some(bar) = active.get(label) {
                bar.inc(bytes);
            }
        }
    }

    fn finished(&self, label: &str, downloaded: u64, origin: FetchOrigin) {
        let how = match origin {
            FetchOrigin::Downloaded => format!("downloaded {}", human_bytes(downloaded)),
            FetchOrigin::Cached => "cached".to_string(),
            FetchOrigin::Local => "local".to_string(),
        };
        match &self.bars {
            Some(bars) => {
                let bar = bars.active.lock().ok().and_then(|mut a| a.remove(label));
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                    bars.multi.remove(&bar);
                }
                let _ = bars.multi.println(format!("fetched {label} ({how})"));
            }
            None => eprintln!("fetched {label} ({how})"),
        }
    }
}

/// `1.5 MiB`-style sizes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The one-line summary after a repository transaction.
pub fn summary(report: &OpReport, added: usize, removed: usize) -> String {
    let f = &report.fetch;
    format!(
        "state {} is active: {added} added, {removed} removed; fetched {} packages ({} downloaded, {} cached, {} local), {} in {:.2}s; unpacked {} new assets in {:.2}s; blit {} entries in {:.2}s",
        report.transaction.state,
        report.fetched,
        f.downloaded,
        f.cached,
        f.local,
        human_bytes(f.bytes),
        f.wall.as_secs_f64(),
        report.assets_written,
        report.unpack.as_secs_f64(),
        report.transaction.blit.entries(),
        report.commit.as_secs_f64(),
    )
}
