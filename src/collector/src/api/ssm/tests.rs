//! Operation-level tests of the Parameter Store, driven through [`SsmApi::handle`]: every
//! operation, every error it answers, SecureString sealing and paging.

use super::*;
use crate::auth::Identity;
use hostwatch_aws::Protocol;
use serde_json::{json, Value};

const T0: i64 = 1_700_000_000_000;

struct H {
    api: SsmApi,
    _dir: tempfile::TempDir,
}

impl H {
    fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        H {
            api: SsmApi::open(dir.path()).unwrap(),
            _dir: dir,
        }
    }

    fn ctx() -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            identity: Identity {
                access_key_id: "AKID".into(),
                region: "us-east-1".into(),
                service: "ssm".into(),
            },
            protocol: Protocol::AwsJson11,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            now_ms: T0,
        }
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        let out = self.api.handle(op, input, &Self::ctx()).await?;
        Ok(out.map_or(json!({}), |s| s.to_json()))
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        match self.call(op, input).await {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {e:?}"),
        }
    }

    async fn err(&self, op: &str, input: Value) -> ApiError {
        match self.call(op, input).await {
            Ok(v) => panic!("{op} succeeded: {v}"),
            Err(e) => e,
        }
    }

    async fn put(&self, name: &str, value: &str, ptype: &str) -> Value {
        self.ok(
            "PutParameter",
            json!({"Name": name, "Value": value, "Type": ptype}),
        )
        .await
    }
}

fn msg(e: &ApiError) -> &str {
    e.message.as_deref().unwrap_or("")
}

#[tokio::test]
async fn put_get_versions_and_overwrite() {
    let h = H::new();
    assert_eq!(
        h.put("/app/db/host", "db1", "String").await,
        json!({"Version": 1, "Tier": "Standard"})
    );
    let e = h
        .err(
            "PutParameter",
            json!({"Name": "/app/db/host", "Value": "db2", "Type": "String"}),
        )
        .await;
    assert_eq!(e.code, "ParameterAlreadyExists");
    assert_eq!(e.status, 400);
    assert_eq!(
        msg(&e),
        "The parameter already exists. To overwrite this value, set the overwrite option in the \
         request to true."
    );
    let v = h
        .ok(
            "PutParameter",
            json!({"Name": "/app/db/host", "Value": "db2", "Overwrite": true,
                   "Description": "the host"}),
        )
        .await;
    assert_eq!(v["Version"], 2);
    let p = h.ok("GetParameter", json!({"Name": "/app/db/host"})).await;
    assert_eq!(
        p["Parameter"],
        json!({"Name": "/app/db/host", "Type": "String", "Value": "db2", "Version": 2,
               "LastModifiedDate": T0 / 1000,
               "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host",
               "DataType": "text"})
    );
    let p = h
        .ok("GetParameter", json!({"Name": "/app/db/host:1"}))
        .await;
    assert_eq!(p["Parameter"]["Value"], "db1");
    assert_eq!(p["Parameter"]["Selector"], ":1");
    let p = h
        .ok(
            "GetParameter",
            json!({"Name": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host"}),
        )
        .await;
    assert_eq!(p["Parameter"]["Version"], 2);
    let e = h
        .err("GetParameter", json!({"Name": "/app/db/host:7"}))
        .await;
    assert_eq!(e.code, "ParameterVersionNotFound");
    assert_eq!(
        msg(&e),
        "Systems Manager could not find version 7 of /app/db/host. Verify the version and try \
         again."
    );
    assert_eq!(
        h.err("GetParameter", json!({"Name": "/app/db/host:prod"}))
            .await
            .code,
        "ParameterVersionNotFound"
    );
    let e = h.err("GetParameter", json!({"Name": "/nope"})).await;
    assert_eq!(e.code, "ParameterNotFound");
    let hist = h
        .ok("GetParameterHistory", json!({"Name": "/app/db/host"}))
        .await;
    let values: Vec<_> = hist["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Version"].clone(),
                p["Value"].clone(),
                p["Description"].clone(),
            )
        })
        .collect();
    assert_eq!(
        values,
        vec![
            (json!(1), json!("db1"), Value::Null),
            (json!(2), json!("db2"), json!("the host"))
        ]
    );
    assert_eq!(
        hist["Parameters"][0]["LastModifiedUser"],
        "arn:aws:iam::123456789012:user/AKID"
    );
}

