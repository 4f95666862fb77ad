"""One error shape for the API: {"error": {"code", "message", "field"}}."""
from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

# The code for an HTTP error that has no more specific one.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "index_unavailable",
}

INTERNAL_ERROR_MESSAGE = "Something went wrong on our side; please try again."
INDEX_UNAVAILABLE_MESSAGE = "The search index is not available right now; please try again in a moment."


def api_error(status: int, code: str, message: str, field: str | None = None,
              headers: dict[str, str] | None = None):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_api_error(err: HTTPException):
    """A werkzeug HTTP error (404, 405, 413, ...) in the API's shape, keeping
    the headers that matter (Allow on a 405)."""
    status = err.code or 500
    code = HTTP_CODES.get(status) or (err.name or "error").lower().replace(" ", "_")
    messages = {
        404: "There is nothing at this address. The API is described at /openapi.json and /api/docs.",
        405: "This address does not accept that method.",
        413: "The request body is too large.",
    }
    headers = {}
    if status == 405 and getattr(err, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(err.valid_methods))
    message = messages.get(status) or err.description or err.name or "Request failed."
    return api_error(status, code, message, headers=headers)
