//! A YAML document tree that remembers where every node came from.
//!
//! `saphyr-parser`'s event stream is turned into [`Node`]s carrying byte spans into the
//! source text. Scalars also carry an
//! [`OffsetMap`] from byte offsets in their *value* back to byte offsets in the file, so a
//! position inside a block scalar (`|` or `>`) — after indentation stripping, folding and
//! chomping — still points at the exact file line and column.

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::scalar::{self, Resolved};

/// Deepest nesting accepted; recipes need four or five levels.
const MAX_DEPTH: usize = 64;
/// Upper bound on nodes materialised through aliases (guards against "billion laughs").
const MAX_ALIAS_NODES: usize = 10_000;

/// How a scalar was written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// A scalar value with its style and the map from value offsets to file offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: Style,
    pub map: OffsetMap,
    /// Tagged `!!str`: a string however it looks.
    pub tagged_str: bool,
}

/// One node of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

/// A node and the byte range of the source text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Range<usize>,
}

/// A YAML syntax error, positioned in the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub message: String,
    pub offset: usize,
}

impl Node {
    /// The scalar, when this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// True for an absent value (`key:`), `~` or `null`.
    pub fn is_null(&self) -> bool {
        self.as_scalar().is_some_and(Scalar::is_null)
    }

    /// A short name of the node's shape, for messages ("a list", "a map", "a string").
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(s) if s.is_null() => "nothing (null)",
            NodeKind::Scalar(s) => match s.plain_type() {
                PlainType::Bool => "a boolean",
                PlainType::Int | PlainType::Float => "a number",
                _ => "a string",
            },
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a map",
        }
    }
}

/// What a plain scalar resolves to (see [`scalar::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainType {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

impl Scalar {
    /// The scalar's type; quoted and block scalars are always strings.
    pub fn plain_type(&self) -> PlainType {
        match self.resolve() {
            Resolved::Null => PlainType::Null,
            Resolved::Bool(_) => PlainType::Bool,
            Resolved::Int(_) => PlainType::Int,
            Resolved::Float(_) => PlainType::Float,
            Resolved::Str(_) => PlainType::Str,
        }
    }

    /// The scalar's value; quoted and block scalars are always strings.
    pub fn resolve(&self) -> Resolved<'_> {
        if self.style == Style::Plain && !self.tagged_str {
            scalar::resolve(&self.value)
        } else {
            Resolved::Str(&self.value)
        }
    }

    pub fn is_null(&self) -> bool {
        self.plain_type() == PlainType::Null
    }

    /// The file offset of byte `offset` of the value.
    pub fn file_offset(&self, offset: usize) -> usize {
        self.map.file_offset(offset)
    }
}

/// Piecewise map from byte offsets in a scalar's value to byte offsets in the file.
///
/// Each segment says "value bytes from `value` on correspond one to one to file bytes from
/// `file` on", until the next segment starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    segments: Vec<(usize, usize)>,
    fallback: usize,
}

impl OffsetMap {
    /// Maps a value offset to the file; offsets that could not be aligned map to the
    /// start of the scalar.
    pub fn file_offset(&self, offset: usize) -> usize {
        let index = self.segments.partition_point(|(v, _)| *v <= offset);
        match index.checked_sub(1).and_then(|i| self.segments.get(i)) {
            Some((value, file)) => file + (offset - value),
            None => self.fallback,
        }
    }

    /// Builds the map by walking the value and the source side by side: source characters
    /// that do not appear in the value (indentation, line breaks folded away, quotes,
    /// escapes) are skipped.
    fn align(value: &str, source: &str, span: Range<usize>, style: Style, indent: usize) -> Self {
        let mut map = OffsetMap {
            segments: Vec::new(),
            fallback: span.start,
        };
        let bytes = source.as_bytes();
        let mut pos = span.start;
        if matches!(style, Style::SingleQuoted | Style::DoubleQuoted) {
            pos += 1;
        }
        let end = if matches!(style, Style::Literal | Style::Folded) {
            source.len()
        } else {
            span.end.min(source.len())
        };
        let block = matches!(style, Style::Literal | Style::Folded);
        let mut last: Option<(usize, usize)> = None; // (value end, file end) of last mapped char
        for (voff, ch) in value.char_indices() {
            let mut found = None;
            while pos < end {
                let at_line_start = pos > 0 && bytes[pos - 1] == b'\n';
                if block && at_line_start {
                    let mut skipped = 0;
                    while skipped < indent && pos < end && bytes[pos] == b' ' {
                        pos += 1;
                        skipped += 1;
                    }
                    if pos >= end {
                        break;
                    }
                }
                let Some(sc) = source[pos..].chars().next() else {
                    break;
                };
                if style == Style::SingleQuoted && sc == '\'' && ch == '\'' {
                    found = Some((pos, 2));
                    break;
                }
                if sc == ch {
                    found = Some((pos, sc.len_utf8()));
                    break;
                }
                if style == Style::DoubleQuoted && sc == '\\' {
                    let next = source[pos + 1..].chars().next();
                    let len = match next {
                        Some('\n') => {
                            pos += 2;
                            continue;
                        }
                        Some('x') => 4,
                        Some('u') => 6,
                        Some('U') => 10,
                        Some(c) => 1 + c.len_utf8(),
                        None => 1,
                    };
                    found = Some((pos, len));
                    break;
                }
                if (ch == ' ' || ch == '\n') && sc == '\n' {
                    found = Some((pos, 1));
                    break;
                }
                if matches!(sc, ' ' | '\t' | '\r' | '\n') {
                    pos += sc.len_utf8();
                    continue;
                }
                break;
            }
            let Some((file_pos, len)) = found else {
                break;
            };
            if last != Some((voff, file_pos)) {
                map.segments.push((voff, file_pos));
            }
            pos = file_pos + len;
            // A segment continues only while value and file advance by the same amount.
            last = (len == ch.len_utf8()).then_some((voff + ch.len_utf8(), pos));
        }
        map
    }
}

