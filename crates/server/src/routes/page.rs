//! The web chat page at `/`: one static HTML file with its CSS and JavaScript, compiled in.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("../page.html");

pub async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
            ),
        ],
        PAGE,
    )
        .into_response()
}
