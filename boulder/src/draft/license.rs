//! The SPDX licence of a source tree, from its licence files.
//!
//! The matching is the `spdx` crate's (askalono's algorithm, with the SPDX
//! licence texts embedded, so it works offline). On top of it, two rules a
//! packager applies and a text match cannot:
//! * the GPL family's `-only` / `-or-later`: the licence text is the same for
//!   both; the sources' headers ("or (at your option) any later version")
//!   decide;
//! * Perl's "same terms as Perl itself", which AerynOS writes as
//!   `Artistic-1.0-Perl`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use spdx::detection::scan::Scanner;
use spdx::detection::{Store, TextData};

/// Below this score a match is not trusted.
const CONFIDENCE: f32 = 0.8;

/// What was found: SPDX identifiers (sorted, without duplicates) and the
/// files each came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Licenses {
    pub ids: Vec<String>,
    pub sources: Vec<(String, PathBuf)>,
}

fn store() -> Option<&'static Store> {
    static STORE: OnceLock<Option<Store>> = OnceLock::new();
    STORE.get_or_init(|| Store::load_inline().ok()).as_ref()
}

/// Whether `name` (a file at the top of the tree) looks like a licence file.
pub fn is_license_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "COPYRIGHT", "UNLICENSE"]
        .iter()
        .any(|prefix| upper.starts_with(prefix))
}

/// The licences of the tree at `root`: its licence files matched against the
/// SPDX texts; failing those, the licence text inside its README.
/// `sources` are files whose headers tell `-only` from `-or-later`.
pub fn detect(root: &Path, files: &[PathBuf], perl: bool, sources: &[PathBuf]) -> Licenses {
    let mut found = Licenses::default();
    let Some(store) = store() else {
        return found;
    };
    let readmes: Vec<&PathBuf> = files
        .iter()
        .filter(|f| name_of(f).to_ascii_uppercase().starts_with("README"))
        .collect();
    if perl {
        // "same terms as Perl itself" in the README, LICENSE or the module's POD.
        let docs = files.iter().filter(|f| {
            let name = name_of(f);
            is_license_file(&name) || name.to_ascii_uppercase().starts_with("README")
        });
        for file in docs.chain(
            sources
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "pm")),
        ) {
            if read(root, file).is_some_and(|text| same_terms_as_perl(&text)) {
                found.add("Artistic-1.0-Perl", file);
                return found;
            }
        }
    }
    for file in files.iter().filter(|f| is_license_file(&name_of(f))) {
        if let Some(text) = read(root, file) {
            for id in scan(store, &text) {
                found.add(&id, file);
            }
        }
    }
    if found.ids.is_empty() {
        for file in readmes {
            if let Some(text) = read(root, file) {
                for id in scan(store, &text) {
                    found.add(&id, file);
                }
            }
        }
    }
    if found.ids.iter().any(|id| is_gpl_family(id)) {
        // `LICENSE.LGPLv2+`: the file name says it; else the source headers.
        let plus_file = found
            .sources
            .iter()
            .any(|(id, file)| is_gpl_family(id) && name_of(file).ends_with('+'));
        let later = plus_file
            || sources
                .iter()
                .take(400)
                .filter_map(|f| read(root, f))
                .any(|text| allows_later_versions(&text));
        let suffix = if later { "-or-later" } else { "-only" };
        let ids = std::mem::take(&mut found.ids);
        for id in ids {
            let id = if is_gpl_family(&id) {
                format!("{}{suffix}", gpl_base(&id))
            } else {
                id
            };
            if !found.ids.contains(&id) {
                found.ids.push(id);
            }
        }
        for (id, _) in &mut found.sources {
            if is_gpl_family(id) {
                *id = format!("{}{suffix}", gpl_base(id));
            }
        }
    }
    found.ids.sort();
    found
}

impl Licenses {
    fn add(&mut self, id: &str, file: &Path) {
        if !self.ids.iter().any(|known| known == id) {
            self.ids.push(id.to_string());
        }
        self.sources.push((id.to_string(), file.to_path_buf()));
    }
}

