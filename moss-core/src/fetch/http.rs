//! The HTTP client: one ureq agent (rustls) per fetcher, pooled connections.

use std::io::Read;
use std::time::Duration;

use super::error::FetchError;

/// Timeouts bound a stalled connection, not a slow download: the read
/// timeout applies to each read.
pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(120)))
        .max_redirects(10)
        .http_status_as_error(true)
        .user_agent(concat!("moss/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Starts a GET; the body once the server answered 2xx.
pub(super) fn open(agent: &ureq::Agent, url: &str) -> Result<Box<dyn Read + Send>, FetchError> {
    match agent.get(url).call() {
        Ok(response) => Ok(Box::new(response.into_body().into_reader())),
        Err(ureq::Error::StatusCode(status)) => Err(FetchError::HttpStatus {
            url: url.to_string(),
            status,
        }),
        Err(other) => Err(FetchError::Unreachable {
            url: url.to_string(),
            reason: other.to_string(),
        }),
    }
}
