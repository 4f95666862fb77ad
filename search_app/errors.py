"""One error shape for the API: {"error": {"code", "message", "field"}}."""
from __future__ import annotations

from flask import jsonify


def api_error(status: int, code: str, message: str, field: str | None = None):
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response
