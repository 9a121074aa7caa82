"""An archived episode plays in Chromium, and its tracklist's links seek the
player to where each title starts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import STATION
from tests.support.audio import make_tone

EPISODE_SECONDS = 40
# Where the second title starts, in seconds.
SECOND_TITLE_AT_S = 25.5


@pytest.fixture(scope="module")
def episode_id(deployment, tmp_path_factory) -> int:
    """A published episode of STATION with two titles, its file a real MP3."""
    folder = deployment.media_root / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    make_tone(folder / "episode.mp3", seconds=EPISODE_SECONDS)
    size = (folder / "episode.mp3").stat().st_size
    output = deployment.shell(
        "from datetime import UTC, datetime, timedelta\n"
        "from stations.models import Station\n"
        "from stations.programme.models import Episode, Play\n"
        f"station = Station.objects.get(slug={STATION!r})\n"
        "start = datetime.now(UTC) - timedelta(hours=1)\n"
        "episode = Episode.objects.create(station=station, dj_name='dj',"
        " title='Tones', file='recordings/episode.mp3', started_at=start,"
        f" ended_at=start + timedelta(seconds={EPISODE_SECONDS}),"
        f" duration_ms={EPISODE_SECONDS * 1000}, size_bytes={size})\n"
        "for title, offset in [('Opening', 0), ('Second', "
        f"{round(SECOND_TITLE_AT_S * 1000)})]:\n"
        "    Play.objects.create(station=station, title=title, source='live',"
        " started_at=start, episode=episode, offset_ms=offset)\n"
        "print(episode.pk)\n"
    )
    return int(output.split()[-1])


def test_a_tracklist_entry_seeks_the_player_and_plays_from_there(new_page, episode_id):
    page = new_page(path=f"/stations/{STATION}/archive/{episode_id}/")
    entries = page.locator("#tracklist li")
    expect(entries).to_have_count(2)
    expect(entries.nth(1)).to_contain_text("Second")

    entries.nth(1).locator("a.seek").click()

    player = page.locator("#episode-player")
    page.wait_for_function(
        "([at]) => { const a = document.getElementById('episode-player');"
        " return !a.paused && a.currentTime > at + 0.3; }",
        arg=[SECOND_TITLE_AT_S],
    )
    position = player.evaluate("audio => audio.currentTime")
    assert SECOND_TITLE_AT_S <= position < SECOND_TITLE_AT_S + 3
    assert page.url.endswith(f"/archive/{episode_id}/"), "the link was followed"
