//! AWS wire protocols for hostwatch.
//!
//! This crate holds everything that is about *how* AWS clients talk, not *what* the services do:
//!
//! - [`sigv4`]: Signature Version 4, both signing (the agent) and verification (the collector),
//!   sharing one canonical-request implementation so the two can never drift apart;
//! - [`protocol`]: the three request encodings CloudWatch clients use (awsJson 1.0 with or without
//!   `x-amzn-query-mode`, awsJson 1.1, awsQuery) and how replies and errors are rendered for each;
//! - [`shape`]: a protocol-neutral output tree ([`shape::Shape`]) rendered either as JSON or as the
//!   awsQuery XML reply;
//! - [`query`]: decoding an awsQuery form body into a JSON tree so one typed input struct (with the
//!   [`lenient`] deserialisers) serves both protocols;
//! - [`error`]: [`ApiError`], the AWS error shape (code, query code, HTTP status, sender/receiver);
//! - [`credentials`]: access keys and the shared-credentials INI file;
//! - [`gzip`]: request-body compression and bounded decompression;
//! - [`eventstream`]: the binary framing of streamed replies (`application/vnd.amazon.eventstream`).

pub mod credentials;
pub mod error;
pub mod eventstream;
pub mod gzip;
pub mod lenient;
pub mod protocol;
pub mod query;
pub mod shape;
pub mod sigv4;

pub use credentials::Credentials;
pub use error::ApiError;
pub use protocol::{Protocol, Service};
pub use shape::Shape;
