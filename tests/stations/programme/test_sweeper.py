"""The sweeper finishes the episodes whose worker died, from what their
file holds, and deletes old episodes by age and by total size."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stations.models import Station
from stations.programme import sweeper
from stations.programme.models import Episode, Play
from stations.streaming.mp3 import FrameSplitter, whole_frames

pytestmark = pytest.mark.django_db(transaction=True)

STALE_S = 30


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug="sweep-fm", name="Sweep FM")


@pytest.fixture
def frames(tone_mp3) -> bytes:
    return FrameSplitter().feed(tone_mp3).payload


def make_episode(station, data: bytes, *, started_at, ended=True, **fields) -> Episode:
    episode = Episode(
        station=station,
        dj_name="dj",
        title="Episode",
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=1) if ended else None,
        size_bytes=len(data),
        recorder="worker-token",
        recorded_at=started_at,
        **fields,
    )
    episode.file.name = f"recordings/{station.pk}/{started_at:%Y%m%d%H%M%S%f}.mp3"
    path = Path(episode.file.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    episode.save()
    return episode


def play(station, title: str, started_at: datetime) -> Play:
    return Play.objects.create(
        station=station, title=title, source="live", started_at=started_at
    )


def test_a_recording_whose_worker_died_is_finished(station, frames, settings):
    """Its file is cut after the last whole frame, its length measured, and
    the titles set while it recorded are its tracklist, by time."""
    settings.RADIO_RECORDING_STALE_SECONDS = STALE_S
    started = datetime.now(UTC) - timedelta(minutes=2)
    cut_short = frames[:-300]
    episode = make_episode(station, cut_short, started_at=started, ended=False)
    title = Play.objects.create(
        station=station,
        title="Heard",
        source="live",
        started_at=started + timedelta(seconds=2),
    )
    before = Play.objects.create(
        station=station,
        title="Earlier",
        source="autodj",
        started_at=started - timedelta(seconds=5),
    )

    sweeper.sweep()

    episode.refresh_from_db()
    data = Path(episode.file.path).read_bytes()
    size, duration_ms = whole_frames(io.BytesIO(data))
    assert size == len(data) == episode.size_bytes < len(cut_short)
    assert data == cut_short[:size]
    assert episode.duration_ms == round(duration_ms)
    assert episode.ended_at is not None
    title.refresh_from_db()
    before.refresh_from_db()
    assert (title.episode_id, title.offset_ms) == (episode.pk, 2000)
    assert before.episode_id is None


def test_a_recording_still_written_to_is_left_alone(station, frames, settings):
    settings.RADIO_RECORDING_STALE_SECONDS = STALE_S
    recent = datetime.now(UTC) - timedelta(seconds=STALE_S / 2)
    episode = make_episode(station, frames, started_at=recent, ended=False)
    sweeper.sweep()
    episode.refresh_from_db()
    assert episode.ended_at is None


def test_only_one_sweeper_finishes_an_episode(station, frames):
    """The second sweeper to find a stale episode sees it taken."""
    started = datetime.now(UTC) - timedelta(minutes=2)
    episode = make_episode(station, frames, started_at=started, ended=False)
    stale = datetime.now(UTC) - timedelta(seconds=STALE_S)
    seen_by_both = Episode.objects.get(pk=episode.pk)
    assert sweeper.episode_recover(episode, stale=stale) is not None
    assert sweeper.episode_recover(seen_by_both, stale=stale) is None


def test_episodes_older_than_the_days_kept_are_deleted(station, frames, settings):
    settings.RADIO_RECORDINGS_KEEP_DAYS = 90
    now = datetime.now(UTC)
    old = make_episode(station, frames, started_at=now - timedelta(days=91))
    kept = make_episode(station, frames, started_at=now - timedelta(days=89))
    recording = make_episode(
        station,
        frames,
        started_at=now - timedelta(days=100),
        ended=False,
    )
    Episode.objects.filter(pk=recording.pk).update(recorded_at=now)

    sweeper.sweep()

    assert set(Episode.objects.values_list("pk", flat=True)) == {kept.pk, recording.pk}
    assert not Path(old.file.path).exists()
    assert Path(kept.file.path).exists()


def test_the_oldest_episodes_go_past_the_size_cap(station, frames, settings):
    """Newest first, episodes are kept while they fit under the cap."""
    now = datetime.now(UTC)
    episodes = [
        make_episode(station, frames, started_at=now - timedelta(hours=hours))
        for hours in (3, 2, 1)
    ]
    settings.RADIO_RECORDINGS_MAX_GB = 2.5 * len(frames) / sweeper.BYTES_PER_GB

    sweeper.sweep()

    assert list(
        Episode.objects.order_by("started_at").values_list("pk", flat=True)
    ) == [
        episodes[1].pk,
        episodes[2].pk,
    ]
    assert not Path(episodes[0].file.path).exists()


def test_a_title_stored_after_its_episode_ended_joins_its_tracklist(
    station, frames, settings
):
    """Live titles only, at their time into the episode; the AutoDJ's that
    followed are left alone."""
    settings.RADIO_RECORDING_SWEEP_SECONDS = 60
    ended = datetime.now(UTC)
    started = ended - timedelta(minutes=1)
    episode = make_episode(station, frames, started_at=started)
    Episode.objects.filter(pk=episode.pk).update(ended_at=ended, duration_ms=60_000)
    late = play(station, "Last words", ended - timedelta(milliseconds=500))
    autodj = Play.objects.create(
        station=station, title="Track", source="autodj", started_at=ended
    )

    sweeper.sweep()

    late.refresh_from_db()
    autodj.refresh_from_db()
    assert (late.episode_id, late.offset_ms) == (episode.pk, 59_500)
    assert autodj.episode_id is None
