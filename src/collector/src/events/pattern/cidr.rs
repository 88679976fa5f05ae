//! The `cidr` matcher: an IPv4 or IPv6 network in `address/bits` form.
//!
//! A network is stored as its address widened to `u128` (IPv4 in the low 32 bits) with the
//! host bits cleared, the family and the prefix length. A value matches when it is a string
//! holding an address of the same family whose first `bits` bits equal the network's.

use std::net::IpAddr;

use super::error::PatternError;

/// A compiled CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    v6: bool,
    network: u128,
    mask: u128,
}

impl Cidr {
    /// Parse the JSON string value of a `cidr` matcher.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut parts = text.split('/');
        let (Some(address), Some(bits), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(PatternError::invalid("Malformed CIDR, one '/' required"));
        };
        let bits: u32 = bits
            .parse()
            .map_err(|_| PatternError::invalid("Malformed CIDR, mask bits must be an integer"))?;
        let ip: IpAddr = address
            .parse()
            .map_err(|_| PatternError::invalid(format!("Nonstandard IP address: {address}")))?;
        let (v6, width, raw) = widen(ip);
        if bits > width {
            return Err(PatternError::invalid(format!(
                "Malformed CIDR, mask bits must be between 0 and {width}"
            )));
        }
        let mask = mask(width, bits);
        Ok(Cidr {
            v6,
            network: raw & mask,
            mask,
        })
    }

    /// Whether the string `value` is an address inside this block.
    pub fn matches(&self, value: &str) -> bool {
        let Ok(ip) = value.parse::<IpAddr>() else {
            return false;
        };
        let (v6, _, raw) = widen(ip);
        v6 == self.v6 && raw & self.mask == self.network
    }
}

fn widen(ip: IpAddr) -> (bool, u32, u128) {
    match ip {
        IpAddr::V4(v4) => (false, 32, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, 128, u128::from(v6)),
    }
}

/// The mask with the top `bits` of a `width`-bit address set (in the low `width` bits).
fn mask(width: u32, bits: u32) -> u128 {
    let all: u128 = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    match all.checked_shr(bits) {
        Some(host) if bits < width => all & !host,
        _ => all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("10.0.0.0/24", "10.0.0.1", true),
            ("10.0.0.0/24", "10.0.0.255", true),
            ("10.0.0.0/24", "10.0.1.0", false),
            ("10.0.0.0/8", "10.200.3.4", true),
            ("10.0.0.7/32", "10.0.0.7", true),
            ("10.0.0.7/32", "10.0.0.8", false),
            ("0.0.0.0/0", "192.168.1.1", true),
            ("0.0.0.0/0", "::1", false),
            ("10.0.0.0/24", "not an ip", false),
            ("2001:db8::/32", "2001:db8:1::5", true),
            ("2001:db8::/32", "2001:db9::5", false),
            ("::/0", "fe80::1", true),
            ("::/0", "10.0.0.1", false),
        ];
        for (cidr, value, want) in cases {
            let c = Cidr::parse(cidr).unwrap();
            assert_eq!(c.matches(value), *want, "{cidr} vs {value}");
        }
    }

    #[test]
    fn invalid_table() {
        let cases: &[(&str, &str)] = &[
            ("10.0.0.0", "Malformed CIDR, one '/' required"),
            ("10.0.0.0/8/8", "Malformed CIDR, one '/' required"),
            ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
            ("xx.11.xx/8", "Nonstandard IP address: xx.11.xx"),
            (
                "10.0.0.0/33",
                "Malformed CIDR, mask bits must be between 0 and 32",
            ),
            (
                "::/129",
                "Malformed CIDR, mask bits must be between 0 and 128",
            ),
        ];
        for (cidr, reason) in cases {
            assert_eq!(
                Cidr::parse(cidr),
                Err(PatternError::invalid(*reason)),
                "{cidr}"
            );
        }
    }
}
