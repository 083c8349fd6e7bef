"""Errors of the controller layer: each carries the status and the wire error body."""


class ApiError(Exception):
    status = 500
    title = "Internal server error"

    def __init__(self, description: str, title: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if title is not None:
            self.title = title

    def to_body(self) -> dict[str, str]:
        return {"title": self.title, "description": self.description}


class Unexpected(ApiError):
    """A failure nobody foresaw: what every transport answers, the details logged."""

    def __init__(self) -> None:
        super().__init__("The request failed unexpectedly; the error was logged.")


class BadRequest(ApiError):
    status = 400
    title = "Invalid API request"


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"


class NotFound(ApiError):
    status = 404
    title = "Not found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    title = "Request body too large"


class UnsupportedMediaType(ApiError):
    status = 415
    title = "Unsupported media type"


class ServiceUnavailable(ApiError):
    status = 503
    title = "Service temporarily unavailable"
