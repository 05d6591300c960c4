//! Handlers run without `CAP_DAC_OVERRIDE`.
//!
//! The files of a tree are hardlinks of the store's inodes, shared with
//! every state and every other path holding the same content, and are
//! blitted without write bits. Root (inside the sandbox's user namespace,
//! or the real one) ignores those bits through `CAP_DAC_OVERRIDE`; without
//! it, a handler that opens a packaged file for writing gets `EACCES` and
//! the store is left alone. Replacing a file (write a new one, rename it
//! over) still works: that only changes the tree's link.
//!
//! What this does not stop: the handler owns the files, so a handler that
//! first `chmod`s a packaged file can then write through it. That takes a
//! deliberate step no real handler takes; `moss verify` reports the store
//! asset's changed mode and content, and `--repair` restores both.
//!
//! Everything here runs in a child forked from a possibly multi-threaded
//! process, so it allocates nothing: raw system calls on data prepared
//! before the fork.

use std::ffi::CString;
use std::io;

/// `CAP_DAC_OVERRIDE` from `<linux/capability.h>`.
const CAP_DAC_OVERRIDE: u32 = 1;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops `CAP_DAC_OVERRIDE` from the bounding set (so no later exec gets it
/// back) and from the effective, permitted and inheritable sets.
pub(super) fn drop_dac_override() -> io::Result<()> {
    // SAFETY: prctl with integer arguments; capget/capset on structs of
    // the kernel's layout that live for the call.
    unsafe {
        if libc::prctl(
            libc::PR_CAPBSET_DROP,
            CAP_DAC_OVERRIDE as libc::c_ulong,
            0,
            0,
            0,
        ) != 0
        {
            let err = io::Error::last_os_error();
            // Without CAP_SETPCAP the bounding set cannot shrink; the
            // permitted set below still goes, which is what access checks use.
            if err.raw_os_error() != Some(libc::EPERM) {
                return Err(err);
            }
        }
        let mut header = CapHeader {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = [CapData::default(); 2];
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let bit = 1u32 << CAP_DAC_OVERRIDE;
        data[0].effective &= !bit;
        data[0].permitted &= !bit;
        data[0].inheritable &= !bit;
        if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        // Ambient capabilities are a subset of permitted and inheritable
        // ones: clearing those cleared it too.
    }
    Ok(())
}

/// A command ready to be executed in a forked child: NUL-terminated
/// argument and environment vectors built before the fork.
pub(super) struct Prepared {
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    /// The program, or each place a bare name is looked for on `PATH`.
    candidates: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
}

impl Prepared {
    /// `None` when an argument or variable holds a NUL byte, or there is
    /// no argument. A bare program name is looked up in `path`.
    pub(super) fn new(argv: &[String], env: &[(&str, &str)], path: &str) -> Option<Self> {
        let program = argv.first()?;
        let candidates: Vec<CString> = if program.contains('/') {
            vec![CString::new(program.as_bytes()).ok()?]
        } else {
            path.split(':')
                .filter(|d| !d.is_empty())
                .map(|d| CString::new(format!("{d}/{program}")).ok())
                .collect::<Option<_>>()?
        };
        let argv: Vec<CString> = argv
            .iter()
            .map(|a| CString::new(a.as_bytes()).ok())
            .collect::<Option<_>>()?;
        let envp: Vec<CString> = env
            .iter()
            .map(|(k, v)| CString::new(format!("{k}={v}")).ok())
            .collect::<Option<_>>()?;
        let mut argv_ptrs: Vec<_> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<_> = envp.iter().map(|a| a.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());
        Some(Self {
            _argv: argv,
            _envp: envp,
            candidates,
            argv_ptrs,
            envp_ptrs,
        })
    }

    /// Drops `CAP_DAC_OVERRIDE` and executes the command with the prepared
    /// environment; returns only on failure, with the exit code to use
    /// (after a short message on standard error).
    pub(super) fn exec_without_dac_override(&self) -> i32 {
        if drop_dac_override().is_err() {
            write_stderr(b"moss: cannot drop CAP_DAC_OVERRIDE for the trigger handler\n");
            return 126;
        }
        for program in &self.candidates {
            // SAFETY: NULL-terminated arrays of valid C strings.
            unsafe {
                libc::execve(
                    program.as_ptr(),
                    self.argv_ptrs.as_ptr(),
                    self.envp_ptrs.as_ptr(),
                )
            };
        }
        write_stderr(b"moss: cannot execute the trigger handler\n");
        127
    }
}

fn write_stderr(msg: &[u8]) {
    // SAFETY: write(2) on fd 2 with a valid buffer.
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
}
