"""The private inbox socket, ``/ws/inbox/`` (docs/PROTOCOL.md)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from redis.exceptions import ConnectionError as RedisConnectionError

from listeners.models import InboxMessage
from tests.support.personas import Persona

from .clients import nothing_arrives, receive, receive_close, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_anonymous_is_closed_with_4401(sockets):
    """Signing in is required: the socket is accepted, then closed with 4401."""
    socket = sockets.open(Persona())
    connected, _ = await socket.connect()
    assert connected
    assert await receive_close(socket) == 4401


async def test_every_connection_of_the_recipient_gets_the_message(
    sockets, alice, bob, carol
):
    """Both of alice's tabs get bob's message; carol sees nothing of it."""
    first, unread = await sockets.connect(alice)
    assert unread == []
    second, _ = await sockets.connect(alice)
    sender, _ = await sockets.connect(bob)
    stranger, _ = await sockets.connect(carol)

    await send(sender, type="inbox.send", to=alice.username, text="hi")
    sent = await receive(sender)
    assert sent["type"] == "inbox.sent"
    assert sent["to"] == alice.username
    for tab in (first, second):
        message = await receive(tab)
        assert message == {
            "type": "inbox.message",
            "id": sent["id"],
            "from": "bob",
            "to": alice.username,
            "text": "hi",
            "ts": sent["ts"],
            "kind": "message",
            "station": None,
        }
    assert await nothing_arrives(stranger)
    assert await nothing_arrives(sender)


async def test_offline_recipient_gets_the_message_on_connect(sockets, alice, bob):
    """A message to someone offline is in ``inbox.unread`` when they connect."""
    sender, _ = await sockets.connect(bob)
    await send(sender, type="inbox.send", to=alice.username, text="later")
    sent = await receive(sender)

    _, unread = await sockets.connect(alice)
    assert [(m["id"], m["from"], m["text"]) for m in unread] == [
        (sent["id"], "bob", "later")
    ]


async def test_read_reaches_every_tab_and_leaves_unread(sockets, alice, bob):
    """``inbox.read`` goes to all of the reader's tabs; unread then skips it."""
    sender, _ = await sockets.connect(bob)
    ids = []
    for text in ("one", "two"):
        await send(sender, type="inbox.send", to=alice.username, text=text)
        ids.append((await receive(sender))["id"])

    first, unread = await sockets.connect(alice)
    assert [m["id"] for m in unread] == ids
    second, _ = await sockets.connect(alice)
    await send(first, type="inbox.read", ids=[ids[0]])
    for tab in (first, second):
        assert await receive(tab) == {"type": "inbox.read", "ids": [ids[0]]}
    await first.disconnect()
    await second.disconnect()

    _, unread = await sockets.connect(alice)
    assert [m["id"] for m in unread] == [ids[1]]


async def test_reading_someone_elses_message_has_no_effect(sockets, alice, bob, carol):
    """Ids of messages to other users are ignored."""
    sender, _ = await sockets.connect(bob)
    await send(sender, type="inbox.send", to=alice.username, text="for alice")
    message_id = (await receive(sender))["id"]

    nosy, _ = await sockets.connect(carol)
    await send(nosy, type="inbox.read", ids=[message_id])
    assert await receive(nosy) == {"type": "inbox.read", "ids": []}

    _, unread = await sockets.connect(alice)
    assert [m["id"] for m in unread] == [message_id]
    message = await InboxMessage.objects.aget(pk=message_id)
    assert message.read_at is None


async def test_read_ids_must_be_a_short_list_of_integers(sockets, alice):
    """``ids`` that is not a list of at most 200 integers is a bad request."""
    socket, _ = await sockets.connect(alice)
    for ids in (["1"], 5, [1.5], [True], list(range(201))):
        await send(socket, type="inbox.read", ids=ids)
        reply = await receive(socket)
        assert (reply["type"], reply["code"]) == ("error", "bad_request"), ids


async def test_forged_from_is_ignored(sockets, alice, bob):
    """The sender is always the session user, whatever ``from`` says."""
    sender, _ = await sockets.connect(bob)
    inbox, _ = await sockets.connect(alice)
    forged = {"type": "inbox.send", "to": alice.username, "text": "x", "from": "dee"}
    await sender.send_json_to(forged)
    await receive(sender)
    assert (await receive(inbox))["from"] == "bob"


async def test_unknown_recipient(sockets, bob):
    """Sending to a username nobody has answers ``unknown_user``."""
    sender, _ = await sockets.connect(bob)
    await send(sender, type="inbox.send", to="nobody", text="hello?")
    reply = await receive(sender)
    assert (reply["type"], reply["code"]) == ("error", "unknown_user")


