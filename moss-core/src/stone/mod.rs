//! The stone v1 archive format: `.stone` packages, `stone.index` repository
//! indexes and `manifest.*.bin` build manifests.
//!
//! A stone is a 32-byte [`Header`] followed by payloads, each a 32-byte
//! [`PayloadHeader`] and a (usually zstd-compressed) body. All integers are
//! big-endian. See `book/src/reference/stone-format.md`.
//!
//! Reading: [`StoneReader::new`] walks the file and decodes metadata;
//! [`StoneReader::unpack_content`] streams file contents into a
//! [`ContentSink`]. Writing: [`writer`]. Extracting to a folder: [`extract`].

mod attributes;
mod codec;
mod content;
mod dependency;
mod error;
pub mod extract;
pub mod fuzz;
mod header;
mod index;
mod layout;
mod meta;
mod once;
mod package;
mod path;
mod payload;
mod readahead;
mod reader;
mod tree;
mod window;
mod writebehind;
pub mod writer;

pub use attributes::{decode_attributes, encode_attributes, Attribute};
pub use content::{ContentSink, UnpackStats};
pub use dependency::{Dependency, DependencyKind, Provider};
pub use error::{PayloadId, Result, StoneError};
pub use extract::{check_layout, extract, ExtractStats};
pub use header::{FileType, Header, HEADER_LEN, INTEGRITY, MAGIC};
pub use index::{decode_index, encode_index, IndexEntry, INDEX_RECORD_LEN};
pub use layout::{decode_layout, encode_layout, LayoutEntry, LayoutKind, LAYOUT_FIXED_LEN};
pub use meta::{decode_meta, encode_meta, MetaRecord, MetaTag, MetaValue};
pub use package::Meta;
pub use path::check_layout_path;
pub use payload::{Compression, PayloadHeader, PayloadKind, PAYLOAD_HEADER_LEN};
pub use reader::{ContentPayload, Payload, StoneReader, METADATA_PLAIN_LIMIT};
pub use tree::{scan_tree, Tree};
pub use window::DECODER_ENV;
pub use writer::{
    Content, ContentSource, StoneWriter, WriteOptions, DEFAULT_LEVEL, MANIFEST_LEVEL,
};

/// xxh3-128 of zero bytes: the digest of every empty file.
pub const EMPTY_DIGEST: u128 = 0x99aa06d3014798d86001c324468d497f;
