//! A serde `Deserializer` over a [`Node`] tree.
//!
//! It reads what serde_yaml 0.9 (the original tools' reader) read the same way: plain
//! scalars resolve as [`super::scalar`] says; any scalar, quoted or not, is accepted where
//! a string is wanted (`version: 1.10` is the string `"1.10"`; `~` is the empty string,
//! where serde_yaml read the text `"~"`); an empty plain value
//! (`key:`) is an empty list or map where one is wanted; `~`/`null` is `None` for an
//! `Option`. Unlike serde_yaml, a key repeated in one map is an error everywhere, as it is
//! in recipes, instead of the last one silently winning.
//!
//! Every error carries the offset of the node it is about and the key path leading to
//! it; [`super::from_str`] turns the offset into a line and column.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::scalar::{Int, Resolved};
use super::tree::{Node, NodeKind, Scalar, Style};
use super::Error;

/// Where a node sits in the document, for messages: `handlers.depmod.args[1]`.
#[derive(Clone, Copy)]
pub(super) enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => write!(f, "{key}"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

pub(super) struct NodeDeserializer<'de, 'p> {
    pub node: &'de Node,
    pub path: Path<'p>,
    /// A map key: read as written, even `~` (a null *value* read as text is empty).
    pub is_key: bool,
}

type Result<T> = std::result::Result<T, Error>;

impl<'de> NodeDeserializer<'de, '_> {
    /// Gives an error raised by a visitor (which knows no position) this node's place.
    fn place<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|error| error.placed(self.node.span.start, &self.path))
    }

    fn scalar(&self) -> Option<&'de Scalar> {
        self.node.as_scalar()
    }

    /// An empty plain value (`key:`), which stands for an empty list or map.
    fn is_empty_plain(&self) -> bool {
        self.scalar()
            .is_some_and(|s| s.style == Style::Plain && s.value.is_empty())
    }

    fn invalid_type(&self, expected: &dyn de::Expected) -> Error {
        let unexpected = match &self.node.kind {
            NodeKind::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => Unexpected::Unit,
                Resolved::Bool(value) => Unexpected::Bool(value),
                Resolved::Int(Int::U64(value)) => Unexpected::Unsigned(value),
                Resolved::Int(Int::I64(value)) => Unexpected::Signed(value),
                Resolved::Int(_) => Unexpected::Other("a 128-bit integer"),
                Resolved::Float(value) => Unexpected::Float(value),
                Resolved::Str(value) => Unexpected::Str(value),
            },
            NodeKind::Sequence(_) => Unexpected::Seq,
            NodeKind::Mapping(_) => Unexpected::Map,
        };
        de::Error::invalid_type(unexpected, expected)
    }

    fn visit_seq<V: Visitor<'de>>(&self, items: &'de [Node], visitor: V) -> Result<V::Value> {
        let mut access = SeqAccess {
            items: items.iter(),
            index: 0,
            path: &self.path,
        };
        let value = visitor.visit_seq(&mut access)?;
        if access.items.len() > 0 {
            return Err(de::Error::invalid_length(items.len(), &"fewer elements"));
        }
        Ok(value)
    }

    fn visit_map<V: Visitor<'de>>(
        &self,
        entries: &'de [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value> {
        reject_duplicate_keys(entries, &self.path)?;
        let mut access = MapAccess {
            entries: entries.iter(),
            value: None,
            path: &self.path,
        };
        visitor.visit_map(&mut access)
    }
}

