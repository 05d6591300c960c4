//! How the host import reports progress: the library calls these methods,
//! the command line draws a bar (or plain lines when not on a terminal).

/// Receives the host import's progress.
pub trait ImportProgress: Send + Sync {
    /// `total` packages will be looked at.
    fn start(&self, _total: usize) {}
    /// One package is done; `repacked` is false when its stone was reused.
    fn package(&self, _name: &str, _repacked: bool) {}
    /// The import is complete.
    fn finish(&self, _repacked: usize, _total: usize) {}
    /// `package` is imported on demand, for `reasons` (requests like `binary(cmake)`).
    fn wanted(&self, _package: &str, _reasons: &[String]) {}
    /// Something was skipped; the import goes on.
    fn warn(&self, _message: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl ImportProgress for Silent {}
