"""Call-ins on the station sockets: the caller's room socket, the DJ's
console, and the server between them (stations/calls/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from radio import protocol
from stations.calls.models import Call, CallerBlock, CallRules
from stations.models import Station

from .clients import (
    TIMEOUT_S,
    messages_within,
    receive_json,
    receive_type,
)
from .conftest import STATION_SLUG, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
ANSWER = {
    "description": {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
}
CANDIDATE = {
    "candidate": {
        "candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }
}
# Every message the console may get besides the queue and signals.
CONSOLE_CHATTER = ("listeners", "chat.history")


@database_sync_to_async
def set_rules(station: Station, **rules) -> None:
    CallRules.objects.update_or_create(station=station, defaults=rules)


@database_sync_to_async
def call_row(call_id: int) -> Call:
    return Call.objects.get(pk=call_id)


@pytest.fixture
async def open_line(station):
    """The station takes calls."""
    await set_rules(station, enabled=True)


@pytest.fixture
def second_caller(transactional_db):
    return signed_in("second-caller")[1]


async def queue(console) -> dict:
    """The console's next ``calls`` message."""
    return await receive_json(console, skip=CONSOLE_CHATTER)


async def call_in(sockets, persona, text: str = "") -> tuple[object, dict]:
    """A listener in the room who has called: their socket and ``call``."""
    room, _ = await sockets.join(STATION_SLUG, persona)
    await room.send_json_to({"type": "call.request", "text": text})
    return room, await receive_type(room, "call")


async def answered(sockets, dj, listener) -> tuple[object, object, int]:
    """A console and a caller whose call it answered."""
    console = await sockets.studio(STATION_SLUG, dj)
    room, call = await call_in(sockets, listener)
    await queue(console)
    await console.send_json_to({"type": "call.accept", "id": call["id"]})
    assert (await receive_type(room, "call"))["state"] == "private"
    await queue(console)
    return console, room, call["id"]


# --- Raising a hand ------------------------------------------------------------


async def test_a_call_waits_in_every_console_queue(
    sockets, station, open_line, dj, co_dj, listener
):
    first = await sockets.studio(STATION_SLUG, dj)
    second = await sockets.studio(STATION_SLUG, co_dj)
    _room, call = await call_in(sockets, listener, "  About the last song  ")
    assert call == {"type": "call", "id": call["id"], "state": "waiting"}
    for console in (first, second):
        message = await queue(console)
        assert message["enabled"] and not message["paused"]
        [waiting] = message["calls"]
        assert waiting["id"] == call["id"]
        assert waiting["user"] == "listener"
        assert waiting["text"] == "About the last song"
        assert waiting["state"] == "waiting"
        assert waiting["answered_by"] is None and waiting["ends_at"] is None


async def test_the_console_gets_the_queue_on_connect(
    sockets, station, open_line, dj, listener
):
    await call_in(sockets, listener)
    console = await sockets.connect(f"/ws/stations/{STATION_SLUG}/broadcast/", dj)
    message = await queue(console)
    assert [call["user"] for call in message["calls"]] == ["listener"]
    assert message["time_limit_s"] == 600


async def test_listeners_never_hear_of_calls(
    sockets, station, open_line, dj, listener, anonymous
):
    bystander, _ = await sockets.join(STATION_SLUG, anonymous)
    console, caller, call_id = await answered(sockets, dj, listener)
    await caller.send_json_to({"type": "call.signal", "id": call_id, "signal": OFFER})
    await receive_type(console, "call.signal")
    heard = await messages_within(bystander, 0.5)
    kinds = {message["type"] for message in heard if isinstance(message, dict)}
    assert not kinds & {"call", "calls", "call.signal"}


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ({}, protocol.CALLS_CLOSED),
        ({"enabled": False}, protocol.CALLS_CLOSED),
        ({"enabled": True, "paused": True}, protocol.CALLS_CLOSED),
    ],
    ids=["no-rules", "off", "paused"],
)
async def test_a_station_not_taking_calls_refuses(
    sockets, station, listener, rules, code
):
    if rules:
        await set_rules(station, **rules)
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "call.request"})
    assert (await receive_type(room, "error"))["code"] == code
    assert not await Call.objects.filter(station=station).aexists()


