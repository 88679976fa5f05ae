//! The dashboard's HTTP routes.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page shell (sign-in form or the app, decided by the page) |
//! | `GET /assets/{file}` | embedded CSS and JavaScript modules |
//! | `POST /dashboard/login` | JSON `{"accessKeyId","secretAccessKey"}`; checked against the key store; answers `Set-Cookie` and `{"accessKeyId","csrfToken"}` |
//! | `GET /dashboard/session` | the signed-in key id and CSRF token, or 401 |
//! | `POST /dashboard/logout` | ends the session (CSRF header required) and clears the cookie |
//! | `POST /dashboard/api` | an API call: awsJson body and `X-Amz-Target`, as on `POST /`, authenticated by the session cookie and the `X-Hostwatch-Csrf` header |
//!
//! Requests without a live session get 401, a wrong or missing CSRF token 403, both with a
//! JSON error body (`__type`, `message`). Sign-in bodies must be `application/json`, which a
//! cross-site HTML form cannot send. The secret key of a sign-in is compared and dropped; it
//! never appears in a reply or a log line.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hostwatch_aws::protocol;
use std::sync::Arc;

use super::assets;
use super::sessions::{cookie_session_id, Session, CSRF_HEADER};
use crate::api::RequestContext;
use crate::auth::Identity;
use crate::server::{self, AppState};

/// Content-Security-Policy for everything the dashboard serves: only our own files.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard routes, to be merged into the collector's router.
pub fn router() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/assets/{file}", get(asset))
        .route("/dashboard/login", post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/session", get(session))
}

fn with_security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_security_headers(resp)
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"__type": code, "message": message}).to_string();
    no_store((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /`: the page shell.
pub async fn index() -> Response {
    with_security_headers(
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            assets::INDEX_HTML,
        )
            .into_response(),
    )
}

async fn asset(Path(file): Path<String>) -> Response {
    match assets::find(&file) {
        Some(a) => with_security_headers(
            (
                [
                    (header::CONTENT_TYPE, a.content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                a.body,
            )
                .into_response(),
        ),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// The session named by the request's cookie, if live.
fn current(state: &AppState, headers: &HeaderMap) -> Option<(String, Session)> {
    let now = state.clock.now_ms();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(cookie_session_id)
        .find_map(|id| state.sessions.get(id, now).map(|s| (id.to_string(), s)))
}

fn csrf_ok(headers: &HeaderMap, session: &Session) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            super::sessions::constant_time_eq(t.as_bytes(), session.csrf_token.as_bytes())
        })
}

fn unauthenticated() -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        "MissingAuthenticationTokenException",
        "Sign in to the dashboard first.",
    )
}

fn bad_csrf() -> Response {
    json_error(
        StatusCode::FORBIDDEN,
        "AccessDeniedException",
        "The request is missing the session's CSRF token.",
    )
}

fn session_body(s: &Session) -> String {
    serde_json::json!({"accessKeyId": s.access_key_id, "csrfToken": s.csrf_token}).to_string()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    access_key_id: String,
    secret_access_key: String,
}

async fn login(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "Sign in with a JSON body.",
        );
    }
    let Ok(sign_in) = serde_json::from_slice::<SignIn>(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "Expected {\"accessKeyId\": ..., \"secretAccessKey\": ...}.",
        );
    };
    let key_id = sign_in.access_key_id.trim();
    if !state.keys.check_secret(key_id, &sign_in.secret_access_key) {
        tracing::info!("Dashboard sign-in refused.");
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UnrecognizedClientException",
            "The access key ID or secret access key is not valid.",
        );
    }
    let now = state.clock.now_ms();
    let (id, s) = state.sessions.create(key_id, now);
    tracing::info!(access_key_id = key_id, "Dashboard sign-in.");
    let cookie = state.sessions.set_cookie(&id, now, s.expires_ms);
    no_store(
        (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::SET_COOKIE, cookie),
            ],
            session_body(&s),
        )
            .into_response(),
    )
}

async fn session(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match current(&state, &headers) {
        Some((_, s)) => no_store(
            (
                [(header::CONTENT_TYPE, "application/json")],
                session_body(&s),
            )
                .into_response(),
        ),
        None => unauthenticated(),
    }
}

async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some((id, s)) = current(&state, &headers) else {
        return unauthenticated();
    };
    if !csrf_ok(&headers, &s) {
        return bad_csrf();
    }
    state.sessions.remove(&id);
    no_store(
        (
            StatusCode::NO_CONTENT,
            [(header::SET_COOKIE, state.sessions.clear_cookie())],
        )
            .into_response(),
    )
}

/// `POST /dashboard/api`: one API call through the same dispatch as `POST /`.
pub async fn api(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((_, s)) = current(&state, &headers) else {
        return unauthenticated();
    };
    if !csrf_ok(&headers, &s) {
        return bad_csrf();
    }
    let request_id = server::new_request_id();
    let target = server::header(&headers, "x-amz-target");
    let route = match protocol::route(target, false, None) {
        Ok(r) if r.operation.is_some() => r,
        Ok(r) => {
            let e = hostwatch_aws::ApiError::new(
                "UnknownOperationException",
                400,
                "The dashboard API needs an X-Amz-Target header.",
            );
            return no_store(server::into_response(protocol::render_error(
                &r,
                &e,
                &request_id,
            )));
        }
        Err(e) => {
            let fallback = protocol::Route {
                service: hostwatch_aws::Service::Logs,
                protocol: hostwatch_aws::Protocol::AwsJson11,
                operation: None,
            };
            return no_store(server::into_response(protocol::render_error(
                &fallback,
                &e,
                &request_id,
            )));
        }
    };
    let ctx = RequestContext {
        request_id,
        identity: Identity {
            access_key_id: s.access_key_id,
            region: state.region.clone(),
            service: route.service.signing_name().to_string(),
        },
        protocol: route.protocol,
        region: state.region.clone(),
        account_id: state.account_id.clone(),
        now_ms: state.clock.now_ms(),
    };
    no_store(server::dispatch(&state, &route, &body, &ctx).await)
}
