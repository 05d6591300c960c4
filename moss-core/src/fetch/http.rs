//! The HTTP client: one ureq agent (rustls) for the whole process, so every
//! download — packages, indexes, root indexes, and boulder's upstream
//! sources — shares its connection pool and settings.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use super::error::FetchError;

/// The process's agent. Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/
/// `ALL_PROXY`, minus `NO_PROXY`, read when it is first used.
pub fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    // Timeouts bound a stalled connection, not a slow download: the read
    // timeout applies to each read, so large files still finish.
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .max_redirects(10)
            .http_status_as_error(true)
            .user_agent(concat!("moss/", env!("CARGO_PKG_VERSION")))
            .build()
            .into()
    })
}

/// The body of a GET that the server answered with 2xx.
pub struct HttpBody {
    pub reader: Box<dyn Read + Send>,
    /// `Content-Length`, when the server sent one.
    pub length: Option<u64>,
}

/// Starts a GET of `url` with the process's agent. No size limit: callers
/// bound what they accept (a hash, an announced size).
pub fn open(url: &str) -> Result<HttpBody, FetchError> {
    match agent().get(url).call() {
        Ok(response) => {
            let length = response.body().content_length();
            Ok(HttpBody {
                reader: Box::new(response.into_body().into_reader()),
                length,
            })
        }
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
