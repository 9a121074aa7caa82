"""The console's mixing desk in real headless Chromium, against a real daphne.

Tracks are tones of known frequencies, tagged by ffmpeg; the desk plays
them from the DJ's disk (nothing is uploaded), and a listener socket
(``room``) records the station's output. What listeners hear is checked on
that output, decoded, tone by tone (Goertzel levels per 50 ms window), and
each ``now_playing`` against the audio message (``seq``) where its track is
first heard.

The DJ's microphone is Chromium's fake one, a 440 Hz tone (``mic_browser``);
the decks' tones stay clear of it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LISTENER, STATION
from tests.support.audio import decoded_mono, frames_duration_ms, make_tone, tone_levels

from .studio_page import WAIT_S, BackgroundSocket, go_live, peak, stop, turn_on_mic

MIC_TONE = 440
# Three tracks for deck A, one for deck B: (frequency, title, artist).
TRACKS = [
    (523, "First Light", "The Testers"),
    (659, "Second Wind", "The Testers"),
    (784, "Third Rail", "Other Band"),
]
B_TRACK = (988, "Deck B Song", "Band B")
TONES = [frequency for frequency, _, _ in [*TRACKS, B_TRACK]]
WINDOW_MS = 50
# A tone at least this loud (of full scale) is heard. Decoded to mono, a
# deck's tone measures about 0.06 with the crossfader in the middle and 0.09
# at the deck's side; a tone not playing measures under 0.002.
HEARD = 0.02
# How far a title may be from the audio it names, in seconds (the bound).
TITLE_TOLERANCE_S = 0.5


@pytest.fixture(scope="module")
def crate(tmp_path_factory) -> dict[str, list[Path]]:
    """The DJ's files for each deck: tagged tones, 4 s on A and 20 s on B."""
    folder = tmp_path_factory.mktemp("crate")

    def track(index: int, seconds: int, frequency: int, title: str, artist: str):
        return make_tone(
            folder / f"track-{index}.mp3",
            seconds=seconds,
            frequency=frequency,
            tags={"title": title, "artist": artist},
        )

    return {
        "A": [track(index, 4, *track_) for index, track_ in enumerate(TRACKS)],
        "B": [track(len(TRACKS), 20, *B_TRACK)],
    }


@pytest.fixture(scope="module")
def loud_track(tmp_path_factory) -> Path:
    """A tone at full scale, which the EQ and level push over it."""
    path = tmp_path_factory.mktemp("loud") / "Too Loud - Clipper.mp3"
    return make_tone(path, seconds=20, frequency=659, volume=7.9)


# --- The station's output, as a listener got it --------------------------------


