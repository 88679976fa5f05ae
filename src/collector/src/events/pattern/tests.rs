//! Pattern tests: the shared matching vectors (every file of the vector folder is consumed),
//! then tables for each operator and for the validation errors.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/event-ruler")
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(vector_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pattern(v: &Value) -> Pattern {
    Pattern::from_value(v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn reason(v: &Value) -> String {
    match Pattern::from_value(v) {
        Ok(_) => panic!("{v} was accepted"),
        Err(e) => e.to_string(),
    }
}

fn correctness_cases() -> usize {
    let doc = read_json("correctness-cases-with-expected.json");
    let cases = doc["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let want = match case["expected"].as_str().unwrap() {
            "match" => true,
            "no_match" => false,
            other => panic!("{name}: unknown expectation {other}"),
        };
        let got = pattern(&case["rule"]).matches(&case["event"]);
        assert_eq!(got, want, "case {name:?}");
    }
    cases.len()
}

/// The file without expectations must hold exactly the cases of the one with them.
fn correctness_inputs() -> usize {
    let plain = read_json("correctness-cases.json");
    let expected = read_json("correctness-cases-with-expected.json");
    let strip = |c: &Value| json!({"name": c["name"], "rule": c["rule"], "event": c["event"]});
    let plain: Vec<Value> = plain.as_array().unwrap().iter().map(strip).collect();
    let expected: Vec<Value> = expected["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(strip)
        .collect();
    assert_eq!(plain, expected);
    plain.len()
}

/// Rule `i` against event `j` (1-based) of the array-consistency files.
const ARRAY_MATRIX: [[bool; 4]; 4] = [
    [true, false, false, false],
    [true, false, false, false],
    [false, false, false, true],
    [false, false, true, true],
];

fn array_files() -> usize {
    let mut set = RuleSet::new();
    for i in 1..=4 {
        set.add(
            format!("arrayRule{i}"),
            &pattern(&read_json(&format!("arrayRule{i}.json"))),
        );
    }
    for (j, column) in (1..=4).zip(0..) {
        let event = read_json(&format!("arrayEvent{j}.json"));
        let got: BTreeSet<u32> = set.matches(&event).into_iter().map(|r| r.0).collect();
        let want: BTreeSet<u32> = (0..4u32)
            .filter(|&i| ARRAY_MATRIX[i as usize][column])
            .collect();
        assert_eq!(got, want, "arrayEvent{j}");
    }
    8
}

fn big_event() -> usize {
    let rule = pattern(&read_json("bigEventRule.json"));
    let event = read_json("bigEvent.json");
    assert!(rule.matches(&event));
    let mut other = event.clone();
    other["source"] = json!("aws.ec2");
    assert!(!rule.matches(&other));
    2
}

fn or_rules() -> usize {
    let rules = read_json("orRelationshipRules.json");
    let rules: Vec<Pattern> = rules.as_array().unwrap().iter().map(pattern).collect();
    let cases = [
        (0, json!({"metricName": "ReadLatency"}), true),
        (0, json!({"namespace": "AWS/ES"}), true),
        (0, json!({"namespace": "AWS/S3"}), false),
        (
            1,
            json!({"namespace": "AWS/EC2", "detail": {"source": "aws.cloudwatch"}}),
            true,
        ),
        (
            1,
            json!({"namespace": "AWS/EC2", "detail": {"source": "aws.s3"}}),
            false,
        ),
        (
            1,
            json!({"detail": {"detail-type": "CloudWatch Alarm State Change"}}),
            false,
        ),
        (
            2,
            json!({"source": "aws.cloudwatch", "scope": "Service"}),
            true,
        ),
        (
            2,
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2"}),
            false,
        ),
        (
            2,
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2", "metricType": "MetricType"}),
            true,
        ),
        (
            3,
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2", "metricType": "MetricType"}),
            false,
        ),
        (
            3,
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2", "metricType": "MetricType", "spaceId": 1000}),
            true,
        ),
        (
            3,
            json!({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}),
            true,
        ),
        (
            4,
            json!({"source": "aws.cloudwatch", "detail": {"state": {"value": "ALARM"}},
                   "withoutConfiguration": {"metric": {"name": "AWS/Default"}}}),
            true,
        ),
        (
            4,
            json!({"source": "aws.cloudwatch", "detail": {"state": {"value": "ALARM"}},
                   "withConfiguration": {"metrics": [{"metricStat": {"metric": {"namespace": "AWS/EC2"}}}]}}),
            true,
        ),
        (
            4,
            json!({"source": "aws.cloudwatch", "detail": {"state": {"value": "OK"}},
                   "withoutConfiguration": {"metric": {"name": "AWS/Default"}}}),
            false,
        ),
    ];
    for (i, event, want) in cases {
        assert_eq!(rules[i].matches(&event), want, "or rule {i} vs {event}");
    }
    rules.len()
}

fn wrong_or_rules() -> usize {
    let rules = read_json("wrongOrRelationshipRules.json");
    let want = [
        "There must have at least 2 Objects in $or relationship.",
        "Only JSON object is allowed in array of $or relationship.",
    ];
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), want.len());
    for (rule, want) in rules.iter().zip(want) {
        assert_eq!(reason(rule), want);
    }
    rules.len()
}

fn or_wording_rules() -> usize {
    let rules = read_json("normalRulesWithOrWording.json");
    let rules: Vec<Pattern> = rules.as_array().unwrap().iter().map(pattern).collect();
    let cases = [
        (0, json!({"$or": "10.0.0.7"}), true),
        (0, json!({"$or": "10.0.1.7"}), false),
        (
            1,
            json!({"source": "aws.cloudwatch", "$or": {"metricType": "MetricType", "namespace": "AWS/ES"}}),
            true,
        ),
        (
            1,
            json!({"source": "aws.cloudwatch", "namespace": "AWS/ES", "metricType": "MetricType"}),
            false,
        ),
        (
            2,
            json!({"time": "2017-10-02T00:00:00Z", "detail": {"$or": 3}}),
            true,
        ),
        (
            2,
            json!({"time": "2017-10-02T00:00:00Z", "detail": {"$or": "10.1.2.3"}}),
            true,
        ),
        (
            2,
            json!({"time": "2017-10-02T00:00:00Z", "detail": {"$or": 7}}),
            false,
        ),
        (3, json!({"detail": {"$or": 11}}), true),
        (3, json!({"detail": {"$or": 10}}), false),
    ];
    for (i, event, want) in cases {
        assert_eq!(
            rules[i].matches(&event),
            want,
            "wording rule {i} vs {event}"
        );
    }
    rules.len()
}

#[test]
fn every_vector_file_passes() {
    let mut seen = Vec::new();
    let mut checked = 0;
    let mut arrays_done = false;
    let mut entries: Vec<String> = std::fs::read_dir(vector_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    for name in entries {
        checked += match name.as_str() {
            "correctness-cases-with-expected.json" => correctness_cases(),
            "correctness-cases.json" => correctness_inputs(),
            "bigEvent.json" | "bigEventRule.json" if seen.contains(&"big") => 0,
            "bigEvent.json" | "bigEventRule.json" => {
                seen.push("big");
                big_event()
            }
            "orRelationshipRules.json" => or_rules(),
            "wrongOrRelationshipRules.json" => wrong_or_rules(),
            "normalRulesWithOrWording.json" => or_wording_rules(),
            n if n.starts_with("arrayRule") || n.starts_with("arrayEvent") => {
                if arrays_done {
                    0
                } else {
                    arrays_done = true;
                    array_files()
                }
            }
            other => panic!("vector file {other} is not consumed by any test"),
        };
    }
    assert!(arrays_done && seen.contains(&"big"));
    assert!(
        checked >= 51 * 2 + 8 + 2 + 5 + 2 + 4,
        "only {checked} checks ran"
    );
}

/// `(pattern, event, expected)` for every operator.
#[test]
fn operator_table() {
    let cases: Vec<(Value, Value, bool)> = vec![
        // exact values
        (json!({"a": ["x"]}), json!({"a": "x"}), true),
        (json!({"a": ["x"]}), json!({"a": "X"}), false),
        (json!({"a": ["x"]}), json!({}), false),
        (json!({"a": [300]}), json!({"a": 300.0}), true),
        (json!({"a": [300]}), json!({"a": "300"}), false),
        (json!({"a": [3.018e2]}), json!({"a": 301.8}), true),
        (json!({"a": [true]}), json!({"a": true}), true),
        (json!({"a": [true]}), json!({"a": "true"}), false),
        (json!({"a": [null]}), json!({"a": null}), true),
        (json!({"a": [null]}), json!({}), false),
        (json!({"a": [null]}), json!({"a": ""}), false),
        (json!({"a": [""]}), json!({"a": ""}), true),
        (json!({"a": [""]}), json!({"a": null}), false),
        (json!({"a": ["x", "y"]}), json!({"a": "y"}), true),
        (
            json!({"resources": ["a", "b"]}),
            json!({"resources": ["c", "b"]}),
            true,
        ),
        (
            json!({"resources": ["a", "b"]}),
            json!({"resources": ["c"]}),
            false,
        ),
        // nesting, dotted paths
        (
            json!({"d": {"s": {"v": ["on"]}}}),
            json!({"d": {"s": {"v": "on"}}}),
            true,
        ),
        (
            json!({"d": {"s.v": ["on"]}}),
            json!({"d": {"s": {"v": "on"}}}),
            true,
        ),
        (
            json!({"d": {"s": {"v": ["on"]}}}),
            json!({"d": {"s.v": "on"}}),
            true,
        ),
        (
            json!({"d": {"k": ["v"]}}),
            json!({"d": "{\"k\":\"v\"}"}),
            false,
        ),
        (
            json!({"a": ["x"], "b": ["y"]}),
            json!({"a": "x", "b": "z"}),
            false,
        ),
        (json!({"MY_KEY": ["x"]}), json!({"my_key": "x"}), false),
        // prefix / suffix
        (
            json!({"a": [{"prefix": "us-"}]}),
            json!({"a": "us-east-1"}),
            true,
        ),
        (
            json!({"a": [{"prefix": "us-"}]}),
            json!({"a": "eu-west-1"}),
            false,
        ),
        (
            json!({"a": [{"prefix": ""}]}),
            json!({"a": "anything"}),
            true,
        ),
        (json!({"a": [{"prefix": ""}]}), json!({"a": 5}), false),
        (
            json!({"a": [{"prefix": {"equals-ignore-case": "EC2"}}]}),
            json!({"a": "ec2:x"}),
            true,
        ),
        (
            json!({"a": [{"suffix": ".png"}]}),
            json!({"a": "i.png"}),
            true,
        ),
        (
            json!({"a": [{"suffix": ".png"}]}),
            json!({"a": "i.PNG"}),
            false,
        ),
        (
            json!({"a": [{"suffix": {"equals-ignore-case": ".png"}}]}),
            json!({"a": "i.PNG"}),
            true,
        ),
        // equals-ignore-case, wildcard
        (
            json!({"a": [{"equals-ignore-case": "alice"}]}),
            json!({"a": "ALICE"}),
            true,
        ),
        (
            json!({"a": [{"equals-ignore-case": "alice"}]}),
            json!({"a": "bob"}),
            false,
        ),
        (
            json!({"a": [{"wildcard": "arn:*:bus/*"}]}),
            json!({"a": "arn:aws:bus/x"}),
            true,
        ),
        (
            json!({"a": [{"wildcard": "arn:*:bus/*"}]}),
            json!({"a": "arn:aws:rule/x"}),
            false,
        ),
        (json!({"a": [{"wildcard": ""}]}), json!({"a": ""}), true),
        (json!({"a": [{"wildcard": ""}]}), json!({"a": "x"}), false),
        (
            json!({"a": [{"wildcard": "a\\*b"}]}),
            json!({"a": "a*b"}),
            true,
        ),
        // anything-but
        (
            json!({"a": [{"anything-but": "x"}]}),
            json!({"a": "y"}),
            true,
        ),
        (
            json!({"a": [{"anything-but": "x"}]}),
            json!({"a": "x"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": "x"}]}),
            json!({"a": null}),
            true,
        ),
        (json!({"a": [{"anything-but": "x"}]}), json!({}), false),
        (
            json!({"a": [{"anything-but": 123}]}),
            json!({"a": 123.0}),
            false,
        ),
        (
            json!({"a": [{"anything-but": 123}]}),
            json!({"a": 124}),
            true,
        ),
        (
            json!({"a": [{"anything-but": ["x", "y"]}]}),
            json!({"a": "y"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": [1, 2]}]}),
            json!({"a": 3}),
            true,
        ),
        (
            json!({"a": [{"anything-but": {"prefix": "init"}}]}),
            json!({"a": "initial"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"prefix": "init"}}]}),
            json!({"a": 12}),
            true,
        ),
        (
            json!({"a": [{"anything-but": {"prefix": ["a", "b"]}}]}),
            json!({"a": "bx"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"suffix": ".txt"}}]}),
            json!({"a": "x.txt"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"suffix": ".txt"}}]}),
            json!({"a": "x.png"}),
            true,
        ),
        (
            json!({"a": [{"anything-but": {"equals-ignore-case": "X"}}]}),
            json!({"a": "x"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}),
            json!({"a": "b"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"wildcard": "*.txt"}}]}),
            json!({"a": "x.txt"}),
            false,
        ),
        (
            json!({"a": [{"anything-but": {"wildcard": ["*.txt", "*.md"]}}]}),
            json!({"a": "x.rs"}),
            true,
        ),
        // numeric
        (
            json!({"a": [{"numeric": [">", 0, "<=", 5]}]}),
            json!({"a": 5}),
            true,
        ),
        (
            json!({"a": [{"numeric": [">", 0, "<=", 5]}]}),
            json!({"a": 0}),
            false,
        ),
        (
            json!({"a": [{"numeric": [">=", 0, "<", 5]}]}),
            json!({"a": 0}),
            true,
        ),
        (
            json!({"a": [{"numeric": ["=", 3.018e2]}]}),
            json!({"a": 301.8}),
            true,
        ),
        (
            json!({"a": [{"numeric": ["<", 10]}]}),
            json!({"a": -1e9}),
            true,
        ),
        (
            json!({"a": [{"numeric": [">", 10]}]}),
            json!({"a": "300"}),
            false,
        ),
        (
            json!({"a": [{"numeric": [">", 10]}]}),
            json!({"a": null}),
            false,
        ),
        // exists
        (json!({"a": [{"exists": true}]}), json!({"a": null}), true),
        (
            json!({"a": [{"exists": true}]}),
            json!({"a": {"b": 1}}),
            false,
        ),
        (json!({"a": [{"exists": true}]}), json!({"a": []}), false),
        (json!({"a": [{"exists": false}]}), json!({}), true),
        (json!({"a": [{"exists": false}]}), json!({"a": 1}), false),
        (
            json!({"a": [{"exists": false}]}),
            json!({"a": {"b": 1}}),
            true,
        ),
        (
            json!({"a": {"b": [{"exists": false}]}}),
            json!({"a": "x"}),
            true,
        ),
        (
            json!({"a": [{"exists": false}, "x"]}),
            json!({"a": "x"}),
            true,
        ),
        (
            json!({"a": [{"exists": false}, "x"]}),
            json!({"a": "y"}),
            false,
        ),
        (
            json!({"a": [{"exists": true}, {"prefix": "X"}]}),
            json!({"a": 1}),
            true,
        ),
        // cidr
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.0.9"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.1.9"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": 10}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8::/32"}]}),
            json!({"ip": "2001:db8::1"}),
            true,
        ),
        // $or
        (
            json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
            json!({"b": "2"}),
            true,
        ),
        (
            json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
            json!({"c": "2"}),
            false,
        ),
        (
            json!({"d": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, "s": ["x"]}),
            json!({"s": "x", "d": {"a": "1"}}),
            true,
        ),
        (
            json!({"d": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, "s": ["x"]}),
            json!({"s": "y", "d": {"a": "1"}}),
            false,
        ),
        // arrays of objects: fields of one element match together
        (
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            json!({"employees": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Bo", "lastName": "Jones"}]}),
            false,
        ),
        (
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            json!({"employees": [{"firstName": "Bo"}, {"firstName": "Anna", "lastName": "Jones"}]}),
            true,
        ),
        (
            json!({"a": {"b": ["1"], "c": {"d": ["2"]}}}),
            json!({"a": [{"b": "1", "c": [{"d": "3"}, {"d": "2"}]}]}),
            true,
        ),
        (
            json!({"a": {"x": [{"exists": true}], "y": [{"exists": false}]}}),
            json!({"a": [{"x": 1, "y": 1}, {"x": 2}]}),
            true,
        ),
    ];
    for (i, (p, event, want)) in cases.iter().enumerate() {
        assert_eq!(pattern(p).matches(event), *want, "case {i}: {p} vs {event}");
    }
}

