//! awsJson 1.0 and awsQuery store the same thing and answer in their own format.

use crate::util::{assert_ok, Collector};

#[test]
fn json_and_query_agree() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    assert_ok(&c.python("protocols.py", &[]));
}
