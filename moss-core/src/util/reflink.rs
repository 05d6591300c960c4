//! Copying a file's content cheaply: a reflink (shared extents) where the
//! filesystem supports it, an ordinary copy elsewhere.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Gives the empty file `dst` the content of `src`: a reflink (`FICLONE`)
/// when both sit on a filesystem that supports it, otherwise a copy (which
/// the kernel may still do in-kernel with `copy_file_range`).
pub fn reflink_or_copy(src: &mut File, dst: &mut File) -> io::Result<()> {
    // SAFETY: both descriptors are open for the duration of the call; the
    // ioctl reads only the source descriptor number passed by value.
    let rc = unsafe { libc::ioctl(dst.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) };
    if rc != 0 {
        io::copy(src, dst)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    #[test]
    fn the_copy_has_the_same_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut src = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(dir.path().join("src"))
            .expect("create src");
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        src.write_all(&content).expect("write src");
        src.rewind().expect("rewind");
        let mut dst = File::create(dir.path().join("dst")).expect("create dst");
        reflink_or_copy(&mut src, &mut dst).expect("copy");
        drop(dst);
        assert_eq!(
            std::fs::read(dir.path().join("dst")).expect("read dst"),
            content
        );
    }
}
