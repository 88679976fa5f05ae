//! Input helpers for the hot paths.
//!
//! [`Seq`] is a list that deserializes its items straight from the input tree. It accepts what
//! `hostwatch_aws::lenient::List` accepts (a JSON array, the empty string awsQuery sends for an
//! empty list, null) but never materialises an intermediate tree, which matters for
//! PutMetricData's thousand datums with their dimensions and values.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// A list read directly from a JSON array (or `""` / null for an empty list).
#[derive(Debug, Clone, PartialEq)]
pub struct Seq<T>(pub Vec<T>);

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq(Vec::new())
    }
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SeqVisitor<T> {
    type Value = Seq<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            out.push(item);
        }
        Ok(Seq(out))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() {
            Ok(Seq(Vec::new()))
        } else {
            Err(E::custom(format!("expected a list, got {v:?}")))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Seq(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Seq(Vec::new()))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeqVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_aws::lenient::Float;
    use serde_json::json;

    #[test]
    fn accepts_arrays_empty_strings_and_null() {
        let v: Seq<Float> = serde_json::from_value(json!([1, "2.5"])).unwrap();
        assert_eq!(v.0, vec![Float(1.0), Float(2.5)]);
        let e: Seq<Float> = serde_json::from_value(json!("")).unwrap();
        assert!(e.0.is_empty());
        let n: Seq<Float> = serde_json::from_value(json!(null)).unwrap();
        assert!(n.0.is_empty());
        assert!(serde_json::from_value::<Seq<Float>>(json!("x")).is_err());
        assert!(serde_json::from_value::<Seq<Float>>(json!({"a": 1})).is_err());
    }
}
