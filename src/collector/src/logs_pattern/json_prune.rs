//! Reading only the parts of a JSON message that a pattern's selectors name.
//!
//! A JSON filter pattern reads a few selectors (`$.status`, `$.req.path`, `$.items[0]`), yet
//! parsing a message into a whole `serde_json::Value` allocates every key, string, map and
//! array of it: that was most of the cost of FilterLogEvents with a JSON pattern. [`Need`] is
//! the trie of the selectors; [`parse_pruned`] walks the message once with serde_json's
//! streaming parser and builds a document that holds only the trie's paths: a selector's value
//! is kept whole (so comparisons see exactly what a full parse gives), everything else is
//! skipped with `IgnoredAny` (checked for syntax, never allocated).
//!
//! Invariants (what makes a pruned document interchangeable with a full one for the pattern):
//! - the same messages are accepted: the whole input is parsed, trailing characters and
//!   invalid JSON anywhere are refused. serde_json skips an ignored value without counting its
//!   nesting, so a message that could nest deeper than serde_json's recursion limit (more than
//!   [`MAX_OPENERS`] `{` and `[` bytes in all) is parsed in full instead, and refused exactly
//!   when a full parse refuses it;
//! - every selector of the trie resolves to the same value as in the full document, or to
//!   nothing where it resolves to nothing there: duplicate keys keep the last value (as
//!   `serde_json::Map` does), keys are compared after unescaping, array elements keep their
//!   positions (elements before a needed index are placeholders no selector reads, elements
//!   after the last needed index are skipped), and a value that is neither an object nor an
//!   array where the trie goes deeper becomes `null`, which no selector can step into either.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The parts of a document a pattern reads: a trie of its selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Need {
    /// A selector ends here: keep the whole value.
    whole: bool,
    keys: Vec<(String, Need)>,
    /// Needed array positions, ascending.
    indexes: Vec<(usize, Need)>,
}

/// One step of a selector, as the trie is built from them.
#[derive(Debug, Clone, Copy)]
pub enum StepRef<'a> {
    Key(&'a str),
    Index(usize),
}

impl Need {
    /// Add a selector (its steps from the root).
    pub fn add<'a>(&mut self, steps: impl IntoIterator<Item = StepRef<'a>>) {
        let mut node = self;
        for step in steps {
            node = match step {
                StepRef::Key(k) => {
                    let at = match node.keys.iter().position(|(n, _)| n == k) {
                        Some(at) => at,
                        None => {
                            node.keys.push((k.to_string(), Need::default()));
                            node.keys.len() - 1
                        }
                    };
                    &mut node.keys[at].1
                }
                StepRef::Index(i) => {
                    let at = match node.indexes.binary_search_by_key(&i, |(n, _)| *n) {
                        Ok(at) => at,
                        Err(at) => {
                            node.indexes.insert(at, (i, Need::default()));
                            at
                        }
                    };
                    &mut node.indexes[at].1
                }
            };
        }
        node.whole = true;
    }
}

/// Messages with more `{` and `[` bytes than this are parsed in full: below it no value can
/// nest as deep as serde_json's recursion limit (128).
pub const MAX_OPENERS: usize = 100;

/// Parse `text` (a whole JSON document) keeping only what `need` names; `None` when `text` is
/// not valid JSON (exactly when `serde_json::from_str::<Value>` would fail).
pub fn parse_pruned(text: &str, need: &Need) -> Option<Value> {
    if memchr::memchr2_iter(b'{', b'[', text.as_bytes())
        .nth(MAX_OPENERS)
        .is_some()
    {
        return serde_json::from_str(text).ok();
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let v = need.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

impl<'de> DeserializeSeed<'de> for &Need {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.whole {
            return <Value as de::Deserialize>::deserialize(d);
        }
        d.deserialize_any(PrunedVisitor(self))
    }
}

struct PrunedVisitor<'n>(&'n Need);

