"""Kubernetes ``Status`` objects and the error that carries one to the HTTP reply."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_object(code: int, message: str, *, reason: str | None = None,
                  details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A failure ``Status`` as the API server sends it."""
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        status["details"] = details
    return status


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        status["details"] = details
    return status


class ApiError(Exception):
    """An API failure; the server turns it into a ``Status`` reply with ``code``."""

    def __init__(self, code: int, message: str, *, reason: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status_object(code, message, reason=reason, details=details)


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    return ApiError(404, f'{what} "{name}" not found',
                    details={"name": name, "group": group, "kind": resource})


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    return ApiError(409, f'{what} "{name}" already exists', reason="AlreadyExists",
                    details={"name": name, "group": group, "kind": resource})


def conflict(resource: str, name: str, group: str = "", why: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    message = f'Operation cannot be fulfilled on {what} "{name}": ' + (
        why or "the object has been modified; please apply your changes to the latest version and try again")
    return ApiError(409, message, reason="Conflict", details={"name": name, "group": group, "kind": resource})


def invalid(kind: str, name: str, message: str, group: str = "") -> ApiError:
    return ApiError(422, f'{kind} "{name}" is invalid: {message}', reason="Invalid",
                    details={"name": name, "group": group, "kind": kind})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, reason="BadRequest")
