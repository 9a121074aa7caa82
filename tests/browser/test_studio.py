"""The DJ console in real headless Chromium, against a real daphne.

The DJ's browser has a 440 Hz tone as its microphone (``mic_browser``).
Listeners are plain Python sockets read in a thread of their own
(``BackgroundSocket``), or a second browser context for the listener page.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DJ, LISTENER, PHONE, STATION, STATION_NAME
from tests.support.audio import make_tone

from .studio_page import (
    SIGNAL_LEVEL,
    STUDIO,
    WAIT_S,
    go_live,
    peak,
    state_label,
    station_status,
    stop,
    turn_on_mic,
    wait_for_signal,
)

OTHER_DJ = ("dj2", "dj2-password-1")
# The AutoDJ looks for new libraries every 5 s, then starts in well under 1 s.
AUTODJ_START_S = 10
# test_screenshots saves the console here when set (docs/screenshots refreshes
# the README's pictures); else in a temporary folder, leaving the checkout as is.
SCREENSHOTS_DIR = os.environ.get("SCREENSHOTS_DIR")


class DroppingProxy:
    """A TCP proxy to a local port whose connections can be cut at once.

    Cutting aborts both sides without a close frame, as a network that drops
    does: the server sees the DJ vanish and keeps the broadcast for its grace.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.transports: set[asyncio.Transport] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(asyncio.start_server(self.accept, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT_S)

    async def accept(self, reader, writer) -> None:
        target_reader, target_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.transports |= {writer.transport, target_writer.transport}
        await asyncio.gather(
            self.pipe(reader, target_writer),
            self.pipe(target_reader, writer),
            return_exceptions=True,
        )

    @staticmethod
    async def pipe(reader, writer) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    def cut(self) -> None:
        """Drop every connection open now; new ones still go through."""

        async def abort_all():
            for transport in self.transports:
                transport.abort()
            self.transports.clear()

        self.call(abort_all())

    def close(self) -> None:
        self.cut()
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=WAIT_S)


# --- Fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def other_dj(deployment):
    """A second DJ of the station."""
    deployment.create_user(*OTHER_DJ)
    deployment.manage(
        "createstation", STATION, "--name", STATION_NAME, "--dj", OTHER_DJ[0]
    )
    return OTHER_DJ


@pytest.fixture(scope="module")
def song_wav(tmp_path_factory) -> Path:
    """Eight seconds of an 880 Hz tone, named like a DJ's file."""
    path = tmp_path_factory.mktemp("songs") / "The Testers - Evening Tune.wav"
    return make_tone(path, seconds=8, frequency=880, codec="pcm_s16le")


# --- Going live -----------------------------------------------------------------


