//! Table tests for every pattern form: (pattern, message, expected match).

use super::*;

fn check(table: &[(&str, &str, bool)]) {
    for (pattern, message, want) in table {
        let p = match FilterPattern::parse(pattern) {
            Ok(p) => p,
            Err(e) => panic!("{pattern:?} did not parse: {e}"),
        };
        assert_eq!(p.matches(message), *want, "{pattern:?} on {message:?}");
        assert_eq!(
            p.match_fields(message).is_some(),
            *want,
            "{pattern:?} on {message:?} (match_fields)"
        );
        if *want {
            assert!(p.may_match_any(message.as_bytes()), "{pattern:?} prefilter");
        }
    }
}

fn refuse(table: &[(&str, &str)]) {
    for (pattern, message) in table {
        match FilterPattern::parse(pattern) {
            Ok(_) => panic!("{pattern:?} parsed"),
            Err(e) => assert_eq!(e.message, *message, "{pattern:?}"),
        }
    }
}

#[test]
fn empty_and_blank_match_everything() {
    check(&[
        ("", "anything", true),
        ("   ", "x", true),
        ("\" \"", "nospace", true),
    ]);
    assert!(FilterPattern::parse("").unwrap().matches_all());
    assert!(FilterPattern::parse("\" \"").unwrap().matches_all());
    assert!(!FilterPattern::parse("ERROR").unwrap().matches_all());
}

#[test]
fn terms() {
    check(&[
        ("ERROR", "[ERROR] Caught IllegalArgumentException", true),
        ("ERROR", "ERRORNEOUS program", true),
        ("ERROR", "Error: lower case", false),
        ("ERROR ARGUMENTS", "ERROR: bad ARGUMENTS given", true),
        ("ERROR ARGUMENTS", "ERROR: bad args", false),
        (
            "\"INTERNAL SERVER ERROR\"",
            "500 INTERNAL SERVER ERROR",
            true,
        ),
        ("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER", false),
        ("\"ERROR\" \"Exception\"", "ERROR x Exception", true),
        ("?ERROR ?WARN", "WARN disk", true),
        ("?ERROR ?WARN", "ERROR disk", true),
        ("?ERROR ?WARN", "INFO disk", false),
        ("ERROR -DEBUG", "ERROR in prod", true),
        ("ERROR -DEBUG", "ERROR DEBUG", false),
        ("-DEBUG", "INFO", true),
        ("-DEBUG", "DEBUG x", false),
        ("-\"no space\"", "no space here", false),
        // `?` groups: (ERROR and MainThread) or (WARN and Deadlock), as AWS's CDK renders them.
        (
            "?\"ERROR\" \"MainThread\" ?\"WARN\" \"Deadlock\"",
            "WARN Deadlock",
            true,
        ),
        (
            "?\"ERROR\" \"MainThread\" ?\"WARN\" \"Deadlock\"",
            "ERROR Deadlock",
            false,
        ),
        (
            "?\"ERROR\" \"MainThread\" ?\"WARN\" \"Deadlock\"",
            "ERROR on MainThread",
            true,
        ),
        ("\"quo\\\"te\"", "a quo\"te b", true),
        ("\"ERROR][grpc\"", "2025-03-28 [ERROR][grpc] failed", true),
        ("\"ERROR][grpc\"", "[ERROR] [grpc]", false),
        ("user_42", "login user_42 ok", true),
        ("héllo", "say héllo", true),
    ]);
}

