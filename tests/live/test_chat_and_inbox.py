"""Chat, private messages and call-ins across two workers sharing Redis and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.live.conftest import DJ, FAN, LISTENER, LOUD_STATION, STATION, STRANGER
from tests.live.test_broadcast import join
from tests.support.clients import connect, next_message, sign_in

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

# How long a socket that must not get a message is watched, after the
# socket that must get it already has.
SILENCE_S = 0.5


@pytest.fixture(scope="module")
def workers(shared_deployment):
    return shared_deployment.start_worker(), shared_deployment.start_worker()


async def open_inbox(worker, user):
    socket = await connect(
        f"{worker.ws_url}/ws/inbox/", cookie=sign_in(worker.http_url, *user)
    )
    unread = await next_message(socket, "inbox.unread")
    return socket, unread["messages"]


async def assert_silent(socket, kind: str) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(SILENCE_S):
            await next_message(socket, kind)


async def test_chat_reaches_the_room_on_every_worker(workers):
    """A chat message sent on one worker reaches listeners and DJs on the other."""
    first, second = workers
    talker = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(first.http_url, *LISTENER),
    )
    await next_message(talker, "hello")
    reader, _ = await join(second)
    console = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(second.http_url, *DJ),
    )
    # Once its history has come, the console is in the room.
    await next_message(console, "chat.history")
    text = "<img src=x onerror=alert(1)> hello from worker one"
    await talker.send(json.dumps({"type": "chat", "text": text}))
    async with asyncio.timeout(10):
        heard = await next_message(reader, "chat")
        seen = await next_message(console, "chat")
    late, _ = await join(second)
    history = await next_message(late, "chat.history")
    for socket in (talker, reader, console, late):
        await socket.close()

    assert (heard["user"], heard["text"]) == (LISTENER[0], text)
    assert seen["id"] == heard["id"]
    assert history["messages"][-1]["id"] == heard["id"]


async def test_chat_never_reaches_another_stations_room(workers):
    """A listener of another station, on either worker, never gets the line."""
    first = workers[0]
    talker = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(first.http_url, *LISTENER),
    )
    await next_message(talker, "chat.history")
    others = [await join(worker, LOUD_STATION) for worker in workers]
    await talker.send(json.dumps({"type": "chat", "text": "only for this room"}))
    async with asyncio.timeout(10):
        await next_message(talker, "chat")
    for other, _ in others:
        await assert_silent(other, "chat")
    for socket in (talker, *(other for other, _ in others)):
        await socket.close()


async def test_private_message_reaches_every_tab_and_nobody_else(workers):
    """Both of a user's connections get it, on both workers; a third user does not."""
    first, second = workers
    tab_one, _ = await open_inbox(first, FAN)
    tab_two, _ = await open_inbox(second, FAN)
    stranger, _ = await open_inbox(second, STRANGER)
    sender, _ = await open_inbox(first, LISTENER)
    await sender.send(json.dumps({"type": "inbox.send", "to": FAN[0], "text": "psst"}))
    async with asyncio.timeout(10):
        sent = await next_message(sender, "inbox.sent")
        got_one = await next_message(tab_one, "inbox.message")
        got_two = await next_message(tab_two, "inbox.message")
    await assert_silent(stranger, "inbox.message")
    for socket in (tab_one, tab_two, stranger, sender):
        await socket.close()

    assert got_one == got_two
    assert (got_one["id"], got_one["from"], got_one["to"]) == (
        sent["id"],
        LISTENER[0],
        FAN[0],
    )
    assert (got_one["text"], got_one["kind"]) == ("psst", "message")


async def test_offline_recipient_gets_messages_on_connect(workers):
    """A message to someone offline is waiting in inbox.unread when they connect."""
    first, second = workers
    sender, _ = await open_inbox(first, DJ)
    await sender.send(
        json.dumps(
            {
                "type": "inbox.send",
                "to": STRANGER[0],
                "text": "shout",
                "station": STATION,
            }
        )
    )
    sent = await next_message(sender, "inbox.sent")
    await sender.close()
    recipient, unread = await open_inbox(second, STRANGER)
    await recipient.close()

    [message] = [message for message in unread if message["id"] == sent["id"]]
    assert (message["kind"], message["station"], message["from"]) == (
        "shoutout",
        STATION,
        DJ[0],
    )


async def test_a_flood_is_limited_while_the_room_stays_responsive(workers):
    """One user's flood is refused; another user's message still arrives."""
    first, second = workers
    flooder = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/", cookie=sign_in(first.http_url, *FAN)
    )
    other = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(second.http_url, *STRANGER),
    )
    await next_message(flooder, "hello")
    await next_message(other, "hello")
    for index in range(50):
        await flooder.send(json.dumps({"type": "chat", "text": f"flood {index}"}))
    async with asyncio.timeout(10):
        refused = await next_message(flooder, "error")
    await other.send(json.dumps({"type": "chat", "text": "still here"}))
    async with asyncio.timeout(10):
        while (message := await next_message(flooder, "chat"))["text"] != "still here":
            pass
    await flooder.close()
    await other.close()

    assert refused["code"] == "rate_limited"
    assert message["user"] == STRANGER[0]


async def test_djs_see_signed_in_listeners_of_every_worker(workers):
    """A DJ's console on one worker lists a listener signed in on the other."""
    first, second = workers
    console = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(first.http_url, *DJ),
    )
    fan = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/", cookie=sign_in(second.http_url, *FAN)
    )
    async with asyncio.timeout(10):
        while FAN[0] not in (await next_message(console, "listeners"))["users"]:
            pass
    await fan.close()
    await console.close()


async def test_a_call_connects_a_caller_and_a_console_on_two_workers(
    workers, shared_deployment
):
    """The caller on one worker, the console that answers on the other: the
    queue, the call's changes and both sides' signals cross between them."""
    shared_deployment.take_calls(STATION)
    first, second = workers
    caller = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(first.http_url, *FAN),
    )
    await next_message(caller, "hello")
    console = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(second.http_url, *DJ),
    )
    await next_message(console, "calls")
    offer = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
    answer = {"description": {"type": "answer", "sdp": "v=0\r\n"}}
    async with asyncio.timeout(10):
        await caller.send(json.dumps({"type": "call.request", "text": "hi"}))
        call = await next_message(caller, "call")
        queued = await next_message(console, "calls")
        await console.send(json.dumps({"type": "call.accept", "id": call["id"]}))
        answered = await next_message(caller, "call")
        await caller.send(
            json.dumps({"type": "call.signal", "id": call["id"], "signal": offer})
        )
        offered = await next_message(console, "call.signal")
        await console.send(
            json.dumps({"type": "call.signal", "id": call["id"], "signal": answer})
        )
        answered_signal = await next_message(caller, "call.signal")
        # The caller's worker sees the caller go: the console's worker frees the line.
        await caller.close()
        while (await next_message(console, "calls"))["calls"]:
            pass
    await console.close()

    assert [c["user"] for c in queued["calls"]] == [FAN[0]]
    assert answered["state"] == "private"
    assert offered["signal"] == offer
    assert answered_signal["signal"] == answer
