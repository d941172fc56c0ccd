//! The answers every daemon's server gives the same way.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error as JSON `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// Prometheus text (`prometheus_client`'s OpenMetrics encoding).
pub fn metrics(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
