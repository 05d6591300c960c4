//! The facts analysis needs from an ELF file, read with the `object` crate.

use object::elf;
use object::read::elf::{Dyn, ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSection};

/// What one ELF file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The machine as the original names it: the `EM_` constant's name
    /// without `EM_`, lowercased (`x86_64`, `386`, `aarch64`, …).
    pub isa: String,
    pub is_64: bool,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    /// `DT_RUNPATH` and `DT_RPATH` entries, split at `:`, in file order.
    pub search_paths: Vec<String>,
    pub interpreter: Option<String>,
    pub build_id: Option<Vec<u8>>,
}

/// Whether `bytes` start with the ELF magic.
pub fn has_elf_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(&elf::ELFMAG)
}

/// Reads `data` as ELF; `None` when it is not a well-formed ELF file.
pub fn read_elf(data: &[u8]) -> Option<ElfInfo> {
    // e_ident[EI_CLASS]: 1 is ELFCLASS32, 2 is ELFCLASS64.
    match data.get(4)? {
        1 => read_class::<elf::FileHeader32<Endianness>>(data),
        2 => read_class::<elf::FileHeader64<Endianness>>(data),
        _ => None,
    }
}

fn read_class<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Option<ElfInfo> {
    let file = ElfFile::<H>::parse(data).ok()?;
    let endian = file.endian();
    let header = file.elf_header();
    let isa = header
        .e_machine(endian)
        .name()
        .and_then(|name| name.strip_prefix("EM_"))
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "unknown".to_string());

    let mut soname = None;
    let mut needed = Vec::new();
    let mut search_paths = Vec::new();
    if let Ok(table) = file.elf_dynamic_table() {
        for entry in table.dynamics() {
            let tag = entry.d_tag(endian);
            let value: u64 = entry.d_val(endian).into();
            let Some(text) = u32::try_from(value)
                .ok()
                .and_then(|offset| table.strings().get(offset).ok())
            else {
                continue;
            };
            let text = String::from_utf8_lossy(text).into_owned();
            if tag == elf::DT_NEEDED {
                needed.push(text);
            } else if tag == elf::DT_SONAME {
                soname = Some(text);
            } else if tag == elf::DT_RUNPATH || tag == elf::DT_RPATH {
                search_paths.extend(text.split(':').filter(|p| !p.is_empty()).map(String::from));
            } else if tag == elf::DT_NULL {
                break;
            }
        }
    }

    let interpreter = file
        .section_by_name(".interp")
        .and_then(|section| section.data().ok())
        .or_else(|| {
            file.elf_program_headers()
                .iter()
                .find_map(|segment| segment.interpreter(endian, data).ok().flatten())
        })
        .map(|bytes| {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            String::from_utf8_lossy(&bytes[..end]).into_owned()
        })
        .filter(|path| !path.is_empty());

    Some(ElfInfo {
        isa,
        is_64: file.is_64(),
        soname,
        needed,
        search_paths,
        interpreter,
        build_id: file.build_id().ok().flatten().map(<[u8]>::to_vec),
    })
}

/// Whether the ELF file has a section called `name` (used to check that
/// debug info is gone after stripping).
pub fn has_section(data: &[u8], name: &str) -> bool {
    object::File::parse(data)
        .map(|file| file.section_by_name(name).is_some())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_elf_and_truncated_input_is_not_elf() {
        assert_eq!(read_elf(b""), None);
        assert_eq!(read_elf(b"\x7fELF"), None);
        assert_eq!(read_elf(b"\x7fELF\x02\x01\x01\x00"), None);
        assert!(!has_section(b"not elf", ".debug_info"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_after_the_magic_never_panic(
            class in 0u8..4,
            data in 0u8..4,
            rest in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
        ) {
            let mut bytes = b"\x7fELF".to_vec();
            bytes.extend([class, data, 1]);
            bytes.extend(rest);
            let _ = read_elf(&bytes);
            let _ = has_section(&bytes, ".debug_info");
        }
    }
}
