"""Names and shapes of the wire protocol (docs/PROTOCOL.md) in one place."""

from __future__ import annotations

import json
from typing import Any

# Close codes.
CLOSE_BAD_REQUEST = 4400
CLOSE_SIGN_IN_REQUIRED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NO_SUCH_STATION = 4404
CLOSE_TOO_FAR_BEHIND = 4408
CLOSE_DJ_ALREADY_LIVE = 4409
CLOSE_MESSAGE_TOO_BIG = 1009

# Error codes of {"type": "error"} messages.
BAD_REQUEST = "bad_request"
AUTH_REQUIRED = "auth_required"
FORBIDDEN = "forbidden"
TOO_LONG = "too_long"
RATE_LIMITED = "rate_limited"
UNSUPPORTED_FORMAT = "unsupported_format"
IDLE = "idle"
INPUT_FAILED = "input_failed"


class ProtocolError(Exception):
    """A client message that breaks the protocol; answered with ``error``."""

    def __init__(self, message: str, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def decode_message(text: str) -> dict[str, Any]:
    """A client's JSON message, which must be an object with a ``type``."""
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError("Messages must be JSON.") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError('Messages must be JSON objects with a "type".')
    return message


def text_field(message: dict[str, Any], name: str, *, max_chars: int) -> str:
    """A string field of ``message``, trimmed; missing means empty."""
    value = message.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ProtocolError(f'"{name}" must be a string.')
    value = value.strip()
    if len(value) > max_chars:
        raise ProtocolError(
            f'"{name}" is longer than {max_chars} characters.', TOO_LONG
        )
    return value
