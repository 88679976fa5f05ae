//! Which service and protocol a request speaks, and how replies are rendered for it.
//!
//! All four services share one port. A request is routed by, in order:
//! 1. its `X-Amz-Target` header: `GraniteServiceVersion20100801.Op` (CloudWatch, awsJson 1.0),
//!    `Logs_20140328.Op`, `AWSEvents.Op`, `AmazonSSM.Op` (awsJson 1.1);
//! 2. otherwise it is awsQuery (`Action=Op` in a form body); the SigV4 credential scope's service
//!    names the service, CloudWatch when absent.
//!
//! CloudWatch is "query compatible": its JSON errors also carry `x-amzn-query-error:
//! <QueryCode>;Sender|Receiver`, from which botocore takes the error code it matches modelled
//! exceptions against.

use crate::{ApiError, Shape};

/// The services the collector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    CloudWatch,
    Logs,
    Events,
    Ssm,
}

impl Service {
    /// The SigV4 signing name.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::CloudWatch => "monitoring",
            Service::Logs => "logs",
            Service::Events => "events",
            Service::Ssm => "ssm",
        }
    }

    /// The `X-Amz-Target` prefix.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Service::CloudWatch => "GraniteServiceVersion20100801",
            Service::Logs => "Logs_20140328",
            Service::Events => "AWSEvents",
            Service::Ssm => "AmazonSSM",
        }
    }

    /// From a SigV4 signing name.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        [
            Service::CloudWatch,
            Service::Logs,
            Service::Events,
            Service::Ssm,
        ]
        .into_iter()
        .find(|s| s.signing_name() == name)
    }

    /// The awsQuery XML namespace (CloudWatch is the only query service here).
    pub fn xml_namespace(self) -> &'static str {
        "http://monitoring.amazonaws.com/doc/2010-08-01/"
    }
}

/// The request encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson 1.0; `query_mode` is set when the client sent `x-amzn-query-mode: true`.
    AwsJson10 {
        query_mode: bool,
    },
    AwsJson11,
    AwsQuery,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub service: Service,
    pub protocol: Protocol,
    /// The operation for JSON protocols; awsQuery names it in the body (`Action`).
    pub operation: Option<String>,
}

/// Route a request by its `X-Amz-Target` header (if any) and SigV4 scope service (if any).
pub fn route(
    target: Option<&str>,
    query_mode: bool,
    scope_service: Option<&str>,
) -> Result<Route, ApiError> {
    if let Some(target) = target {
        let (prefix, op) = target
            .split_once('.')
            .ok_or_else(|| unknown_operation(target))?;
        let service = [
            Service::CloudWatch,
            Service::Logs,
            Service::Events,
            Service::Ssm,
        ]
        .into_iter()
        .find(|s| s.target_prefix() == prefix)
        .ok_or_else(|| unknown_operation(target))?;
        let protocol = match service {
            Service::CloudWatch => Protocol::AwsJson10 { query_mode },
            _ => Protocol::AwsJson11,
        };
        return Ok(Route {
            service,
            protocol,
            operation: Some(op.to_string()),
        });
    }
    let service = scope_service
        .and_then(Service::from_signing_name)
        .unwrap_or(Service::CloudWatch);
    Ok(Route {
        service,
        protocol: Protocol::AwsQuery,
        operation: None,
    })
}

fn unknown_operation(target: &str) -> ApiError {
    ApiError::new(
        "UnknownOperationException",
        400,
        format!("Unknown operation {target}"),
    )
}

/// A rendered HTTP reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

fn json_content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::AwsJson10 { .. } => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

/// Render a successful reply. `output` is `None` for operations without output members.
pub fn render_ok(
    route: &Route,
    operation: &str,
    output: Option<&Shape>,
    request_id: &str,
) -> Reply {
    match route.protocol {
        Protocol::AwsQuery => {
            let mut xml = format!(
                "<{operation}Response xmlns=\"{}\">",
                route.service.xml_namespace()
            );
            if let Some(out) = output {
                xml.push_str(&format!("<{operation}Result>"));
                out.write_xml(&mut xml);
                xml.push_str(&format!("</{operation}Result>"));
            }
            xml.push_str(&format!(
                "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
            ));
            Reply {
                status: 200,
                headers: vec![
                    ("content-type", "text/xml".to_string()),
                    ("x-amzn-RequestId", request_id.to_string()),
                ],
                body: xml.into_bytes(),
            }
        }
        protocol => {
            let body = match output {
                Some(s) => s.to_json().to_string(),
                None => "{}".to_string(),
            };
            Reply {
                status: 200,
                headers: vec![
                    ("content-type", json_content_type(protocol).to_string()),
                    ("x-amzn-RequestId", request_id.to_string()),
                ],
                body: body.into_bytes(),
            }
        }
    }
}