impl<'de> Visitor<'de> for PrunedVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    // Scalars where the trie goes deeper: no selector can step into them.
    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(found) = map.next_key_seed(KeySeed(self.0))? {
            match found {
                Some(at) => {
                    let (name, child) = &self.0.keys[at];
                    let v = map.next_value_seed(child)?;
                    out.insert(name.clone(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let last = self.0.indexes.last().map(|(i, _)| *i);
        let mut out = Vec::new();
        let mut next_needed = self.0.indexes.iter().peekable();
        let mut i = 0usize;
        loop {
            let wanted = match next_needed.peek() {
                Some((n, child)) if *n == i => {
                    next_needed.next();
                    Some(child)
                }
                _ => None,
            };
            let more = match wanted {
                Some(child) => match seq.next_element_seed(child)? {
                    Some(v) => {
                        out.push(v);
                        true
                    }
                    None => false,
                },
                None => match seq.next_element::<IgnoredAny>()? {
                    Some(_) => {
                        if last.is_some_and(|l| i < l) {
                            out.push(Value::Null);
                        }
                        true
                    }
                    None => false,
                },
            };
            if !more {
                break;
            }
            i += 1;
        }
        Ok(Value::Array(out))
    }
}

/// Reads an object key and tells which needed key it is (`None`: not needed), without
/// allocating for keys that need no unescaping.
struct KeySeed<'n>(&'n Need);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, k: &str) -> Result<Option<usize>, E> {
        Ok(self.0.keys.iter().position(|(n, _)| n == k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(selectors: &[&[StepRef<'_>]]) -> Need {
        let mut n = Need::default();
        for s in selectors {
            n.add(s.iter().copied());
        }
        n
    }

    fn resolve<'a>(doc: &'a Value, steps: &[StepRef<'_>]) -> Option<&'a Value> {
        let mut cur = doc;
        for s in steps {
            cur = match s {
                StepRef::Key(k) => cur.as_object()?.get(*k)?,
                StepRef::Index(i) => cur.as_array()?.get(*i)?,
            };
        }
        Some(cur)
    }

    #[test]
    fn selectors_resolve_as_in_the_full_document() {
        use StepRef::{Index as I, Key as K};
        let selectors: Vec<Vec<StepRef<'_>>> = vec![
            vec![K("status")],
            vec![K("req"), K("path")],
            vec![K("req"), K("headers")],
            vec![K("items"), I(1), K("id")],
            vec![K("items"), I(3)],
            vec![K("n"), K("deeper")],
            vec![K("esc")],
            vec![K("missing"), I(0)],
            vec![K("dup")],
            vec![K("arr"), I(0)],
            vec![K("arr")],
        ];
        let refs: Vec<&[StepRef<'_>]> = selectors.iter().map(Vec::as_slice).collect();
        let n = need(&refs);
        let docs = [
            r#"{"status":503,"req":{"path":"/a","headers":{"x":[1,2]}},"items":[{"id":1},{"id":"two"},3],"n":5}"#,
            r#"{"st\u0061tus":"ok","esc":"a\"b","dup":1,"dup":{"last":true},"other":[[],{}]}"#,
            r#"{"items":[0,{"id":null}],"req":"flat","arr":[7,8]}"#,
            r#"{}"#,
            r#" {"status": 1.50e2 , "big": 123456789012345678901234567890} "#,
        ];
        for text in docs {
            let full: Value = serde_json::from_str(text).unwrap();
            let pruned = parse_pruned(text, &n).unwrap();
            for s in &selectors {
                assert_eq!(resolve(&pruned, s), resolve(&full, s), "{text} {s:?}");
            }
        }
    }

    #[test]
    fn the_same_inputs_are_refused() {
        let n = need(&[&[StepRef::Key("a")]]);
        for bad in [
            r#"{"a":1"#,
            r#"{"a":1} trailing"#,
            r#"{"a":1,"b":[1,}"#,
            r#"{"b":tru}"#,
            "",
            "[1,2",
        ] {
            assert!(serde_json::from_str::<Value>(bad).is_err());
            assert!(parse_pruned(bad, &n).is_none(), "{bad}");
        }
        // Around serde_json's recursion limit, in a skipped value and in a kept one.
        for depth in [90, 99, 100, 127, 128, 129, 200] {
            let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            for doc in [format!(r#"{{"b":{deep}}}"#), format!(r#"{{"a":{deep}}}"#)] {
                assert_eq!(
                    serde_json::from_str::<Value>(&doc).is_ok(),
                    parse_pruned(&doc, &n).is_some(),
                    "depth {depth}: {doc}"
                );
            }
        }
    }
}