#[tokio::test]
async fn secure_strings_are_sealed_unless_decrypted() {
    let h = H::new();
    h.put("/app/secret", "hunter2", "SecureString").await;
    let p = h.ok("GetParameter", json!({"Name": "/app/secret"})).await;
    let sealed = p["Parameter"]["Value"].as_str().unwrap().to_string();
    assert_ne!(sealed, "hunter2");
    assert!(!sealed.contains("hunter2"));
    let p = h
        .ok(
            "GetParameter",
            json!({"Name": "/app/secret", "WithDecryption": true}),
        )
        .await;
    assert_eq!(p["Parameter"]["Value"], "hunter2");
    let d = h.ok("DescribeParameters", json!({})).await;
    assert_eq!(d["Parameters"][0]["KeyId"], "alias/aws/ssm");
    let hist = h
        .ok(
            "GetParameterHistory",
            json!({"Name": "/app/secret", "WithDecryption": true}),
        )
        .await;
    assert_eq!(hist["Parameters"][0]["Value"], "hunter2");
    let many = h
        .ok(
            "GetParameters",
            json!({"Names": ["/app/secret"], "WithDecryption": false}),
        )
        .await;
    assert_eq!(many["Parameters"][0]["Value"], json!(sealed));
    // The plaintext never reaches the database file.
    let db = std::fs::read(h._dir.path().join("ssm.db")).unwrap();
    let wal = std::fs::read(h._dir.path().join("ssm.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(7).any(|w| w == b"hunter2"));
    }
}

#[tokio::test]
async fn put_validation_errors() {
    let h = H::new();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"Value": "v", "Type": "String"}),
            "ValidationException",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: \
             Member must not be null",
        ),
        (
            json!({"Name": "n", "Type": "String"}),
            "ValidationException",
            "1 validation error detected: Value null at 'value' failed to satisfy constraint: \
             Member must not be null",
        ),
        (
            json!({"Name": "n", "Value": "", "Type": "String"}),
            "ValidationException",
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: \
             Member must have length greater than or equal to 1.",
        ),
        (
            json!({"Name": "n", "Value": "v"}),
            "ValidationException",
            "A parameter type is required when you create a parameter.",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "Int"}),
            "ValidationException",
            "1 validation error detected: Value 'Int' at 'type' failed to satisfy constraint: \
             Member must satisfy enum value set: [SecureString, StringList, String]",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "Tier": "Gold"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "/aws/x", "Value": "v", "Type": "String"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "has space", "Value": "v", "Type": "String"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "a/b", "Value": "v", "Type": "String"}),
            "ValidationException",
            "Parameter name must be a fully qualified name.",
        ),
        (
            json!({"Name": "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "Value": "v",
                   "Type": "String"}),
            "HierarchyLevelLimitExceededException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String",
                   "Description": "d".repeat(1025)}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "Overwrite": true,
                   "Tags": [{"Key": "k", "Value": "v"}]}),
            "ValidationException",
            "Invalid request: tags and overwrite can't be used together. To create a parameter \
             with tags, please remove overwrite flag. To update tags for an existing parameter, \
             please use AddTagsToResource or RemoveTagsFromResource.",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "KeyId": "alias/k"}),
            "ValidationException",
            "KeyId is required for SecureString type parameter only.",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "SecureString", "KeyId": "bad key"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "Policies": "[]"}),
            "InvalidPolicyTypeException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "DataType": "Text"}),
            "ValidationException",
            "The following data type is not supported: Text (Data type names are all \
             lowercase.)",
        ),
        (
            json!({"Name": "n", "Value": "v", "Type": "String", "AllowedPattern": "(["}),
            "InvalidAllowedPatternException",
            "The request does not meet the regular expression requirement.",
        ),
        (
            json!({"Name": "n", "Value": "abc", "Type": "String", "AllowedPattern": "^\\d+$"}),
            "ParameterPatternMismatchException",
            "Parameter value, cannot be validated against allowedPattern: ^\\d+$",
        ),
        (
            json!({"Name": "n", "Value": "x".repeat(4097), "Type": "String"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "x".repeat(4097), "Type": "String",
                   "Tier": "Standard"}),
            "ValidationException",
            "",
        ),
        (
            json!({"Name": "n", "Value": "x".repeat(8193), "Type": "String",
                   "Tier": "Advanced"}),
            "ValidationException",
            "1 validation error detected: Value '******' at 'value' failed to satisfy \
             constraint: Member must have length less than or equal to 8192",
        ),
        (
            json!({"Name": 5, "Value": "v", "Type": "String"}),
            "SerializationException",
            "",
        ),
    ];
    for (input, code, message) in cases {
        let e = h.err("PutParameter", input.clone()).await;
        assert_eq!(e.code, code, "{input}: {e:?}");
        assert_eq!(e.status, 400);
        if !message.is_empty() {
            assert_eq!(msg(&e), message, "{input}");
        }
    }
    assert!(h.ok("DescribeParameters", json!({})).await["Parameters"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn tiers_sizes_and_limits() {
    let h = H::new();
    let big = "x".repeat(5000);
    let v = h
        .ok(
            "PutParameter",
            json!({"Name": "big", "Value": big, "Type": "String", "Tier": "Advanced"}),
        )
        .await;
    assert_eq!(v, json!({"Version": 1, "Tier": "Advanced"}));
    let v = h
        .ok(
            "PutParameter",
            json!({"Name": "auto", "Value": big, "Type": "String",
                   "Tier": "Intelligent-Tiering"}),
        )
        .await;
    assert_eq!(v["Tier"], "Advanced");
    let v = h
        .ok(
            "PutParameter",
            json!({"Name": "small", "Value": "x", "Type": "String",
                   "Tier": "Intelligent-Tiering"}),
        )
        .await;
    assert_eq!(v["Tier"], "Standard");
    // Advanced stays advanced on overwrite and can't be downgraded.
    let v = h
        .ok(
            "PutParameter",
            json!({"Name": "big", "Value": "tiny", "Overwrite": true}),
        )
        .await;
    assert_eq!(v, json!({"Version": 2, "Tier": "Advanced"}));
    let e = h
        .err(
            "PutParameter",
            json!({"Name": "big", "Value": "tiny", "Overwrite": true, "Tier": "Standard"}),
        )
        .await;
    assert_eq!(e.code, "ValidationException");
    assert!(msg(&e).contains("can't downgrade"), "{e:?}");

    let dir = tempfile::tempdir().unwrap();
    let limited = H {
        api: SsmApi::open(dir.path()).unwrap().with_limits(Limits {
            standard: 2,
            advanced: 1,
        }),
        _dir: dir,
    };
    limited.put("a", "1", "String").await;
    limited.put("b", "1", "String").await;
    let e = limited
        .err(
            "PutParameter",
            json!({"Name": "c", "Value": "1", "Type": "String"}),
        )
        .await;
    assert_eq!(e.code, "ParameterLimitExceeded");
    // Overwriting an existing one is not a new parameter.
    limited
        .ok(
            "PutParameter",
            json!({"Name": "a", "Value": "2", "Overwrite": true}),
        )
        .await;
    limited
        .ok(
            "PutParameter",
            json!({"Name": "adv", "Value": "1", "Type": "String", "Tier": "Advanced"}),
        )
        .await;
    let e = limited
        .err(
            "PutParameter",
            json!({"Name": "adv2", "Value": "1", "Type": "String", "Tier": "Advanced"}),
        )
        .await;
    assert_eq!(e.code, "ParameterLimitExceeded");
}

#[tokio::test]
async fn allowed_pattern_is_kept_across_overwrites() {
    let h = H::new();
    h.ok(
        "PutParameter",
        json!({"Name": "port", "Value": "80", "Type": "String", "AllowedPattern": "\\d+"}),
    )
    .await;
    let e = h
        .err(
            "PutParameter",
            json!({"Name": "port", "Value": "eighty", "Overwrite": true}),
        )
        .await;
    assert_eq!(e.code, "ParameterPatternMismatchException");
    h.ok(
        "PutParameter",
        json!({"Name": "port", "Value": "8080", "Overwrite": true}),
    )
    .await;
}

#[tokio::test]
async fn get_parameters_reports_invalid_names() {
    let h = H::new();
    h.put("a", "1", "String").await;
    h.put("/b/c", "x,y", "StringList").await;
    let r = h
        .ok(
            "GetParameters",
            json!({"Names": ["a", "/b/c", "missing", "a:9", "a"]}),
        )
        .await;
    let names: Vec<_> = r["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["a", "/b/c"]);
    assert_eq!(r["Parameters"][1]["Value"], "x,y");
    assert_eq!(r["InvalidParameters"], json!(["missing", "a:9"]));
    let names: Vec<String> = (0..11).map(|i| format!("n{i}")).collect();
    let e = h.err("GetParameters", json!({"Names": names})).await;
    assert_eq!(e.code, "ValidationException");
    assert!(msg(&e).ends_with("Member must have length less than or equal to 10"));
    assert_eq!(
        h.err("GetParameters", json!({"Names": []})).await.code,
        "ValidationException"
    );
    assert_eq!(
        h.err("GetParameters", json!({})).await.code,
        "ValidationException"
    );
}

#[tokio::test]
async fn by_path_recursion_filters_and_pages() {
    let h = H::new();
    for n in [
        "/app/a",
        "/app/b",
        "/app/sub/c",
        "/app/sub/deep/d",
        "/other/e",
        "top",
    ] {
        h.put(n, n, "String").await;
    }
    h.ok(
        "PutParameter",
        json!({"Name": "/app/s", "Value": "sec", "Type": "SecureString",
               "Tags": [{"Key": "team", "Value": "ops"}]}),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Name"].as_str().unwrap().to_string())
            .collect()
    };
    let one = h.ok("GetParametersByPath", json!({"Path": "/app"})).await;
    assert_eq!(names(&one), vec!["/app/a", "/app/b", "/app/s"]);
    let all = h
        .ok(
            "GetParametersByPath",
            json!({"Path": "/app/", "Recursive": true, "WithDecryption": true}),
        )
        .await;
    assert_eq!(
        names(&all),
        vec![
            "/app/a",
            "/app/b",
            "/app/s",
            "/app/sub/c",
            "/app/sub/deep/d"
        ]
    );
    assert_eq!(all["Parameters"][2]["Value"], "sec");
    let sec = h
        .ok(
            "GetParametersByPath",
            json!({"Path": "/app", "Recursive": true,
                   "ParameterFilters": [{"Key": "Type", "Values": ["SecureString"]}]}),
        )
        .await;
    assert_eq!(names(&sec), vec!["/app/s"]);
    let tagged = h
        .ok(
            "GetParametersByPath",
            json!({"Path": "/", "Recursive": true,
                   "ParameterFilters": [{"Key": "tag:team"}]}),
        )
        .await;
    assert_eq!(names(&tagged), vec!["/app/s"]);
    // Pages of two, then the rest, nothing repeated.
    let mut got = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"Path": "/", "Recursive": true, "MaxResults": 2});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = h.ok("GetParametersByPath", input).await;
        assert!(names(&page).len() <= 2);
        got.extend(names(&page));
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(got.len(), 7, "{got:?}");
    let errors: Vec<(Value, &str)> = vec![
        (json!({"Path": "app"}), "ValidationException"),
        (json!({"Path": "/aws/x"}), "ValidationException"),
        (json!({}), "ValidationException"),
        (
            json!({"Path": "/", "MaxResults": 11}),
            "ValidationException",
        ),
        (json!({"Path": "/", "NextToken": "xyz"}), "InvalidNextToken"),
        (
            json!({"Path": "/", "ParameterFilters": [{"Key": "Name", "Values": ["a"]}]}),
            "InvalidFilterKey",
        ),
        (
            json!({"Path": "/", "ParameterFilters": [{"Key": "Type", "Option": "BeginsWith",
                                                     "Values": ["String"]}]}),
            "InvalidFilterOption",
        ),
        (
            json!({"Path": "/", "ParameterFilters": [{"Key": "Type", "Values": ["Int"]}]}),
            "InvalidFilterValue",
        ),
    ];
    for (input, code) in errors {
        assert_eq!(
            h.err("GetParametersByPath", input.clone()).await.code,
            code,
            "{input}"
        );
    }
}

#[tokio::test]
async fn describe_filters_and_pages() {
    let h = H::new();
    for n in ["/fleet/web", "/fleet/db", "/fleet/x/deep", "plain"] {
        h.put(n, "v", "String").await;
    }
    h.ok(
        "PutParameter",
        json!({"Name": "/fleet/big", "Value": "v", "Type": "String", "Tier": "Advanced",
               "Description": "d"}),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["Parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["Name"].as_str().unwrap().to_string())
            .collect()
    };
    let d = |f: Value| h.ok("DescribeParameters", json!({"ParameterFilters": f}));
    assert_eq!(
        names(&d(json!([{"Key": "Path", "Values": ["/fleet"]}])).await),
        vec!["/fleet/big", "/fleet/db", "/fleet/web"]
    );
    assert_eq!(
        names(&d(json!([{"Key": "Path", "Option": "Recursive", "Values": ["/fleet"]}])).await)
            .len(),
        4
    );
    assert_eq!(
        names(&d(json!([{"Key": "Name", "Option": "BeginsWith", "Values": ["/fleet/d"]}])).await),
        vec!["/fleet/db"]
    );
    assert_eq!(
        names(&d(json!([{"Key": "Name", "Values": ["fleet/web"]}])).await),
        vec!["/fleet/web"]
    );
    assert_eq!(
        names(&d(json!([{"Key": "Name", "Option": "Contains", "Values": ["lai"]}])).await),
        vec!["plain"]
    );
    let adv = d(json!([{"Key": "Tier", "Values": ["Advanced"]}])).await;
    assert_eq!(names(&adv), vec!["/fleet/big"]);
    assert_eq!(adv["Parameters"][0]["Description"], "d");
    assert_eq!(adv["Parameters"][0]["Version"], 1);
    assert!(adv["Parameters"][0].get("Value").is_none());
    let old = h
        .ok(
            "DescribeParameters",
            json!({"Filters": [{"Key": "Name", "Values": ["/fleet/w"]}]}),
        )
        .await;
    assert_eq!(names(&old), vec!["/fleet/web"]);
    let first = h.ok("DescribeParameters", json!({"MaxResults": 3})).await;
    assert_eq!(names(&first).len(), 3);
    let rest = h
        .ok(
            "DescribeParameters",
            json!({"MaxResults": 50, "NextToken": first["NextToken"]}),
        )
        .await;
    assert_eq!(names(&rest).len(), 2);
    assert!(rest.get("NextToken").is_none());
    let errors: Vec<(Value, &str)> = vec![
        (
            json!({"Filters": [{"Key": "Name", "Values": ["a"]}],
                   "ParameterFilters": [{"Key": "Name", "Values": ["a"]}]}),
            "ValidationException",
        ),
        (
            json!({"ParameterFilters": [{"Key": "Colour", "Values": ["a"]}]}),
            "InvalidFilterKey",
        ),
        (
            json!({"ParameterFilters": [{"Key": "Name"}]}),
            "InvalidFilterValue",
        ),
        (
            json!({"ParameterFilters": [{"Key": "Path", "Values": ["nopath"]}]}),
            "InvalidFilterValue",
        ),
        (
            json!({"ParameterFilters": [{"Key": "Path", "Option": "Equals", "Values": ["/a"]}]}),
            "InvalidFilterOption",
        ),
        (
            json!({"Filters": [{"Key": "Path", "Values": ["/a"]}]}),
            "InvalidFilterKey",
        ),
        (json!({"MaxResults": 51}), "ValidationException"),
        (json!({"NextToken": "bogus"}), "InvalidNextToken"),
    ];
    for (input, code) in errors {
        assert_eq!(
            h.err("DescribeParameters", input.clone()).await.code,
            code,
            "{input}"
        );
    }
}

#[tokio::test]
async fn history_pages_and_errors() {
    let h = H::new();
    h.put("p", "0", "String").await;
    for i in 1..5 {
        h.ok(
            "PutParameter",
            json!({"Name": "p", "Value": i.to_string(), "Overwrite": true}),
        )
        .await;
    }
    let first = h
        .ok("GetParameterHistory", json!({"Name": "p", "MaxResults": 3}))
        .await;
    assert_eq!(first["Parameters"].as_array().unwrap().len(), 3);
    let rest = h
        .ok(
            "GetParameterHistory",
            json!({"Name": "p", "NextToken": first["NextToken"]}),
        )
        .await;
    let versions: Vec<_> = rest["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![4, 5]);
    assert_eq!(
        h.err("GetParameterHistory", json!({"Name": "q"}))
            .await
            .code,
        "ParameterNotFound"
    );
    assert_eq!(
        h.err(
            "GetParameterHistory",
            json!({"Name": "p", "NextToken": "zz"})
        )
        .await
        .code,
        "InvalidNextToken"
    );
    assert_eq!(
        h.err(
            "GetParameterHistory",
            json!({"Name": "p", "MaxResults": 51})
        )
        .await
        .code,
        "ValidationException"
    );
}

#[tokio::test]
async fn delete_one_and_many() {
    let h = H::new();
    h.put("a", "1", "String").await;
    h.put("b", "1", "String").await;
    h.put("c", "1", "String").await;
    assert_eq!(
        h.ok("DeleteParameter", json!({"Name": "a"})).await,
        json!({})
    );
    let e = h.err("DeleteParameter", json!({"Name": "a"})).await;
    assert_eq!(e.code, "ParameterNotFound");
    assert_eq!(
        h.err("DeleteParameter", json!({})).await.code,
        "ValidationException"
    );
    let r = h
        .ok("DeleteParameters", json!({"Names": ["b", "zz", "c", "b"]}))
        .await;
    assert_eq!(
        r,
        json!({"DeletedParameters": ["b", "c"], "InvalidParameters": ["zz"]})
    );
    // Created again: versions restart at 1.
    assert_eq!(h.put("b", "2", "String").await["Version"], 1);
    let names: Vec<String> = (0..11).map(|i| format!("n{i}")).collect();
    assert_eq!(
        h.err("DeleteParameters", json!({"Names": names}))
            .await
            .code,
        "ValidationException"
    );
}

#[tokio::test]
async fn unknown_operations_are_named() {
    let h = H::new();
    let e = h.err("LabelParameterVersion", json!({})).await;
    assert_eq!(e.code, "UnknownOperationException");
    assert_eq!(msg(&e), "Unknown operation AmazonSSM.LabelParameterVersion");
}
