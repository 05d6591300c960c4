//! An error and its causes on one line.
//!
//! Every error type of the project leaves its cause to `source()` (the
//! binaries print the chain with miette, one cause per line). Where an error
//! is kept as text instead (a warning, a report line, a message inside
//! another error), this puts the causes back after the message.

use std::error::Error;

/// `message: cause: cause …`, each cause of the `source()` chain once.
pub fn with_causes(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::with_causes;

    #[derive(Debug, thiserror::Error)]
    #[error("reading /etc/x failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn message_then_each_cause() {
        let error = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(with_causes(&error), "reading /etc/x failed: disk on fire");
        assert_eq!(with_causes(&std::io::Error::other("alone")), "alone");
    }
}
