"""Chat in the station room, ``/ws/stations/<slug>/``, and its moderation."""

from __future__ import annotations

import gc
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone

from radio import protocol
from radio.protocol import CHAT_MAX_CHARS
from stations.models import ChatMessage, Station
from stations.selectors import chat_history

from .clients import (
    broadcast_path,
    messages_within,
    receive_json,
    receive_type,
    room_path,
)
from .conftest import OTHER_STATION_SLUG, STATION_SLUG, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_FIELDS = {"type", "id", "user", "text", "dj", "ts"}


@pytest.fixture
def second_listener(transactional_db):
    """Another signed-in user who is nobody's DJ."""
    return signed_in("second")[1]


@pytest.fixture
def staff(transactional_db):
    """A staff user who is nobody's DJ."""
    user, persona = signed_in("staff")
    user.is_staff = True
    user.save()
    return persona


async def send_chat(room, text: str) -> None:
    await room.send_json_to({"type": "chat", "text": text})


async def error_code(room) -> str:
    """The code of the next ``error`` message."""
    return (await receive_type(room, "error"))["code"]


@database_sync_to_async
def store_messages(username: str, texts: list[str]) -> list[ChatMessage]:
    station = Station.objects.get(slug=STATION_SLUG)
    user = get_user_model().objects.get(username=username)
    return [
        ChatMessage.objects.create(station=station, user=user, text=t) for t in texts
    ]


async def test_chat_reaches_everyone_in_the_room_and_the_dj_console(
    sockets, station, listener, anonymous, dj
):
    """A chat message goes to every room socket and to the DJ's console."""
    sender, _ = await sockets.join(STATION_SLUG, listener)
    other, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await send_chat(sender, "  hello, radio  ")
    for socket in (sender, other, studio):
        chat = await receive_type(socket, "chat")
        assert set(chat) == CHAT_FIELDS
        assert (chat["user"], chat["text"]) == ("listener", "hello, radio")
        assert chat["dj"] is False
        assert chat["ts"].endswith("+00:00")


async def test_the_dj_chats_from_the_console_with_a_badge(
    sockets, station, listener, dj
):
    """A DJ's message, sent on the broadcast socket, reaches the room marked
    ``dj``, and the history keeps the mark."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    studio = await sockets.studio(STATION_SLUG, dj)
    await send_chat(studio, "thanks for listening")
    for socket in (room, studio):
        chat = await receive_type(socket, "chat")
        assert (chat["user"], chat["dj"]) == ("dj", True)
    await send_chat(room, "you're welcome")
    assert (await receive_type(studio, "chat"))["dj"] is False
    late, _ = await sockets.join(STATION_SLUG, listener)
    history = await receive_json(late, skip=())
    assert history["type"] == "chat.history"
    senders = [(m["user"], m["dj"]) for m in history["messages"]]
    assert senders == [("dj", True), ("listener", False)]


async def test_message_is_stored_before_it_is_broadcast(sockets, station, listener):
    """When a chat message arrives its row is already committed."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await send_chat(room, "stored?")
    chat = await receive_type(room, "chat")
    stored = await ChatMessage.objects.select_related("user").aget(pk=chat["id"])
    assert (stored.text, stored.user.username) == ("stored?", "listener")


async def test_history_follows_hello_latest_fifty_oldest_first(
    sockets, station, listener, anonymous
):
    """``chat.history`` comes right after ``hello``: 50 latest, oldest first."""
    stored = await store_messages("listener", [f"message {i}" for i in range(53)])
    deleted = stored[-2]
    deleted.deleted_at = timezone.now()
    await deleted.asave()
    room = await sockets.connect(room_path(STATION_SLUG), anonymous)
    assert json.loads(await room.receive_from())["type"] == "hello"
    history = json.loads(await room.receive_from())
    assert history["type"] == "chat.history"
    expected = [m for m in stored if m is not deleted][-50:]
    assert [m["id"] for m in history["messages"]] == [m.pk for m in expected]
    assert history["messages"][0]["text"] == "message 2"
    assert all(set(m) == CHAT_FIELDS for m in history["messages"])


async def test_the_dj_console_gets_the_history_after_its_listener_count(
    sockets, station, listener, dj
):
    """The DJ's socket: ``listeners`` first, then ``chat.history``, then live chat."""
    stored = await store_messages("listener", ["before the show", "hello DJ"])
    room, _ = await sockets.join(STATION_SLUG, listener)
    studio = await sockets.connect(broadcast_path(STATION_SLUG), dj)
    assert json.loads(await studio.receive_from())["type"] == "listeners"
    history = json.loads(await studio.receive_from())
    assert history["type"] == "chat.history"
    assert [m["id"] for m in history["messages"]] == [m.pk for m in stored]
    await send_chat(room, "live now")
    assert (await receive_type(studio, "chat"))["text"] == "live now"


