"""The listener page plays a live station in real Chromium, near the live edge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DJ, PHONE, STATION
from tests.browser.dj import PythonDj, make_show

LISTEN = f"/stations/{STATION}/"
# Targets of the issue: first sound within 1 s of Play; buffer under 2 s.
FIRST_SOUND_MAX_MS = 1000
MAX_AHEAD_S = 2.0
# How long the buffer is sampled, and how often, in ms.
SAMPLE_FOR_MS = 4000
SAMPLE_EVERY_MS = 250

# Samples the player in the page every SAMPLE_EVERY_MS for SAMPLE_FOR_MS.
SAMPLE_PLAYER = """async ([forMs, everyMs]) => {
  const audio = document.getElementById("audio");
  const samples = [];
  const end = performance.now() + forMs;
  while (performance.now() < end) {
    const b = audio.buffered;
    samples.push({
      ahead: b.length ? b.end(b.length - 1) - audio.currentTime : 0,
      behindMs: globalThis.radio.player.status.behindMs,
      time: audio.currentTime,
    });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return samples;
}"""


@pytest.fixture(scope="module")
def show(tmp_path_factory) -> bytes:
    return make_show(tmp_path_factory.mktemp("show") / "show.mp3")


@pytest.fixture(scope="module")
def dj(radio_server, show):
    dj = PythonDj(radio_server, DJ, STATION, show)
    dj.go_live()
    yield dj
    dj.close()


def click_play(page) -> None:
    expect(page.locator("#on-air")).to_have_attribute("data-on-air", "true")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0")


def test_play_starts_at_once_and_stays_near_live(dj, new_page):
    """Play gives sound within a second, and the buffer stays under 2 s."""
    page = new_page(path=LISTEN)
    # This Chromium plays MP3 through Media Source Extensions.
    assert page.evaluate("MediaSource.isTypeSupported('audio/mpeg')") is True
    assert page.evaluate("globalThis.radio.player.mode") == "mse"
    click_play(page)
    first_sound_ms = page.evaluate("globalThis.radio.player.status.firstSoundMs")
    assert first_sound_ms is not None
    assert first_sound_ms < FIRST_SOUND_MAX_MS
    start = page.evaluate("document.getElementById('audio').currentTime")
    samples = page.evaluate(SAMPLE_PLAYER, [SAMPLE_FOR_MS, SAMPLE_EVERY_MS])
    page.wait_for_function(
        f"() => document.getElementById('audio').currentTime >= {start + 3}"
    )
    assert page.evaluate("document.getElementById('audio').error") is None
    assert max(sample["ahead"] for sample in samples) < MAX_AHEAD_S, samples
    behind = [s["behindMs"] for s in samples if s["behindMs"] is not None]
    assert behind, "the page never showed how far behind live it is"
    assert max(behind) < MAX_AHEAD_S * 1000, samples
    expect(page.get_by_role("button", name="Stop")).to_be_visible()


def test_title_changes_when_its_audio_is_heard(dj, new_page):
    """now_playing shows once the audio from its seq plays, not before."""
    page = new_page(path=LISTEN)
    click_play(page)
    # What the page has buffered ahead of the playhead when the title comes.
    page.evaluate("""() => {
      const audio = document.getElementById("audio");
      globalThis.titleLog = [];
      new MutationObserver(() => globalThis.titleLog.push({
        title: document.getElementById("now-title").textContent,
        at: audio.currentTime,
      })).observe(document.getElementById("now-title"), {childList: true});
      globalThis.radio.connection.on("json", (m) => {
        if (m.type === "now_playing") globalThis.titleArrivedAt = audio.currentTime;
      });
    }""")
    dj.announce("Night Drive", "The Testers")
    expect(page.locator("#now-title")).to_have_text("Night Drive")
    expect(page.locator("#now-artist")).to_have_text("The Testers")
    arrived = page.evaluate("globalThis.titleArrivedAt")
    shown = page.evaluate("globalThis.titleLog.at(-1).at")
    # The buffered audio ahead of the playhead played first.
    assert shown - arrived > 0.2, (arrived, shown)


def test_stop_and_volume_controls(dj, new_page):
    """Stop stops the audio; mute and volume act on the audio element."""
    page = new_page(path=LISTEN)
    click_play(page)
    page.get_by_role("button", name="Mute").click()
    assert page.evaluate("document.getElementById('audio').muted") is True
    expect(page.get_by_role("button", name="Unmute")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_label("Volume").fill("30")
    assert page.evaluate("document.getElementById('audio').volume") == 0.3
    assert page.evaluate("document.getElementById('audio').muted") is False
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Play")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert page.evaluate("document.getElementById('audio').paused") is True


def test_phone_layout_has_no_horizontal_overflow(dj, new_page):
    """At 390 by 844 px nothing sticks out sideways and the controls are reachable."""
    page = new_page(path=LISTEN, viewport=PHONE)
    expect(page.locator("#on-air")).to_have_attribute("data-on-air", "true")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    for control in (
        page.get_by_role("button", name="Play"),
        page.get_by_role("button", name="Mute"),
        page.get_by_label("Volume"),
    ):
        box = control.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    # Keyboard only: the skip link first, then on to Play, with a visible ring.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    play = page.get_by_role("button", name="Play")
    for _ in range(10):
        page.keyboard.press("Tab")
        if play.evaluate("button => button === document.activeElement"):
            break
    expect(play).to_be_focused()
    assert play.evaluate("button => getComputedStyle(button).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0")


AHEAD = """() => {
  const audio = document.getElementById("audio");
  const b = audio.buffered;
  return b.length ? b.end(b.length - 1) - audio.currentTime : 0;
}"""


def test_player_catches_up_after_falling_behind(dj, new_page):
    """Audio piling up in the buffer makes the player jump back near live."""
    page = new_page(path=LISTEN)
    click_play(page)
    page.evaluate("document.getElementById('audio').playbackRate = 0.5")
    # At half speed a second's surplus piles up every 2 s, and the player
    # jumps as it passes 1.6 s: what is buffered falls back under a second.
    page.wait_for_function(f"() => ({AHEAD})() > 1.2")
    page.wait_for_function(f"() => ({AHEAD})() < 1.0")
    assert page.evaluate("document.getElementById('audio').error") is None


def test_back_to_live_button(dj, new_page):
    """Past 2 s behind the page offers "Back to live", which goes there."""
    page = new_page(path=LISTEN)
    click_play(page)
    back = page.get_by_role("button", name="Back to live")
    expect(back).to_be_hidden()
    # A listener whose player has fallen behind: no catching up by itself.
    page.evaluate("""() => {
      globalThis.radio.player.catchUpAheadS = 60;
      document.getElementById("audio").playbackRate = 0.5;
    }""")
    expect(back).to_be_visible()
    expect(page.locator("#behind")).to_contain_text("s behind live")
    page.evaluate("document.getElementById('audio').playbackRate = 1")
    back.click()
    expect(back).to_be_hidden()
    assert page.evaluate(AHEAD) < 1.0
    # The player measures how far behind it is again once it plays on.
    page.wait_for_function(
        "() => { const behind = globalThis.radio.player.status.behindMs;"
        " return behind !== null && behind < 1500; }",
        timeout=10_000,
    )


HIDE_MEDIA_SOURCE = """
  window.ManagedMediaSource = %s;
  Object.defineProperty(window, "MediaSource", { value: undefined });
"""
# This Chromium says it "maybe" plays HLS, which would make the page choose the
# HLS playlist, but it cannot play packed MP3 segments (Safari can): it is told
# to say no, as browsers without HLS of their own do (tests/js/player.test.js).
HIDE_NATIVE_HLS = """
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) {
    return type.includes("mpegurl") ? "" : canPlayType.call(this, type);
  };
