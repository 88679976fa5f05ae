//! The HTTP front: listener, request pipeline, health check.
//!
//! `GET /` and `/dashboard/*` are the web dashboard (see `crate::dashboard`).
//!
//! Pipeline for `POST /` (every API request):
//! 1. body read with a size cap (`max_body_bytes`);
//! 2. service family guessed from `X-Amz-Target` or the SigV4 scope, only to choose the error
//!    dialect for authentication failures;
//! 3. SigV4 verification against the key store and the clock (15 minutes of skew);
//! 4. `Content-Encoding: gzip` inflated, capped at `max_body_bytes`;
//! 5. routed by target / Action to the service handler; the reply is rendered in the request's
//!    protocol with an `x-amzn-RequestId`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwatch_aws::protocol::{self, Reply, Route};
use hostwatch_aws::sigv4::SignableRequest;
use hostwatch_aws::{gzip, query, ApiError, Credentials, Protocol, Service};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::api::cloudwatch::{check_request_size, CloudWatchApi};
use crate::api::logs::LogsApi;
use crate::api::RequestContext;
use crate::auth::{self, KeyStore};
use crate::clock::SharedClock;
use crate::config::CollectorConfig;
use crate::store::StoreError;

/// Shared state of a running collector.
#[derive(Debug)]
pub struct AppState {
    pub keys: KeyStore,
    pub clock: SharedClock,
    pub region: String,
    pub account_id: String,
    pub max_body: usize,
    /// Permits for API requests in flight (see `max_inflight_requests`).
    pub inflight: tokio::sync::Semaphore,
    pub data_dir: PathBuf,
    pub cloudwatch: CloudWatchApi,
    pub logs: LogsApi,
    pub events: crate::api::events::EventsApi,
    pub ssm: crate::api::ssm::SsmApi,
    /// Dashboard sign-in sessions.
    pub sessions: crate::dashboard::Sessions,
}

/// Failure to start the collector.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Keys(#[from] auth::KeyError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// A started collector.
#[derive(Debug)]
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// `Some` when a key pair was generated on this start.
    pub generated_credentials: Option<Credentials>,
    /// Where the admin credentials file is (when keys come from the data directory).
    pub credentials_file: Option<PathBuf>,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The alarm evaluation loop.
    alarms: crate::alarms::scheduler::Scheduler,
    /// The event delivery loop.
    events: crate::events::Worker,
    /// The event service (for the `Collector Stopping` event).
    event_service: Arc<crate::events::EventService>,
    /// When serving started (clock ms).
    started_ms: i64,
    /// The shared state (for ending Live Tail sessions at shutdown).
    state: Arc<AppState>,
}

impl Running {
    /// Stop accepting connections, let in-flight requests finish (up to `grace`), and wait.
    pub async fn shutdown(self, grace: std::time::Duration) -> std::io::Result<()> {
        // Open Live Tail streams end after a last update instead of holding the grace period.
        self.state.logs.live_tail().close_sessions();
        self.handle.graceful_shutdown(Some(grace));
        let served = match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        };
        self.alarms.stop().await;
        let svc = &self.event_service;
        let uptime_s = (svc.clock().now_ms() - self.started_ms) / 1000;
        match svc.collector_stopping(uptime_s).await {
            // One last delivery round; what it cannot deliver stays queued for the next start.
            Ok(()) => match tokio::time::timeout(grace, svc.tick()).await {
                Ok(Err(e)) => tracing::warn!(error = %e, "Last event delivery round failed."),
                Err(_) => tracing::warn!("Last event delivery round timed out."),
                Ok(Ok(_)) => {}
            },
            Err(e) => tracing::warn!(error = %e, "Cannot record the Collector Stopping event."),
        }
        self.events.stop().await;
        served
    }
}

