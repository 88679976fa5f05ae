//! Data model shared by the hostwatch agent and collector.
//!
//! These types are the contract between the two binaries and follow CloudWatch's own names:
//! a [`MetricDatum`] is one `MetricData` member of `PutMetricData`, a [`Unit`] is a CloudWatch
//! `StandardUnit`, a [`LogEvent`] is one `InputLogEvent` of `PutLogEvents`.
//!
//! Invariants kept by the constructors and validators here (and relied on by the store):
//! - a [`DatumValue::Distribution`] has as many counts as values, every count is positive, and
//!   its optional statistic set obeys the statistic-set rule below;
//! - a [`DatumValue::StatisticSet`] has `sample_count > 0` and `min <= max`;
//! - every number is finite (CloudWatch rejects NaN and infinities).

mod datum;
mod unit;

pub use datum::{DatumValue, Dimension, LogEvent, MetricDatum, MetricKey, StatisticSet};
pub use unit::{Unit, UnknownUnit};