"""


@pytest.mark.parametrize(
    ("mode", "managed"),
    [("managed", "window.MediaSource"), ("http", "undefined")],
)
def test_fallbacks_play_without_media_source(dj, new_page, mode, managed):
    """Without MediaSource: ManagedMediaSource if there, else stream.mp3."""
    page = new_page()
    page.add_init_script(HIDE_MEDIA_SOURCE % managed + HIDE_NATIVE_HLS)
    page.goto(LISTEN)
    assert page.evaluate("globalThis.radio.player.mode") == mode
    click_play(page)
    start = page.evaluate("document.getElementById('audio').currentTime")
    page.wait_for_function(
        f"() => document.getElementById('audio').currentTime >= {start + 2}"
    )
    assert page.evaluate("document.getElementById('audio').error") is None
    source = page.evaluate("document.getElementById('audio').src")
    if mode == "http":
        assert source.endswith(f"/stations/{STATION}/stream.mp3")
    else:
        assert source.startswith("blob:")
        assert page.evaluate("document.getElementById('audio').disableRemotePlayback")
    page.get_by_role("button", name="Stop").click()
    assert page.evaluate("document.getElementById('audio').getAttribute('src')") is None


# hls.js plays HLS through MSE where the browser has no HLS of its own; sites
# and apps embed it. Pinned in package.json for this test only.
HLS_JS = Path(__file__).resolve().parents[2] / "node_modules/hls.js/dist/hls.min.js"
PLAY_WITH_HLS_JS = """url => {
  const audio = document.createElement("audio");
  audio.id = "hls-audio";
  document.body.append(audio);
  globalThis.hlsFailures = [];
  const hls = new Hls({ enableWorker: false });
  hls.on(Hls.Events.ERROR, (event, data) => {
    if (data.fatal) globalThis.hlsFailures.push(data.details);
  });
  hls.loadSource(url);
  hls.attachMedia(audio);
  audio.play();
}"""


def test_hls_js_plays_the_station_s_playlist(dj, new_page):
    """The station's HLS playlist and packed MP3 segments play in hls.js, in
    this Chromium: 4 s of the live station heard, and no fatal error."""
    page = new_page(path=LISTEN, bypass_csp=True)
    page.add_script_tag(path=HLS_JS)
    page.evaluate(PLAY_WITH_HLS_JS, f"{LISTEN}hls/live.m3u8")
    page.wait_for_function(
        "() => document.getElementById('hls-audio').currentTime >= 4"
        " || globalThis.hlsFailures.length",
        timeout=30_000,
    )
    assert page.evaluate("globalThis.hlsFailures") == []
    assert page.evaluate("document.getElementById('hls-audio').error") is None


def test_recently_played_shows_a_title_pushed_live(dj, new_page):
    """A DJ's new title goes to the top of "Recently played" as it is heard,
    as text; the history stores it, and the page served afterwards lists it."""
    page = new_page(path=LISTEN)
    recent = page.locator("#recent-plays li")
    click_play(page)

    dj.announce("<b>Fresh</b> Cut", "The Testers")

    expect(recent.first.locator(".play-title")).to_have_text("<b>Fresh</b> Cut")
    expect(recent.first.locator(".play-artist")).to_have_text("The Testers")
    expect(recent.first.locator("time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    assert recent.first.locator("b").count() == 0
    # The worker stores it in the background; the history page lists it.
    page.wait_for_function(
        """async (url) => (await (await fetch(url)).text())
             .includes("&lt;b&gt;Fresh&lt;/b&gt; Cut")""",
        arg=f"/stations/{STATION}/history/",
        polling=100,
    )
    page.reload()
    expect(recent.first.locator(".play-title")).to_have_text("<b>Fresh</b> Cut")
    expect(page.locator("#recent-plays [data-empty]")).to_be_hidden()
    assert recent.count() <= 10


def test_a_full_station_tells_the_listener_so(deployment, new_page):
    """Past a station's max_listeners the page says the station is full and
    waits to try again, while the listener already in stays connected."""
    deployment.set_up(
        commands=[["createstation", "tiny", "--name", "Tiny"]],
        then=(
            "from stations.models import Station; "
            "Station.objects.filter(slug='tiny').update(max_listeners=1)"
        ),
    )
    first = new_page(path="/stations/tiny/")
    expect(first.locator("#listen")).to_have_attribute("data-connection", "open")
    second = new_page(path="/stations/tiny/")
    expect(second.locator("#connection")).to_have_text(
        "The station is full. Trying again soon…"
    )
    expect(second.locator("#listen")).to_have_attribute(
        "data-connection", "reconnecting"
    )
    expect(first.locator("#listen")).to_have_attribute("data-connection", "open")
