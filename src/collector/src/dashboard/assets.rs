//! The dashboard's static files, embedded in the binary at build time.
//!
//! The page is plain HTML, CSS and JavaScript modules under `src/collector/assets/`; charts are
//! SVG drawn by our own code. Nothing is fetched from elsewhere at run time, and nothing is built:
//! the files are served as they are in the source tree.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file served under `/assets/`.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/style.css"),
    },
    Asset {
        path: "app.js",
        content_type: JS,
        body: include_str!("../../assets/app.js"),
    },
    Asset {
        path: "api.js",
        content_type: JS,
        body: include_str!("../../assets/api.js"),
    },
    Asset {
        path: "chart.js",
        content_type: JS,
        body: include_str!("../../assets/chart.js"),
    },
    Asset {
        path: "metrics.js",
        content_type: JS,
        body: include_str!("../../assets/metrics.js"),
    },
    Asset {
        path: "alarms.js",
        content_type: JS,
        body: include_str!("../../assets/alarms.js"),
    },
    Asset {
        path: "logs.js",
        content_type: JS,
        body: include_str!("../../assets/logs.js"),
    },
    Asset {
        path: "events.js",
        content_type: JS,
        body: include_str!("../../assets/events.js"),
    },
    Asset {
        path: "hosts.js",
        content_type: JS,
        body: include_str!("../../assets/hosts.js"),
    },
    Asset {
        path: "dashboards.js",
        content_type: JS,
        body: include_str!("../../assets/dashboards.js"),
    },
    Asset {
        path: "util.js",
        content_type: JS,
        body: include_str!("../../assets/util.js"),
    },
];

/// The page shell served at `/`.
pub const INDEX_HTML: &str = include_str!("../../assets/index.html");

/// The embedded file at `path` (relative to `/assets/`).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for a in ASSETS {
            for line in a.body.lines() {
                let line = line.trim();
                if let Some(rest) = line.strip_prefix("import ") {
                    let from = rest.rsplit("from ").next().unwrap_or("");
                    let name = from.trim_matches(|c| c == '\'' || c == '"' || c == ';' || c == ' ');
                    let name = name.trim_start_matches("./");
                    assert!(
                        find(name).is_some(),
                        "{} imports {name}, not embedded",
                        a.path
                    );
                }
            }
        }
        assert!(INDEX_HTML.contains("/assets/app.js"));
        assert!(find("../server.rs").is_none());
    }
}
