//! The web dashboard served at `/`.
//!
//! - [`assets`]: the page's HTML, CSS and JavaScript modules, embedded in the binary;
//! - [`sessions`]: sign-in with an access key pair from the key store, answered with a session
//!   cookie; a per-session CSRF token;
//! - [`routes`]: `GET /`, `GET /assets/{file}`, `POST /dashboard/login`, `POST /dashboard/logout`,
//!   `GET /dashboard/session` and `POST /dashboard/api`.
//!
//! The page reads and writes only through the collector's own APIs: `POST /dashboard/api` takes
//! the same awsJson bodies and `X-Amz-Target` headers as `POST /` and hands them to the same
//! dispatch (`server::dispatch`), authenticated by the session cookie and the CSRF header instead
//! of SigV4. So every handler the dashboard uses is exactly the one the AWS CLI reaches.

pub mod assets;
pub mod routes;
pub mod sessions;

pub use routes::router;
pub use sessions::Sessions;
