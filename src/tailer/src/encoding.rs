//! Decoding log lines from the file's character encoding to UTF-8.
//!
//! # Design
//!
//! A [`Decoder`] is chosen once per file from the `encoding` setting of a
//! `collect_list` entry ([`Decoder::for_name`]; absent means UTF-8). It
//! tells the [`crate::reader::LineReader`] how lines end
//! ([`Decoder::line_delimiter`]) and turns each line's bytes into text
//! ([`Decoder::decode`]).
//!
//! * **Never drop a line.** Malformed byte sequences become U+FFFD and the
//!   result says so ([`Decoded::had_errors`]), so the caller can count
//!   them; the line itself is always kept.
//! * **No copy when none is needed.** Valid UTF-8, and ASCII-only lines in
//!   any ASCII-compatible encoding, are returned borrowed.
//! * **Names mean what a user means.** WHATWG (which `encoding_rs`
//!   implements) maps `latin1`, `iso8859-1`, `ascii` and the like to
//!   windows-1252; here every label WHATWG gives windows-1252 except
//!   `windows-1252`, `cp1252` and `x-cp1252` decodes as true ISO-8859-1:
//!   each byte is the code point of the same value (0x80 is U+0080, not €).
//!   Other names follow WHATWG, plus `iso2022-jp` and `iso8859-16`, which
//!   WHATWG spells only with a hyphen. `iso8859-9` and `iso8859-11` decode
//!   as their WHATWG supersets windows-1254 and windows-874, which differ
//!   only in the C1 control range 0x80..=0x9F. `iso8859-12` is refused: no
//!   such standard was ever published.
//! * **Byte order marks.** `utf-16` means little-endian unless the file
//!   starts with a big-endian BOM: call [`Decoder::sniff_bom`] with the
//!   file's first bytes before choosing the delimiter. `decode` removes a
//!   leading BOM of the decoder's own encoding (EF BB BF, FF FE or FE FF);
//!   it can only be at the start of a file, since U+FEFF as content is
//!   deprecated in favour of U+2060.
//!
//! Line delimiters: `\n` for every encoding except UTF-16, which ends lines
//! with the code unit `0A 00` (LE) or `00 0A` (BE). All the byte-oriented
//! encodings accepted here (including Shift_JIS, GBK, gb18030, Big5, EUC
//! and ISO-2022-JP) never use byte 0x0A inside a multi-byte character, so
//! splitting on `\n` is safe for them. The reader strips one trailing
//! carriage return in the delimiter's own form.
//!
//! ISO-2022-JP is stateful; each line is decoded on its own, which is right
//! for files whose writer returns to ASCII before every newline (RFC 1468
//! requires it).

use std::borrow::Cow;

use encoding_rs::Encoding;
use thiserror::Error;

use crate::reader::LineDelimiter;

/// Errors choosing a decoder.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodingError {
    /// The name is not a known encoding label.
    #[error("unknown encoding {0:?}")]
    Unknown(String),
    /// The name is known but cannot be decoded.
    #[error("encoding {name:?} is not supported: {reason}")]
    Unsupported {
        /// The name as given.
        name: String,
        /// Why.
        reason: &'static str,
    },
}

/// The text of one decoded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text; borrowed from the input when no conversion was needed.
    pub text: Cow<'a, str>,
    /// Some bytes were malformed and replaced with U+FFFD.
    pub had_errors: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Utf8,
    /// ISO-8859-1: byte value = code point.
    Latin1,
    Utf16 {
        big_endian: bool,
    },
    /// Any other `encoding_rs` encoding (never UTF-8, UTF-16 or the
    /// replacement encoding).
    Other(&'static Encoding),
}

/// Decodes the lines of one file. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    kind: Kind,
    /// `utf-16` without a byte order: a BOM at the file start decides.
    sniff: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            kind: Kind::Utf8,
            sniff: false,
        }
    }
}

/// The `encoding` names a CloudWatch agent config may use (the agent's documented list, plus
/// common spellings), every one of which [`Decoder::for_name`] accepts. `iso8859-12` is not
/// here: that standard was never published.
pub const CONFIG_NAMES: &[&str] = &[
    "utf-8",
    "utf8",
    "utf-16",
    "utf-16le",
    "utf-16be",
    "ascii",
    "us-ascii",
    "big5",
    "euc-jp",
    "euc-kr",
    "gbk",
    "gb18030",
    "ibm866",
    "iso2022-jp",
    "iso-2022-jp",
    "iso8859-1",
    "iso8859-2",
    "iso8859-3",
    "iso8859-4",
    "iso8859-5",
    "iso8859-6",
    "iso8859-7",
    "iso8859-8",
    "iso8859-9",
    "iso8859-10",
    "iso8859-11",
    "iso8859-13",
    "iso8859-14",
    "iso8859-15",
    "iso8859-16",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-9",
    "iso-8859-10",
    "iso-8859-11",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "iso-8859-16",
    "latin1",
    "koi8-r",
    "koi8-u",
    "macintosh",
    "shift_jis",
    "windows-874",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "x-mac-cyrillic",
];