/// The licences whose text is in `text`: the whole text, or the licences
/// found inside it (a README that ends with its licence, a file holding two).
fn scan(store: &Store, text: &str) -> Vec<String> {
    let data = TextData::new(text);
    let scanner = Scanner::new(store)
        .confidence_threshold(CONFIDENCE)
        .optimize(true);
    let result = scanner.scan(&data);
    let mut ids = Vec::new();
    if let Some(license) = result.license {
        ids.push(canonical(&prefer_common(
            store,
            &data,
            license.name,
            result.score,
        )));
    }
    for contained in result.containing {
        if contained.score >= CONFIDENCE {
            let (start, end) = contained.line_range;
            let view = data.with_view(start, end);
            let name = prefer_common(store, &view, contained.license.name, contained.score);
            let id = canonical(&name);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        ids.extend(fsf_title(text));
    }
    ids
}

/// Licences most projects use. The SPDX list also has many near-copies of
/// them (the MIT text with an extra clause, BSD-3-Clause with a nuclear
/// disclaimer); when the text matches a common licence almost as well as
/// such a variant, packagers (and AerynOS) name the common one.
const COMMON: &[&str] = &[
    "MIT",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Apache-2.0",
    "Zlib",
    "0BSD",
    "MPL-2.0",
    "BSL-1.0",
    "Unlicense",
];

/// How much lower a common licence may score than the best variant.
const COMMON_MARGIN: f32 = 0.07;

fn prefer_common(store: &Store, data: &TextData, best: &str, score: f32) -> String {
    if COMMON.contains(&best) {
        return best.to_string();
    }
    COMMON
        .iter()
        .filter_map(|id| Some((*id, store.get_original(id)?.match_score(data))))
        .filter(|(_, common)| *common >= score - COMMON_MARGIN)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(|| best.to_string(), |(id, _)| id.to_string())
}

/// The FSF licences by their title at the top of the file. The SPDX text of
/// the LGPL-3.0 includes the GPL-3.0 it amends, so a project's `COPYING`
/// holding only the LGPL's own text does not match it as a whole.
fn fsf_title(text: &str) -> Option<String> {
    let head: Vec<String> = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_uppercase()
        })
        .filter(|l| !l.is_empty())
        .take(2)
        .collect();
    let [title, version] = head.as_slice() else {
        return None;
    };
    let family = match title.as_str() {
        "GNU GENERAL PUBLIC LICENSE" => "GPL",
        "GNU LESSER GENERAL PUBLIC LICENSE" => "LGPL",
        "GNU LIBRARY GENERAL PUBLIC LICENSE" => "LGPL",
        "GNU AFFERO GENERAL PUBLIC LICENSE" => "AGPL",
        _ => return None,
    };
    let number = version.strip_prefix("VERSION ")?.split([',', ' ']).next()?;
    let number = if number.contains('.') {
        number.to_string()
    } else {
        format!("{number}.0")
    };
    Some(format!("{family}-{number}"))
}

/// The store names some licences by their deprecated SPDX identifiers
/// (`GPL-2.0`); give the current one.
fn canonical(name: &str) -> String {
    match spdx::license_id(name) {
        Some(id) if id.is_deprecated() => {
            // `GPL-2.0` → `GPL-2.0-only`; the -only/-or-later choice comes later.
            if is_gpl_family(name) {
                gpl_base(name).to_string()
            } else {
                name.to_string()
            }
        }
        _ => name.to_string(),
    }
}

fn is_gpl_family(id: &str) -> bool {
    ["GPL-", "LGPL-", "AGPL-"]
        .iter()
        .any(|prefix| id.starts_with(prefix))
        && !id.contains("exception")
}

/// `GPL-2.0-or-later` → `GPL-2.0`.
fn gpl_base(id: &str) -> &str {
    let id = id.trim_end_matches('+');
    id.strip_suffix("-or-later")
        .or_else(|| id.strip_suffix("-only"))
        .unwrap_or(id)
}

/// The GPL's "or (at your option) any later version", however wrapped.
fn allows_later_versions(text: &str) -> bool {
    let flat = flatten(text);
    if flat.contains("any later version") || flat.contains("gplv2+") || flat.contains("gplv3+") {
        return true;
    }
    // "version 2 or later", "version 2.1 or later".
    flat.match_indices("version ").any(|(at, _)| {
        let rest = &flat[at + "version ".len()..];
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        number_len > 0 && rest[number_len..].starts_with(" or later")
    })
}

fn same_terms_as_perl(text: &str) -> bool {
    let flat = flatten(text);
    flat.contains("same terms as perl")
        || flat.contains("same terms as the perl")
        || (flat.contains("the gnu general public license or the artistic license")
            && flat.contains("perl readme"))
}

/// The words of `text` in lower case, one space apart, without comment
/// markers (`*`, `#`, `//`, `dnl`), so a phrase wrapped over comment lines
/// reads as one.
fn flatten(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "dnl" && !w.chars().all(|c| "*#/;!-".contains(c)))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A text file of the tree, at most 1 MiB of it.
fn read(root: &Path, file: &Path) -> Option<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(root.join(file))
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpl_versions_and_perl_terms() {
        assert_eq!(gpl_base("GPL-2.0-or-later"), "GPL-2.0");
        assert_eq!(gpl_base("LGPL-2.1-only"), "LGPL-2.1");
        assert!(is_gpl_family("LGPL-3.0"));
        assert!(!is_gpl_family("MIT"));
        assert!(allows_later_versions(
            "either version 2 of the License, or\n * (at your option) any later\n * version."
        ));
        assert!(allows_later_versions(
            "the GNU Lesser General Public license version 2 or later (LGPLv2+)"
        ));
        assert!(!allows_later_versions("version 2 of the License only"));
        assert_eq!(
            fsf_title("   GNU LESSER GENERAL PUBLIC LICENSE\n      Version 3, 29 June 2007\n")
                .as_deref(),
            Some("LGPL-3.0")
        );
        assert!(same_terms_as_perl(
            "you can redistribute it and/or modify it under\nthe same terms as Perl itself."
        ));
        assert!(is_license_file("COPYING.LGPL") && is_license_file("LICENCE.GPL"));
        assert!(!is_license_file("README"));
    }

    #[test]
    fn the_mit_text_is_recognised() {
        let mit = "Copyright (c) 2020 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, sublicense, and/or sell\ncopies of the Software, and to permit persons to whom the Software is\nfurnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\nIMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\nFITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\nAUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\nLIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\nOUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\nSOFTWARE.\n";
        let store = store().expect("the embedded store loads");
        assert_eq!(scan(store, mit), ["MIT"]);
    }
}