def test_dj_goes_live_with_the_microphone(studio, room):
    """The meter shows the microphone; going live sends its audio to listeners."""
    page = studio()
    expect(state_label(page)).to_have_text("Off air")
    turn_on_mic(page)
    assert page.get_by_label("Microphone").locator("option").count() >= 1

    go_live(page)
    room.wait_for("on_air", lambda m: m["on_air"])
    # Three seconds of 128 kbit/s MP3.
    room.wait_for_audio(3 * 128_000 // 8)
    assert peak(room.mp3_since(0)) > SIGNAL_LEVEL

    stop(page)
    room.wait_for("on_air", lambda m: not m["on_air"])


def test_listener_page_plays_the_dj(studio, new_page):
    """A listener presses Play and hears the DJ: time advances, no media error."""
    page = studio()
    turn_on_mic(page)
    go_live(page)
    listener = new_page(LISTENER, path=f"/stations/{STATION}/")

    listener.get_by_role("button", name="Play").click()
    listener.wait_for_function("() => document.getElementById('audio').currentTime > 0")
    start = listener.evaluate("document.getElementById('audio').currentTime")
    listener.wait_for_function(
        f"() => document.getElementById('audio').currentTime >= {start + 3}",
        timeout=WAIT_S * 1000,
    )
    assert listener.evaluate("document.getElementById('audio').error") is None
    stop(page)


def test_stop_takes_the_station_off_air(studio, room):
    """Stop ends the broadcast: listeners see the station go off air."""
    page = studio()
    turn_on_mic(page)
    go_live(page)
    room.wait_for("on_air", lambda m: m["on_air"])

    stop(page)

    room.wait_for("on_air", lambda m: not m["on_air"])
    expect(page.get_by_role("button", name="Go live")).to_be_visible()


def test_dj_comes_back_on_air_after_the_server_restarts(studio, sockets, radio_server):
    """A dropped connection shows as lost; the console reconnects and resumes."""
    page = studio()
    turn_on_mic(page)
    go_live(page)

    radio_server.stop()
    expect(state_label(page)).to_have_text("Connection lost")
    expect(page.locator("#broadcast-state-detail")).to_contain_text("Retrying")
    radio_server.start_again()

    expect(state_label(page)).to_have_text("Live", timeout=WAIT_S * 1000)
    room = sockets(f"/ws/stations/{STATION}/")
    room.wait_for("hello")
    room.wait_for_audio(2 * 128_000 // 8)
    stop(page)


def test_dj_resumes_within_the_grace_after_a_dropped_connection(
    studio, room, radio_server
):
    """A dropped connection is resumed at once: the station never goes off air."""
    proxy = DroppingProxy(radio_server.port)
    try:
        page = studio()
        page.goto(f"http://127.0.0.1:{proxy.port}{STUDIO}")
        turn_on_mic(page)
        go_live(page)
        room.wait_for_audio(1)

        proxy.cut()

        expect(page.locator("#broadcast-state-detail")).to_have_text("Back on air.")
        expect(state_label(page)).to_have_text("Live")
        heard = room.audio_bytes()
        room.wait_for_audio(heard + 2 * 128_000 // 8)
        seqs = [seq for seq, _ in room.audio]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        off_air = [
            m for m in room.messages if m["type"] == "on_air" and not m["on_air"]
        ]
        assert off_air == []
        stop(page)
    finally:
        proxy.close()


def test_dj_announces_what_is_playing(studio, room):
    """Title and artist from the console reach the listeners."""
    page = studio()
    turn_on_mic(page)
    go_live(page)
    page.get_by_label("Title").fill("Blue in Green")
    page.get_by_label("Artist").fill("Miles Davis")
    page.get_by_role("button", name="Announce").click()

    announced = room.wait_for("now_playing")
    assert (announced["title"], announced["artist"]) == ("Blue in Green", "Miles Davis")
    expect(page.locator("#now-playing")).to_have_text(
        "Miles Davis \N{EN DASH} Blue in Green"
    )
    stop(page)


def test_title_set_before_going_live_is_announced_on_air(studio, room):
    """A title announced while off air is sent once the broadcast is live."""
    page = studio()
    turn_on_mic(page)
    page.get_by_label("Title").fill("Opening Theme")
    page.get_by_role("button", name="Announce").click()
    expect(page.locator("#np-note")).to_contain_text("when you go live")

    go_live(page)

    assert room.wait_for("now_playing")["title"] == "Opening Theme"
    stop(page)


def test_console_opens_with_the_chat_so_far(studio, room):
    """The console shows what was said before it opened, then what follows."""
    room.send_json({"type": "chat", "text": "said before the console opened"})
    room.wait_for("chat", lambda m: m["text"] == "said before the console opened")
    page = studio()
    earlier = page.locator("#chat .chat-text").filter(
        has_text="said before the console opened"
    )
    expect(earlier).to_have_count(1)
    room.send_json({"type": "chat", "text": "said after"})
    expect(page.locator("#chat .chat-text").last).to_have_text("said after")


def test_chat_reaches_the_console_as_text_and_the_dj_moderates(studio, room):
    """Listener chat shows as text; the DJ deletes a message and mutes its sender."""
    page = studio()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    expect(page.locator("#listeners button")).to_have_text([LISTENER[0]])
    markup = "<img src=x onerror=alert(1)>"
    room.send_json({"type": "chat", "text": markup})
    room.send_json({"type": "chat", "text": "second message"})

    message = page.locator("#chat .chat-message").filter(has_text=markup)
    expect(message.locator(".chat-text")).to_have_text(markup)
    assert page.locator("#chat img").count() == 0
    posted = room.wait_for("chat", lambda m: m["text"] == markup)

    message.get_by_role("button", name=f"Delete message from {LISTENER[0]}").click()
    assert room.wait_for("chat.deleted")["id"] == posted["id"]
    expect(message).to_have_count(0)
    expect(page.locator("#chat .chat-text").last).to_have_text("second message")

    second = page.locator("#chat .chat-message").filter(has_text="second message")
    # The console finds its buttons by data attributes, never by their labels.
    mute = second.locator('button[data-action="mute"]')
    expect(mute).to_have_attribute("data-user", LISTENER[0])
    expect(second.locator('button[data-action="delete"]')).to_have_count(1)
    second.get_by_role("button", name=f"Mute {LISTENER[0]}").click()
    expect(page.locator("#chat")).to_contain_text(f"{LISTENER[0]} is muted")
    room.send_json({"type": "chat", "text": "am I muted?"})
    assert room.wait_for("error")["code"] == "forbidden"

    expect(mute).to_have_text("Unmute")
    second.get_by_role("button", name=f"Unmute {LISTENER[0]}").click()
    expect(mute).to_have_text("Mute")
    expect(page.locator("#chat")).to_contain_text(f"{LISTENER[0]} may chat again")


def test_dj_sends_a_shout_out_to_a_listener(studio, room, sockets):
    """Picking a listener from the list sends them a shout-out of this station."""
    inbox = sockets("/ws/inbox/", LISTENER)
    inbox.wait_for("inbox.unread")
    page = studio()

    page.get_by_role("button", name=f"Send a shout-out to {LISTENER[0]}").click()
    expect(page.get_by_label("Listener", exact=True)).to_have_value(LISTENER[0])
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.keyboard.type("This one is for you!")
    page.get_by_role("button", name="Send shout-out").click()

    got = inbox.wait_for("inbox.message")
    assert (got["from"], got["text"]) == (DJ[0], "This one is for you!")
    assert (got["kind"], got["station"]) == ("shoutout", STATION)
    expect(page.locator("#shoutout-note")).to_have_text(
        f"Shout-out sent to {LISTENER[0]}."
    )


def test_shout_out_to_an_unknown_user_says_so(studio):
    """A typed username that does not exist gets a clear message."""
    page = studio()
    page.get_by_label("Listener", exact=True).fill("nobody-by-this-name")
    page.get_by_label("Message", exact=True).fill("hello?")
    page.get_by_role("button", name="Send shout-out").click()
    expect(page.locator("#shoutout-note")).to_have_text(
        "There is no user of that name."
    )


def test_second_dj_sees_another_dj_is_live(studio, room, other_dj):
    """A second DJ who presses Go live while the first is on air is told so."""
    first = studio()
    turn_on_mic(first)
    go_live(first)
    second = studio(other_dj)
    turn_on_mic(second)

    second.get_by_role("button", name="Go live").click()

    expect(state_label(second)).to_have_text("Another DJ is live")
    expect(second.locator("#broadcast-state-detail")).to_contain_text("Another DJ")
    expect(second.get_by_role("button", name="Go live")).to_be_visible()
    # The second console still follows the station after the refusal.
    expect(second.locator("#studio")).to_have_attribute("data-connection", "ready")
    room.send_json({"type": "chat", "text": "still here"})
    expect(second.locator("#chat .chat-text").last).to_have_text("still here")
    expect(state_label(first)).to_have_text("Live")
    stop(first)


def test_browser_without_opus_recording_is_told_so(studio):
    """Without a format the server takes, Go live explains instead of failing."""
    page = studio()
    page.context.add_init_script("MediaRecorder.isTypeSupported = () => false")
    page.reload()
    page.get_by_role("button", name="Go live").click()
    expect(state_label(page)).to_have_text("Not live")
    expect(page.locator("#broadcast-state-detail")).to_contain_text(
        "cannot record Opus"
    )


def test_only_the_stations_djs_may_open_the_studio(new_page):
    """Visitors are sent to sign in; listeners who are not DJs get 403."""
    visitor = new_page()
    visitor.goto(STUDIO)
    expect(visitor).to_have_url(re.compile(r"/accounts/login/\?next="))
    listener = new_page(LISTENER)
    assert listener.goto(STUDIO).status == 403


def test_console_works_from_the_keyboard(studio):
    """Enter on Go live goes live and moves focus to Stop, and back again."""
    page = studio()
    page.get_by_role("button", name="Turn on").focus()
    page.keyboard.press("Enter")
    wait_for_signal(page, "mic-meter")
    expect(page.get_by_label("Microphone")).to_be_focused()
    page.get_by_role("button", name="Go live").focus()

    page.keyboard.press("Enter")
    expect(state_label(page)).to_have_text("Live")
    expect(page.get_by_role("button", name="Stop")).to_be_focused()
    page.keyboard.press("Enter")
    expect(state_label(page)).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Go live")).to_be_focused()


def test_phone_layout_fits_the_screen(studio):
    """At phone width nothing is wider than the screen; the decks give way,
    and the microphone, now playing and the chat stay."""
    page = studio(viewport=PHONE)
    expect(page.get_by_role("button", name="Go live")).to_be_visible()
    expect(page.get_by_role("button", name="Play deck A")).to_be_hidden()
    for control in (
        page.get_by_role("button", name="Turn on"),
        page.get_by_label("Title"),
        page.get_by_label("Chat message"),
    ):
        expect(control).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )


# --- The AutoDJ library panel ----------------------------------------------------


class FakeLibrary:
    """The library API of the studio, answered inside the browser (page.route).

    The server side is built elsewhere; this checks the panel against the
    API it is written for.
    """

    def __init__(self) -> None:
        self.tracks = [
            {"id": 1, "title": "Alpha", "artist": "Ann", "duration_ms": 185_000},
            {"id": 2, "title": "Beta", "artist": "", "duration_ms": 62_500},
            {"id": 3, "title": "Gamma", "artist": "Gus", "duration_ms": 240_000},
        ]
        self.posts: list[tuple[str, Any]] = []
        self.upload_status = 201

    def handle(self, route, request) -> None:
        path = request.url.split("/library/", 1)[1]
        if request.method == "GET":
            body = {"tracks": self.tracks, "shuffle": False, "crossfade_ms": 2000}
            route.fulfill(json=body)
            return
        assert request.headers.get("x-csrftoken"), "a POST without X-CSRFToken"
        if path == "":
            self.posts.append(("upload", request.headers["content-type"]))
            if self.upload_status != 201:
                route.fulfill(status=413, json={"error": "That file is too big."})
                return
            track = {
                "id": 4,
                "title": "Evening Tune",
                "artist": "",
                "duration_ms": 8000,
            }
            route.fulfill(status=201, json=track)
            return
        self.posts.append((path, request.post_data_json if request.post_data else None))
        route.fulfill(json={})


def test_a_track_uploaded_in_the_studio_goes_on_air_from_the_autodj(
    deployment, new_page, radio_server, song_wav
):
    """The real library: upload in the console, and the AutoDJ plays it."""
    deployment.manage("createstation", "jukebox", "--name", "Jukebox", "--dj", DJ[0])
    page = new_page(DJ, path="/stations/jukebox/studio/")
    expect(page.locator("#library")).to_be_visible()
    page.get_by_label("Add a track").set_input_files(song_wav)
    expect(page.locator("#library-note")).to_have_text("Added Evening Tune.")
    expect(page.locator("#library-tracks li .track-title")).to_have_text(
        ["Evening TuneThe Testers"]
    )

    # The AutoDJ takes the station first and names its track when the track's
    # audio starts.
    deadline = time.monotonic() + AUTODJ_START_S
    while not (status := station_status(radio_server, "jukebox"))["now_playing"]:
        assert time.monotonic() < deadline, f"the AutoDJ did not start: {status}"
        time.sleep(0.2)
    assert status["source"] == "autodj"
    assert status["now_playing"]["title"] == "Evening Tune"
    assert status["now_playing"]["artist"] == "The Testers"

    page.get_by_role("button", name="Delete Evening Tune").click()
    expect(page.locator("#library-tracks li")).to_have_count(0)


def test_library_panel_orders_uploads_and_deletes(studio, song_wav):
    """The panel lists tracks, moves, uploads, deletes and saves its settings."""
    library = FakeLibrary()
    page = studio()
    page.route("**/studio/library/**", library.handle)
    page.reload()
    tracks = page.locator("#library-tracks li .track-title")
    expect(tracks).to_have_text(["AlphaAnn", "Beta", "GammaGus"])
    expect(page.locator("#library").get_by_label("Crossfade")).to_have_value("2")
    expect(page.get_by_role("button", name="Move Alpha up")).to_be_disabled()

    page.get_by_role("button", name="Move Gamma up").click()
    expect(tracks).to_have_text(["AlphaAnn", "GammaGus", "Beta"])
    expect(page.get_by_role("button", name="Move Gamma up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(tracks).to_have_text(["GammaGus", "AlphaAnn", "Beta"])

    page.get_by_label("Shuffle").check()
    page.locator("#library").get_by_label("Crossfade").fill("3.5")
    page.locator("#library").get_by_label("Crossfade").press("Tab")
    page.get_by_role("button", name="Delete Beta").click()
    expect(tracks).to_have_text(["GammaGus", "AlphaAnn"])

    page.get_by_label("Add a track").set_input_files(song_wav)
    expect(tracks).to_have_text(["GammaGus", "AlphaAnn", "Evening Tune"])
    expect(page.locator("#library-note")).to_have_text("Added Evening Tune.")
    library.upload_status = 413
    page.get_by_label("Add a track").set_input_files(song_wav)
    expect(page.locator("#library-note")).to_have_text("That file is too big.")

    assert library.posts[:5] == [
        ("order/", {"track_ids": [1, 3, 2]}),
        ("order/", {"track_ids": [3, 1, 2]}),
        ("settings/", {"shuffle": True, "crossfade_ms": 2000}),
        ("settings/", {"shuffle": True, "crossfade_ms": 3500}),
        ("2/delete/", None),
    ]
    assert library.posts[5][0] == "upload"
    assert library.posts[5][1].startswith("multipart/form-data")


# --- Screenshots ------------------------------------------------------------------


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots(studio, room, sockets, size, song_wav, tmp_path):
    """studio-<size>.png: the console live, a deck playing, with chat (see
    SCREENSHOTS_DIR)."""
    viewport = PHONE if size == "phone" else {"width": 1366, "height": 768}
    page = studio(viewport=viewport)
    turn_on_mic(page)
    go_live(page)
    if size == "desktop":
        page.get_by_label("Add tracks to deck A").set_input_files(song_wav)
        page.get_by_role("button", name="Play deck A").click()
    else:
        page.get_by_label("Title").fill("Evening Tune")
        page.get_by_label("Artist").fill("The Testers")
        page.get_by_role("button", name="Announce").click()
    room.wait_for("now_playing")
    for text in ("Great set tonight!", "Can you play something by Nina?"):
        room.send_json({"type": "chat", "text": text})
    expect(page.locator("#chat .chat-text").last).to_have_text(text)
    expect(page.locator("#listeners button")).to_have_text([LISTENER[0]])
    folder = Path(SCREENSHOTS_DIR) if SCREENSHOTS_DIR else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    shot = folder / f"studio-{size}.png"
    page.screenshot(path=shot, full_page=size == "phone")
    assert shot.stat().st_size > 10_000
    stop(page)


# --- Slots ------------------------------------------------------------------


@pytest.fixture
def kept_to_slots(deployment) -> Iterator[Callable[[int], None]]:
    """``slot(starts_in_s)``: the station keeps DJs to their slots, and the
    DJ's one show is on once, for a minute, ``starts_in_s`` from now."""

    def slot(starts_in_s: int) -> None:
        deployment.shell(
            "from datetime import timedelta; "
            "from django.contrib.auth import get_user_model; "
            "from django.utils import timezone; "
            "from stations.models import Station; "
            "from stations.programme.models import Show, Slot; "
            f"station = Station.objects.get(slug={STATION!r}); "
            "station.slots_enforced = True; station.save(); "
            "show = Show.objects.create(station=station, name='Drive', slug='drive'); "
            f"show.hosts.add(get_user_model().objects.get(username={DJ[0]!r})); "
            "Slot.objects.create(show=show, kind='once', duration_minutes=1, "
            f"starts_at=timezone.now() + timedelta(seconds={starts_in_s}))"
        )

    yield slot
    deployment.shell(
        "from stations.models import Station; "
        f"Station.objects.filter(slug={STATION!r}).update(slots_enforced=False); "
        "from stations.programme.models import Show; Show.objects.all().delete()"
    )


def test_the_console_shows_a_refusal_outside_the_slot(studio, kept_to_slots):
    """Off air with the reason and the next slot; Go live may be tried again."""
    kept_to_slots(3600)
    page = studio()
    turn_on_mic(page)
    page.get_by_role("button", name="Go live").click()
    expect(state_label(page)).to_have_text("Not live")
    expect(page.locator("#broadcast-state-detail")).to_contain_text(
        "Your next slot (Drive) starts"
    )
    expect(page.get_by_role("button", name="Go live")).to_be_enabled()
    expect(page.locator("#studio")).to_have_attribute("data-connection", "ready")


def test_the_console_warns_when_the_slot_ends(studio, kept_to_slots):
    """A DJ live in the last minute of their slot reads when it ends."""
    kept_to_slots(-50)
    page = studio()
    turn_on_mic(page)
    go_live(page)
    expect(page.locator("#broadcast-state-detail")).to_contain_text("Your slot ends at")
    expect(page.locator("#broadcast-state-detail")).to_contain_text("you go off air at")
    expect(state_label(page)).to_have_text("Live")
    stop(page)