#[test]
fn regexes() {
    check(&[
        ("%AUTHORIZED%", "UNAUTHORIZED access", true),
        ("%colou?r%", "the color", true),
        ("%colou?r%", "the colour", true),
        ("%colou?r%", "the colr", false),
        ("%10\\.10\\.0\\.1%", "from 10.10.0.1", true),
        ("%10\\.10\\.0\\.1%", "from 10a10b0c1", false),
        ("%^ERROR%", "ERROR first", true),
        ("%^ERROR%", "not ERROR first", false),
        ("%[0-9]{3}% ERROR", "code 500 ERROR", true),
        ("{ $.code = %^5[0-9]{2}$% }", r#"{"code": "503"}"#, true),
        ("{ $.code = %^5[0-9]{2}$% }", r#"{"code": "404"}"#, false),
        ("[ip = %^10\\.%, rest]", "10.0.0.1 GET", true),
        ("[ip = %^10\\.%, rest]", "11.0.0.1 GET", false),
    ]);
    refuse(&[
        ("%(a|b)%", "Invalid character(s) in term '%(a|b)%'"),
        ("%héllo%", "Invalid character(s) in term '%héllo%'"),
        (
            "%a% %b% %c%",
            "Invalid filter pattern: at most 2 regular expressions are allowed in a filter pattern",
        ),
    ]);
    assert_eq!(FilterPattern::parse("%a% %b%").unwrap().regex_count(), 2);
}

#[test]
fn term_errors() {
    refuse(&[
        (
            "email@example.com",
            "Invalid character(s) in term 'email@example.com'",
        ),
        ("\"\"", "Invalid character(s) in term '\"\"'"),
        (
            "\"unterminated",
            "Invalid character(s) in term '\"unterminated'",
        ),
        ("a/b", "Invalid character(s) in term 'a/b'"),
        ("“smart”", "Invalid character(s) in term '“smart”'"),
        ("\"a\"b", "Invalid character(s) in term '\"a\"b'"),
    ]);
}

#[test]
fn json_patterns() {
    let ev = r#"{"eventType":"UpdateTrail","sourceIPAddress":"123.123.1.2","arrayKey":["value","another"],
        "objectList":[{"name":"a","id":1},{"name":"b","id":2}],"coords":[[1,2],[3,4]],
        "user":{"id":7,"name":"ann"},"latency":1500,"ratio":0.001,"neg":-3,"ok":true,"bad":false,
        "nothing":null,"code":"404","obj":{"a":1}}"#;
    check(&[
        ("{ $.eventType = \"UpdateTrail\" }", ev, true),
        ("{ $.eventType = UpdateTrail }", ev, true),
        ("{ $.eventType = \"updatetrail\" }", ev, false),
        ("{ $.eventType != \"UpdateTrail\" }", ev, false),
        ("{ $.sourceIPAddress != 123.123.* }", ev, false),
        ("{ $.sourceIPAddress = 123.123.* }", ev, true),
        ("{ $.eventType = \"Update*\" }", ev, true),
        ("{ $.eventType = * }", ev, true),
        ("{ $.missing = * }", ev, false),
        ("{ $.missing != \"x\" }", ev, false),
        ("{ $.arrayKey[0] = \"value\" }", ev, true),
        ("{ $.arrayKey[1] = \"value\" }", ev, false),
        ("{ $.arrayKey[5] = \"value\" }", ev, false),
        ("{ $.objectList[1].id = 2 }", ev, true),
        ("{ $.coords[0][1] = 2 }", ev, true),
        ("{ $.user.id = 7 }", ev, true),
        ("{ $.user = * }", ev, false),
        ("{ $.obj.a >= 1 }", ev, true),
        ("{ $.latency > 1000 }", ev, true),
        ("{ $.latency < 1000 }", ev, false),
        ("{ $.latency <= 1500 }", ev, true),
        ("{ $.latency >= 1.5e3 }", ev, true),
        ("{ $.ratio = 1e-3 }", ev, true),
        ("{ $.neg = -3 }", ev, true),
        ("{ $.neg < +0 }", ev, true),
        ("{ $.code = 404 }", ev, true),
        ("{ $.code > 400 }", ev, true),
        ("{ $.code = \"404\" }", ev, true),
        ("{ $.ok IS TRUE }", ev, true),
        ("{ $.ok IS FALSE }", ev, false),
        ("{ $.bad IS FALSE }", ev, true),
        ("{ $.nothing IS NULL }", ev, true),
        ("{ $.ok IS NULL }", ev, false),
        ("{ $.missing IS NULL }", ev, false),
        ("{ $.missing NOT EXISTS }", ev, true),
        ("{ $.nothing NOT EXISTS }", ev, false),
        ("{ $.user.nope NOT EXISTS }", ev, true),
        (
            "{ $.eventType = \"UpdateTrail\" && $.latency > 1000 }",
            ev,
            true,
        ),
        ("{ $.eventType = \"X\" && $.latency > 1000 }", ev, false),
        ("{ $.eventType = \"X\" || $.latency > 1000 }", ev, true),
        (
            "{ $.eventType = \"X\" || $.latency > 1000 && $.ok IS FALSE }",
            ev,
            false,
        ),
        (
            "{ ($.eventType = \"X\" || $.latency > 1000) && $.ok IS TRUE }",
            ev,
            true,
        ),
        (
            "{ $.eventType = \"X\" || ($.user.id = 7 && $.user.name = ann) }",
            ev,
            true,
        ),
        ("{$.eventType=\"UpdateTrail\"}", ev, true),
        ("{ $.a = 1 }", "not json {", false),
        ("{ $.a = 1 }", "[1, 2]", false),
        ("{ $.a = 1 }", "  {\"a\": 1}", true),
    ]);
}

#[test]
fn json_errors() {
    refuse(&[
        (
            "{ $.a = 1",
            "If a filter pattern starts with '{' it must end with '}'",
        ),
        ("{ }", "Invalid filter pattern"),
        ("{ $.a }", "Invalid filter pattern"),
        ("{ a = 1 }", "Invalid filter pattern"),
        ("{ $.a > \"x\" }", "Invalid filter pattern"),
        ("{ $.a > abc }", "Invalid filter pattern"),
        ("{ $.a = 1 && }", "Invalid filter pattern"),
        ("{ ($.a = 1 }", "Invalid filter pattern"),
        ("{ $.a IS NOT NULL }", "Invalid filter pattern"),
        ("{ $.a EXISTS }", "Invalid filter pattern"),
        ("{ $.a[*] = 1 }", "Invalid filter pattern"),
        ("{ $. = 1 }", "Invalid filter pattern"),
        ("{ $.a = 1 $.b = 2 }", "Invalid filter pattern"),
    ]);
}

#[test]
fn space_delimited() {
    let apache =
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534";
    check(&[
        (
            "[ip, user, username, timestamp, request, status_code, bytes]",
            apache,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            apache,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 404, bytes]",
            apache,
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 2*, bytes > 1000]",
            apache,
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 2*, bytes > 2000]",
            apache,
            false,
        ),
        (
            "[..., status_code = 404 || status_code = 200, bytes]",
            apache,
            true,
        ),
        (
            "[..., status_code = 404 || status_code = 410, bytes]",
            apache,
            false,
        ),
        ("[..., request = *.gif*, status_code, bytes]", apache, true),
        (
            "[..., request = *.html*, status_code, bytes]",
            apache,
            false,
        ),
        ("[ip = 127.0.0.1, ...]", apache, true),
        ("[ip = 127.0.0.2, ...]", apache, false),
        ("[ip, ..., bytes >= 1534]", apache, true),
        ("[ip, ..., user, bytes]", apache, true),
        ("[w1=ERROR, w2]", "ERROR something went wrong", true),
        ("[w1=ERROR, w2]", "WARN something", false),
        ("[w1=ERROR]", "ERROR something", false),
        ("[w1=ERROR]", "ERROR", true),
        ("[w1!=ERROR && w1!=WARNING, w2]", "INFO all good", true),
        ("[w1!=ERROR && w1!=WARNING, w2]", "WARNING careful", false),
        ("[a, b, c]", "only two", false),
        ("[a, b = \"x y\"]", "first \"x y\"", true),
        ("[a, b = \"x*\"]", "first \"xyz\"", true),
        ("[a, b, c]", "one   two\tthree", true),
        ("[..., last = end]", "a b end", true),
        ("[..., last = end]", "", false),
        ("[...]", "", true),
        ("[..., a, ..., b = 9, ...]", "1 2 3 9 4", true),
        ("[..., a, ..., b = 9, ...]", "1 2 3 4", false),
    ]);
    let p = FilterPattern::parse("[ip, user, username, timestamp, request, status_code, bytes]")
        .unwrap();
    let x = p.match_fields(apache).unwrap();
    let vals = x.values();
    assert_eq!(vals[0], ("$ip".to_string(), "127.0.0.1".to_string()));
    assert_eq!(vals[3].1, "10/Oct/2000:13:25:15 -0700");
    assert_eq!(vals[4].1, "GET /apache_pb.gif HTTP/1.0");
    assert_eq!(x.get("$bytes").as_deref(), Some("1534"));
    assert_eq!(x.get("$nope"), None);
    // The last field takes the rest of the line when there is no `...`.
    let p = FilterPattern::parse("[level, msg]").unwrap();
    let x = p.match_fields("ERROR disk full on /var ").unwrap();
    assert_eq!(x.get("$msg").as_deref(), Some("disk full on /var"));
}

