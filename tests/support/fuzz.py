"""Random client frames for the sockets (Hypothesis strategies), and what
docs/PROTOCOL.md documents that the server may answer them with."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from radio import protocol
from tests.support.servers import PROJECT

# Sent after each random frame: its error ends that frame's answer.
SENTINEL_TYPE = "fuzz.sentinel"
SENTINEL = json.dumps({"type": SENTINEL_TYPE})
CLIENT_TYPES = [
    protocol.CHAT, protocol.CHAT_DELETE, protocol.CHAT_MUTE, protocol.CHAT_UNMUTE,
    protocol.START, protocol.STOP, protocol.NOW_PLAYING, protocol.INBOX_SEND,
    protocol.INBOX_READ, protocol.INBOX_BLOCK, protocol.INBOX_UNBLOCK,
]  # fmt: skip
FIELDS = ["text", "to", "ids", "id", "user", "format", "title", "artist", "station"]


# --- What docs/PROTOCOL.md documents -------------------------------------------


def protocol_section(title: str) -> str:
    text = (PROJECT / "docs/PROTOCOL.md").read_text()
    return text.split(f"\n## {title}\n")[1].split("\n## ")[0]


def documented_error_codes() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", protocol_section("Error codes"), re.M))


def documented_close_codes() -> set[int]:
    rows = re.findall(r"^\| (\d{4}) \|", protocol_section("Close codes"), re.M)
    return {int(code) for code in rows}


def is_sentinel_answer(message: dict) -> bool:
    return message["type"] == protocol.ERROR and SENTINEL_TYPE in message["message"]


# --- Random frames --------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
message_types = st.sampled_from(CLIENT_TYPES) | st.text(max_size=30)
messages = st.builds(
    lambda kind, fields, unknown: {**unknown, **fields, "type": kind},
    message_types,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    st.dictionaries(st.text(max_size=10), json_values, max_size=2),
)
nested = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
huge_number = st.integers(min_value=300, max_value=4000).map(lambda n: "9" * n)
# Text as ASGI may carry it: lone surrogates too (daphne passes only UTF-8).
text_frames = st.one_of(
    messages.map(json.dumps),
    messages.map(lambda message: json.dumps(message, ensure_ascii=False)),
    json_values.map(json.dumps),
    nested,
    huge_number,
    nested.map(lambda array: '{"type": "chat", "text": ' + array + "}"),
    st.text(st.characters(codec=None), min_size=1, max_size=200),
    st.text(min_size=4097, max_size=4200),
).filter(lambda frame: SENTINEL_TYPE not in frame)
binary_frames = st.binary(min_size=1, max_size=300)
frames = text_frames | binary_frames
# What a client can send over the wire: text is UTF-8.
wire_frames = binary_frames | text_frames.filter(
    lambda frame: not re.search("[\ud800-\udfff]", frame)
)


def draw_wire_frames(count: int) -> list[str | bytes]:
    """About ``count`` random wire frames, each one Hypothesis example
    (lists of many frames overrun what one example may draw)."""
    drawn: list[str | bytes] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(wire_frames)
    def draw(frame: str | bytes) -> None:
        drawn.append(frame)

    draw()
    return drawn
