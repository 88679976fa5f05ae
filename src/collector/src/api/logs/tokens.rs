//! Pagination tokens.
//!
//! * GetLogEvents: `f/<timestamp>/<seq>` and `b/<timestamp>/<seq>`, both numbers in decimal.
//!   The pair is a boundary in the stream's `(timestamp, seq)` order: a forward token reads the
//!   events at or after it, a backward token the events before it.
//! * Describe* listings: the hex encoding of a JSON array whose first element names the listing
//!   kind and whose other elements are the sort key of the last item returned.
//!
//! Every token is parsed strictly; anything else is "The specified nextToken is invalid.".

use hostwatch_aws::ApiError;

use super::errors::invalid_token;
use crate::store::logs::{Direction, Key};

/// A GetLogEvents position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventToken {
    pub direction: Direction,
    pub key: Key,
}

impl EventToken {
    pub fn forward(key: Key) -> Self {
        EventToken {
            direction: Direction::Forward,
            key,
        }
    }

    pub fn backward(key: Key) -> Self {
        EventToken {
            direction: Direction::Backward,
            key,
        }
    }

    pub fn encode(&self) -> String {
        let d = match self.direction {
            Direction::Forward => 'f',
            Direction::Backward => 'b',
        };
        format!("{d}/{}/{}", self.key.ts, self.key.seq)
    }

    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let (direction, rest) = if let Some(r) = s.strip_prefix("f/") {
            (Direction::Forward, r)
        } else if let Some(r) = s.strip_prefix("b/") {
            (Direction::Backward, r)
        } else {
            return Err(invalid_token());
        };
        let (ts, seq) = rest.split_once('/').ok_or_else(invalid_token)?;
        Ok(EventToken {
            direction,
            key: Key::new(number(ts)?, number(seq)?),
        })
    }
}

fn number(s: &str) -> Result<i64, ApiError> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_token());
    }
    s.parse().map_err(|_| invalid_token())
}

/// Encode a listing token.
pub fn list_token(kind: &str, key: &[&str]) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(key.len() + 1);
    parts.push(kind);
    parts.extend_from_slice(key);
    hex::encode(serde_json::to_vec(&parts).unwrap_or_default())
}

/// Decode a listing token of `kind`, returning its key parts.
pub fn parse_list_token(kind: &str, token: &str) -> Result<Vec<String>, ApiError> {
    let bytes = hex::decode(token).map_err(|_| invalid_token())?;
    let mut parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| invalid_token())?;
    if parts.first().map(String::as_str) != Some(kind) {
        return Err(invalid_token());
    }
    parts.remove(0);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_tokens_round_trip_and_reject_garbage() {
        let t = EventToken::forward(Key::new(1_700_000_000_000, 42));
        assert_eq!(t.encode(), "f/1700000000000/42");
        assert_eq!(EventToken::parse(&t.encode()).unwrap(), t);
        let b = EventToken::backward(Key::new(0, 0));
        assert_eq!(EventToken::parse(&b.encode()).unwrap(), b);
        for bad in [
            "",
            "x/1/2",
            "f/1",
            "f/1/2/3",
            "f/-1/2",
            "f/a/2",
            "f//2",
            "f/99999999999999999999/1",
            "F/1/2",
        ] {
            let e = EventToken::parse(bad).unwrap_err();
            assert_eq!(e.code, "InvalidParameterException", "{bad}");
            assert_eq!(
                e.message.as_deref(),
                Some("The specified nextToken is invalid.")
            );
        }
    }

    #[test]
    fn list_tokens() {
        let t = list_token("g", &["my/group"]);
        assert_eq!(parse_list_token("g", &t).unwrap(), vec!["my/group"]);
        assert!(parse_list_token("s", &t).is_err());
        assert!(parse_list_token("g", "zz").is_err());
        assert!(parse_list_token("g", &hex::encode("{}")).is_err());
    }
}
