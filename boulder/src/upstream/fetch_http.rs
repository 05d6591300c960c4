//! Opening `http://` and `https://` upstreams as a byte stream.

use std::io::Read;
use std::time::Duration;

use super::errors::UpstreamError;

/// One HTTP client shared by every parallel fetch (it pools connections).
/// Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`, minus `NO_PROXY`.
pub(crate) fn agent() -> ureq::Agent {
    // Timeouts bound a stalled connection, not a slow download: the read
    // timeout applies to each read, so large files still finish.
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(120)))
        .max_redirects(10)
        .http_status_as_error(true)
        .user_agent(concat!("boulder/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Start a GET and return the body reader once the server answered 2xx.
pub(crate) fn open(agent: &ureq::Agent, url: &str) -> Result<Box<dyn Read + Send>, UpstreamError> {
    match agent.get(url).call() {
        // No size limit: archives can be large, and the hash check bounds
        // what we accept.
        Ok(response) => {
            let total = response.body().content_length();
            let reader = Box::new(response.into_body().into_reader());
            Ok(super::progress::watched(url, total, reader))
        }
        Err(ureq::Error::StatusCode(status)) => Err(UpstreamError::HttpStatus {
            url: url.to_string(),
            status,
        }),
        Err(other) => Err(UpstreamError::Download {
            url: url.to_string(),
            reason: other.to_string(),
        }),
    }
}