async def test_text_length_limits(sockets, alice, bob):
    """1000 characters pass; 1001 are ``too_long``; blank is ``bad_request``."""
    sender, _ = await sockets.connect(bob)
    inbox, _ = await sockets.connect(alice)
    await send(sender, type="inbox.send", to=alice.username, text="x" * 1001)
    assert (await receive(sender))["code"] == "too_long"
    for blank in ("", "   "):
        await send(sender, type="inbox.send", to=alice.username, text=blank)
        assert (await receive(sender))["code"] == "bad_request"
    assert await nothing_arrives(inbox)

    await send(sender, type="inbox.send", to=alice.username, text="x" * 1000)
    assert (await receive(sender))["type"] == "inbox.sent"
    assert (await receive(inbox))["text"] == "x" * 1000


async def test_flood_is_rate_limited_per_sender(sockets, alice, bob, carol):
    """A flood gets ``rate_limited``; another sender is not slowed by it."""
    flooder, _ = await sockets.connect(bob)
    replies = []
    for n in range(15):
        await send(flooder, type="inbox.send", to=alice.username, text=str(n))
        replies.append(await receive(flooder))
    kinds = [reply.get("code", reply["type"]) for reply in replies]
    assert kinds[:10] == ["inbox.sent"] * 10
    assert "rate_limited" in kinds

    other, _ = await sockets.connect(carol)
    await send(other, type="inbox.send", to=alice.username, text="calm")
    assert (await receive(other))["type"] == "inbox.sent"


async def test_blocked_sender_is_answered_but_nothing_is_delivered(sockets, alice, bob):
    """A blocked sender gets ``inbox.sent``; the blocker gets nothing, ever."""
    inbox, _ = await sockets.connect(alice)
    await send(inbox, type="inbox.block", user="bob")
    assert await receive(inbox) == {"type": "inbox.blocked", "user": "bob"}

    sender, _ = await sockets.connect(bob)
    await send(sender, type="inbox.send", to=alice.username, text="let me in")
    assert (await receive(sender))["type"] == "inbox.sent"
    assert await nothing_arrives(inbox)
    await inbox.disconnect()
    inbox, unread = await sockets.connect(alice)
    assert unread == []

    await send(inbox, type="inbox.unblock", user="bob")
    assert await receive(inbox) == {"type": "inbox.unblocked", "user": "bob"}
    await send(sender, type="inbox.send", to=alice.username, text="again")
    await receive(sender)
    assert (await receive(inbox))["text"] == "again"


async def test_blocking_needs_another_existing_user(sockets, alice):
    """Blocking nobody is ``unknown_user``; blocking oneself ``bad_request``."""
    inbox, _ = await sockets.connect(alice)
    await send(inbox, type="inbox.block", user="nobody")
    assert (await receive(inbox))["code"] == "unknown_user"
    await send(inbox, type="inbox.block", user=alice.username)
    assert (await receive(inbox))["code"] == "bad_request"


async def test_message_to_oneself_is_delivered(sockets, alice):
    """A user may write to themselves, as a note."""
    inbox, _ = await sockets.connect(alice)
    await send(inbox, type="inbox.send", to=alice.username, text="note")
    replies = [await receive(inbox), await receive(inbox)]
    assert {reply["type"] for reply in replies} == {"inbox.sent", "inbox.message"}


async def test_shoutout_from_a_dj(sockets, alice, dee, station):
    """A DJ naming their station sends a shoutout carrying its slug."""
    dj, _ = await sockets.connect(dee)
    inbox, _ = await sockets.connect(alice)
    await send(
        dj, type="inbox.send", to=alice.username, text="shout", station=station.slug
    )
    assert (await receive(dj))["type"] == "inbox.sent"
    message = await receive(inbox)
    assert (message["kind"], message["station"]) == ("shoutout", station.slug)


async def test_shoutout_from_a_non_dj_is_forbidden(sockets, alice, bob, station):
    """Naming a station one is not a DJ of answers ``forbidden``."""
    sender, _ = await sockets.connect(bob)
    inbox, _ = await sockets.connect(alice)
    for slug in (station.slug, "no-such-station"):
        await send(sender, type="inbox.send", to=alice.username, text="x", station=slug)
        assert (await receive(sender))["code"] == "forbidden"
    assert await nothing_arrives(inbox)


async def test_html_text_is_returned_unchanged(sockets, alice, bob):
    """Text is stored and sent as given; escaping is the client's job."""
    text = "<script>alert('x')</script> &amp; <b>\"é\"</b>"
    sender, _ = await sockets.connect(bob)
    inbox, _ = await sockets.connect(alice)
    await send(sender, type="inbox.send", to=alice.username, text=text)
    await receive(sender)
    assert (await receive(inbox))["text"] == text


async def test_malformed_json_is_a_bad_request(sockets, alice):
    """Text that is not a JSON object with a type answers ``bad_request``."""
    inbox, _ = await sockets.connect(alice)
    for frame in ("{not json", "[1]", '{"type": "inbox.nope"}'):
        await inbox.send_to(text_data=frame)
        reply = await receive(inbox)
        assert (reply["type"], reply["code"]) == ("error", "bad_request"), frame


