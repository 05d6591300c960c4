//! Decoding a Content payload with a large zstd window in bounded memory.
//!
//! zstd's streaming decoder keeps the whole window in memory it allocates:
//! for stones written at level 18 with window log 31 (the original's
//! writer) that is about the size of the whole content, hundreds of MiB of
//! anonymous memory. Instead, such a payload is decoded into a scratch file
//! mapped into memory, which zstd uses as its window (its output buffer is
//! declared stable, so it allocates no window of its own). Every few MiB of
//! output, the pages already written are dropped from the process
//! (`MADV_DONTNEED`: for a shared file mapping their content stays in the
//! file), so the resident memory stays near that step plus what back
//! references touch, whatever the payload size. The file is then read back
//! like an uncompressed payload. Small windows keep the plain streaming
//! decoder.
//!
//! With `MOSS_DECODER=streaming` in the environment every payload takes the
//! plain streaming decoder without looking at its frame header first, as
//! before this module existed: the engine bench installs our own stones
//! both ways to show that the large-window support costs them nothing.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::OnceLock;

use zstd::zstd_safe::{DCtx, DParameter, InBuffer, OutBuffer};

use super::error::{Result, StoneError};
use super::reader::ContentPayload;

/// Windows up to this size are decoded by the plain streaming decoder.
pub(crate) const LARGE_WINDOW: u64 = 32 << 20;
/// Output between two drops of the written pages.
const DROP_STEP: usize = 8 << 20;
/// Compressed bytes handed to zstd at a time.
const INPUT_CHUNK: usize = 128 << 10;

/// Environment variable that, set to `streaming`, turns the large-window
/// path off (see the module documentation).
pub const DECODER_ENV: &str = "MOSS_DECODER";

/// Whether every payload is to take the streaming decoder, unconditionally.
pub(crate) fn streaming_only() -> bool {
    static STREAMING: OnceLock<bool> = OnceLock::new();
    *STREAMING.get_or_init(|| std::env::var_os(DECODER_ENV).is_some_and(|v| v == "streaming"))
}

/// Bytes of a frame header that [`window_need`] reads at most.
pub(crate) const HEADER_MAX: usize = 18;

/// The memory a streaming decoder would hold for this frame: its window,
/// which for a single-segment frame is its declared content size, and
/// never more than the payload's plain size (`None` for a malformed
/// header). Only what the frame itself declares counts, so a payload
/// header that lies about its size cannot make the decoder reserve it.
pub(crate) fn window_need(frame_start: &[u8], plain_size: u64) -> Option<u64> {
    if frame_start.len() < 6 || frame_start[..4] != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let descriptor = frame_start[4];
    let single_segment = descriptor & 0x20 != 0;
    let window = if single_segment {
        let dict_len = [0usize, 1, 2, 4][usize::from(descriptor & 3)];
        let fcs_len = [1usize, 2, 4, 8][usize::from(descriptor >> 6)];
        let at = 5 + dict_len;
        let bytes = frame_start.get(at..at + fcs_len)?;
        let mut value = 0u64;
        for (i, b) in bytes.iter().enumerate() {
            value |= u64::from(*b) << (8 * i);
        }
        if fcs_len == 2 {
            value += 256;
        }
        value
    } else {
        let w = frame_start[5];
        let log = 10 + u64::from(w >> 3);
        let base = 1u64.checked_shl(log as u32)?;
        base + (base / 8) * u64::from(w & 7)
    };
    Some(window.min(plain_size))
}

/// A scratch file in `dir` that disappears when closed (`O_TMPFILE`, or a
/// name removed at once where the file system lacks it).
pub(crate) fn scratch_file(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
    {
        Ok(file) => Ok(file),
        Err(_) => {
            let path = dir.join(format!(".window.{}.tmp", std::process::id()));
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::fs::remove_file(&path)?;
            Ok(file)
        }
    }
}

