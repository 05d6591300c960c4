//! The restricted macro environment of package fields.
//!
//! Package names, summaries, descriptions, dependencies and paths may only use
//! `%(name)`, `%(version)`, `%(release)` and the `%%` escape; everything else is an error.

/// The three values package fields may refer to.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub release: u64,
}

/// Why a package field could not be expanded: a message and the byte range in the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictedError {
    pub message: String,
    pub range: std::ops::Range<usize>,
    pub suggestion: Option<&'static str>,
}

const ALLOWED: [&str; 3] = ["name", "version", "release"];

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Expands `text`, or reports the first macro the restricted environment does not know.
pub fn expand(text: &str, identity: Identity<'_>) -> Result<String, RestrictedError> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        out.push_str(&text[literal_start..i]);
        let start = i;
        match bytes.get(i + 1) {
            Some(b'%') => {
                out.push('%');
                i += 2;
            }
            Some(b'(') => {
                let name_start = i + 2;
                let mut j = name_start;
                while j < bytes.len() && is_ident(bytes[j]) {
                    j += 1;
                }
                if j == name_start || bytes.get(j) != Some(&b')') {
                    return Err(RestrictedError {
                        message: "unterminated `%(`: expected a definition name and `)`".into(),
                        range: start..(j + 1).min(bytes.len()),
                        suggestion: None,
                    });
                }
                let name = &text[name_start..j];
                match name {
                    "name" => out.push_str(identity.name),
                    "version" => out.push_str(identity.version),
                    "release" => out.push_str(&identity.release.to_string()),
                    _ => {
                        return Err(RestrictedError {
                            message: format!(
                                "`%({name})` is not available here: package fields only know %(name), %(version) and %(release)"
                            ),
                            range: start..j + 1,
                            suggestion: crate::suggest::closest_name(name, ALLOWED),
                        })
                    }
                }
                i = j + 1;
            }
            Some(&b) if is_ident(b) => {
                let mut j = i + 1;
                while j < bytes.len() && is_ident(bytes[j]) {
                    j += 1;
                }
                return Err(RestrictedError {
                    message: format!(
                        "action `%{}` is not available in package fields (write `%%` for a literal `%`)",
                        &text[i + 1..j]
                    ),
                    range: start..j,
                    suggestion: None,
                });
            }
            _ => {
                out.push('%');
                i += 1;
            }
        }
        literal_start = i;
    }
    out.push_str(&text[literal_start..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Identity<'static> = Identity {
        name: "foo",
        version: "1.2",
        release: 3,
    };

    #[test]
    fn expands_the_three_names() {
        assert_eq!(
            expand("%(name)-devel %(version)-%(release) 100%% x%", ID).unwrap(),
            "foo-devel 1.2-3 100% x%"
        );
    }

    #[test]
    fn rejects_everything_else() {
        let err = expand("/usr/%(libdir)/x", ID).unwrap_err();
        assert_eq!(err.range, 5..14);
        assert!(expand("%(nam)", ID).unwrap_err().suggestion == Some("name"));
        assert_eq!(expand("a %(name", ID).unwrap_err().range, 2..8);
        assert!(expand("%make", ID).is_err());
    }
}
