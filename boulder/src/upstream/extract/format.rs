//! Archive format detection by magic bytes, with the file name as fallback.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::upstream::UpstreamError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Tar(Compression),
    Zip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
    Bzip2,
    Lzip,
}

/// Look at the first bytes: content decides, so a misleading `rename` does
/// not matter. A plain tar without the ustar magic is recognised by name.
pub(crate) fn detect(url: &str, archive: &Path, name: &str) -> Result<Format, UpstreamError> {
    let mut head = Vec::with_capacity(512);
    File::open(archive)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|error| UpstreamError::Io {
            url: url.to_string(),
            action: "read",
            path: archive.to_path_buf(),
            error,
        })?;
    from_head(&head, name).ok_or_else(|| UpstreamError::UnknownFormat {
        url: url.to_string(),
        name: name.to_string(),
    })
}

fn from_head(head: &[u8], name: &str) -> Option<Format> {
    let format = if head.starts_with(&[0x1f, 0x8b]) {
        Format::Tar(Compression::Gzip)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Format::Tar(Compression::Xz)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Format::Tar(Compression::Zstd)
    } else if head.starts_with(b"BZh") {
        Format::Tar(Compression::Bzip2)
    } else if head.starts_with(b"LZIP") {
        Format::Tar(Compression::Lzip)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Format::Zip
    } else if head.get(257..262) == Some(b"ustar") || name.ends_with(".tar") {
        Format::Tar(Compression::None)
    } else {
        return None;
    };
    Some(format)
}

impl Compression {
    /// A reader that yields the decompressed tar stream.
    pub(crate) fn decoder(self, file: File) -> io::Result<Box<dyn Read>> {
        let file = BufReader::with_capacity(256 * 1024, file);
        Ok(match self {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
            Compression::Xz => {
                let stream = liblzma::stream::Stream::new_stream_decoder(
                    u64::MAX,
                    liblzma::stream::CONCATENATED,
                )?;
                Box::new(liblzma::bufread::XzDecoder::new_stream(file, stream))
            }
            // liblzma reads lzip members too, so no host `lzip` is needed.
            Compression::Lzip => {
                let stream = liblzma::stream::Stream::new_lzip_decoder(
                    u64::MAX,
                    liblzma::stream::CONCATENATED,
                )?;
                Box::new(liblzma::bufread::XzDecoder::new_stream(file, stream))
            }
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(file)?;
                // Accept archives made with `zstd --long` (windows up to 2 GiB).
                decoder.window_log_max(31)?;
                Box::new(decoder)
            }
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(file)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        let mut ustar = vec![0u8; 512];
        ustar[257..262].copy_from_slice(b"ustar");
        assert_eq!(
            from_head(&ustar, "x.bin"),
            Some(Format::Tar(Compression::None))
        );
        assert_eq!(
            from_head(b"\x1f\x8b\x08", "x.zip"),
            Some(Format::Tar(Compression::Gzip))
        );
        assert_eq!(
            from_head(b"LZIP\x01", "x"),
            Some(Format::Tar(Compression::Lzip))
        );
        assert_eq!(from_head(b"PK\x03\x04", "x"), Some(Format::Zip));
        assert_eq!(
            from_head(b"old v7", "x.tar"),
            Some(Format::Tar(Compression::None))
        );
        assert_eq!(from_head(b"diff --git", "fix.patch"), None);
    }
}