async def test_an_anonymous_listener_cannot_call(
    sockets, station, open_line, anonymous
):
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    await room.send_json_to({"type": "call.request"})
    assert (await receive_type(room, "error"))["code"] == protocol.AUTH_REQUIRED
    assert not await Call.objects.aexists()


async def test_the_topic_has_a_size_limit(sockets, station, open_line, listener):
    room, _ = await sockets.join(STATION_SLUG, listener)
    text = "x" * (protocol.CALL_MAX_TEXT_CHARS + 1)
    await room.send_json_to({"type": "call.request", "text": text})
    assert (await receive_type(room, "error"))["code"] == protocol.TOO_LONG


async def test_lines_busy_when_the_queue_is_full(
    sockets, station, listener, second_caller
):
    await set_rules(station, enabled=True, max_waiting=1)
    await call_in(sockets, listener)
    room, _ = await sockets.join(STATION_SLUG, second_caller)
    await room.send_json_to({"type": "call.request"})
    assert (await receive_type(room, "error"))["code"] == protocol.LINE_BUSY


async def test_calling_again_replaces_the_open_call(
    sockets, station, open_line, listener
):
    first_tab, first = await call_in(sockets, listener)
    _second_tab, second = await call_in(sockets, listener)
    ended = await receive_type(first_tab, "call")
    assert ended == {
        "type": "call",
        "id": first["id"],
        "state": "ended",
        "reason": "replaced",
    }
    assert second["state"] == "waiting" and second["id"] != first["id"]


# --- Answering, signalling -------------------------------------------------------


async def test_answering_connects_the_two_sides(
    sockets, station, open_line, dj, listener
):
    console = await sockets.studio(STATION_SLUG, dj)
    room, call = await call_in(sockets, listener)
    await queue(console)
    await console.send_json_to({"type": "call.accept", "id": call["id"]})
    answered_call = await receive_type(room, "call")
    assert answered_call["state"] == "private"
    assert answered_call["ice_servers"] == []
    row = await call_row(call["id"])
    assert (
        answered_call["ends_at"]
        == (row.answered_at + timedelta(minutes=10)).isoformat()
    )
    [listed] = (await queue(console))["calls"]
    assert listed["state"] == "private" and listed["answered_by"] == "dj"

    await room.send_json_to({"type": "call.signal", "id": call["id"], "signal": OFFER})
    await room.send_json_to(
        {"type": "call.signal", "id": call["id"], "signal": CANDIDATE}
    )
    offer = await receive_type(console, "call.signal")
    assert offer == {"type": "call.signal", "id": call["id"], "signal": OFFER}
    assert (await receive_type(console, "call.signal"))["signal"] == CANDIDATE
    await console.send_json_to(
        {"type": "call.signal", "id": call["id"], "signal": ANSWER}
    )
    assert (await receive_type(room, "call.signal"))["signal"] == ANSWER


async def test_nothing_is_sent_before_the_dj_answers(
    sockets, station, open_line, listener
):
    room, call = await call_in(sockets, listener)
    await room.send_json_to({"type": "call.signal", "id": call["id"], "signal": OFFER})
    assert (await receive_type(room, "error"))["code"] == protocol.NO_SUCH_CALL


async def test_a_console_signals_only_calls_it_answered(
    sockets, station, open_line, dj, co_dj, listener
):
    _, _, call_id = await answered(sockets, dj, listener)
    other = await sockets.studio(STATION_SLUG, co_dj)
    await other.send_json_to({"type": "call.signal", "id": call_id, "signal": ANSWER})
    assert (await receive_type(other, "error"))["code"] == protocol.NO_SUCH_CALL
    await other.send_json_to({"type": "call.air", "id": call_id})
    assert (await receive_type(other, "error"))["code"] == protocol.NO_SUCH_CALL