/// `(pattern, AWS reason)` for invalid patterns.
#[test]
fn validation_table() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([1]), "Filter is not an object"),
        (json!({}), "Empty objects are not allowed"),
        (json!({"a": {}}), "Empty objects are not allowed"),
        (json!({"a": []}), "Empty arrays are not allowed"),
        (json!({"int": 5}), "\"int\" must be an object or an array"),
        (json!({"a": "x"}), "\"a\" must be an object or an array"),
        (json!({"a": [[1]]}), "Match value must be String, number, true, false, or null"),
        (json!({"a": [{}]}), "Match expression name not found"),
        (json!({"a": [{"EXISTS": true}]}), "Unrecognized match type EXISTS"),
        (json!({"a": [{"NUMERIC": [">", 1]}]}), "Unrecognized match type NUMERIC"),
        (json!({"a": [{"prefix": "a", "suffix": "b"}]}), "Only one key allowed in match expression"),
        (json!({"a": [{"prefix": 1}]}), "prefix match pattern must be a string"),
        (json!({"a": [{"prefix": {"equals-ignore-case": 1}}]}), "prefix match pattern must be a string"),
        (json!({"a": [{"suffix": null}]}), "suffix match pattern must be a string"),
        (json!({"a": [{"wildcard": 5}]}), "wildcard match pattern must be a string"),
        (json!({"a": [{"wildcard": "a**"}]}), "Consecutive wildcard characters at pos 2"),
        (json!({"a": [{"wildcard": "a\\b"}]}), "Invalid escape character at pos 1"),
        (json!({"a": [{"equals-ignore-case": 5}]}), "equals-ignore-case match pattern must be a string"),
        (json!({"a": [{"exists": "yes"}]}), "exists match pattern must be either true or false."),
        (json!({"a": [{"anything-but": {"prefix": 5}}]}), "prefix/suffix match pattern must be a string"),
        (json!({"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]}), "prefix/suffix match pattern must be a string"),
        (json!({"a": [{"anything-but": {"suffix": ""}}]}), "Null prefix/suffix not allowed"),
        (json!({"a": [{"anything-but": {"foo": "x"}}]}), "Unsupported anything-but pattern: foo"),
        (json!({"a": [{"anything-but": {}}]}), "Anything-But expression name not found"),
        (json!({"a": [{"anything-but": null}]}), "Value of anything-but must be an array or single string/number value."),
        (json!({"a": [{"anything-but": true}]}), "Value of anything-but must be an array or single string/number value."),
        (json!({"a": [{"anything-but": [null]}]}), "Inside anything but list, start|null|boolean is not supported."),
        (json!({"a": [{"anything-but": ["a", 1]}]}), "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (json!({"a": [{"anything-but": {"equals-ignore-case": 5}}]}), "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (json!({"a": [{"anything-but": {"equals-ignore-case": ["a", 5]}}]}), "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (json!({"a": [{"numeric": 5}]}), "Value of numeric must be an array."),
        (json!({"a": [{"numeric": [">", 0, ">", 5]}]}), "Bad numeric range operator: >"),
        (json!({"a": [{"numeric": ["<", "x"]}]}), "Value of < must be numeric"),
        (json!({"a": [{"numeric": [">", 0, "<", "x"]}]}), "Value of < must be numeric"),
        (json!({"a": [{"numeric": ["=", "x"]}]}), "Value of equals must be numeric"),
        (json!({"a": [{"numeric": ["<", 1, 2]}]}), "Too many elements in numeric expression"),
        (json!({"a": [{"numeric": [">", 1, "<", 2, 3]}]}), "Too many terms in numeric range expression"),
        (json!({"a": [{"numeric": [">", 1, 2]}]}), "Bad value in numeric range: 2"),
        (json!({"a": [{"numeric": ["!", 1]}]}), "Unrecognized numeric range operator: !"),
        (json!({"a": [{"numeric": [1]}]}), "Invalid member in numeric match: 1"),
        (json!({"a": [{"numeric": []}]}), "Invalid member in numeric match: ]"),
        (json!({"a": [{"cidr": "10.0.0.0"}]}), "Malformed CIDR, one '/' required"),
        (json!({"a": [{"cidr": "10.0.0.0/x"}]}), "Malformed CIDR, mask bits must be an integer"),
        (json!({"a": [{"cidr": "xx.11.xx/24"}]}), "Nonstandard IP address: xx.11.xx"),
        (json!({"$or": "x"}), "It must be an Array followed with $or."),
        (json!({"$or": [{"a": ["1"]}]}), "There must have at least 2 Objects in $or relationship."),
        (json!({"$or": [{"a": ["1"]}, 5]}), "Only JSON object is allowed in array of $or relationship."),
        (json!({"$or": [{"a": ["1"]}, {"numeric": ["1"]}]}), "numeric is Ruler reserved fieldName which cannot be used inside $or."),
        (json!({"$or": [{"a": ["1"]}, {"b": {"prefix": ["1"]}}]}), "prefix is Ruler reserved fieldName which cannot be used inside $or."),
    ];
    for (p, want) in &cases {
        assert_eq!(reason(p), *want, "{p}");
    }
}

#[test]
fn aws_message_and_json_errors() {
    let err = Pattern::parse(r#"{"a": []}"#).unwrap_err();
    assert_eq!(
        err.aws_message(),
        "Event pattern is not valid. Reason: Empty arrays are not allowed"
    );
    assert!(matches!(Pattern::parse("{"), Err(PatternError::Json(_))));
}

#[test]
fn duplicate_keys_last_wins() {
    let p = Pattern::parse(r#"{"a": ["1"], "a": ["2"]}"#).unwrap();
    assert!(p.matches(&json!({"a": "2"})));
    assert!(!p.matches(&json!({"a": "1"})));
}

#[test]
fn or_expansion_is_capped() {
    let branch = |i: usize| json!([{ format!("a{i}"): ["x"] }, { format!("b{i}"): ["y"] }]);
    let mut doc = serde_json::Map::new();
    for i in 0..11 {
        doc.insert(format!("n{i}"), json!({"$or": branch(i)}));
    }
    let err = Pattern::from_value(&Value::Object(doc)).unwrap_err();
    assert!(err.to_string().starts_with("Rule is too complex"), "{err}");
}

#[test]
fn rule_set_reports_each_rule_once_in_order() {
    let mut set = RuleSet::new();
    let a = set.add("a", &Pattern::parse(r#"{"s": ["x"]}"#).unwrap());
    let b = set.add(
        "b",
        &Pattern::parse(r#"{"$or": [{"s": ["x"]}, {"t": [{"prefix": "y"}]}]}"#).unwrap(),
    );
    let c = set.add(
        "c",
        &Pattern::parse(r#"{"u": [{"exists": false}]}"#).unwrap(),
    );
    let _d = set.add("d", &Pattern::parse(r#"{"s": ["z"]}"#).unwrap());
    assert_eq!(set.len(), 4);
    assert_eq!(set.name(b), Some("b"));
    assert_eq!(set.matches(&json!({"s": "x", "t": "yes"})), vec![a, b, c]);
    assert_eq!(set.matches(&json!({"u": 1, "t": "yes"})), vec![b]);
    assert_eq!(set.matches(&json!({"u": 1})), Vec::<RuleId>::new());
}

/// Deterministic xorshift generator for the differential test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn random_matcher(rng: &mut Rng) -> Value {
    let v = rng.below(4);
    match rng.below(8) {
        0..=2 => json!(format!("v{v}")),
        3 => json!(v),
        4 => json!({"prefix": format!("v{}", rng.below(2))}),
        5 => json!({"numeric": [">", v]}),
        6 => json!({"anything-but": format!("v{v}")}),
        _ => json!({"exists": rng.below(2) == 0}),
    }
}

fn random_rule(rng: &mut Rng) -> Value {
    let mut doc = serde_json::Map::new();
    for path in ["source", "kind", "a", "items"] {
        if rng.below(3) == 0 {
            continue;
        }
        // Up to 80 values, so that the edge budget is exceeded now and then.
        let matchers: Vec<Value> = if rng.below(8) == 0 {
            (0..80).map(|i| json!(format!("w{i}"))).collect()
        } else {
            (0..1 + rng.below(3)).map(|_| random_matcher(rng)).collect()
        };
        if path == "items" {
            let other: Vec<Value> = vec![random_matcher(rng)];
            doc.insert(path.into(), json!({"k": matchers, "n": other}));
        } else {
            doc.insert(path.into(), Value::Array(matchers));
        }
    }
    if doc.is_empty() {
        doc.insert("source".into(), json!(["v0"]));
    }
    Value::Object(doc)
}

fn random_scalar(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!(rng.below(5)),
        4 => json!(format!("w{}", rng.below(80))),
        1 => Value::Null,
        _ => json!(format!("v{}", rng.below(5))),
    }
}

fn random_event(rng: &mut Rng) -> Value {
    let mut doc = serde_json::Map::new();
    for path in ["source", "kind", "a"] {
        match rng.below(4) {
            0 => {}
            1 => {
                let list: Vec<Value> = (0..rng.below(3)).map(|_| random_scalar(rng)).collect();
                doc.insert(path.into(), Value::Array(list));
            }
            _ => {
                doc.insert(path.into(), random_scalar(rng));
            }
        }
    }
    let items: Vec<Value> = (0..rng.below(4))
        .map(|_| json!({"k": random_scalar(rng), "n": random_scalar(rng)}))
        .collect();
    doc.insert("items".into(), Value::Array(items));
    Value::Object(doc)
}

/// The shared decision graph (prefix sharing, edge budget) must answer exactly what each
/// pattern answers on its own.
#[test]
fn shared_rule_set_agrees_with_single_patterns() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let patterns: Vec<Pattern> = (0..200).map(|_| pattern(&random_rule(&mut rng))).collect();
    let mut set = RuleSet::new();
    for (i, p) in patterns.iter().enumerate() {
        set.add(format!("r{i}"), p);
    }
    let singles: Vec<RuleSet> = patterns
        .iter()
        .map(|p| {
            let mut single = RuleSet::new();
            single.add("", p);
            single
        })
        .collect();
    let mut total = 0;
    for _ in 0..300 {
        let event = random_event(&mut rng);
        let want: Vec<RuleId> = (0..singles.len() as u32)
            .filter(|&i| !singles[i as usize].matches(&event).is_empty())
            .map(RuleId)
            .collect();
        total += want.len();
        assert_eq!(set.matches(&event), want, "{event}");
    }
    assert!(
        total > 100,
        "too few matches ({total}) to exercise anything"
    );
}

/// A field with more values than the edge budget: the values beyond it still lead to the rule.
#[test]
fn values_beyond_the_edge_budget_still_match() {
    let kinds: Vec<String> = (0..80).map(|i| format!("w{i}")).collect();
    let p = pattern(&json!({"kind": kinds, "z": ["x"]}));
    let mut set = RuleSet::new();
    let id = set.add("many", &p);
    for i in [0, 63, 64, 79] {
        let kind = format!("w{i}");
        assert_eq!(
            set.matches(&json!({"kind": kind, "z": "x"})),
            vec![id],
            "{kind}"
        );
        assert!(
            set.matches(&json!({"kind": kind, "z": "y"})).is_empty(),
            "{kind}"
        );
    }
}