/// WHATWG windows-1252 labels that really name windows-1252; the others
/// (`latin1`, `iso-8859-1`, `ascii`, ...) decode as true ISO-8859-1.
const WINDOWS_1252_LABELS: &[&str] = &["windows-1252", "cp1252", "x-cp1252"];

impl Decoder {
    /// The decoder for an `encoding` setting (case-insensitive, surrounding
    /// whitespace ignored); `None` means UTF-8.
    pub fn for_name(name: Option<&str>) -> Result<Self, EncodingError> {
        let Some(given) = name else {
            return Ok(Self::default());
        };
        let label = given.trim().to_ascii_lowercase();
        let unsupported = |reason| EncodingError::Unsupported {
            name: given.to_string(),
            reason,
        };
        let encoding = match label.as_str() {
            "utf-16" => {
                return Ok(Self {
                    kind: Kind::Utf16 { big_endian: false },
                    sniff: true,
                })
            }
            "iso8859-12" | "iso-8859-12" => {
                return Err(unsupported("ISO-8859-12 was never published"))
            }
            "iso2022-jp" => encoding_rs::ISO_2022_JP,
            "iso8859-16" => encoding_rs::ISO_8859_16,
            other => Encoding::for_label(other.as_bytes())
                .ok_or_else(|| EncodingError::Unknown(given.to_string()))?,
        };
        let kind = if encoding == encoding_rs::UTF_8 {
            Kind::Utf8
        } else if encoding == encoding_rs::UTF_16LE {
            Kind::Utf16 { big_endian: false }
        } else if encoding == encoding_rs::UTF_16BE {
            Kind::Utf16 { big_endian: true }
        } else if encoding == encoding_rs::WINDOWS_1252
            && !WINDOWS_1252_LABELS.contains(&label.as_str())
        {
            Kind::Latin1
        } else if encoding == encoding_rs::REPLACEMENT {
            return Err(unsupported(
                "WHATWG maps it to the replacement encoding, which decodes nothing",
            ));
        } else {
            Kind::Other(encoding)
        };
        Ok(Self { kind, sniff: false })
    }

    /// Canonical name of the encoding actually decoded, e.g. `UTF-8`,
    /// `ISO-8859-1`, `UTF-16BE`, `Shift_JIS`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Utf8 => "UTF-8",
            Kind::Latin1 => "ISO-8859-1",
            Kind::Utf16 { big_endian: false } => "UTF-16LE",
            Kind::Utf16 { big_endian: true } => "UTF-16BE",
            Kind::Other(e) => e.name(),
        }
    }

    /// The decoder to use for a file starting with `file_start` (its first
    /// bytes, at least 2 to be useful). Only a `utf-16` decoder changes: a
    /// big-endian BOM (`FE FF`) selects UTF-16BE, anything else keeps
    /// UTF-16LE. Call it once per file, whatever offset reading resumes at.
    pub fn sniff_bom(&self, file_start: &[u8]) -> Self {
        if !self.sniff {
            return *self;
        }
        let big_endian = file_start.starts_with(&[0xFE, 0xFF]);
        Self {
            kind: Kind::Utf16 { big_endian },
            sniff: false,
        }
    }

    /// How lines end in files of this encoding.
    pub fn line_delimiter(&self) -> LineDelimiter {
        match self.kind {
            Kind::Utf16 { big_endian: false } => LineDelimiter::Utf16Le,
            Kind::Utf16 { big_endian: true } => LineDelimiter::Utf16Be,
            Kind::Utf8 | Kind::Latin1 | Kind::Other(_) => LineDelimiter::Newline,
        }
    }

    /// Decode one line (without its delimiter). Never fails and never drops
    /// text: malformed sequences become U+FFFD and set `had_errors`.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Decoded<'a> {
        match self.kind {
            Kind::Utf8 => {
                let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
                let text = String::from_utf8_lossy(bytes);
                let had_errors = matches!(text, Cow::Owned(_));
                Decoded { text, had_errors }
            }
            Kind::Latin1 => Decoded {
                text: latin1(bytes),
                had_errors: false,
            },
            Kind::Utf16 { big_endian } => {
                let (encoding, bom): (_, &[u8]) = if big_endian {
                    (encoding_rs::UTF_16BE, &[0xFE, 0xFF])
                } else {
                    (encoding_rs::UTF_16LE, &[0xFF, 0xFE])
                };
                let bytes = bytes.strip_prefix(bom).unwrap_or(bytes);
                let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
                Decoded { text, had_errors }
            }
            Kind::Other(encoding) => {
                let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
                Decoded { text, had_errors }
            }
        }
    }
}

/// ISO-8859-1: every byte is the code point of the same value.
fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    if bytes.is_ascii() {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Cow::Borrowed(text);
        }
    }
    Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
}

#[cfg(test)]
mod tests;
