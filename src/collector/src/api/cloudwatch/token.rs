//! Opaque, validated pagination tokens.
//!
//! A token is `hex(json payload) "." hex(first 8 bytes of sha256(kind, payload))`. The checksum
//! ties a token to its operation (`kind`) and catches edits and truncation; anything that does
//! not decode is `InvalidNextToken`.

use hostwatch_aws::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

fn checksum(kind: &str, payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0u8]);
    h.update(payload);
    hex::encode(&h.finalize()[..8])
}

/// The error for a token that is not one of ours.
pub fn invalid() -> ApiError {
    ApiError::cloudwatch("InvalidNextToken", "The NextToken provided is invalid.")
}

/// Encode a payload as a token for operation `kind`.
pub fn encode<T: Serialize>(kind: &str, payload: &T) -> String {
    let json = serde_json::to_vec(payload).unwrap_or_default();
    format!("{}.{}", hex::encode(&json), checksum(kind, &json))
}

/// Decode a token produced by [`encode`] for the same `kind`.
pub fn decode<T: DeserializeOwned>(kind: &str, token: &str) -> Result<T, ApiError> {
    let (body, sum) = token.split_once('.').ok_or_else(invalid)?;
    let json = hex::decode(body).map_err(|_| invalid())?;
    if checksum(kind, &json) != sum {
        return Err(invalid());
    }
    serde_json::from_slice(&json).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let t = encode("list", &(3u32, "x".to_string()));
        assert_eq!(
            decode::<(u32, String)>("list", &t).unwrap(),
            (3, "x".into())
        );
        assert!(
            decode::<(u32, String)>("data", &t).is_err(),
            "other operation"
        );
        let mut tampered = t.clone();
        tampered.replace_range(0..2, "7b");
        assert!(decode::<(u32, String)>("list", &tampered).is_err());
        for bad in ["", "abc", "zz.zz", "."] {
            let e = decode::<(u32, String)>("list", bad).unwrap_err();
            assert_eq!(e.query_code(), "InvalidNextToken");
        }
    }
}