/// Render an error reply.
pub fn render_error(route: &Route, err: &ApiError, request_id: &str) -> Reply {
    match route.protocol {
        Protocol::AwsQuery => {
            let mut xml = format!(
                "<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code>",
                route.service.xml_namespace(),
                err.fault(),
                err.query_code()
            );
            if let Some(m) = &err.message {
                xml.push_str("<Message>");
                crate::shape::escape_xml(m, &mut xml);
                xml.push_str("</Message>");
            }
            xml.push_str(&format!(
                "</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ));
            Reply {
                status: err.status,
                headers: vec![
                    ("content-type", "text/xml".to_string()),
                    ("x-amzn-RequestId", request_id.to_string()),
                ],
                body: xml.into_bytes(),
            }
        }
        protocol => {
            let mut body = serde_json::Map::new();
            body.insert("__type".into(), err.code.clone().into());
            if let Some(m) = &err.message {
                body.insert("message".into(), m.clone().into());
            }
            let mut headers = vec![
                ("content-type", json_content_type(protocol).to_string()),
                ("x-amzn-RequestId", request_id.to_string()),
            ];
            if route.service == Service::CloudWatch {
                headers.push((
                    "x-amzn-query-error",
                    format!("{};{}", err.query_code(), err.fault()),
                ));
            }
            Reply {
                status: err.status,
                headers,
                body: serde_json::Value::Object(body).to_string().into_bytes(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_target_then_scope() {
        let r = route(
            Some("GraniteServiceVersion20100801.PutMetricData"),
            true,
            None,
        )
        .unwrap();
        assert_eq!(r.service, Service::CloudWatch);
        assert_eq!(r.protocol, Protocol::AwsJson10 { query_mode: true });
        assert_eq!(r.operation.as_deref(), Some("PutMetricData"));
        let r = route(Some("Logs_20140328.PutLogEvents"), false, None).unwrap();
        assert_eq!(
            (r.service, r.protocol),
            (Service::Logs, Protocol::AwsJson11)
        );
        let r = route(None, false, Some("monitoring")).unwrap();
        assert_eq!(
            (r.service, r.protocol, r.operation),
            (Service::CloudWatch, Protocol::AwsQuery, None)
        );
        assert!(route(Some("Nope.X"), false, None).is_err());
        assert!(route(Some("NoDot"), false, None).is_err());
    }

    #[test]
    fn cloudwatch_json_errors_carry_query_code() {
        let r = route(
            Some("GraniteServiceVersion20100801.PutMetricData"),
            true,
            None,
        )
        .unwrap();
        let e = ApiError::invalid_parameter_value("bad");
        let reply = render_error(&r, &e, "rid");
        assert_eq!(reply.status, 400);
        assert!(reply.headers.contains(&(
            "x-amzn-query-error",
            "InvalidParameterValue;Sender".to_string()
        )));
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"__type":"InvalidParameterValueException","message":"bad"})
        );
    }

    #[test]
    fn query_replies_are_xml() {
        let r = route(None, false, None).unwrap();
        let ok = render_ok(
            &r,
            "ListMetrics",
            Some(&Shape::obj().with("Metrics", Shape::list(Vec::<Shape>::new()))),
            "rid",
        );
        assert_eq!(
            String::from_utf8(ok.body).unwrap(),
            "<ListMetricsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ListMetricsResult><Metrics></Metrics></ListMetricsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListMetricsResponse>"
        );
        let err = render_error(&r, &ApiError::invalid_parameter_value("a<b"), "rid");
        assert_eq!(
            String::from_utf8(err.body).unwrap(),
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>a&lt;b</Message></Error><RequestId>rid</RequestId></ErrorResponse>"
        );
    }
}
