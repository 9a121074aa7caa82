"""The archive, episode and show pages, the episodes' audio with byte
ranges, the podcast feeds, and the studio page where DJs manage episodes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from stations.models import Station
from stations.programme.models import MAX_IMAGE_BYTES, Episode, Play, Show

pytestmark = pytest.mark.django_db(transaction=True)

AUDIO = bytes(range(256)) * 40  # 10240 bytes; the views do not decode it
PNG = b"\x89PNG\r\n\x1a\n not really"  # what a PNG starts with


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug="arch-fm", name="Archive FM")


@pytest.fixture
def show(station) -> Show:
    image = SimpleUploadedFile("art.png", PNG)
    return Show.objects.create(
        station=station, name="Night <Shift>", slug="night", image=image,
        description="Late & loud",
    )  # fmt: skip


def make_episode(station, title="Ep", *, show=None, published=True, ended=True, ago=1):
    started = datetime.now(UTC) - timedelta(hours=ago)
    episode = Episode(
        station=station, show=show, dj_name="deejay", title=title,
        started_at=started, ended_at=started + timedelta(minutes=30) if ended else None,
        duration_ms=1_800_000, size_bytes=len(AUDIO), published=published,
    )  # fmt: skip
    episode.file.name = f"recordings/{station.pk}/{title}-{ago}.mp3"
    Path(episode.file.path).parent.mkdir(parents=True, exist_ok=True)
    Path(episode.file.path).write_bytes(AUDIO)
    episode.save()
    return episode


def client_of(username=None, *, station=None, staff=False, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if username:
        user = get_user_model().objects.create_user(username, is_staff=staff)
        if station:
            station.djs.add(user)
        client.force_login(user)
    return client


def body(response) -> bytes:
    """A streamed response's body (its content is an async iterator)."""

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


# --- Public pages -----------------------------------------------------------


def test_the_archive_lists_published_finished_episodes(station, show):
    published = make_episode(station, "Heard", show=show)
    make_episode(station, "Hidden", published=False)
    make_episode(station, "Recording", ended=False)
    page = Client().get(f"/stations/{station.slug}/archive/").content.decode()
    assert f"/stations/{station.slug}/archive/{published.pk}/" in page
    assert "Hidden" not in page and "Recording" not in page
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Archive FM: podcast"'
        f' href="/stations/{station.slug}/podcast.xml">' in page
    )


def test_the_episode_page_has_its_player_tracklist_and_the_shows_others(station, show):
    episode = make_episode(station, "Tonight", show=show)
    other = make_episode(station, "Last week", show=show, ago=24 * 7)
    Play.objects.create(
        station=station, title="<b>Song</b>", artist="Band", source="live",
        started_at=episode.started_at, episode=episode, offset_ms=65_432,
    )  # fmt: skip
    page = Client().get(f"/stations/{station.slug}/archive/{episode.pk}/")
    html = page.content.decode()
    audio = f"/stations/{station.slug}/archive/{episode.pk}.mp3"
    assert f'src="{audio}"' in html
    assert f'href="{audio}#t=65.432" data-seek="65.432">1:05</a>' in html
    assert "&lt;b&gt;Song&lt;/b&gt;" in html and "<b>Song" not in html
    assert f"/stations/{station.slug}/archive/{other.pk}/" in html
    assert f'href="/stations/{station.slug}/shows/night/podcast.xml"' in html
    assert "Night &lt;Shift&gt;" in html


@pytest.mark.parametrize("state", [{"published": False}, {"ended": False}])
def test_hidden_and_unfinished_episodes_are_not_found(station, state):
    episode = make_episode(station, **state)
    client = Client()
    assert (
        client.get(f"/stations/{station.slug}/archive/{episode.pk}/").status_code == 404
    )
    assert (
        client.get(f"/stations/{station.slug}/archive/{episode.pk}.mp3").status_code
        == 404
    )


def test_the_stations_djs_may_play_hidden_episodes(station):
    episode = make_episode(station, published=False)
    response = client_of("host", station=station).get(
        f"/stations/{station.slug}/archive/{episode.pk}.mp3"
    )
    assert response.status_code == 200
    assert body(response) == AUDIO


def test_the_show_page_lists_its_episodes(station, show):
    ours = make_episode(station, "Ours", show=show)
    make_episode(station, "Theirs")
    host = get_user_model().objects.create_user("host-of-show")
    show.hosts.add(host)
    html = Client().get(f"/stations/{station.slug}/shows/night/").content.decode()
    assert f"/archive/{ours.pk}/" in html and "Theirs" not in html
    assert "host-of-show" in html and "Late &amp; loud" in html
    assert 'type="application/rss+xml"' in html


