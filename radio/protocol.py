"""The wire protocol (docs/PROTOCOL.md), defined once: every message type,
close code, error code and limit that clients see, and the checks of the
fields clients send.

Plain Python with no Django imports: the audio path (``stations.streaming``)
uses it too. The pages get what they need of it through
:func:`for_pages`, never from copies.
"""

from __future__ import annotations

import json
import re
from typing import Any

# --- Message types -----------------------------------------------------------
# The station room and the DJ's broadcast socket, server to client.
HELLO = "hello"
NOW_PLAYING = "now_playing"
ON_AIR = "on_air"
LISTENERS = "listeners"
LIVE = "live"
CHAT = "chat"
CHAT_HISTORY = "chat.history"
CHAT_DELETED = "chat.deleted"
CHAT_MUTED = "chat.muted"
CHAT_UNMUTED = "chat.unmuted"
ERROR = "error"
# The broadcast socket: the DJ's slot ends soon (stations that keep DJs to
# their slots).
SLOT_ENDING = "slot_ending"
SCHEDULE = "schedule"
# Call-ins: a caller's call (the room socket), the queue (the DJs' consoles),
# and the WebRTC signalling between the two sides (both).
CALL = "call"
CALLS = "calls"
CALL_SIGNAL = "call.signal"
# Client to server (each names its handler: ``chat.delete``, ``handle_chat_delete``).
START = "start"
STOP = "stop"
CHAT_DELETE = "chat.delete"
CHAT_MUTE = "chat.mute"
CHAT_UNMUTE = "chat.unmute"
CALL_REQUEST = "call.request"
CALL_HANGUP = "call.hangup"
CALL_ACCEPT = "call.accept"
CALL_AIR = "call.air"
CALL_PRIVATE = "call.private"
CALL_HOLD = "call.hold"
CALL_BLOCK = "call.block"
CALLS_PAUSE = "calls.pause"
# The inbox, ``/ws/inbox/``.
INBOX_SEND = "inbox.send"
INBOX_SENT = "inbox.sent"
INBOX_READ = "inbox.read"
INBOX_BLOCK = "inbox.block"
INBOX_BLOCKED = "inbox.blocked"
INBOX_UNBLOCK = "inbox.unblock"
INBOX_UNBLOCKED = "inbox.unblocked"
INBOX_MESSAGE = "inbox.message"
INBOX_UNREAD = "inbox.unread"
MESSAGE_TYPES = (
    HELLO, NOW_PLAYING, ON_AIR, LISTENERS, LIVE, CHAT, CHAT_HISTORY, CHAT_DELETED,
    CHAT_MUTED, CHAT_UNMUTED, ERROR, START, STOP, CHAT_DELETE, CHAT_MUTE,
    CHAT_UNMUTE, INBOX_SEND, INBOX_SENT, INBOX_READ, INBOX_BLOCK, INBOX_BLOCKED,
    INBOX_UNBLOCK, INBOX_UNBLOCKED, INBOX_MESSAGE, INBOX_UNREAD, SLOT_ENDING,
    SCHEDULE, CALL, CALLS, CALL_SIGNAL, CALL_REQUEST, CALL_HANGUP, CALL_ACCEPT,
    CALL_AIR, CALL_PRIVATE, CALL_HOLD, CALL_BLOCK, CALLS_PAUSE,
)  # fmt: skip

# --- Close codes -------------------------------------------------------------
# What a client sends when it leaves on purpose.
DELIBERATE_CLOSE_CODES = frozenset({1000, 1001})
CLOSE_BAD_REQUEST = 4400
CLOSE_SIGN_IN_REQUIRED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NO_SUCH_STATION = 4404
CLOSE_TOO_FAR_BEHIND = 4408
CLOSE_DJ_ALREADY_LIVE = 4409
# Not the DJ's slot: refused in answer to ``start``, or taken off air after it.
CLOSE_OUTSIDE_SLOT = 4410
# The station has its ``max_listeners`` listeners already.
CLOSE_STATION_FULL = 4503
# The client's address holds RADIO_MAX_CONNECTIONS_PER_IP connections here.
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_MESSAGE_TOO_BIG = 1009
# The database was away while the socket joined or checked the user's rights.
CLOSE_TRY_AGAIN_LATER = 1013
# The server failed while handling the client's message (a bug, logged).
CLOSE_INTERNAL_ERROR = 1011
# The worker is stopping (a deploy): connect again at once, to another.
CLOSE_SERVICE_RESTART = 1012

