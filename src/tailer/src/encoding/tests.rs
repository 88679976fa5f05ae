//! Table tests for decoders.

use super::*;

#[test]
fn every_config_name_resolves() {
    for &name in CONFIG_NAMES {
        let d = Decoder::for_name(Some(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = if name.starts_with("utf-16") {
            if name == "utf-16be" {
                LineDelimiter::Utf16Be
            } else {
                LineDelimiter::Utf16Le
            }
        } else {
            LineDelimiter::Newline
        };
        assert_eq!(d.line_delimiter(), want, "{name}");
        if !name.starts_with("utf-16") {
            // ASCII text is borrowed as is in every byte encoding
            // except the stateful ISO-2022-JP, which copies.
            let out = d.decode(b"plain ascii 123");
            assert_eq!(out.text, "plain ascii 123", "{name}");
            assert!(!out.had_errors, "{name}");
            if !name.contains("2022") {
                assert!(matches!(out.text, Cow::Borrowed(_)), "{name}");
            }
        }
    }
}

#[test]
fn names_and_errors() {
    let cases: &[(Option<&str>, Result<&str, &str>)] = &[
        (None, Ok("UTF-8")),
        (Some("UTF-8"), Ok("UTF-8")),
        (Some("  Latin1 "), Ok("ISO-8859-1")),
        (Some("ascii"), Ok("ISO-8859-1")),
        (Some("US-ASCII"), Ok("ISO-8859-1")),
        (Some("iso_8859-1"), Ok("ISO-8859-1")),
        (Some("windows-1252"), Ok("windows-1252")),
        (Some("cp1252"), Ok("windows-1252")),
        (Some("utf-16"), Ok("UTF-16LE")),
        (Some("UTF-16BE"), Ok("UTF-16BE")),
        (Some("iso2022-jp"), Ok("ISO-2022-JP")),
        (Some("iso8859-16"), Ok("ISO-8859-16")),
        (Some("iso8859-9"), Ok("windows-1254")),
        (Some("iso8859-11"), Ok("windows-874")),
        (Some("shift_jis"), Ok("Shift_JIS")),
        (Some("klingon"), Err("unknown encoding \"klingon\"")),
        (Some(""), Err("unknown encoding \"\"")),
        (
            Some("iso-8859-12"),
            Err("encoding \"iso-8859-12\" is not supported: ISO-8859-12 was never published"),
        ),
        (
            Some("iso-2022-kr"),
            Err("encoding \"iso-2022-kr\" is not supported: WHATWG maps it to the replacement encoding, which decodes nothing"),
        ),
    ];
    for (name, want) in cases {
        let got = Decoder::for_name(*name)
            .map(|d| d.name())
            .map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{name:?}");
    }
}

#[test]
fn bom_sniffing_only_for_plain_utf16() {
    let cases: &[(&str, &[u8], LineDelimiter)] = &[
        ("utf-16", &[0xFE, 0xFF, 0x00, 0x41], LineDelimiter::Utf16Be),
        ("utf-16", &[0xFF, 0xFE, 0x41, 0x00], LineDelimiter::Utf16Le),
        ("utf-16", &[0x41, 0x00], LineDelimiter::Utf16Le),
        ("utf-16", &[], LineDelimiter::Utf16Le),
        ("utf-16le", &[0xFE, 0xFF], LineDelimiter::Utf16Le),
        ("utf-16be", &[0xFF, 0xFE], LineDelimiter::Utf16Be),
        ("utf-8", &[0xFE, 0xFF], LineDelimiter::Newline),
    ];
    for (name, head, want) in cases {
        let d = Decoder::for_name(Some(name)).unwrap().sniff_bom(head);
        assert_eq!(d.line_delimiter(), *want, "{name} {head:?}");
        // Sniffing is decided once.
        assert_eq!(d.sniff_bom(&[0xFE, 0xFF]), d, "{name}");
    }
}

fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
    s.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

/// (encoding, file start, line bytes, expected text, malformed)
type Row<'a> = (&'a str, &'a [u8], Vec<u8>, &'a str, bool);

#[test]
fn decode_table() {
    let le = |s: &str| utf16(s, false);
    let be = |s: &str| utf16(s, true);
    let b = |b: &[u8]| b.to_vec();
    let s = |s: &str| s.as_bytes().to_vec();
    // The file's first bytes, for BOM sniffing.
    const BE: &[u8] = &[0xFE, 0xFF];
    const LE: &[u8] = &[0xFF, 0xFE];
    const NONE: &[u8] = &[];
    #[rustfmt::skip]
    let cases: Vec<Row<'_>> = vec![
        // (encoding, file start, line bytes, expected text, malformed)
        // UTF-8: borrowed when valid, BOM removed, U+FFFD per maximal bad subpart.
        ("utf-8",          NONE, s("grüße €"),                      "grüße €",                 false),
        ("utf-8",          NONE, b(b"\xEF\xBB\xBFwith bom"),        "with bom",                false),
        ("utf-8",          NONE, b(b"ok \xFF\xFE end"),             "ok \u{FFFD}\u{FFFD} end", true),
        ("utf-8",          NONE, b(b"cut \xE2\x82"),                "cut \u{FFFD}",            true),
        ("utf-8",          NONE, b(b"\xC0\xAF overlong"),           "\u{FFFD}\u{FFFD} overlong", true),
        ("utf-8",          NONE, b(b"\xED\xA0\x80 surrogate"),      "\u{FFFD}\u{FFFD}\u{FFFD} surrogate", true),
        // True Latin-1 (byte = code point), not windows-1252.
        ("latin1",         NONE, b(b"caf\xE9 \x80\x9F\xFF"),        "café \u{80}\u{9F}ÿ",      false),
        ("iso8859-1",      NONE, b(b"\xA3\xB5\xD7"),                "£µ×",                     false),
        ("iso-8859-1",     NONE, b(b"\x80"),                        "\u{80}",                  false),
        ("ascii",          NONE, b(b"a\x80\xE9"),                   "a\u{80}é",                false),
        ("us-ascii",       NONE, b(b"\x85"),                        "\u{85}",                  false),
        ("windows-1252",   NONE, b(b"\x80 \x85 \x93q\x94"),         "€ … “q”",                 false),
        // UTF-16 with and without BOM, sniffed, malformed.
        ("utf-16le",       NONE, le("hé😀"),                        "hé😀",                    false),
        ("utf-16le",       NONE, le("\u{FEFF}bom"),                 "bom",                     false),
        ("utf-16be",       NONE, be("hé😀"),                        "hé😀",                    false),
        ("utf-16be",       NONE, be("\u{FEFF}bom"),                 "bom",                     false),
        ("utf-16",         BE,   be("\u{FEFF}sniffed be"),          "sniffed be",              false),
        ("utf-16",         LE,   le("\u{FEFF}sniffed le"),          "sniffed le",              false),
        ("utf-16",         NONE, le("no bom"),                      "no bom",                  false),
        ("utf-16le",       NONE, b(&[0x41, 0x00, 0x42]),            "A\u{FFFD}",               true),
        ("utf-16le",       NONE, b(&[0x3D, 0xD8, 0x41, 0x00]),      "\u{FFFD}A",               true),
        ("utf-16be",       NONE, b(&[0xDE, 0x00, 0x00, 0x41]),      "\u{FFFD}A",               true),
        // CJK multi-byte encodings.
        ("shift_jis",      NONE, b(&[0x93, 0xFA, 0x96, 0x7B, 0x8C, 0xEA]), "日本語",           false),
        ("shift_jis",      NONE, b(b"x\x81"),                       "x\u{FFFD}",               true),
        ("gbk",            NONE, b(&[0xD6, 0xD0, 0xCE, 0xC4]),      "中文",                    false),
        ("gb18030",        NONE, b(&[0xA2, 0xE3, 0x81, 0x30, 0x84, 0x36, 0xA8, 0xA6]), "€¥é", false),
        ("big5",           NONE, b(&[0xA4, 0xA4, 0xA4, 0xE5]),      "中文",                    false),
        ("euc-jp",         NONE, b(&[0xC6, 0xFC, 0xCB, 0xDC]),      "日本",                    false),
        ("euc-kr",         NONE, b(&[0xC7, 0xD1, 0xB1, 0xB9, 0xBE, 0xEE]), "한국어",           false),
        ("iso2022-jp",     NONE, b(b"\x1B$BF|K\\\x1B(B!"),          "日本!",                   false),
        // Windows code pages.
        ("windows-1250",   NONE, b(&[0x8A, 0x9A, 0x20, 0xB9, 0xA3]), "Šš ąŁ",                 false),
        ("windows-1251",   NONE, b(&[0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2]), "Привет",           false),
        ("windows-1253",   NONE, b(&[0xE1, 0xE2, 0xE3]),            "αβγ",                     false),
        ("windows-1254",   NONE, b(&[0xD0, 0xF0, 0xDE]),            "ĞğŞ",                     false),
        ("windows-1255",   NONE, b(&[0xF9, 0xEC, 0xE5, 0xED]),      "שלום",                    false),
        ("windows-1256",   NONE, b(&[0xD3, 0xE1, 0xC7, 0xE3]),      "سلام",                    false),
        ("windows-1257",   NONE, b(&[0xE0, 0xE8, 0xE6]),            "ąčę",                     false),
        ("windows-1258",   NONE, b(&[0x56, 0x69, 0xEA, 0xF2, 0x74]), "Vi\u{EA}\u{323}t",        false),
        ("windows-874",    NONE, b(&[0xA1]),                        "ก",                       false),
        // Other single-byte sets.
        ("koi8-r",         NONE, b(&[0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4]), "Привет",           false),
        ("koi8-u",         NONE, b(&[0xAD, 0xA4, 0xA7]),            "ґєї",                     false),
        ("ibm866",         NONE, b(&[0x8F, 0xE0, 0xA8, 0xA2, 0xA5, 0xE2]), "Привет",           false),
        ("x-mac-cyrillic", NONE, b(&[0x8F, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2]), "Привет",           false),
        ("macintosh",      NONE, b(&[0x8E]),                        "é",                       false),
        ("iso8859-2",      NONE, b(&[0xB3]),                        "ł",                       false),
        ("iso8859-5",      NONE, b(&[0xB6]),                        "Ж",                       false),
        ("iso8859-7",      NONE, b(&[0xD9]),                        "Ω",                       false),
        ("iso8859-7",      NONE, b(&[0xD2]),                        "\u{FFFD}",                true),
        ("iso8859-8",      NONE, b(&[0xF9]),                        "ש",                       false),
        ("iso8859-9",      NONE, b(&[0xD0]),                        "Ğ",                       false),
        ("iso8859-11",     NONE, b(&[0xA1]),                        "ก",                       false),
        ("iso8859-15",     NONE, b(&[0xA4]),                        "€",                       false),
        ("iso8859-16",     NONE, b(&[0xAA]),                        "Ș",                       false),
    ];
    for (name, head, line, want, malformed) in &cases {
        let d = Decoder::for_name(Some(name)).unwrap().sniff_bom(head);
        let got = d.decode(line);
        assert_eq!(got.text, *want, "{name} {line:02X?}");
        assert_eq!(got.had_errors, *malformed, "{name} {line:02X?}");
    }
}

#[test]
fn valid_utf8_is_borrowed() {
    let d = Decoder::for_name(None).unwrap();
    let line = "naïve ✓".as_bytes();
    assert!(matches!(d.decode(line).text, Cow::Borrowed(_)));
    let latin = Decoder::for_name(Some("latin1")).unwrap();
    assert!(matches!(latin.decode(b"plain").text, Cow::Borrowed(_)));
    assert!(matches!(latin.decode(b"\xE9").text, Cow::Owned(_)));
}