# --- Audio ------------------------------------------------------------------


def test_the_audio_answers_a_range_with_exactly_those_bytes(station):
    episode = make_episode(station)
    response = Client().get(
        f"/stations/{station.slug}/archive/{episode.pk}.mp3",
        headers={"Range": "bytes=1000-1999"},
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(AUDIO)}"
    assert response["Content-Length"] == "1000"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert body(response) == AUDIO[1000:2000]


def test_the_audio_is_whole_without_a_range_and_416_past_its_end(station):
    episode = make_episode(station)
    url = f"/stations/{station.slug}/archive/{episode.pk}.mp3"
    whole = Client().get(url)
    assert whole.status_code == 200 and body(whole) == AUDIO
    assert whole["Accept-Ranges"] == "bytes"
    suffix = Client().get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206 and body(suffix) == AUDIO[-100:]
    head = Client().head(url, headers={"Range": "bytes=0-9"})
    assert head.status_code == 206 and head["Content-Length"] == "10"
    assert head.content == b""
    past = Client().get(url, headers={"Range": f"bytes={len(AUDIO)}-"})
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{len(AUDIO)}"


def test_nginx_sends_the_audio_when_told_to(station, settings):
    settings.RADIO_RECORDINGS_ACCEL_REDIRECT = "/protected-media/"
    episode = make_episode(station)
    response = Client().get(f"/stations/{station.slug}/archive/{episode.pk}.mp3")
    assert response["X-Accel-Redirect"] == f"/protected-media/{episode.file.name}"
    assert response.content == b""


# --- Podcasts ---------------------------------------------------------------


def test_the_station_podcast_lists_its_published_episodes(station, show):
    episode = make_episode(station, "Tonight & more", show=show)
    make_episode(station, "Hidden", published=False)
    Play.objects.create(
        station=station, title="Song", artist="Band", source="live",
        started_at=episode.started_at, episode=episode, offset_ms=61_000,
    )  # fmt: skip
    response = Client().get(f"/stations/{station.slug}/podcast.xml")
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Archive FM"
    assert b"<itunes:explicit>false</itunes:explicit>" in response.content
    assert feed.feed.tags[0].term == "Music"
    assert "image" not in feed.feed
    [item] = feed.entries
    assert item.title == "Tonight & more"
    assert item.id == f"radio:{station.slug}:episode:{episode.pk}"
    assert (
        item.link == f"http://testserver/stations/{station.slug}/archive/{episode.pk}/"
    )
    assert item.itunes_duration == "30:00"
    assert "1:01 Band - Song" in item.summary
    [enclosure] = item.enclosures
    assert enclosure.href == (
        f"http://testserver/stations/{station.slug}/archive/{episode.pk}.mp3"
    )
    assert int(enclosure.length) == len(AUDIO)
    assert enclosure.type == "audio/mpeg"


def test_the_show_podcast_has_its_artwork_and_only_its_episodes(station, show):
    ours = make_episode(station, "Ours", show=show)
    make_episode(station, "Theirs")
    feed = feedparser.parse(
        Client().get(f"/stations/{station.slug}/shows/night/podcast.xml").content
    )
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Night <Shift> · Archive FM"
    artwork = f"http://testserver/stations/{station.slug}/shows/night/image"
    assert feed.feed.image.href == artwork
    assert [entry.id for entry in feed.entries] == [
        f"radio:{station.slug}:episode:{ours.pk}"
    ]


def test_the_show_image_is_served_for_its_page_and_podcast(station, show):
    response = Client().get(f"/stations/{station.slug}/shows/night/image")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
    page = Client().get(f"/stations/{station.slug}/shows/night/").content.decode()
    assert f'src="/stations/{station.slug}/shows/night/image"' in page


def test_a_show_image_is_stored_under_a_name_the_server_makes(station, show):
    """Shows/<station>/<random> with the suffix of what its bytes are."""
    assert re.fullmatch(rf"shows/{station.pk}/[0-9a-f]{{32}}\.png", show.image.name)