/// Recipes refuse a repeated key; every other file kind does the same.
fn reject_duplicate_keys(entries: &[(Node, Node)], path: &Path<'_>) -> Result<()> {
    let mut seen = HashMap::with_capacity(entries.len());
    for (key, _) in entries {
        let Some(name) = key.as_scalar().map(|s| s.value.as_str()) else {
            continue;
        };
        if let Some(first) = seen.insert(name, key.span.start) {
            let error: Error = de::Error::custom(format_args!("duplicate key `{name}`"));
            return Err(error.placed(key.span.start, path).with_first(first));
        }
    }
    Ok(())
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match &self.node.kind {
            NodeKind::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(value) => visitor.visit_bool(value),
                Resolved::Int(Int::U64(value)) => visitor.visit_u64(value),
                Resolved::Int(Int::I64(value)) => visitor.visit_i64(value),
                Resolved::Int(Int::U128(value)) => visitor.visit_u128(value),
                Resolved::Int(Int::I128(value)) => visitor.visit_i128(value),
                Resolved::Float(value) => visitor.visit_f64(value),
                Resolved::Str(_) => visitor.visit_borrowed_str(&scalar.value),
            },
            NodeKind::Sequence(items) => self.visit_seq(items, visitor),
            NodeKind::Mapping(entries) => self.visit_map(entries, visitor),
        };
        self.place(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match self.scalar().map(Scalar::resolve) {
            Some(Resolved::Bool(value)) => visitor.visit_bool(value),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match self.scalar().map(Scalar::resolve) {
            Some(Resolved::Int(Int::U64(value))) => visitor.visit_u64(value),
            Some(Resolved::Int(Int::I64(value))) => visitor.visit_i64(value),
            Some(Resolved::Int(Int::U128(value))) => visitor.visit_u128(value),
            Some(Resolved::Int(Int::I128(value))) => visitor.visit_i128(value),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let float = self
            .scalar()
            .filter(|s| s.style == Style::Plain)
            .and_then(|s| super::scalar::parse_float(&s.value));
        let result = match float {
            Some(value) => visitor.visit_f64(value),
            None => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match self.scalar() {
            // `key: ~` where text is wanted is no text, as a recipe reads it (serde_yaml
            // read it as the text "~").
            Some(scalar) if !self.is_key && scalar.is_null() => visitor.visit_borrowed_str(""),
            Some(scalar) => visitor.visit_borrowed_str(&scalar.value),
            None => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.place(Err(de::Error::custom("binary data is not supported")))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.node.is_null() {
            self.place(visitor.visit_none())
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        };
        self.place(result)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match &self.node.kind {
            NodeKind::Sequence(items) => self.visit_seq(items, visitor),
            _ if self.is_empty_plain() => self.visit_seq(&[], visitor),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let result = match &self.node.kind {
            NodeKind::Mapping(entries) => self.visit_map(entries, visitor),
            _ if self.is_empty_plain() => self.visit_map(&[], visitor),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.place(result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    /// A unit variant is its name (`type: directory`); a variant with data is a map of one
    /// entry, name to data.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let result = match &self.node.kind {
            NodeKind::Scalar(scalar) => {
                visitor.visit_enum(scalar.value.as_str().into_deserializer())
            }
            NodeKind::Mapping(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(EnumAccess {
                    key,
                    value,
                    path: &self.path,
                })
            }
            _ => Err(de::Error::custom(
                "expected a variant name, or a map of one variant name to its value",
            )),
        };
        self.place(result)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }
}

struct SeqAccess<'de, 'p> {
    items: std::slice::Iter<'de, Node>,
    index: usize,
    path: &'p Path<'p>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        let path = Path::Index(self.path, index);
        // An error the element's type raises after reading it (an untagged enum no
        // variant of which fits) is about this element.
        seed.deserialize(NodeDeserializer {
            node,
            path,
            is_key: false,
        })
        .map(Some)
        .map_err(|error| error.placed(node.span.start, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'de, 'p> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    value: Option<(&'de Node, &'de Node)>,
    path: &'p Path<'p>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(NodeDeserializer {
            node: key,
            path: *self.path,
            is_key: true,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let Some((key, value)) = self.value.take() else {
            return Err(de::Error::custom(
                "a map value was asked for before its key",
            ));
        };
        let name = key.as_scalar().map_or("?", |s| s.value.as_str());
        let path = Path::Key(self.path, name);
        seed.deserialize(NodeDeserializer {
            node: value,
            path,
            is_key: false,
        })
        .map_err(|error| error.placed(value.span.start, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumAccess<'de, 'p> {
    key: &'de Node,
    value: &'de Node,
    path: &'p Path<'p>,
}

impl<'de, 'p> de::EnumAccess<'de> for EnumAccess<'de, 'p> {
    type Error = Error;
    type Variant = VariantAccess<'de, 'p>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        let variant = seed.deserialize(NodeDeserializer {
            node: self.key,
            path: *self.path,
            is_key: true,
        })?;
        let name = self.key.as_scalar().map_or("?", |s| s.value.as_str());
        Ok((
            variant,
            VariantAccess {
                value: self.value,
                path: self.path,
                name,
            },
        ))
    }
}

struct VariantAccess<'de, 'p> {
    value: &'de Node,
    path: &'p Path<'p>,
    name: &'de str,
}

impl<'de> VariantAccess<'de, '_> {
    fn value(&self) -> NodeDeserializer<'de, '_> {
        NodeDeserializer {
            node: self.value,
            path: Path::Key(self.path, self.name),
            is_key: false,
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self.value())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.value())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.value(), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self.value(), visitor)
    }
}
