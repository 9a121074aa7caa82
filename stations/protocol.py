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
# The server failed while handling the client's message (a bug, logged).
CLOSE_INTERNAL_ERROR = 1011

# Error codes of {"type": "error"} messages.
BAD_REQUEST = "bad_request"
AUTH_REQUIRED = "auth_required"
FORBIDDEN = "forbidden"
TOO_LONG = "too_long"
RATE_LIMITED = "rate_limited"
UNSUPPORTED_FORMAT = "unsupported_format"
IDLE = "idle"
INPUT_FAILED = "input_failed"
TOO_FAST = "too_fast"

# Longest username a client may name (Django's ``AbstractUser`` allows 150).
MAX_USERNAME_CHARS = 150
# Largest id a client may name: ids are 64-bit signed integers in the database.
MAX_ID = 2**63 - 1


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
    if not storable(value):
        raise ProtocolError(
            f'"{name}" holds a character that text may not hold (NUL, or half '
            "of a UTF-16 surrogate pair)."
        )
    if len(value) > max_chars:
        raise ProtocolError(
            f'"{name}" is longer than {max_chars} characters.', TOO_LONG
        )
    return value


def storable(text: str) -> bool:
    """Whether ``text`` can be stored and sent on as UTF-8 text.

    JSON escapes can spell a lone surrogate (``"\\ud800"``), which UTF-8
    cannot encode, and NUL, which PostgreSQL refuses in text.
    """
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def is_id(value: Any) -> bool:
    """Whether ``value`` can be the id of a database row."""
    return type(value) is int and 0 < value <= MAX_ID


def id_field(message: dict[str, Any], name: str) -> int:
    """A field of ``message`` that names a database row by its id."""
    value = message.get(name)
    if not is_id(value):
        raise ProtocolError(f'"{name}" must be a whole number from 1 to 2**63-1.')
    return value


def username_field(message: dict[str, Any], name: str) -> str:
    """A field of ``message`` that names a user; it must not be empty."""
    username = text_field(message, name, max_chars=MAX_USERNAME_CHARS)
    if not username:
        raise ProtocolError(f'"{name}" must name a user.')
    return username