/// Parses the first document of `source` into a tree.
///
/// An empty document yields a null scalar. Only one document is allowed.
pub fn parse(source: &str) -> Result<Node, SyntaxError> {
    let mut patched: Option<String> = None;
    let mut fixes = 0;
    loop {
        let text = patched.as_deref().unwrap_or(source);
        match parse_once(text) {
            Ok(node) => return Ok(node),
            Err((error, tab_after_colon)) => {
                let fixed = tab_after_colon
                    .then(|| space_out_tabs_before(text, error.offset))
                    .flatten();
                match fixed {
                    Some(text) if fixes < MAX_TAB_FIXES => {
                        fixes += 1;
                        patched = Some(text);
                    }
                    _ => return Err(error),
                }
            }
        }
    }
}

/// Most `key:<tab>value` separators repaired in one file (each costs a parse).
const MAX_TAB_FIXES: usize = 32;

/// `key:<tab>value` is valid YAML (and the original tools read it), but saphyr refuses a
/// tab right after `:` when a value follows on the same line. The parser stops exactly
/// there, so the tabs between that `:` and `offset` become spaces, which keeps every
/// offset and every value as it was.
fn space_out_tabs_before(text: &str, offset: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let mut start = offset.min(bytes.len());
    while start > 0 && matches!(bytes[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    if start == 0 || bytes[start - 1] != b':' || !bytes[start..offset].contains(&b'\t') {
        return None;
    }
    let mut fixed = text.as_bytes().to_vec();
    for byte in &mut fixed[start..offset] {
        *byte = b' ';
    }
    String::from_utf8(fixed).ok()
}

/// One parse; on failure also says whether it was saphyr's tab-after-colon refusal.
fn parse_once(source: &str) -> Result<Node, (SyntaxError, bool)> {
    let offsets = CharOffsets::new(source);
    let mut builder = Builder {
        source,
        offsets: &offsets,
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
        alias_nodes: 0,
        documents: 0,
    };
    for event in Parser::new_from_str(source) {
        match event {
            Ok((event, span)) => builder.event(event, span).map_err(|e| (e, false))?,
            Err(error) => {
                let marker = error.marker();
                let tab_after_colon =
                    error.info() == "':' must be followed by a valid YAML whitespace";
                return Err((
                    SyntaxError {
                        message: format!("invalid YAML: {}", error.info()),
                        offset: offsets.byte(marker.index()),
                    },
                    tab_after_colon,
                ));
            }
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Scalar(Scalar {
            value: String::new(),
            style: Style::Plain,
            map: OffsetMap::default(),
            tagged_str: false,
        }),
        span: 0..0,
    }))
}

/// Converts saphyr's character indices to byte offsets.
struct CharOffsets {
    /// Byte offset of each character; empty when the source is ASCII (identity).
    starts: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(source: &str) -> Self {
        let starts = if source.is_ascii() {
            Vec::new()
        } else {
            source.char_indices().map(|(i, _)| i).collect()
        };
        CharOffsets {
            starts,
            len: source.len(),
        }
    }

    fn byte(&self, index: usize) -> usize {
        if self.starts.is_empty() {
            index.min(self.len)
        } else {
            self.starts.get(index).copied().unwrap_or(self.len)
        }
    }
}

enum Frame {
    Sequence {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Mapping {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

struct Builder<'a> {
    source: &'a str,
    offsets: &'a CharOffsets,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    alias_nodes: usize,
    documents: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index());
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError {
                        message: "only one YAML document is allowed here; found a second one"
                            .into(),
                        offset: start,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tagged_str = tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let map =
                    OffsetMap::align(&value, self.source, start..end, style, span.start.col());
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        value: value.into_owned(),
                        style,
                        map,
                        tagged_str,
                    }),
                    span: start..end.max(start),
                };
                self.finish(node, anchor, start)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.push(
                    Frame::Sequence {
                        items: Vec::new(),
                        start,
                        anchor,
                    },
                    start,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                self.push(
                    Frame::Mapping {
                        entries: Vec::new(),
                        pending_key: None,
                        start,
                        anchor,
                    },
                    start,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (kind, node_start, anchor) = match frame {
                    Frame::Sequence {
                        items,
                        start,
                        anchor,
                    } => (NodeKind::Sequence(items), start, anchor),
                    Frame::Mapping {
                        entries,
                        start,
                        anchor,
                        ..
                    } => (NodeKind::Mapping(entries), start, anchor),
                };
                let children_end = match &kind {
                    NodeKind::Sequence(items) => items.last().map(|n| n.span.end),
                    NodeKind::Mapping(entries) => entries.last().map(|(_, v)| v.span.end),
                    NodeKind::Scalar(_) => None,
                };
                let node_end = children_end.unwrap_or(end).max(node_start);
                let node = Node {
                    kind,
                    span: node_start..node_end,
                };
                self.finish(node, anchor, start)?;
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.iter().rev().find(|(a, _)| *a == id) else {
                    return Err(SyntaxError {
                        message: "alias refers to an unknown anchor".into(),
                        offset: start,
                    });
                };
                let mut node = node.1.clone();
                self.alias_nodes += count_nodes(&node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        message: "too many nodes created through aliases".into(),
                        offset: start,
                    });
                }
                node.span = start..end.max(start);
                self.finish(node, 0, start)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, offset: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                offset,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize, offset: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.alias_nodes += count_nodes(&node);
            if self.alias_nodes > MAX_ALIAS_NODES {
                return Err(SyntaxError {
                    message: "too many anchored nodes".into(),
                    offset,
                });
            }
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Sequence(items) => todo.extend(items),
            NodeKind::Mapping(entries) => {
                for (k, v) in entries {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of<'a>(root: &'a Node, key: &str) -> &'a Node {
        let NodeKind::Mapping(entries) = &root.kind else {
            panic!("root is not a map");
        };
        &entries
            .iter()
            .find(|(k, _)| k.as_scalar().map(|s| s.value.as_str()) == Some(key))
            .expect("key present")
            .1
    }

    /// Every non-space character of the value must map to the same character in the file.
    fn assert_exact(source: &str, node: &Node) {
        let scalar = node.as_scalar().expect("scalar");
        for (i, c) in scalar.value.char_indices() {
            if c.is_whitespace() {
                continue;
            }
            let f = scalar.file_offset(i);
            assert_eq!(
                source[f..].chars().next(),
                Some(c),
                "value offset {i} of {:?}",
                scalar.value
            );
        }
    }

    #[test]
    fn block_scalars_map_back_exactly() {
        let source = "a: |  # note\n    x %(y)\n      z %w\n\n\nb: >-\n  f1\n  f2 %q\n\n  f3\nc: \"q\\n %z\"\nd: plain\n  more %m\ne: 'it''s %s'\n";
        let root = parse(source).unwrap();
        for key in ["a", "b", "c", "d", "e"] {
            assert_exact(source, value_of(&root, key));
        }
        let a = value_of(&root, "a").as_scalar().unwrap();
        assert_eq!(a.value, "x %(y)\n  z %w\n");
        let z = a.value.find('z').unwrap();
        assert_eq!(a.file_offset(z), source.find("z %w").unwrap());
        let b = value_of(&root, "b").as_scalar().unwrap();
        assert_eq!(b.value, "f1 f2 %q\nf3");
    }

    #[test]
    fn non_ascii_sources_use_byte_offsets() {
        let source = "summary: \"héllo\"\nx: |\n  é %(a)\n";
        let root = parse(source).unwrap();
        let x = value_of(&root, "x");
        assert_exact(source, x);
        let scalar = x.as_scalar().unwrap();
        let p = scalar.value.find('%').unwrap();
        assert_eq!(scalar.file_offset(p), source.find('%').unwrap());
    }

    #[test]
    fn errors_are_positioned_and_depth_is_bounded() {
        let error = parse("a: [1, 2\nb: c").unwrap_err();
        assert!(error.offset <= 14);
        let deep = "[".repeat(500);
        assert!(parse(&deep).is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn core_schema_resolution() {
        let root = parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: \"1\"\nf: 1.2.3\ng:\n").unwrap();
        let t = |k| value_of(&root, k).as_scalar().unwrap().plain_type();
        assert_eq!(t("a"), PlainType::Int);
        assert_eq!(t("b"), PlainType::Float);
        assert_eq!(t("c"), PlainType::Bool);
        assert_eq!(t("d"), PlainType::Null);
        assert_eq!(t("e"), PlainType::Str);
        assert_eq!(t("f"), PlainType::Str);
        assert_eq!(t("g"), PlainType::Null);
    }
}
