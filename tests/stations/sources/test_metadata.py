"""Title updates from encoders: decoding the query, and the title on air."""

from __future__ import annotations

import base64

import pytest

from radio.protocol import MAX_TITLE_CHARS
from stations.runtime import get_bus
from stations.sources.auth import SourceRefused
from stations.sources.metadata import (
    answer_admin_request,
    mount_slug,
    query_values,
    song_fields,
)
from stations.streaming.bus import AUTODJ

from ..conftest import STATION_SLUG
from .conftest import ADDRESS, DJ_PASSWORD, SOURCE_PASSWORD, go_on_air

pytestmark = pytest.mark.django_db(transaction=True)

SUCCESS = (
    b'<?xml version="1.0"?>\n<iceresponse><message>Metadata update successful'
    b"</message><return>1</return></iceresponse>"
)
SOURCE_AUTH = "Basic " + base64.b64encode(f"source:{SOURCE_PASSWORD}".encode()).decode()


# --- Decoding the query ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "song"),
    [
        (b"song=Caf%C3%A9+del+Mar", "Café del Mar"),
        # Mixxx: Latin-1, with no charset.
        (b"song=Caf%E9", "Café"),
        # Windows-1252's quotes, which Latin-1 lacks.
        (b"song=%93Hi%94", "\u201cHi\u201d"),
        (b"charset=UTF-8&song=Caf%C3%A9", "Café"),
        (b"song=Caf%E9&charset=ISO-8859-1", "Café"),
        (b"charset=latin1&song=Caf%C3%A9", "CafÃ©"),
    ],
)
def test_query_values_decode_in_the_encoder_s_charset(query, song):
    assert query_values(query)["song"] == song


@pytest.mark.parametrize(
    "query", [b"charset=no-such-charset&song=x", b"charset=UTF-8&song=Caf%E9"]
)
def test_an_unknown_or_wrong_charset_is_400(query):
    with pytest.raises(SourceRefused) as refused:
        query_values(query)
    assert refused.value.status == 400


def test_query_values_keep_the_first_of_a_repeated_name():
    assert query_values(b"mode=updinfo&&mode=other&empty=") == {
        "mode": "updinfo",
        "empty": "",
    }


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"song": "The Band - A Tune"}, ("A Tune", "The Band")),
        ({"song": "A - B - C"}, ("B - C", "A")),
        ({"song": "Just a title"}, ("Just a title", "")),
        ({"song": " - Odd"}, ("- Odd", "")),
        ({"artist": "The Band", "title": "A Tune"}, ("A Tune", "The Band")),
        ({"title": "A Tune"}, ("A Tune", "")),
        ({"song": ""}, ("", "")),
    ],
)
def test_song_fields_split_artist_and_title(values, expected):
    assert song_fields(values) == expected


def test_long_titles_are_cut_short():
    title, artist = song_fields({"artist": "a" * 300, "title": "t" * 300})
    assert (title, artist) == ("t" * MAX_TITLE_CHARS, "a" * MAX_TITLE_CHARS)


@pytest.mark.parametrize(
    "values", [{"song": "bad\x00title"}, {"title": "two\nlines"}, {}]
)
def test_control_characters_or_no_song_are_400(values):
    with pytest.raises(SourceRefused) as refused:
        song_fields(values)
    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("mount", "slug"),
    [("/test-fm", "test-fm"), ("/test-fm.mp3", "test-fm"), ("test-fm.ogg", "test-fm")],
)
def test_mount_slug_drops_the_slash_and_extension(mount, slug):
    assert mount_slug(mount) == slug


# --- answer_admin_request --------------------------------------------------------


async def icecast(query: bytes, authorization: str | None = SOURCE_AUTH):
    return await answer_admin_request(
        path="/admin/metadata",
        query=query,
        authorization=authorization,
        address=ADDRESS,
    )


async def test_a_live_station_takes_the_title_from_the_next_packet(sourced_station):
    """The title applies from the audio packet after the last one sent."""
    await go_on_air(sourced_station, packets=3)
    answer = await icecast(b"mode=updinfo&mount=/test-fm.mp3&song=The+Band+-+Caf%E9")
    assert (answer.status, answer.body) == (200, SUCCESS)
    assert answer.content_type == "text/xml"
    now_playing = (await get_bus().state(sourced_station.pk))["now_playing"]
    assert now_playing["title"] == "Café"
    assert now_playing["artist"] == "The Band"
    assert (now_playing["source"], now_playing["seq"]) == ("live", 4)