async def test_oversized_frame_closes_with_1009(sockets, alice):
    """A JSON message over RADIO_MAX_TEXT_FRAME_BYTES closes the socket."""
    inbox, _ = await sockets.connect(alice)
    await inbox.send_to(text_data='{"type":"inbox.send","text":"' + "x" * 5000 + '"}')
    assert await receive_close(inbox) == 1009


@pytest.mark.parametrize("ids", [[2**63], [2**70], [0], [-1], [1, 2**64]])
async def test_read_ids_beyond_64_bits_are_a_bad_request(sockets, alice, ids):
    """Ids no database row can have are refused before the database sees
    them; the socket stays open."""
    socket, _ = await sockets.connect(alice)
    await send(socket, type="inbox.read", ids=ids)
    assert (await receive(socket))["code"] == "bad_request"
    await send(socket, type="inbox.read", ids=[1])
    assert await receive(socket) == {"type": "inbox.read", "ids": []}


@pytest.mark.parametrize(
    "message",
    [
        {"to": "\ud800", "text": "hi"},
        {"to": "bob\x00", "text": "hi"},
        {"to": "bob", "text": "lone \udc00 half"},
        {"to": "bob", "text": "nul \x00 inside"},
        {"to": "bob", "text": "hi", "station": "test-fm\x00"},
        {"to": "bob", "text": "hi", "station": 7},
    ],
)
async def test_text_no_database_stores_is_a_bad_request(sockets, alice, bob, message):
    """Lone surrogates and NUL in any field get ``bad_request``, nothing is
    stored, and the socket goes on working."""
    socket, _ = await sockets.connect(alice)
    await send(socket, type="inbox.send", **message)
    assert (await receive(socket))["code"] == "bad_request"
    await send(socket, type="inbox.send", to="bob", text="fine")
    assert (await receive(socket))["type"] == "inbox.sent"
    assert await InboxMessage.objects.acount() == 1


async def test_read_and_block_floods_are_rate_limited(sockets, alice, bob, settings):
    """Marking read and blocking, each a database write, share a rate limit."""
    settings.RADIO_WRITES_PER_SECOND = (
        0.01  # no token comes back mid-burst on a slow database
    )
    socket, _ = await sockets.connect(alice)
    for _ in range(settings.RADIO_WRITES_BURST // 2):
        await send(socket, type="inbox.read", ids=[1])
        assert (await receive(socket))["type"] == "inbox.read"
        await send(socket, type="inbox.unblock", user="bob")
        assert (await receive(socket))["type"] == "inbox.unblocked"
    await send(socket, type="inbox.read", ids=[1])
    assert (await receive(socket))["code"] == "rate_limited"
    await send(socket, type="inbox.block", user="bob")
    assert (await receive(socket))["code"] == "rate_limited"


async def test_a_deactivated_user_is_closed_with_4401(sockets, alice):
    """Deactivating an account closes every open inbox of it at once."""
    first, _ = await sockets.connect(alice)
    second, _ = await sockets.connect(alice)
    user = await get_user_model().objects.aget(username=alice.username)
    user.is_active = False
    await database_sync_to_async(user.save)()
    assert await receive_close(first) == 4401
    assert await receive_close(second) == 4401


async def test_a_retry_with_the_same_client_id_is_stored_once(sockets, alice, bob):
    """A client that resends (its answer was lost) gets the same message."""
    recipient, _ = await sockets.connect(alice)
    sender, _ = await sockets.connect(bob)
    for _ in range(2):
        await send(
            sender, type="inbox.send", to=alice.username, text="once", client_id="m-1"
        )
    first, second = await receive(sender), await receive(sender)
    assert first == second
    assert first["client_id"] == "m-1"
    assert (await receive(recipient))["id"] == first["id"]
    assert await nothing_arrives(recipient)
    assert await InboxMessage.objects.filter(text="once").acount() == 1


async def test_the_same_client_id_from_another_sender_is_another_message(
    sockets, alice, bob, carol
):
    for persona in (bob, carol):
        socket, _ = await sockets.connect(persona)
        await send(
            socket, type="inbox.send", to=alice.username, text="hi", client_id="m-1"
        )
        assert (await receive(socket))["type"] == "inbox.sent"
    assert await InboxMessage.objects.filter(client_id="m-1").acount() == 2


async def test_a_redis_error_after_the_commit_still_answers_inbox_sent(
    sockets, alice, bob, monkeypatch
):
    """The layer failing to deliver leaves the message stored, the sender
    answered and the socket open; the recipient gets it in inbox.unread."""
    sender, _ = await sockets.connect(bob)

    async def unreachable(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(get_channel_layer(), "group_send", unreachable)
    await send(sender, type="inbox.send", to=alice.username, text="stored")
    assert (await receive(sender))["type"] == "inbox.sent"
    await send(sender, type="inbox.block", user=alice.username)
    assert (await receive(sender))["type"] == "inbox.blocked"
    monkeypatch.undo()
    _, unread = await sockets.connect(alice)
    assert [message["text"] for message in unread] == ["stored"]
