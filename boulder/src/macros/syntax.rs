//! Tokenizer for the macro language (one pass, byte spans into the source).
//!
//! * `%name` is an action call, `%(name)` a definition, `%(_name)` a builtin,
//!   `%%` a literal `%`; `%break_continue` / `%break_exit` are breakpoints.
//! * Identifiers are `[A-Za-z0-9_]+` and are read greedily.
//! * A `%` followed by anything else is literal text (`100% done`), and so is
//!   `%(` not followed by an identifier. `%(name` without the closing `)` is an
//!   error: it is almost always a typo and silently passing it on hides it.

use std::ops::Range;

/// One token of a macro script; `span` is the byte range in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// Literal text, exactly the bytes of `span`.
    Text,
    /// `%%`, producing a single `%`.
    Escape,
    /// `%name`.
    Action(String),
    /// `%(name)`.
    Definition(String),
    /// `%(_name)`; the stored name excludes the underscore.
    Builtin(String),
    /// `%break_continue` (`exit == false`) or `%break_exit`.
    Breakpoint { exit: bool },
}

/// A malformed macro reference, found while tokenizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The `%(name` bytes that lack a closing parenthesis.
    pub span: Range<usize>,
    pub name: String,
}

pub(crate) fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn identifier_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() && is_identifier_byte(bytes[end]) {
        end += 1;
    }
    end
}

/// Splits `source` into tokens. Adjacent literal bytes form one `Text` token.
/// Problems are returned alongside the tokens so a caller can report all of them.
pub fn tokenize(source: &str) -> (Vec<Token>, Vec<SyntaxError>) {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut text_start = 0;
    let mut pos = 0;

    let flush = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if from < to {
            tokens.push(Token {
                kind: TokenKind::Text,
                span: from..to,
            });
        }
    };

    while pos < bytes.len() {
        if bytes[pos] != b'%' {
            pos += 1;
            continue;
        }
        let start = pos;
        let next = bytes.get(pos + 1).copied();
        match next {
            Some(b'%') => {
                flush(&mut tokens, text_start, start);
                tokens.push(Token {
                    kind: TokenKind::Escape,
                    span: start..start + 2,
                });
                pos = start + 2;
                text_start = pos;
            }
            Some(byte) if is_identifier_byte(byte) => {
                let end = identifier_end(bytes, start + 1);
                let name = &source[start + 1..end];
                let kind = match name {
                    "break_continue" => TokenKind::Breakpoint { exit: false },
                    "break_exit" => TokenKind::Breakpoint { exit: true },
                    _ => TokenKind::Action(name.to_string()),
                };
                flush(&mut tokens, text_start, start);
                tokens.push(Token {
                    kind,
                    span: start..end,
                });
                pos = end;
                text_start = pos;
            }
            Some(b'(') => {
                let name_end = identifier_end(bytes, start + 2);
                if name_end == start + 2 {
                    // `%(` without a name: literal, like the original tool.
                    pos = start + 1;
                    continue;
                }
                let name = &source[start + 2..name_end];
                flush(&mut tokens, text_start, start);
                if bytes.get(name_end) == Some(&b')') {
                    let kind = match name.strip_prefix('_') {
                        Some(builtin) => TokenKind::Builtin(builtin.to_string()),
                        None => TokenKind::Definition(name.to_string()),
                    };
                    tokens.push(Token {
                        kind,
                        span: start..name_end + 1,
                    });
                    pos = name_end + 1;
                } else {
                    errors.push(SyntaxError {
                        span: start..name_end,
                        name: name.to_string(),
                    });
                    pos = name_end;
                }
                text_start = pos;
            }
            _ => pos += 1,
        }
    }
    flush(&mut tokens, text_start, bytes.len());
    (tokens, errors)
}

/// A parsed macro body (action command, definition value or builtin), kept with
/// its source text so `Text` tokens can be resolved.
#[derive(Debug, Clone)]
pub struct MacroBody {
    pub text: String,
    pub tokens: Vec<Token>,
}