# --- Error codes of {"type": "error"} messages ---------------------------------
BAD_REQUEST = "bad_request"
AUTH_REQUIRED = "auth_required"
FORBIDDEN = "forbidden"
TOO_LONG = "too_long"
RATE_LIMITED = "rate_limited"
UNSUPPORTED_FORMAT = "unsupported_format"
IDLE = "idle"
INPUT_FAILED = "input_failed"
TOO_FAST = "too_fast"
UNKNOWN_USER = "unknown_user"
OUTSIDE_SLOT = "outside_slot"
SLOT_ENDED = "slot_ended"
# The server cannot reach Redis or the database, which it needs for that, for now.
UNAVAILABLE = "unavailable"
# The DJ's station was taken by another producer; the broadcast ended.
TAKEN_OVER = "taken_over"
# The station takes no calls now (call-ins off, or paused by its DJs).
CALLS_CLOSED = "calls_closed"
# As many callers wait as the station lets wait.
LINE_BUSY = "line_busy"
# The call named is not one this socket may act on (ended, or someone else's).
NO_SUCH_CALL = "no_such_call"
ERROR_CODES = (
    BAD_REQUEST, AUTH_REQUIRED, FORBIDDEN, TOO_LONG, RATE_LIMITED,
    UNSUPPORTED_FORMAT, IDLE, INPUT_FAILED, TOO_FAST, UNKNOWN_USER, OUTSIDE_SLOT,
    SLOT_ENDED, UNAVAILABLE, TAKEN_OVER, CALLS_CLOSED, LINE_BUSY, NO_SUCH_CALL,
)  # fmt: skip

# --- Limits ------------------------------------------------------------------
# Longest chat message, in characters after trimming.
CHAT_MAX_CHARS = 500
# How many recent messages a joining client gets in ``chat.history``.
CHAT_HISTORY_MESSAGES = 50
# Longest title or artist a DJ may set, in characters.
MAX_TITLE_CHARS = 200
# Longest ``format`` of ``start``, in characters.
MAX_FORMAT_CHARS = 100
# Most usernames a DJ's ``listeners`` message lists.
MAX_LISTED_USERS = 500
# Longest username a client may name (Django's ``AbstractUser`` allows 150).
MAX_USERNAME_CHARS = 150
# Longest station slug a client may name (``Station.slug``).
MAX_SLUG_CHARS = 50
# Largest id a client may name: ids are 64-bit signed integers in the database.
MAX_ID = 2**63 - 1
# Longest private message, in characters after trimming.
INBOX_MAX_TEXT_CHARS = 1000
# Longest ``client_id`` of ``inbox.send``: room for a UUID in any spelling.
INBOX_MAX_CLIENT_ID_CHARS = 64
# Most unread messages sent on connect, oldest first; older ones wait until
# these are read.
INBOX_MAX_UNREAD = 200
# Most ids one ``inbox.read`` may carry.
INBOX_MAX_READ_IDS = 200
# The longest AutoDJ crossfade a station may have, in milliseconds.
CROSSFADE_MAX_MS = 10_000
# Longest line a caller may say what they call about, in characters.
CALL_MAX_TEXT_CHARS = 200
# Longest session description (SDP) and ICE candidate of ``call.signal``;
# a browser's audio-only offer is about 2,000 characters.
CALL_MAX_SDP_CHARS = 3500
CALL_MAX_CANDIDATE_CHARS = 500