@pytest.mark.parametrize(
    "signal",
    [
        {},
        {"description": {"type": "pranswer", "sdp": "v=0"}},
        {"description": {"type": "offer", "sdp": 5}},
        {"candidate": {"candidate": "x", "sdpMLineIndex": -1}},
        {"candidate": "candidate:1"},
        {"description": OFFER["description"], "candidate": None},
    ],
    ids=["empty", "pranswer", "sdp-not-text", "bad-index", "not-object", "both"],
)
async def test_malformed_signals_are_refused(
    sockets, station, open_line, dj, listener, signal
):
    console, room, call_id = await answered(sockets, dj, listener)
    await room.send_json_to({"type": "call.signal", "id": call_id, "signal": signal})
    assert (await receive_type(room, "error"))["code"] == protocol.BAD_REQUEST
    # The call goes on.
    await room.send_json_to({"type": "call.signal", "id": call_id, "signal": OFFER})
    assert (await receive_type(console, "call.signal"))["signal"] == OFFER


async def test_a_description_has_a_size_limit(
    sockets, station, open_line, dj, listener
):
    _, room, call_id = await answered(sockets, dj, listener)
    sdp = "a=x\r\n" * (protocol.CALL_MAX_SDP_CHARS // 5 + 1)
    signal = {"description": {"type": "offer", "sdp": sdp}}
    with override_settings(RADIO_MAX_TEXT_FRAME_BYTES=64 * 1024):
        await room.send_json_to(
            {"type": "call.signal", "id": call_id, "signal": signal}
        )
        assert (await receive_type(room, "error"))["code"] == protocol.TOO_LONG


# --- On air, on hold ----------------------------------------------------------


async def test_a_second_caller_on_air_puts_the_first_on_hold(
    sockets, station, open_line, dj, listener, second_caller
):
    console, first_room, first_id = await answered(sockets, dj, listener)
    await console.send_json_to({"type": "call.air", "id": first_id})
    assert (await receive_type(first_room, "call"))["state"] == "on_air"
    await queue(console)

    second_room, second = await call_in(sockets, second_caller)
    await queue(console)
    await console.send_json_to({"type": "call.accept", "id": second["id"]})
    assert (await receive_type(second_room, "call"))["state"] == "private"
    await queue(console)
    await console.send_json_to({"type": "call.air", "id": second["id"]})

    assert (await receive_type(second_room, "call"))["state"] == "on_air"
    assert (await receive_type(first_room, "call"))["state"] == "hold"
    states = {call["user"]: call["state"] for call in (await queue(console))["calls"]}
    assert states == {"listener": "hold", "second-caller": "on_air"}


async def test_the_dj_moves_a_call_off_air_and_back(
    sockets, station, open_line, dj, listener
):
    console, room, call_id = await answered(sockets, dj, listener)
    for kind, state in [
        ("call.air", "on_air"),
        ("call.hold", "hold"),
        ("call.private", "private"),
    ]:
        await console.send_json_to({"type": kind, "id": call_id})
        assert (await receive_type(room, "call"))["state"] == state


# --- Ending -----------------------------------------------------------------------


async def test_the_caller_hangs_up(sockets, station, open_line, dj, listener):
    console, room, call_id = await answered(sockets, dj, listener)
    await room.send_json_to({"type": "call.hangup", "id": call_id})
    assert (await receive_type(room, "call"))["reason"] == "caller"
    assert (await queue(console))["calls"] == []
    await room.send_json_to({"type": "call.signal", "id": call_id, "signal": OFFER})
    assert (await receive_type(room, "error"))["code"] == protocol.NO_SUCH_CALL


async def test_the_dj_declines_and_hangs_up(sockets, station, open_line, dj, listener):
    console = await sockets.studio(STATION_SLUG, dj)
    room, call = await call_in(sockets, listener)
    await queue(console)
    await console.send_json_to({"type": "call.hangup", "id": call["id"]})
    assert (await receive_type(room, "call"))["reason"] == "declined"
    assert (await queue(console))["calls"] == []

    await room.send_json_to({"type": "call.request"})
    again = await receive_type(room, "call")
    await queue(console)
    await console.send_json_to({"type": "call.accept", "id": again["id"]})
    await receive_type(room, "call")
    await queue(console)
    await console.send_json_to({"type": "call.hangup", "id": again["id"]})
    assert (await receive_type(room, "call"))["reason"] == "dj"


async def test_a_blocked_caller_cannot_call_again(
    sockets, station, open_line, dj, listener
):
    console = await sockets.studio(STATION_SLUG, dj)
    room, call = await call_in(sockets, listener)
    await queue(console)
    await console.send_json_to({"type": "call.block", "id": call["id"]})
    assert (await receive_type(room, "call"))["reason"] == "blocked"
    assert await CallerBlock.objects.filter(
        station=station, user__username="listener"
    ).aexists()
    await room.send_json_to({"type": "call.request"})
    assert (await receive_type(room, "error"))["code"] == protocol.FORBIDDEN


async def test_the_time_limit_ends_the_call(sockets, station, dj, listener):
    await set_rules(station, enabled=True, time_limit=timedelta(seconds=1))
    console, room, call_id = await answered(sockets, dj, listener)
    ended = await receive_type(room, "call", timeout=TIMEOUT_S)
    assert ended["state"] == "ended" and ended["reason"] == "time_limit"
    assert (await queue(console))["calls"] == []
    row = await call_row(call_id)
    assert timedelta(seconds=1) <= row.ended_at - row.answered_at < timedelta(seconds=3)


async def test_a_dropped_caller_frees_the_line_at_once(
    sockets, station, open_line, dj, listener
):
    console, room, call_id = await answered(sockets, dj, listener)
    await room.disconnect(code=1006)
    assert (await queue(console))["calls"] == []
    assert (await call_row(call_id)).end_reason == "dropped"


async def test_a_closed_console_ends_the_calls_it_answered(
    sockets, station, open_line, dj, listener
):
    console, room, _call_id = await answered(sockets, dj, listener)
    await console.disconnect(code=1001)
    ended = await receive_type(room, "call")
    assert ended["state"] == "ended" and ended["reason"] == "dropped"


async def test_pausing_stops_new_calls(sockets, station, open_line, dj, listener):
    console = await sockets.studio(STATION_SLUG, dj)
    await console.send_json_to({"type": "calls.pause", "paused": True})
    assert (await queue(console))["paused"] is True
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "call.request"})
    assert (await receive_type(room, "error"))["code"] == protocol.CALLS_CLOSED
    await console.send_json_to({"type": "calls.pause", "paused": "yes"})
    assert (await receive_type(console, "error"))["code"] == protocol.BAD_REQUEST