class Heard:
    """The room's audio decoded: each tone's level per window, and the time
    at which each audio message (``seq``) starts."""

    def __init__(self, room: BackgroundSocket, first: int = 0) -> None:
        with room.changed:
            packets = room.audio[first:]
        self.starts: dict[int, float] = {}
        elapsed = 0.0
        for seq, frames in packets:
            self.starts[seq] = elapsed
            elapsed += frames_duration_ms(frames) / 1000
        samples = decoded_mono(b"".join(frames for _, frames in packets))
        self.windows = tone_levels(samples, [MIC_TONE, *TONES], window_ms=WINDOW_MS)

    def first_heard(self, tone: int, *, after: float = 0.0) -> float | None:
        """When ``tone`` is first heard, in seconds from the first message."""
        for index, levels in enumerate(self.windows):
            at = index * WINDOW_MS / 1000
            if at >= after and levels[tone] >= HEARD:
                return at
        return None

    def level(self, tone: int, start: float, end: float) -> float:
        """The median level of ``tone`` from ``start`` to ``end`` seconds."""
        window = slice(int(start * 1000 / WINDOW_MS), int(end * 1000 / WINDOW_MS))
        levels = sorted(levels[tone] for levels in self.windows[window])
        assert levels, f"no audio from {start} s to {end} s"
        return levels[len(levels) // 2]

    def heard_together(self, first: int, second: int) -> float:
        """How long both tones were heard at once, in seconds."""
        both = [w for w in self.windows if w[first] >= HEARD and w[second] >= HEARD]
        return len(both) * WINDOW_MS / 1000


# --- Helpers -----------------------------------------------------------------


def console_off_mic(studio) -> Page:
    """The console with the microphone turned on but off air."""
    page = studio()
    turn_on_mic(page)
    page.get_by_role("button", name="Mic on air").click()
    expect(page.locator("#desk")).to_have_attribute("data-mic", "closed")
    return page


def load(page: Page, deck: str, files: list[Path]) -> None:
    page.get_by_label(f"Add tracks to deck {deck}").set_input_files(files)
    expect(page.locator(f"#deck-{deck.lower()}-playlist li")).to_have_count(len(files))


def now_playing(room: BackgroundSocket, title: str) -> dict:
    return room.wait_for("now_playing", lambda message: message["title"] == title)


def wait_for_seconds_of_audio(room: BackgroundSocket, seconds: float) -> None:
    room.wait_for_audio(room.audio_bytes() + int(seconds * 128_000 / 8))


# --- Decks and titles ------------------------------------------------------------


def test_a_deck_plays_its_playlist_and_each_title_comes_with_its_audio(
    studio, room, crate
):
    """Three tagged tracks on deck A play one after another; listeners get
    each title within half a second of hearing its first audio."""
    page = console_off_mic(studio)
    go_live(page)
    start = len(room.audio)
    load(page, "A", crate["A"])
    expect(page.locator("#deck-a-title")).to_have_text("First Light")
    expect(page.locator("#deck-a-artist")).to_have_text("The Testers")
    page.get_by_role("button", name="Play deck A").click()

    announced = [now_playing(room, title) for _, title, _ in TRACKS]
    assert [(m["title"], m["artist"], m["source"]) for m in announced] == [
        (title, artist, "live") for _, title, artist in TRACKS
    ]
    wait_for_seconds_of_audio(room, 2)
    heard = Heard(room, start)
    previous = 0.0
    for (tone, title, _), message in zip(TRACKS, announced, strict=True):
        sounded = heard.first_heard(tone, after=previous)
        assert sounded is not None, f"{title} ({tone} Hz) was never heard"
        titled = heard.starts[message["seq"]]
        assert abs(titled - sounded) <= TITLE_TOLERANCE_S, (
            f"{title}: heard at {sounded:.2f} s, titled at {titled:.2f} s"
        )
        previous = sounded
    assert heard.first_heard(MIC_TONE) is None, "the microphone was on air"
    expect(page.locator("#now-playing")).to_have_text(
        "Other Band \N{EN DASH} Third Rail"
    )
    stop(page)


def test_the_auto_dj_mode_crossfades_to_the_other_deck(studio, room, crate):
    """With the auto-DJ mode on, deck B starts 3 s before deck A's track ends
    and the crossfader moves across: both are heard over the fade, then
    only B, whose title comes with its audio."""
    page = console_off_mic(studio)
    load(page, "A", crate["A"][:1])
    load(page, "B", crate["B"])
    page.get_by_label("Auto-DJ mode").check()
    page.get_by_label("Mix over").fill("3")
    page.get_by_label("Mix over").dispatch_event("change")
    go_live(page)
    start = len(room.audio)
    page.get_by_role("button", name="Play deck A").click()
    expect(page.get_by_label("Crossfader")).to_have_value("0")

    first = now_playing(room, TRACKS[0][1])
    second = now_playing(room, B_TRACK[1])
    expect(page.get_by_label("Crossfader")).to_have_value("1")
    wait_for_seconds_of_audio(room, 2)
    heard = Heard(room, start)
    a_tone, b_tone = TRACKS[0][0], B_TRACK[0]
    a_heard = heard.first_heard(a_tone)
    b_heard = heard.first_heard(b_tone)
    assert a_heard is not None and b_heard is not None
    # The fade starts 3 s before the 4 s track ends.
    assert 0.8 <= b_heard - a_heard <= 2.0, (a_heard, b_heard)
    assert 1.8 <= heard.heard_together(a_tone, b_tone) <= 3.2
    end = len(heard.windows) * WINDOW_MS / 1000
    assert heard.level(a_tone, end - 1.5, end) < HEARD / 4
    assert heard.level(b_tone, end - 1.5, end) >= 0.06
    assert abs(heard.starts[first["seq"]] - a_heard) <= TITLE_TOLERANCE_S
    # B is announced once it is the louder deck: by the middle of the fade.
    assert b_heard - 0.2 <= heard.starts[second["seq"]] <= b_heard + 1.5 + 0.5
    expect(page.locator("#deck-b")).to_have_attribute("data-audible", "true")
    stop(page)


# --- The microphone ----------------------------------------------------------


def test_talk_over_ducks_the_music_while_the_mic_is_on_air(studio, room, crate):
    """Opening the microphone lowers the music by about 12 dB on air;
    closing it brings the music back, and the mic is heard only meanwhile."""
    page = console_off_mic(studio)
    load(page, "B", crate["B"])
    go_live(page)
    page.get_by_role("button", name="Play deck B").click()
    now_playing(room, B_TRACK[1])
    wait_for_seconds_of_audio(room, 1)

    def heard_for(seconds: float) -> Heard:
        first = len(room.audio)
        wait_for_seconds_of_audio(room, seconds)
        return Heard(room, first)

    before = heard_for(1.5)
    mic = page.get_by_role("button", name="Mic off air")
    mic.click()
    expect(page.locator("#desk")).to_have_attribute("data-mic", "open")
    wait_for_seconds_of_audio(room, 0.8)
    talking = heard_for(1.5)
    page.get_by_role("button", name="Mic on air").click()
    wait_for_seconds_of_audio(room, 1)
    after = heard_for(1.5)

    tone = B_TRACK[0]
    music = [part.level(tone, 0.2, 1.3) for part in (before, talking, after)]
    ducked_db = 20 * math.log10(music[1] / music[0])
    assert -15 <= ducked_db <= -9, f"the music changed by {ducked_db:.1f} dB"
    assert music[2] >= music[0] * 0.8, music
    assert before.level(MIC_TONE, 0.2, 1.3) < HEARD / 4
    assert talking.level(MIC_TONE, 0.2, 1.3) >= HEARD
    stop(page)


def test_space_is_push_to_talk(studio):
    """Held, the space bar opens the microphone; let go, it closes again."""
    page = console_off_mic(studio)
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.down("Space")
    expect(page.locator("#desk")).to_have_attribute("data-mic", "open")
    expect(page.get_by_role("button", name="Mic off air")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.keyboard.up("Space")
    expect(page.locator("#desk")).to_have_attribute("data-mic", "closed")


# --- Meters and safety ------------------------------------------------------------


def test_the_console_warns_of_silence_then_of_clipping(studio, room, loud_track):
    """Live with nothing audible for 10 s: a warning. A track pushed over
    full scale lights the clip lamp, while the limiter keeps what goes on
    air below full scale."""
    page = console_off_mic(studio)
    go_live(page)
    warning = page.locator("#silence-warning")
    expect(warning).to_be_visible(timeout=(10 + WAIT_S) * 1000)
    expect(warning).to_contain_text("Nothing has gone on air for 10 seconds")

    load(page, "A", [loud_track])
    page.get_by_label("Deck A level").fill("1.5")
    page.get_by_label("Deck A mid EQ").fill("12")
    page.get_by_label("Crossfader").fill("0")
    page.get_by_role("button", name="Play deck A").click()
    expect(warning).to_be_hidden()
    expect(page.locator("#clip")).to_have_attribute("data-on", "true")
    first = len(room.audio)
    wait_for_seconds_of_audio(room, 3)
    loudest = peak(room.mp3_since(first))
    # Unlimited, the tone would be cut flat at full scale (1.0).
    assert 0.6 < loudest < 0.99, f"the peak on air was {loudest:.3f} of full scale"
    stop(page)


# --- Headphones --------------------------------------------------------------------


def test_decks_and_the_mic_can_be_cued_on_a_chosen_output(studio):
    """Cue buttons toggle; the headphone output lists the browser's outputs
    and takes one (Chromium has AudioContext.setSinkId)."""
    page = console_off_mic(studio)
    cue = page.get_by_role("button", name="Cue deck A in the headphones")
    cue.click()
    expect(cue).to_have_attribute("aria-pressed", "true")
    mic_cue = page.get_by_role("button", name="Cue mic")
    mic_cue.click()
    expect(mic_cue).to_have_attribute("aria-pressed", "true")
    output = page.get_by_label("Headphones", exact=True)
    expect(output).to_be_enabled()
    options = output.locator("option")
    expect(options.first).to_have_text("Default output")
    assert options.count() >= 2, "no output device listed"
    output.select_option(index=1)
    expect(page.locator("#monitor-note")).to_be_hidden()


# --- Chat --------------------------------------------------------------------------


def test_the_dj_chats_from_the_console_with_a_badge(studio, room, new_page):
    """The DJ's line reaches the room marked as a DJ's, and the listener
    page shows it with a DJ badge."""
    listener = new_page(LISTENER, path=f"/stations/{STATION}/")
    page = studio()
    text = "Thanks for tuning in <b>all</b>"
    page.get_by_label("Chat message").fill(text)
    page.get_by_label("Chat message").press("Enter")

    line = room.wait_for("chat", lambda m: m["text"] == text)
    assert (line["user"], line["dj"]) == ("dj", True)
    shown = listener.locator(".chat-message").filter(has_text=text)
    expect(shown.locator(".chat-badge")).to_have_text("DJ")
    expect(shown.locator(".chat-text")).to_have_text(text)
    room.send_json({"type": "chat", "text": "hello from the room"})
    theirs = page.locator("#chat .chat-message").filter(has_text="hello from the room")
    expect(theirs.locator(".chat-text")).to_have_text("hello from the room")
    expect(theirs.locator(".chat-badge")).to_have_count(0)


# --- Keyboard and layout ---------------------------------------------------------


LAPTOP = {"width": 1366, "height": 768}


def test_the_desk_fits_a_laptop_screen(studio):
    """At 1366 by 768 both decks, the crossfader and the mic are in view, and
    nothing scrolls sideways."""
    page = studio(viewport=LAPTOP)
    for control in (
        page.get_by_role("button", name="Play deck A"),
        page.get_by_role("button", name="Play deck B"),
        page.get_by_label("Deck A position"),
        page.get_by_label("Deck B low EQ"),
        page.get_by_label("Crossfader"),
        page.get_by_role("button", name="Turn on"),
        page.get_by_label("Chat message"),
    ):
        expect(control).to_be_in_viewport(ratio=1)
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


def test_the_decks_and_crossfader_work_from_the_keyboard(studio, crate):
    """Tab reaches deck A's Play; Enter plays it; arrow keys move the crossfader."""
    page = console_off_mic(studio)
    load(page, "A", crate["A"][:1])
    page.get_by_role("button", name="Previous track on deck A").focus()
    page.keyboard.press("Tab")
    play = page.get_by_role("button", name="Play deck A")
    expect(play).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause deck A")).to_be_focused()
    crossfader = page.get_by_label("Crossfader")
    crossfader.focus()
    page.keyboard.press("End")
    expect(crossfader).to_have_value("1")
    page.keyboard.press("ArrowLeft")
    expect(crossfader).to_have_value("0.99")