async def test_off_air_is_source_does_not_exist(sourced_station):
    answer = await icecast(b"mode=updinfo&mount=/test-fm&song=x")
    assert answer.status == 400
    assert answer.body == (
        b'<?xml version="1.0"?>\n<iceresponse><message>Source does not exist'
        b"</message><return>0</return></iceresponse>"
    )


async def test_the_autodj_s_titles_are_not_an_encoder_s_to_set(sourced_station):
    await go_on_air(sourced_station, kind=AUTODJ)
    answer = await icecast(b"mode=updinfo&mount=/test-fm&song=x")
    assert answer.status == 400
    assert (await get_bus().state(sourced_station.pk))["now_playing"] is None


async def test_wrong_or_missing_credentials_are_401_with_a_challenge(
    sourced_station,
):
    await go_on_air(sourced_station)
    wrong = "Basic " + base64.b64encode(b"source:wrong").decode()
    for authorization in [None, wrong]:
        answer = await icecast(b"mode=updinfo&mount=/test-fm&song=x", authorization)
        assert answer.status == 401
        assert answer.headers == (("WWW-Authenticate", 'Basic realm="radio"'),)
        assert b"<return>0</return>" in answer.body


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (b"mode=killsource&mount=/test-fm", 400),
        (b"mode=updinfo&song=x", 400),
        (b"mode=updinfo&mount=/no-such&song=x", 404),
        (b"mode=updinfo&mount=/test-fm", 400),
    ],
)
async def test_other_modes_and_missing_parameters_are_refused(
    sourced_station, query, status
):
    await go_on_air(sourced_station)
    assert (await icecast(query)).status == status


async def test_titles_are_rate_limited_like_the_console_s(sourced_station, settings):
    settings.RADIO_NOW_PLAYING_BURST = 1
    await go_on_air(sourced_station)
    first = await icecast(b"mode=updinfo&mount=/test-fm&song=one")
    second = await icecast(b"mode=updinfo&mount=/test-fm&song=two")
    assert (first.status, second.status) == (200, 429)
    now_playing = (await get_bus().state(sourced_station.pk))["now_playing"]
    assert now_playing["title"] == "one"


async def shoutcast(query: bytes):
    return await answer_admin_request(
        path="/admin.cgi", query=query, authorization=None, address=ADDRESS
    )


async def test_shoutcast_takes_the_source_password_in_the_query(sourced_station):
    await go_on_air(sourced_station)
    query = f"pass={SOURCE_PASSWORD}&mode=updinfo&song=Band+-+Tune".encode()
    assert (await shoutcast(query)).status == 200
    now_playing = (await get_bus().state(sourced_station.pk))["now_playing"]
    assert (now_playing["artist"], now_playing["title"]) == ("Band", "Tune")


async def test_shoutcast_takes_a_dj_s_login_with_the_station(station, dj_user):
    await go_on_air(station)
    query = f"pass=dee:{DJ_PASSWORD}:%23{STATION_SLUG}&mode=updinfo&song=x"
    assert (await shoutcast(query.encode())).status == 200
    assert (await shoutcast(b"pass=dee:wrong&mode=updinfo&song=x")).status == 401
    assert (await shoutcast(b"mode=updinfo&song=x")).status == 401


async def test_an_unknown_path_is_404(sourced_station):
    answer = await answer_admin_request(
        path="/admin/listclients", query=b"", authorization=SOURCE_AUTH, address=ADDRESS
    )
    assert answer.status == 404


async def test_no_password_or_authorization_is_logged(sourced_station, caplog):
    caplog.set_level("DEBUG")
    wrong = "Basic " + base64.b64encode(b"source:not-the-secret").decode()
    await icecast(b"mode=updinfo&mount=/test-fm&song=x", wrong)
    await icecast(b"mode=updinfo&mount=/test-fm&song=x")
    await shoutcast(b"pass=also-not-the-secret&mode=updinfo&song=x")
    for secret in [
        "not-the-secret",
        wrong.split()[1],
        SOURCE_PASSWORD,
        SOURCE_AUTH.split()[1],
    ]:
        assert secret not in caplog.text