async def test_a_listener_cannot_use_the_console_messages(
    sockets, station, open_line, listener
):
    room, call = await call_in(sockets, listener)
    await room.send_json_to({"type": "call.accept", "id": call["id"]})
    assert (await receive_type(room, "error"))["code"] == protocol.BAD_REQUEST
    assert (await call_row(call["id"])).state == "waiting"


async def test_signals_have_a_rate_limit(sockets, station, open_line, dj, listener):
    console, room, call_id = await answered(sockets, dj, listener)
    with override_settings(
        RADIO_CALL_SIGNALS_BURST=3, RADIO_CALL_SIGNALS_PER_SECOND=0.01
    ):
        for _ in range(4):
            await room.send_json_to(
                {"type": "call.signal", "id": call_id, "signal": CANDIDATE}
            )
        assert (await receive_type(room, "error"))["code"] == protocol.RATE_LIMITED
    relayed = [
        m
        for m in await messages_within(console, 0.3)
        if isinstance(m, dict) and m["type"] == "call.signal"
    ]
    assert len(relayed) == 3


async def test_a_waiting_call_ends_when_its_caller_leaves(
    sockets, station, open_line, dj, listener
):
    console = await sockets.studio(STATION_SLUG, dj)
    room, call = await call_in(sockets, listener)
    await queue(console)
    # disconnect() returns once the consumer has handled it.
    await room.disconnect()
    assert (await call_row(call["id"])).end_reason == "caller"
    assert (await queue(console))["calls"] == []