/// A shared read-write mapping of a whole file, unmapped on drop.
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    fn new(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping of a file we hold open, length checked non-zero.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { ptr, len })
    }

    /// Drops the first `upto` bytes' pages from the process; their content
    /// stays in the file and comes back on the next access.
    fn drop_pages(&self, upto: usize) {
        // SAFETY: sysconf has no preconditions; the range starts at our
        // mapping's (page-aligned) start and ends inside it.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => 4096,
        };
        let len = upto / page * page;
        if len > 0 {
            unsafe { libc::madvise(self.ptr, len, libc::MADV_DONTNEED) };
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping we made, once.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// Decodes the payload's stored bytes (read from `stored`) into `file`,
/// which ends up holding exactly `plain_size` bytes.
pub(crate) fn decode_into_file(
    stored: &mut dyn Read,
    content: &ContentPayload,
    file: &File,
) -> Result<()> {
    let plain = content.header.plain_size;
    let size_err = |actual| StoneError::PlainSizeMismatch {
        payload: content.id,
        expected: plain,
        actual,
    };
    let decompress_err = |e: io::Error| StoneError::Decompress {
        payload: content.id,
        source: e,
    };
    let zstd_err =
        |code: usize| decompress_err(io::Error::other(zstd::zstd_safe::get_error_name(code)));
    let len = usize::try_from(plain).map_err(|_| size_err(plain))?;
    if len == 0 {
        return Ok(());
    }
    // Reserve the space first: a full disk is then an error here, not a
    // SIGBUS while writing through the mapping.
    // SAFETY: plain syscall on a descriptor we hold.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, plain as libc::off_t) };
    if rc != 0 {
        return Err(StoneError::io(
            "reserving space to decompress the content payload",
            io::Error::from_raw_os_error(rc),
        ));
    }
    let map = Mapping::new(file, len)
        .map_err(|e| StoneError::io("mapping the decompression window", e))?;
    let mut dctx = DCtx::try_create()
        .ok_or_else(|| decompress_err(io::Error::other("no memory for a zstd context")))?;
    dctx.set_parameter(DParameter::WindowLogMax(31))
        .map_err(zstd_err)?;
    dctx.set_parameter(DParameter::StableOutBuffer(true))
        .map_err(zstd_err)?;
    let mut input = vec![0u8; INPUT_CHUNK];
    let (mut pos, mut dropped, mut last_hint) = (0usize, 0usize, 1usize);
    loop {
        let n = read_some(stored, &mut input).map_err(decompress_err)?;
        if n == 0 {
            break;
        }
        let mut src = InBuffer::around(&input[..n]);
        while src.pos() < n {
            // SAFETY: the same whole mapping on every call (zstd requires a
            // stable output buffer); nothing else touches it meanwhile.
            let window = unsafe { std::slice::from_raw_parts_mut(map.ptr.cast::<u8>(), len) };
            let mut out = OutBuffer::around_pos(window, pos);
            let before = (src.pos(), pos);
            last_hint = dctx.decompress_stream(&mut out, &mut src).map_err(|code| {
                if pos == len {
                    size_err(plain + 1)
                } else {
                    zstd_err(code)
                }
            })?;
            pos = out.pos();
            if (src.pos(), pos) == before {
                // No progress with input left: the output is full.
                return Err(size_err(plain + 1));
            }
            if pos - dropped >= DROP_STEP {
                map.drop_pages(pos);
                dropped = pos;
            }
        }
    }
    if pos != len || last_hint != 0 {
        return Err(size_err(pos as u64));
    }
    Ok(())
}

fn read_some(source: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match source.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_size_from_the_frame_header() {
        let frame = zstd::bulk::compress(&vec![7u8; 1 << 20], 3).unwrap();
        // Single segment (size known, small): the content size.
        assert_eq!(window_need(&frame, 1 << 20), Some(1 << 20));
        // Window descriptor 0x48: log 19, no mantissa.
        let header = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48];
        assert_eq!(window_need(&header, 1 << 30), Some(1 << 19));
        assert_eq!(window_need(&header, 100), Some(100));
        assert_eq!(window_need(&[0, 1, 2, 3, 4, 5], 10), None);
    }
}