#[test]
fn space_errors() {
    refuse(&[
        (
            "[a, b",
            "If a filter pattern starts with '[' it must end with ']'",
        ),
        ("[]", "Invalid filter pattern"),
        ("[a, ]", "Invalid filter pattern"),
        ("[a = 1 && b = 2]", "Invalid filter pattern"),
        ("[a > x]", "Invalid filter pattern"),
        ("[a = ]", "Invalid filter pattern"),
        ("[a = \"x]", "Invalid filter pattern"),
        ("[a b]", "Invalid filter pattern"),
    ]);
}

#[test]
fn extraction() {
    let p =
        FilterPattern::parse("{ $.latency > 0 && $.user.name = * && $.gone NOT EXISTS }").unwrap();
    let x = p
        .match_fields(r#"{"latency": 12.5, "user": {"name": "ann"}}"#)
        .unwrap();
    assert_eq!(
        x.values(),
        vec![
            ("$.latency".to_string(), "12.5".to_string()),
            ("$.user.name".to_string(), "ann".to_string()),
        ]
    );
    assert_eq!(x.get("$.user.name").as_deref(), Some("ann"));
    assert_eq!(x.get("$.latency").as_deref(), Some("12.5"));
    assert!(p.is_structured() && p.is_json());
    // Selectors outside the pattern are read only when asked for before matching.
    let message = r#"{"latency": 3, "user": {"name": "bo", "id": 7}, "host": "h1"}"#;
    let x = p.match_fields(message).unwrap();
    assert_eq!(x.get("$.host"), None);
    let mut p = p;
    p.also_read("$.host");
    p.also_read("$.user.id");
    p.also_read("not a selector");
    let x = p.match_fields(message).unwrap();
    assert_eq!(x.get("$.host").as_deref(), Some("h1"));
    assert_eq!(x.get("$.user.id").as_deref(), Some("7"));
    assert_eq!(x.get("$.user.name").as_deref(), Some("bo"));
    assert_eq!(
        x.values().len(),
        2,
        "values() lists the pattern's selectors only"
    );
    let t = FilterPattern::parse("ERROR").unwrap();
    assert!(t.match_fields("ERROR").unwrap().values().is_empty());
    assert!(!t.is_structured());
}

#[test]
fn block_prefilter() {
    let p = FilterPattern::parse("ERROR timeout").unwrap();
    assert!(!p.may_match_any(b"ERROR only here, INFO timeout elsewhere?"[..5].as_ref()));
    assert!(p.may_match_any(b"ERROR x\nINFO timeout"));
    let p = FilterPattern::parse("?ERROR ?WARN").unwrap();
    assert!(p.may_match_any(b"WARN"));
    assert!(!p.may_match_any(b"INFO"));
    let p = FilterPattern::parse("-DEBUG").unwrap();
    assert!(p.may_match_any(b"DEBUG"));
    let p = FilterPattern::parse("{ $.a = 1 }").unwrap();
    assert!(!p.may_match_any(b"plain text"));
}