/// Build the router for `state` (also used by in-process tests).
pub fn app(state: Arc<AppState>) -> Router {
    let limit = state.max_body;
    Router::new()
        .route("/", post(api_request).get(crate::dashboard::routes::index))
        .route("/dashboard/api", post(crate::dashboard::routes::api))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_inflight,
        ))
        .merge(crate::dashboard::router())
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Open the stores, set up keys, bind the listener and start serving.
pub async fn serve(config: CollectorConfig, clock: SharedClock) -> Result<Running, CollectorError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| CollectorError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let mut keys = KeyStore::from_config(&config.keys);
    let mut generated = None;
    let mut credentials_file = None;
    if keys.is_empty() {
        let (creds, created) = auth::ensure_admin_credentials(&config.data_dir)?;
        keys.insert(&creds);
        credentials_file = Some(config.data_dir.join("credentials"));
        if created {
            generated = Some(creds);
        }
    }
    let cloudwatch = CloudWatchApi::open(&config.data_dir, clock.clone())?;
    let alarms = crate::alarms::AlarmService::open(
        &config.data_dir,
        cloudwatch.store().clone(),
        Some(cloudwatch.anomaly().clone()),
        clock.clone(),
        crate::alarms::Scope {
            region: config.region.clone(),
            account: config.account_id.clone(),
        },
    )?;
    cloudwatch.attach_alarms(alarms.clone());
    let logs =
        LogsApi::open(&config.data_dir, clock.clone())?.with_export_dir(config.export_dir())?;
    logs.resume_exports()?;
    let events = crate::events::EventService::open(
        &config.data_dir,
        clock.clone(),
        &config.region,
        &config.account_id,
    )?;
    events.attach_alarms(alarms.clone());
    if let Some(bundle) = &config.events.target_ca_bundle {
        let pem = std::fs::read(bundle)
            .map_err(|e| CollectorError::Tls(format!("{}: {e}", bundle.display())))?;
        events
            .set_target_ca(&pem)
            .map_err(|e| CollectorError::Tls(format!("{}: {e}", bundle.display())))?;
    }
    logs.attach_metrics(cloudwatch.store().clone());
    events.attach_metrics(cloudwatch.store().clone());
    logs.attach_events(events.clone());
    let state = Arc::new(AppState {
        keys,
        clock,
        region: config.region.clone(),
        account_id: config.account_id.clone(),
        max_body: config.max_body_bytes,
        inflight: tokio::sync::Semaphore::new(config.max_inflight_requests.max(1)),
        data_dir: config.data_dir.clone(),
        cloudwatch,
        logs,
        events: crate::api::events::EventsApi::new(events.clone()),
        ssm: crate::api::ssm::SsmApi::open(&config.data_dir)?,
        sessions: crate::dashboard::Sessions::new(config.tls.is_some()),
    });
    let weak_state = Arc::downgrade(&state);
    let log_sink: std::sync::Weak<dyn crate::events::target::LogSink> = weak_state;
    events.attach_logs(log_sink);
    let events_worker = events.start();
    let router = app(state.clone());
    let std_listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| CollectorError::Listen {
            addr: config.listen,
            source,
        })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| CollectorError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = std_listener
        .local_addr()
        .map_err(|source| CollectorError::Listen {
            addr: config.listen,
            source,
        })?;
    let handle = axum_server::Handle::new();
    let service = router.into_make_service();
    let task = match &config.tls {
        None => {
            let server = axum_server::from_tcp(std_listener).handle(handle.clone());
            tokio::spawn(async move { server.serve(service).await })
        }
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .map_err(|e| CollectorError::Tls(format!("{}: {e}", tls.cert.display())))?;
            let server =
                axum_server::from_tcp_rustls(std_listener, rustls_config).handle(handle.clone());
            tokio::spawn(async move { server.serve(service).await })
        }
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    events
        .collector_started(&format!("{scheme}://{addr}"))
        .await?;
    Ok(Running {
        addr,
        generated_credentials: generated,
        credentials_file,
        handle,
        task,
        alarms: alarms.start(),
        events: events_worker,
        started_ms: events.clock().now_ms(),
        event_service: events,
        state,
    })
}

