//! CloudWatch `StandardUnit`: the closed set of unit names the API accepts.
//!
//! CloudWatch never converts between units; data in different units are separate
//! aggregates of the same metric, and an unspecified unit is reported as `None`.

use std::fmt;
use std::str::FromStr;

/// A CloudWatch standard unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    /// `None`: no unit given, or explicitly none.
    #[default]
    None,
}

/// The name was not one of CloudWatch's standard units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}")]
pub struct UnknownUnit(pub String);

const ALL: [(Unit, &str); 27] = [
    (Unit::Seconds, "Seconds"),
    (Unit::Microseconds, "Microseconds"),
    (Unit::Milliseconds, "Milliseconds"),
    (Unit::Bytes, "Bytes"),
    (Unit::Kilobytes, "Kilobytes"),
    (Unit::Megabytes, "Megabytes"),
    (Unit::Gigabytes, "Gigabytes"),
    (Unit::Terabytes, "Terabytes"),
    (Unit::Bits, "Bits"),
    (Unit::Kilobits, "Kilobits"),
    (Unit::Megabits, "Megabits"),
    (Unit::Gigabits, "Gigabits"),
    (Unit::Terabits, "Terabits"),
    (Unit::Percent, "Percent"),
    (Unit::Count, "Count"),
    (Unit::BytesPerSecond, "Bytes/Second"),
    (Unit::KilobytesPerSecond, "Kilobytes/Second"),
    (Unit::MegabytesPerSecond, "Megabytes/Second"),
    (Unit::GigabytesPerSecond, "Gigabytes/Second"),
    (Unit::TerabytesPerSecond, "Terabytes/Second"),
    (Unit::BitsPerSecond, "Bits/Second"),
    (Unit::KilobitsPerSecond, "Kilobits/Second"),
    (Unit::MegabitsPerSecond, "Megabits/Second"),
    (Unit::GigabitsPerSecond, "Gigabits/Second"),
    (Unit::TerabitsPerSecond, "Terabits/Second"),
    (Unit::CountPerSecond, "Count/Second"),
    (Unit::None, "None"),
];

impl Unit {
    /// Every standard unit, in the order of the API documentation.
    pub fn all() -> impl Iterator<Item = Unit> {
        ALL.iter().map(|(u, _)| *u)
    }

    /// The wire name, e.g. `Bytes/Second`.
    pub fn as_str(self) -> &'static str {
        ALL.iter()
            .find(|(u, _)| *u == self)
            .map(|(_, s)| *s)
            .unwrap_or("None")
    }

    /// A small stable number for compact storage encodings (index in [`Unit::all`]).
    pub fn code(self) -> u8 {
        ALL.iter().position(|(u, _)| *u == self).unwrap_or(26) as u8
    }

    /// Inverse of [`Unit::code`].
    pub fn from_code(code: u8) -> Option<Unit> {
        ALL.get(code as usize).map(|(u, _)| *u)
    }
}

impl FromStr for Unit {
    type Err = UnknownUnit;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .find(|(_, n)| *n == s)
            .map(|(u, _)| *u)
            .ok_or_else(|| UnknownUnit(s.to_string()))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for u in Unit::all() {
            assert_eq!(u.as_str().parse::<Unit>(), Ok(u));
            assert_eq!(Unit::from_code(u.code()), Some(u));
        }
        assert_eq!(Unit::all().count(), 27);
        assert!("bytes".parse::<Unit>().is_err());
    }
}
