//! How downloads show: a bar per download on a terminal (stderr), one line
//! when a download starts and one when it ends elsewhere, nothing with `-q`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use crate::upstream::progress::{DownloadListener, DownloadTicker};

use super::output::{self, Verbosity};

/// The listener the command line installs.
pub struct DownloadDisplay {
    /// The bars on a terminal; `None` prints plain lines.
    bars: Option<indicatif::MultiProgress>,
}

impl DownloadDisplay {
    /// Installs the display for this process (nothing with `-q`).
    pub fn install() {
        if output::verbosity() == Verbosity::Quiet {
            return;
        }
        let bars = std::io::stderr()
            .is_terminal()
            .then(indicatif::MultiProgress::new);
        crate::upstream::progress::set_listener(Arc::new(DownloadDisplay { bars }));
    }
}

/// `1.5 MiB`, `300 KiB`, `12 B`.
fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.0} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

impl DownloadListener for DownloadDisplay {
    fn start(&self, url: &str, total: Option<u64>) -> Box<dyn DownloadTicker> {
        let name = url.rsplit('/').next().unwrap_or(url).to_string();
        match &self.bars {
            Some(bars) => {
                let bar = match total {
                    Some(total) => indicatif::ProgressBar::new(total),
                    None => indicatif::ProgressBar::new_spinner(),
                };
                let template = if total.is_some() {
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
                } else {
                    "{spinner} {msg} {bytes} {bytes_per_sec}"
                };
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(name);
                Box::new(BarTicker(bars.add(bar)))
            }
            None => {
                match total {
                    Some(total) => eprintln!("downloading {url} ({})", size(total)),
                    None => eprintln!("downloading {url}"),
                }
                Box::new(LineTicker {
                    url: url.to_string(),
                    bytes: 0,
                    started: Instant::now(),
                })
            }
        }
    }
}

struct BarTicker(indicatif::ProgressBar);

impl DownloadTicker for BarTicker {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}

struct LineTicker {
    url: String,
    bytes: u64,
    started: Instant,
}

impl DownloadTicker for LineTicker {
    fn advance(&mut self, bytes: u64) {
        self.bytes += bytes;
    }

    fn finish(&mut self) {
        eprintln!(
            "downloaded {} ({} in {:.1} s)",
            self.url,
            size(self.bytes),
            self.started.elapsed().as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_sizes() {
        assert_eq!(super::size(12), "12 B");
        assert_eq!(super::size(300 * 1024), "300 KiB");
        assert_eq!(super::size(150 * 1_048_576 + 1), "150.0 MiB");
    }
}