impl MacroBody {
    /// Parses `text`; syntax errors are returned instead of a body.
    pub fn parse(text: impl Into<String>) -> Result<Self, Vec<SyntaxError>> {
        let text = text.into();
        let (tokens, errors) = tokenize(&text);
        if errors.is_empty() {
            Ok(Self { text, tokens })
        } else {
            Err(errors)
        }
    }

    /// A body that is plain text, never parsed for macros.
    pub fn literal(text: impl Into<String>) -> Self {
        let text = text.into();
        let tokens = if text.is_empty() {
            Vec::new()
        } else {
            vec![Token {
                kind: TokenKind::Text,
                span: 0..text.len(),
            }]
        };
        Self { text, tokens }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(TokenKind, Range<usize>)> {
        let (tokens, errors) = tokenize(source);
        assert!(errors.is_empty(), "{errors:?}");
        tokens.into_iter().map(|t| (t.kind, t.span)).collect()
    }

    #[test]
    fn plain_text_is_one_token() {
        assert_eq!(kinds("echo hi\n"), vec![(TokenKind::Text, 0..8)]);
        assert_eq!(kinds(""), vec![]);
    }

    #[test]
    fn action_definition_builtin_escape() {
        assert_eq!(
            kinds("%make -j%(jobs) %(_name) 100%%"),
            vec![
                (TokenKind::Action("make".into()), 0..5),
                (TokenKind::Text, 5..8),
                (TokenKind::Definition("jobs".into()), 8..15),
                (TokenKind::Text, 15..16),
                (TokenKind::Builtin("name".into()), 16..24),
                (TokenKind::Text, 24..28),
                (TokenKind::Escape, 28..30),
            ]
        );
    }

    #[test]
    fn greedy_identifiers() {
        assert_eq!(
            kinds("%foo_bar-x"),
            vec![
                (TokenKind::Action("foo_bar".into()), 0..8),
                (TokenKind::Text, 8..10)
            ]
        );
        assert_eq!(
            kinds("%(x)y"),
            vec![
                (TokenKind::Definition("x".into()), 0..4),
                (TokenKind::Text, 4..5)
            ]
        );
    }

    #[test]
    fn literal_percent_cases() {
        assert_eq!(kinds("100% done"), vec![(TokenKind::Text, 0..9)]);
        assert_eq!(kinds("50%"), vec![(TokenKind::Text, 0..3)]);
        assert_eq!(kinds("%( x)"), vec![(TokenKind::Text, 0..5)]);
        // `%(` is literal, but the `%Y` after it is an action call (write `%%Y`).
        assert_eq!(
            kinds("%(%Y)"),
            vec![
                (TokenKind::Text, 0..2),
                (TokenKind::Action("Y".into()), 2..4),
                (TokenKind::Text, 4..5)
            ]
        );
        assert_eq!(kinds("a %- b %"), vec![(TokenKind::Text, 0..8)]);
        assert_eq!(kinds("%()"), vec![(TokenKind::Text, 0..3)]);
    }

    #[test]
    fn breakpoints() {
        assert_eq!(
            kinds("a\n%break_continue\n%break_exit"),
            vec![
                (TokenKind::Text, 0..2),
                (TokenKind::Breakpoint { exit: false }, 2..17),
                (TokenKind::Text, 17..18),
                (TokenKind::Breakpoint { exit: true }, 18..29),
            ]
        );
        // Greedy: a longer name is an ordinary action.
        assert_eq!(
            kinds("%break_exits"),
            vec![(TokenKind::Action("break_exits".into()), 0..12)]
        );
    }

    #[test]
    fn unterminated_definition_is_an_error_with_span() {
        let (tokens, errors) = tokenize("x %(name y %(ok)");
        assert_eq!(
            errors,
            vec![SyntaxError {
                span: 2..8,
                name: "name".into()
            }]
        );
        assert_eq!(
            tokens.last().map(|t| t.kind.clone()),
            Some(TokenKind::Definition("ok".into()))
        );
    }

    #[test]
    fn multibyte_text_is_kept() {
        assert_eq!(
            kinds("é%%ü"),
            vec![
                (TokenKind::Text, 0..2),
                (TokenKind::Escape, 2..4),
                (TokenKind::Text, 4..6)
            ]
        );
    }
}