class ProtocolError(Exception):
    """A client message that breaks the protocol; answered with ``error``."""

    def __init__(self, message: str, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code


def encode(message: dict[str, Any]) -> str:
    """A server message as the JSON text sent on the wire."""
    return json.dumps(message, separators=(",", ":"))


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": ERROR, "code": code, "message": message}


def decode_message(text: str) -> dict[str, Any]:
    """A client's JSON message, which must be an object with a ``type``."""
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError("Messages must be JSON.") from None
    except RecursionError:
        # A few thousand nested arrays fit in a frame, and outrun the parser.
        raise ProtocolError("Messages must not nest so deeply.") from None
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


def call_signal_field(message: dict[str, Any]) -> dict[str, Any]:
    """The WebRTC ``signal`` of a ``call.signal``, rebuilt from its checked
    fields: ``{"description": {"type", "sdp"}}`` or ``{"candidate": {...}}``
    (``null``: no more candidates)."""
    signal = message.get("signal")
    if isinstance(signal, dict) and signal.keys() == {"description"}:
        return {"description": _session_description(signal["description"])}
    if isinstance(signal, dict) and signal.keys() == {"candidate"}:
        candidate = signal["candidate"]
        return {"candidate": None if candidate is None else _ice_candidate(candidate)}
    raise ProtocolError('"signal" must be an object with "description" or "candidate".')


def _session_description(description: Any) -> dict[str, str]:
    if not isinstance(description, dict) or description.get("type") not in (
        "offer",
        "answer",
    ):
        raise ProtocolError('A description\'s "type" must be "offer" or "answer".')
    sdp = text_field(description, "sdp", max_chars=CALL_MAX_SDP_CHARS)
    # Trimmed by text_field; every line of an SDP ends with CRLF.
    return {"type": description["type"], "sdp": sdp + "\r\n"}


def _ice_candidate(candidate: Any) -> dict[str, Any]:
    if not isinstance(candidate, dict):
        raise ProtocolError('"candidate" must be an object or null.')
    line_index = candidate.get("sdpMLineIndex")
    if line_index is not None and not (
        type(line_index) is int and 0 <= line_index < 64
    ):
        raise ProtocolError('"sdpMLineIndex" must be a small whole number or null.')
    text = text_field(candidate, "candidate", max_chars=CALL_MAX_CANDIDATE_CHARS)
    return {
        "candidate": text,
        "sdpMid": text_field(candidate, "sdpMid", max_chars=64) or None,
        "sdpMLineIndex": line_index,
        "usernameFragment": text_field(candidate, "usernameFragment", max_chars=256)
        or None,
    }


def page_name(wire_name: str) -> str:
    """A wire name as the scripts spell it: ``chat.history`` is chatHistory."""
    first, *rest = re.split(r"[._]", wire_name)
    return first + "".join(word.capitalize() for word in rest)


def for_pages() -> dict[str, Any]:
    """What the pages' scripts need of the protocol, as JSON."""
    return {
        "close": {
            "badRequest": CLOSE_BAD_REQUEST,
            "signInRequired": CLOSE_SIGN_IN_REQUIRED,
            "forbidden": CLOSE_FORBIDDEN,
            "noSuchStation": CLOSE_NO_SUCH_STATION,
            "tooFarBehind": CLOSE_TOO_FAR_BEHIND,
            "djAlreadyLive": CLOSE_DJ_ALREADY_LIVE,
            "outsideSlot": CLOSE_OUTSIDE_SLOT,
            "stationFull": CLOSE_STATION_FULL,
            "tooManyConnections": CLOSE_TOO_MANY_CONNECTIONS,
            "messageTooBig": CLOSE_MESSAGE_TOO_BIG,
            "internalError": CLOSE_INTERNAL_ERROR,
            "serviceRestart": CLOSE_SERVICE_RESTART,
        },
        "limits": {
            "chatMaxChars": CHAT_MAX_CHARS,
            "titleMaxChars": MAX_TITLE_CHARS,
            "usernameMaxChars": MAX_USERNAME_CHARS,
            "inboxMaxTextChars": INBOX_MAX_TEXT_CHARS,
            "inboxMaxReadIds": INBOX_MAX_READ_IDS,
            "crossfadeMaxMs": CROSSFADE_MAX_MS,
            "callMaxTextChars": CALL_MAX_TEXT_CHARS,
        },
        "errors": {page_name(code): code for code in ERROR_CODES},
        "types": {page_name(kind): kind for kind in MESSAGE_TYPES},
    }