/// Hold a permit while a request's body is read and served, so at most `max_inflight_requests`
/// bodies are in memory at once.
async fn limit_inflight(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match state.inflight.acquire().await {
        Ok(_permit) => next.run(request).await,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let dir = state.data_dir.clone();
    let ok = tokio::task::spawn_blocking(move || {
        let p = dir.join(".healthz");
        std::fs::write(&p, b"ok").and_then(|_| std::fs::remove_file(&p))
    })
    .await;
    match ok {
        Ok(Ok(())) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage not writable: {e}\n"),
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("health check failed: {e}\n"),
        )
            .into_response(),
    }
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request id in the form AWS uses (a UUID).
pub(crate) fn new_request_id() -> String {
    crate::alarms::events::uuid_v4()
}

pub(crate) fn into_response(reply: Reply) -> Response {
    let mut resp = Response::new(axum::body::Body::from(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// The SigV4 scope service, read without validating anything else.
fn scope_service(headers: &HeaderMap) -> Option<String> {
    let auth = header(headers, "authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    cred.split([',', ' '])
        .next()?
        .split('/')
        .nth(3)
        .map(str::to_string)
}

async fn api_request(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_request_id();
    let target = header(&headers, "x-amz-target");
    let query_mode =
        header(&headers, "x-amzn-query-mode").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let scope = scope_service(&headers);
    let route = match protocol::route(target, query_mode, scope.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            let fallback = Route {
                service: Service::Logs,
                protocol: Protocol::AwsJson11,
                operation: None,
            };
            return into_response(protocol::render_error(&fallback, &e, &request_id));
        }
    };
    let now_ms = state.clock.now_ms();
    let signable = SignableRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: headers
            .iter()
            .filter_map(|(n, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (n.as_str().to_string(), v.to_string()))
            })
            .collect(),
        body: &body,
    };
    let identity = match auth::authenticate(&state.keys, &signable, now_ms, route.service) {
        Ok(i) => i,
        Err(e) => return into_response(protocol::render_error(&route, &e, &request_id)),
    };
    let gzipped =
        header(&headers, "content-encoding").is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    let body: Vec<u8> = if gzipped {
        match gzip::inflate(&body, state.max_body) {
            Ok(b) => b,
            Err(e) => {
                let err = match e {
                    gzip::GzipError::TooLarge(_) => entity_too_large(&route, state.max_body),
                    gzip::GzipError::Corrupt(_) => malformed(&route, &e.to_string()),
                };
                return into_response(protocol::render_error(&route, &err, &request_id));
            }
        }
    } else {
        body.to_vec()
    };
    let ctx = RequestContext {
        request_id: request_id.clone(),
        identity,
        protocol: route.protocol,
        region: state.region.clone(),
        account_id: state.account_id.clone(),
        now_ms,
    };
    if route.service == Service::Logs && route.operation.as_deref() == Some("StartLiveTail") {
        return match state.logs.start_live_tail(&body, &ctx) {
            Ok(frames) => crate::api::logs::live_tail::response(frames, &request_id),
            Err(e) => into_response(protocol::render_error(&route, &e, &request_id)),
        };
    }
    dispatch(&state, &route, &body, &ctx).await
}

/// Run an authenticated request's operation and render the reply in its protocol. Shared by the
/// SigV4 path above and the dashboard's session-cookie path, so both reach the same handlers.
pub(crate) async fn dispatch(
    state: &AppState,
    route: &Route,
    body: &[u8],
    ctx: &RequestContext,
) -> Response {
    let request_id = ctx.request_id.as_str();
    let (operation, result) = match (route.service, &route.operation) {
        // Logs parses its own JSON bodies: PutLogEvents is read straight from the bytes.
        (Service::Logs, Some(op)) => (op.clone(), state.logs.handle_body(op, body, ctx).await),
        (Service::Events, Some(op)) => (op.clone(), state.events.handle_body(op, body, ctx).await),
        (Service::Ssm, Some(op)) => (op.clone(), state.ssm.handle_body(op, body, ctx).await),
        // So does CloudWatch over awsJson 1.0 (PutMetricData straight from the bytes).
        (Service::CloudWatch, Some(op)) if route.protocol != Protocol::AwsQuery => (
            op.clone(),
            state.cloudwatch.handle_json_body(op, body, ctx).await,
        ),
        _ => match decode(route, body) {
            Err(e) => return into_response(protocol::render_error(route, &e, request_id)),
            Ok((op, input)) => {
                let result = match route.service {
                    Service::CloudWatch => match check_request_size(&op, body.len()) {
                        Ok(()) => state.cloudwatch.handle(&op, input, ctx).await,
                        Err(e) => Err(e),
                    },
                    Service::Logs => state.logs.handle(&op, input, ctx).await,
                    Service::Events => state.events.handle(&op, input, ctx).await,
                    Service::Ssm => state.ssm.handle(&op, input, ctx).await,
                };
                (op, result)
            }
        },
    };
    match result {
        Ok(out) => {
            tracing::debug!(request_id, service = ?route.service, operation, "Request served.");
            into_response(protocol::render_ok(
                route,
                &operation,
                out.as_ref(),
                request_id,
            ))
        }
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(request_id, operation, error = %e, "Request failed.");
            } else {
                tracing::debug!(request_id, operation, error = %e, "Request rejected.");
            }
            into_response(protocol::render_error(route, &e, request_id))
        }
    }
}

fn entity_too_large(route: &Route, max: usize) -> ApiError {
    let msg = format!("Request body exceeds the maximum of {max} bytes.");
    if route.service == Service::CloudWatch {
        ApiError::cloudwatch("RequestEntityTooLarge", msg)
    } else {
        ApiError::new("RequestEntityTooLargeException", 413, msg)
    }
}

fn malformed(route: &Route, msg: &str) -> ApiError {
    if route.service == Service::CloudWatch {
        ApiError::cloudwatch("MalformedInput", msg.to_string())
    } else {
        ApiError::new("SerializationException", 400, msg.to_string())
    }
}

fn decode(route: &Route, body: &[u8]) -> Result<(String, serde_json::Value), ApiError> {
    match (route.protocol, &route.operation) {
        (Protocol::AwsQuery, _) => {
            let q = query::decode(body).map_err(|e| match e {
                query::QueryError::MissingAction => ApiError::cloudwatch(
                    "MissingAction",
                    "Could not find operation. Missing Action parameter.",
                )
                .with_status(400),
                other => malformed(route, &other.to_string()),
            })?;
            Ok((q.action, q.params))
        }
        (_, Some(op)) => Ok((
            op.clone(),
            crate::api::parse_json_body(body, route.service == Service::CloudWatch)?,
        )),
        (_, None) => Err(malformed(route, "Missing operation.")),
    }
}