def test_the_history_leaves_nothing_to_the_cycle_collector(station, listener):
    """Every listener who joins reads it: what its query made must be freed
    as it ends, not left for a garbage collection (a worker's young
    collections can be many minutes apart)."""
    user = get_user_model().objects.get(username="listener")
    ChatMessage.objects.create(station=station, user=user, text="hello")
    assert [m["user"] for m in chat_history(station)] == ["listener"]
    gc.collect()
    chat_history(station)
    assert left_for_the_collector("django.db.models") == []


def left_for_the_collector(module: str) -> list[object]:
    """What a full collection finds unreachable that ``module``'s code made
    (functions and their cells, as Django's compiler leaves them)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [
            thing
            for thing in gc.garbage
            if getattr(thing, "__module__", "").startswith(module)
        ]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)


async def test_history_is_empty_for_a_new_station(sockets, station, anonymous):
    """A station nobody has chatted in sends an empty ``chat.history``."""
    room = await sockets.connect(room_path(STATION_SLUG), anonymous)
    await room.receive_from()
    assert json.loads(await room.receive_from()) == {
        "type": "chat.history",
        "messages": [],
    }


async def test_anonymous_chat_gets_auth_required(sockets, station, anonymous):
    """Chat without signing in is refused with ``auth_required``."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    await send_chat(room, "hi")
    assert await error_code(room) == protocol.AUTH_REQUIRED
    assert not await ChatMessage.objects.aexists()


@pytest.mark.parametrize("message", [{"text": "   "}, {"text": ""}, {}, {"text": 5}])
async def test_empty_or_missing_text_gets_bad_request(
    sockets, station, listener, message
):
    """Text that is empty after trimming, missing or not a string is refused."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "chat", **message})
    assert await error_code(room) == protocol.BAD_REQUEST


async def test_text_over_500_characters_gets_too_long(sockets, station, listener):
    """501 characters get ``too_long``; 500 are stored and sent."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await send_chat(room, "x" * (CHAT_MAX_CHARS + 1))
    assert await error_code(room) == protocol.TOO_LONG
    await send_chat(room, "é" * CHAT_MAX_CHARS)
    assert (await receive_type(room, "chat"))["text"] == "é" * CHAT_MAX_CHARS


async def test_flood_is_rate_limited_while_others_still_chat(
    sockets, settings, station, listener, second_listener
):
    """After a burst of 5 a user is ``rate_limited``; others are not."""
    # A slow refill, so that the test does not depend on timing.
    settings.RADIO_CHAT_MESSAGES_PER_SECOND = 0.01
    flooder, _ = await sockets.join(STATION_SLUG, listener)
    other, _ = await sockets.join(STATION_SLUG, second_listener)
    for i in range(settings.RADIO_CHAT_BURST_MESSAGES):
        await send_chat(flooder, f"spam {i}")
        assert (await receive_type(flooder, "chat"))["text"] == f"spam {i}"
    await send_chat(flooder, "one too many")
    assert await error_code(flooder) == protocol.RATE_LIMITED
    await send_chat(other, "still here")
    chat = await receive_type(other, "chat")
    while chat["user"] != "second":
        chat = await receive_type(other, "chat")
    assert chat["text"] == "still here"
    assert await ChatMessage.objects.acount() == settings.RADIO_CHAT_BURST_MESSAGES + 1


async def test_rate_limit_holds_across_a_users_sockets(
    sockets, settings, station, listener
):
    """A second socket of the same user shares the user's limit."""
    settings.RADIO_CHAT_MESSAGES_PER_SECOND = 0.01
    first, _ = await sockets.join(STATION_SLUG, listener)
    second, _ = await sockets.join(STATION_SLUG, listener)
    for i in range(settings.RADIO_CHAT_BURST_MESSAGES):
        await send_chat(first, f"spam {i}")
        await receive_type(first, "chat")
    await send_chat(second, "sneaky")
    assert await error_code(second) == protocol.RATE_LIMITED


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)"> &amp; &lt;b&gt;',
        '"quotes" \\ back\\slash </script> \u2028 emoji 🎶',
    ],
)
async def test_markup_comes_back_exactly_as_sent(sockets, station, listener, text):
    """Text is stored and sent as written, not escaped, as a JSON string."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await send_chat(room, text)
    chat = await receive_type(room, "chat")
    assert chat["text"] == text
    assert (await ChatMessage.objects.aget(pk=chat["id"])).text == text


async def test_forged_user_field_is_ignored(sockets, station, listener, dj):
    """The sender is the session's user, whatever the message claims."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "chat", "text": "I am the DJ", "user": "dj"})
    chat = await receive_type(room, "chat")
    assert chat["user"] == "listener"
    stored = await ChatMessage.objects.select_related("user").aget(pk=chat["id"])
    assert stored.user.username == "listener"


# --- Moderation ----------------------------------------------------------------


async def chat_from(room, text: str) -> dict:
    """Send ``text`` and return the ``chat`` message it came back as."""
    await send_chat(room, text)
    return await receive_type(room, "chat")


