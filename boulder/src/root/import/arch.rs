//! The host's architecture as Debian spells it. The import packs the host's
//! own packages, so they are for the architecture boulder runs on; Debian
//! keeps their libraries in a multiarch directory named by a GNU triplet.

use super::super::RootError;
use crate::recipe::HOST_ARCH;

/// One architecture the host import knows.
pub struct DebianArch {
    /// The name stones and recipes use (`x86_64`), also the suffix of
    /// AerynOS's soname providers (`soname(libz.so.1(x86_64))`).
    pub name: &'static str,
    /// Debian's multiarch directory (`x86_64-linux-gnu`).
    pub multiarch: &'static str,
    /// The multiarch directory of the 32-bit companion that `pkgconfig32(x)`
    /// requests name (emul32 builds exist on x86_64 only).
    pub multiarch32: Option<&'static str>,
}

const X86_64: DebianArch = DebianArch {
    name: "x86_64",
    multiarch: "x86_64-linux-gnu",
    multiarch32: Some("i386-linux-gnu"),
};

const AARCH64: DebianArch = DebianArch {
    name: "aarch64",
    multiarch: "aarch64-linux-gnu",
    multiarch32: None,
};

/// This host's. On a host the import does not know it is x86_64's, never
/// used: [`supported`] refuses the import before anything is looked up.
pub const HOST: DebianArch = if cfg!(target_arch = "aarch64") {
    AARCH64
} else {
    X86_64
};

/// Fails with a clear message on a host whose architecture the import does
/// not know.
pub fn supported() -> Result<(), RootError> {
    if HOST_ARCH == HOST.name {
        return Ok(());
    }
    Err(RootError::Import(format!(
        "this host is {HOST_ARCH}; importing the host's packages works on Debian or Ubuntu for \
         x86_64 and aarch64 only (use another profile, such as `--profile aerynos`, or write one)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_imported_under_its_own_triplet_or_refused_by_name() {
        match supported() {
            Ok(()) => {
                assert_eq!(HOST.name, HOST_ARCH);
                assert!(HOST.multiarch.starts_with(HOST_ARCH), "{}", HOST.multiarch);
            }
            Err(error) => assert!(error.to_string().contains(HOST_ARCH), "{error}"),
        }
    }
}
