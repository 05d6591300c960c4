//! Opening `file://` URLs and plain local paths.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::UpstreamError;

/// The local path a `file://` URL or plain path names; None for other URLs.
pub(crate) fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        // `file:///abs` and `file://localhost/abs` both name `/abs`.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        return Some(PathBuf::from(percent_decode(path)));
    }
    if url.contains("://") {
        None
    } else {
        Some(PathBuf::from(url))
    }
}

/// Open a local upstream for reading.
pub(crate) fn open(url: &str, path: &std::path::Path) -> Result<File, UpstreamError> {
    File::open(path).map_err(|error| UpstreamError::Io {
        url: url.to_string(),
        action: "open",
        path: path.to_path_buf(),
        error,
    })
}

/// Decode `%XX` escapes; anything malformed is kept literally.
fn percent_decode(s: &str) -> OsString {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    OsString::from_vec(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_and_paths_are_local() {
        assert_eq!(local_path("file:///a/b%20c.tar"), Some("/a/b c.tar".into()));
        assert_eq!(local_path("file://localhost/x"), Some("/x".into()));
        assert_eq!(local_path("rel/x.tar"), Some("rel/x.tar".into()));
        assert_eq!(local_path("https://h/x"), None);
        assert_eq!(local_path("file:///bad%2"), Some("/bad%2".into()));
    }
}
