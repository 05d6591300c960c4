//! Keeps the phase's output and the console's words in order.
//!
//! The phase's output reaches the user through a pipe that the build reads
//! on its own thread, while a pause reaches the listener through the channel
//! directory. Without care the console could speak before the lines the
//! script printed just before the breakpoint. So the script prints
//! [`SYNC_MARKER`] on its output right before it asks for a pause; the
//! output reader swallows that line and calls [`OutputSync::arrived`], and
//! the listener waits for it ([`OutputSync::wait_until`]) before it speaks.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The line a phase prints on its output before each pause request.
pub const SYNC_MARKER: &str = "##boulder-break-sync";

/// How long the listener waits for the marker. The script may have sent its
/// output elsewhere (`exec >file`), so the marker is not guaranteed; the wait
/// only orders the output, it never decides anything.
const PATIENCE: Duration = Duration::from_secs(2);

/// A count of markers seen on the phase's output, shared by the output
/// reader and the listener.
#[derive(Debug, Clone, Default)]
pub struct OutputSync {
    seen: Arc<(Mutex<u64>, Condvar)>,
}

impl OutputSync {
    /// The output reader saw a marker line (everything before it is shown).
    pub fn arrived(&self) {
        let (count, changed) = &*self.seen;
        if let Ok(mut count) = count.lock() {
            *count += 1;
            changed.notify_all();
        }
    }

    /// Wait until `target` markers in all have been seen, or give up after a
    /// short while; returns how many have been seen.
    pub fn wait_until(&self, target: u64) -> u64 {
        let (count, changed) = &*self.seen;
        let Ok(guard) = count.lock() else {
            return target;
        };
        match changed.wait_timeout_while(guard, PATIENCE, |count| *count < target) {
            Ok((count, _)) => *count,
            Err(_) => target,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_seen_on_another_thread_ends_the_wait() {
        let sync = OutputSync::default();
        let other = sync.clone();
        let reader = std::thread::spawn(move || other.arrived());
        assert_eq!(sync.wait_until(1), 1);
        reader.join().expect("reader thread");
    }

    #[test]
    fn a_marker_that_already_came_does_not_wait() {
        let sync = OutputSync::default();
        sync.arrived();
        sync.arrived();
        assert_eq!(sync.wait_until(1), 2);
    }
}