@pytest.mark.parametrize(
    ("name", "content"),
    [("page.png", b"<html><script>alert(1)</script>"), ("art.jpg", b"GIF89a...")],
)
def test_a_show_image_is_checked_by_its_bytes_not_its_name(station, name, content):
    """HTML or any other format named like an image is refused."""
    show = Show(station=station, name="Fake", slug="fake")
    show.image = SimpleUploadedFile(name, content)

    with pytest.raises(ValidationError) as refusal:
        show.full_clean()
    assert "JPEG, PNG or WebP" in str(refusal.value.message_dict["image"])


def test_a_show_without_an_image_serves_none(station):
    Show.objects.create(station=station, name="Plain", slug="plain")

    response = Client().get(f"/stations/{station.slug}/shows/plain/image")

    assert response.status_code == 404


def test_deleting_a_show_deletes_its_image(station, show):
    path = Path(show.image.path)
    assert path.exists()

    show.delete()

    assert not path.exists()


def test_a_show_image_over_the_size_limit_is_refused(station):
    image = SimpleUploadedFile("huge.png", b"\0" * (MAX_IMAGE_BYTES + 1))
    show = Show(station=station, name="Huge", slug="huge", image=image)

    with pytest.raises(ValidationError, match="at most 2 MB"):
        show.full_clean()


def test_an_unknown_show_has_no_podcast(station):
    assert (
        Client().get(f"/stations/{station.slug}/shows/nope/podcast.xml").status_code
        == 404
    )


# --- The studio's episodes page -----------------------------------------------


def edit_url(episode) -> str:
    return f"/stations/{episode.station.slug}/studio/episodes/{episode.pk}/"


def test_only_the_stations_djs_and_staff_see_its_episodes(station):
    make_episode(station, "Mine")
    url = f"/stations/{station.slug}/studio/episodes/"
    assert Client().get(url).status_code == 302  # to sign in
    assert client_of("listener").get(url).status_code == 403
    assert client_of("dj", station=station).get(url).status_code == 200
    assert client_of("admin", staff=True).get(url).status_code == 200


def test_a_dj_renames_and_hides_an_episode(station):
    episode = make_episode(station, "Old name")
    client = client_of("dj", station=station)
    response = client.post(edit_url(episode), {"title": "New <name>"})
    assert response.status_code == 302
    episode.refresh_from_db()
    assert (episode.title, episode.published) == ("New <name>", False)
    page = client.get(f"/stations/{station.slug}/studio/episodes/").content.decode()
    assert "New &lt;name&gt;" in page and "Hidden" in page
    client.post(edit_url(episode), {"title": "New", "published": "on"})
    episode.refresh_from_db()
    assert episode.published is True


def test_others_may_not_change_an_episode(station):
    episode = make_episode(station, "Kept")
    other_station = Station.objects.create(slug="other", name="Other")
    for client in (
        client_of("listener"),
        client_of("elsewhere", station=other_station),
    ):
        assert client.post(edit_url(episode), {"title": "X"}).status_code == 403
        assert client.post(edit_url(episode) + "delete/").status_code == 403
    episode.refresh_from_db()
    assert episode.title == "Kept"


def test_bad_edits_are_refused_with_a_reason(station):
    episode = make_episode(station, "Fine")
    recording = make_episode(station, "Live now", ended=False, ago=0)
    client = client_of("dj", station=station)
    too_long = client.post(edit_url(episode), {"title": "x" * 201, "published": "on"})
    assert too_long.status_code == 400
    assert "at most 200 characters" in too_long.content.decode()
    empty = client.post(edit_url(episode), {"title": ""})
    assert empty.status_code == 400
    busy = client.post(edit_url(recording) + "delete/")
    assert busy.status_code == 409 and "still being recorded" in busy.content.decode()
    assert Episode.objects.count() == 2
    assert client.get(edit_url(episode)).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(station):
    episode = make_episode(station, "Safe")
    client = client_of("dj", station=station, csrf=True)
    assert client.post(edit_url(episode) + "delete/").status_code == 403
    assert Episode.objects.filter(pk=episode.pk).exists()


def test_deleting_an_episode_deletes_its_recording(station):
    episode = make_episode(station, "Gone")
    path = Path(episode.file.path)
    Play.objects.create(
        station=station, title="Stays in the history", source="live",
        started_at=episode.started_at, episode=episode, offset_ms=0,
    )  # fmt: skip
    response = client_of("admin", staff=True).post(edit_url(episode) + "delete/")
    assert response.status_code == 302
    assert not Episode.objects.exists()
    assert not path.exists()
    assert Play.objects.get().episode is None
