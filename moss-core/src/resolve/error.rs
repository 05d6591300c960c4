//! Typed errors of resolution.

/// Why a set of requests cannot be satisfied.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{text:?} is not a valid request: {reason}")]
    BadRequest { text: String, reason: String },
    #[error("package {package} has unreadable metadata {text:?}: {reason}")]
    BadMetadata {
        package: String,
        text: String,
        reason: String,
    },
    /// `chain` lists who needed `wanted`, nearest first; `refused` explains
    /// every candidate that provided it but could not be taken.
    #[error("{}", unsatisfiable_message(.wanted, .chain, .refused))]
    Unsatisfiable {
        wanted: String,
        chain: Vec<String>,
        refused: Vec<String>,
    },
}

fn unsatisfiable_message(wanted: &str, chain: &[String], refused: &[String]) -> String {
    let mut msg = format!("cannot satisfy {wanted}");
    for link in chain {
        msg.push_str(&format!(", needed by {link}"));
    }
    if refused.is_empty() {
        msg.push_str(": no installed package or configured repository provides it");
    } else {
        msg.push_str(": ");
        msg.push_str(&refused.join("; "));
    }
    msg
}