@pytest.mark.parametrize(
    "action",
    [
        {"type": "chat.delete", "id": None},
        {"type": "chat.mute", "user": "listener"},
        {"type": "chat.unmute", "user": "listener"},
    ],
)
async def test_moderation_by_a_listener_is_forbidden(
    sockets, station, listener, second_listener, action
):
    """A user who is not a DJ of the station cannot moderate its chat."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    chat = await chat_from(room, "delete me if you can")
    moderator, _ = await sockets.join(STATION_SLUG, second_listener)
    if action["type"] == "chat.delete":
        action = {**action, "id": chat["id"]}
    await moderator.send_json_to(action)
    assert await error_code(moderator) == protocol.FORBIDDEN
    stored = await ChatMessage.objects.aget(pk=chat["id"])
    assert stored.deleted_at is None


async def test_anonymous_moderation_gets_auth_required(sockets, station, anonymous):
    """Moderating without signing in gets ``auth_required``."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    await room.send_json_to({"type": "chat.mute", "user": "listener"})
    assert await error_code(room) == protocol.AUTH_REQUIRED


async def test_dj_delete_reaches_everyone_and_leaves_history(
    sockets, station, listener, anonymous, dj
):
    """A DJ's ``chat.delete`` sends ``chat.deleted`` to all; history drops it."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    other, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    kept = await chat_from(room, "keep me")
    doomed = await chat_from(room, "rude words")
    await studio.send_json_to({"type": "chat.delete", "id": doomed["id"]})
    for socket in (room, other, studio):
        deleted = await receive_type(socket, "chat.deleted")
        assert deleted == {"type": "chat.deleted", "id": doomed["id"]}
    late = await sockets.connect(room_path(STATION_SLUG), anonymous)
    await late.receive_from()
    history = json.loads(await late.receive_from())
    assert [m["id"] for m in history["messages"]] == [kept["id"]]


async def test_dj_can_moderate_from_the_room_socket(sockets, station, listener, dj):
    """Moderation works on the room socket as well as the DJ console."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    doomed = await chat_from(room, "oops")
    dj_room, _ = await sockets.join(STATION_SLUG, dj)
    await dj_room.send_json_to({"type": "chat.delete", "id": doomed["id"]})
    assert (await receive_type(room, "chat.deleted"))["id"] == doomed["id"]


async def test_staff_may_moderate_any_station(sockets, station, listener, staff):
    """Staff users may delete messages in a station they are not a DJ of."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    doomed = await chat_from(room, "oops")
    moderator, _ = await sockets.join(STATION_SLUG, staff)
    await moderator.send_json_to({"type": "chat.delete", "id": doomed["id"]})
    assert (await receive_type(room, "chat.deleted"))["id"] == doomed["id"]


async def test_deleting_an_unknown_message_gets_bad_request(sockets, station, dj):
    """A ``chat.delete`` for no message of this station gets ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    for bad_id in (12345, "1", True):
        await studio.send_json_to({"type": "chat.delete", "id": bad_id})
        assert await error_code(studio) == protocol.BAD_REQUEST


async def test_muted_user_is_forbidden_until_unmuted(sockets, station, listener, dj):
    """A muted user's chat gets ``forbidden``; after unmute it works again."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "chat.mute", "user": "listener"})
    assert await receive_json(studio) == {"type": "chat.muted", "user": "listener"}
    await send_chat(room, "let me speak")
    assert await error_code(room) == protocol.FORBIDDEN
    assert not await ChatMessage.objects.aexists()
    await studio.send_json_to({"type": "chat.unmute", "user": "listener"})
    assert await receive_json(studio) == {"type": "chat.unmuted", "user": "listener"}
    assert (await chat_from(room, "thank you"))["text"] == "thank you"


async def test_mute_of_an_unknown_user_gets_bad_request(sockets, station, dj):
    """Muting a username nobody has gets ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "chat.mute", "user": "nobody"})
    assert await error_code(studio) == protocol.BAD_REQUEST


async def test_mute_holds_only_in_its_station(
    sockets, station, other_station, listener, dj
):
    """A user muted in one station can still chat in another."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "chat.mute", "user": "listener"})
    await receive_type(studio, "chat.muted")
    elsewhere, _ = await sockets.join(OTHER_STATION_SLUG, listener)
    assert (await chat_from(elsewhere, "over here"))["text"] == "over here"


async def test_dj_of_another_station_cannot_moderate(
    sockets, station, listener, other_dj
):
    """Being a DJ of another station gives no say in this station's chat."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    chat = await chat_from(room, "not yours")
    outsider, _ = await sockets.join(STATION_SLUG, other_dj)
    await outsider.send_json_to({"type": "chat.delete", "id": chat["id"]})
    assert await error_code(outsider) == protocol.FORBIDDEN
    await outsider.send_json_to({"type": "chat.mute", "user": "listener"})
    assert await error_code(outsider) == protocol.FORBIDDEN
    assert (await chat_from(room, "still talking"))["text"] == "still talking"


async def test_chat_of_one_station_stays_there(
    sockets, station, other_station, listener, anonymous
):
    """A message in one station's room does not reach another station's."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    elsewhere, _ = await sockets.join(OTHER_STATION_SLUG, anonymous)
    await chat_from(room, "local news")
    received = await messages_within(elsewhere, 0.3)
    assert [m for m in received if m["type"] == "chat"] == []
