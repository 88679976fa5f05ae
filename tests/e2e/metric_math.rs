//! Metric math and anomaly detection through boto3 against the real collector.

use crate::util::{assert_ok, Collector};

#[test]
fn get_metric_data_with_expressions_and_bands() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    assert_ok(&c.python("metric_math.py", &[]));
}
