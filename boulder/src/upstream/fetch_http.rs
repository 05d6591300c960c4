//! Opening `http://` and `https://` upstreams as a byte stream.

use std::io::Read;
use std::time::Duration;

use super::errors::UpstreamError;

/// One HTTP client shared by every parallel fetch (it pools connections).
pub(crate) fn agent() -> ureq::Agent {
    // Timeouts bound a stalled connection, not a slow download: the read
    // timeout applies to each read, so large files still finish.
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .redirects(10)
        .try_proxy_from_env(true)
        .user_agent(concat!("boulder/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Start a GET and return the body reader once the server answered 2xx.
pub(crate) fn open(agent: &ureq::Agent, url: &str) -> Result<Box<dyn Read + Send>, UpstreamError> {
    match agent.get(url).call() {
        Ok(response) => Ok(Box::new(response.into_reader())),
        Err(ureq::Error::Status(status, _)) => Err(UpstreamError::HttpStatus {
            url: url.to_string(),
            status,
        }),
        Err(ureq::Error::Transport(transport)) => Err(UpstreamError::Download {
            url: url.to_string(),
            reason: transport.to_string(),
        }),
    }
}
