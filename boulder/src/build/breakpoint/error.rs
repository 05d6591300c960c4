//! Errors of the breakpoint machinery.

/// Setting up or serving breakpoints failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BreakError {
    #[error("cannot {what}")]
    #[diagnostic(code(boulder::breakpoint::io))]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the breakpoint console failed")]
    #[diagnostic(code(boulder::breakpoint::console))]
    Console(#[source] rustyline::error::ReadlineError),
    #[error("the breakpoint listener thread panicked")]
    #[diagnostic(code(boulder::breakpoint::internal))]
    Internal,
}
