//! The Parameter Store with the real AWS CLI: put, get (versions, SecureString with and
//! without decryption), by path with the CLI's own paging, describe, history, delete, and the
//! errors the CLI shows.

use crate::util::Collector;

fn err_of(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn aws_cli_put_get_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let v = c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web/config",
        "--type",
        "String",
        "--value",
        "{\"agent\":{}}",
    ]);
    assert_eq!(v["Version"], 1);
    assert_eq!(v["Tier"], "Standard");
    let out = c.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web/config",
        "--type",
        "String",
        "--value",
        "x",
    ]);
    let e = err_of(&out);
    assert!(e.contains("(ParameterAlreadyExists)"), "{e}");
    let v = c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web/config",
        "--value",
        "{\"agent\":{\"debug\":true}}",
        "--overwrite",
    ]);
    assert_eq!(v["Version"], 2);
    let p = c.aws_json(&["ssm", "get-parameter", "--name", "/fleet/web/config"]);
    assert_eq!(p["Parameter"]["Value"], "{\"agent\":{\"debug\":true}}");
    assert_eq!(
        p["Parameter"]["ARN"],
        "arn:aws:ssm:us-east-1:000000000000:parameter/fleet/web/config"
    );
    let p = c.aws_json(&["ssm", "get-parameter", "--name", "/fleet/web/config:1"]);
    assert_eq!(p["Parameter"]["Value"], "{\"agent\":{}}");

    c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web/token",
        "--type",
        "SecureString",
        "--value",
        "s3cret",
    ]);
    let sealed = c.aws_json(&["ssm", "get-parameter", "--name", "/fleet/web/token"]);
    let sealed = sealed["Parameter"]["Value"].as_str().unwrap().to_string();
    assert_ne!(sealed, "s3cret");
    let open = c.aws_json(&[
        "ssm",
        "get-parameter",
        "--name",
        "/fleet/web/token",
        "--with-decryption",
    ]);
    assert_eq!(open["Parameter"]["Value"], "s3cret");

    crate::util::assert_ok(&c.python("ssm_put_many.py", &["/fleet/hosts/h", "12"]));
    // The CLI follows NextToken by itself (pages of 10).
    let all = c.aws_json(&[
        "ssm",
        "get-parameters-by-path",
        "--path",
        "/fleet",
        "--recursive",
    ]);
    assert_eq!(all["Parameters"].as_array().unwrap().len(), 14);
    let d = c.aws_json(&[
        "ssm",
        "describe-parameters",
        "--parameter-filters",
        "Key=Type,Values=SecureString",
    ]);
    assert_eq!(d["Parameters"].as_array().unwrap().len(), 1);
    assert_eq!(d["Parameters"][0]["KeyId"], "alias/aws/ssm");
    let h = c.aws_json(&[
        "ssm",
        "get-parameter-history",
        "--name",
        "/fleet/web/config",
    ]);
    assert_eq!(h["Parameters"].as_array().unwrap().len(), 2);
    let many = c.aws_json(&[
        "ssm",
        "get-parameters",
        "--names",
        "/fleet/hosts/h00",
        "/nope",
    ]);
    assert_eq!(many["InvalidParameters"], serde_json::json!(["/nope"]));

    let e = err_of(&c.aws(&["ssm", "get-parameter", "--name", "/nope"]));
    assert!(e.contains("(ParameterNotFound)"), "{e}");
    let e = err_of(&c.aws(&["ssm", "get-parameter", "--name", "/fleet/web/config:9"]));
    assert!(e.contains("(ParameterVersionNotFound)"), "{e}");
    let e = err_of(&c.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/aws/reserved",
        "--type",
        "String",
        "--value",
        "v",
    ]));
    assert!(e.contains("(ValidationException)"), "{e}");
    c.aws_json(&["ssm", "delete-parameter", "--name", "/fleet/web/token"]);
    let e = err_of(&c.aws(&["ssm", "delete-parameter", "--name", "/fleet/web/token"]));
    assert!(e.contains("(ParameterNotFound)"), "{e}");
    let d = c.aws_json(&[
        "ssm",
        "delete-parameters",
        "--names",
        "/fleet/hosts/h00",
        "/nope",
    ]);
    assert_eq!(
        d["DeletedParameters"],
        serde_json::json!(["/fleet/hosts/h00"])
    );
    assert_eq!(d["InvalidParameters"], serde_json::json!(["/nope"]));

    // The store and the key survive a restart.
    drop(c);
    let c = Collector::start(&dir.path().join("collector"));
    let open = c.aws_json(&["ssm", "get-parameter", "--name", "/fleet/web/config"]);
    assert_eq!(open["Parameter"]["Version"], 2);
}
