"""Encoder logins: the credentials' two forms and who may send where."""

from __future__ import annotations

import base64
import contextlib
import logging

import pytest
from asgiref.sync import sync_to_async

from stations.sources import auth
from stations.sources.auth import (
    SOURCE_PASSWORD_USER_ID,
    SourceRefused,
    aauthorize_source,
    parse_basic_auth,
    parse_shoutcast_login,
)

from ..conftest import STATION_SLUG
from .conftest import ADDRESS, DJ_PASSWORD, ELSEWHERE, SOURCE_PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


# --- parse_basic_auth ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic(b"source:hackme"), ("source", "hackme")),
        (basic(b"dee:pass:with:colons"), ("dee", "pass:with:colons")),
        (basic("zoë:pässword".encode()), ("zoë", "pässword")),
        (basic("zoë:pässword".encode("latin-1")), ("zoë", "pässword")),
        ("basic " + base64.b64encode(b"a:b").decode(), ("a", "b")),
        (basic(b"source:"), ("source", "")),
    ],
)
def test_parse_basic_auth_reads_the_credentials(header, expected):
    """UTF-8 or Latin-1; the password is everything after the first colon."""
    assert parse_basic_auth(header) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic", "Bearer abc", "Basic not*base64", basic(b"no-colon")],
)
def test_parse_basic_auth_gives_none_for_missing_or_malformed(header):
    assert parse_basic_auth(header) is None


# --- parse_shoutcast_login -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"hackme\r\n", (None, "hackme", None)),
        (b"dee:secret\n", ("dee", "secret", None)),
        (b"dee:secret:#test-fm\r\n", ("dee", "secret", "test-fm")),
        (b"hackme:#test-fm", (None, "hackme", "test-fm")),
        (b"dee:pa:ss\r\n", ("dee", "pa:ss", None)),
        ("dee:pässword".encode("latin-1"), ("dee", "pässword", None)),
        ("dee:pässword".encode(), ("dee", "pässword", None)),
    ],
)
def test_parse_shoutcast_login_reads_the_three_forms(line, expected):
    assert parse_shoutcast_login(line) == expected


# --- aauthorize_source -----------------------------------------------------------


async def make_user_async(username: str, *, station=None, **fields):
    user = await sync_to_async(make_user)(username, **fields)
    if station is not None:
        await station.djs.aadd(user)
    return user


async def refusal(**kwargs) -> SourceRefused:
    kwargs.setdefault("address", ADDRESS)
    with pytest.raises(SourceRefused) as refused:
        await aauthorize_source(**kwargs)
    return refused.value


async def test_source_password_logs_in_as_user_source(sourced_station):
    account = await aauthorize_source(
        slug=STATION_SLUG, credentials=("source", SOURCE_PASSWORD), address=ADDRESS
    )
    assert account.station == sourced_station
    assert account.user is None
    assert account.username == "source"
    assert account.lease_user_id == SOURCE_PASSWORD_USER_ID == -1


async def test_a_password_alone_is_user_source(sourced_station):
    """Shoutcast v1 sends only a password."""
    account = await aauthorize_source(
        slug=STATION_SLUG, credentials=(None, SOURCE_PASSWORD), address=ADDRESS
    )
    assert (account.station, account.user) == (sourced_station, None)


async def test_without_credentials_is_401(sourced_station):
    assert (await refusal(slug=STATION_SLUG, credentials=None)).status == 401


async def test_an_unknown_station_is_404(sourced_station):
    refused = await refusal(slug="no-such", credentials=("source", SOURCE_PASSWORD))
    assert refused.status == 404


async def test_a_wrong_source_password_is_401(sourced_station):
    refused = await refusal(slug=STATION_SLUG, credentials=("source", "wrong"))
    assert refused.status == 401


async def test_a_station_without_source_password_refuses_user_source(station):
    refused = await refusal(slug=STATION_SLUG, credentials=("source", ""))
    assert refused.status == 401


async def test_without_slug_the_source_password_names_the_station(
    sourced_station, other_station
):
    other_station.set_source_password("other-password")
    await other_station.asave()
    account = await aauthorize_source(
        slug=None, credentials=(None, "other-password"), address=ADDRESS
    )
    assert account.station == other_station


async def test_without_slug_a_source_password_of_two_stations_must_say_which(
    sourced_station, other_station
):
    other_station.set_source_password(SOURCE_PASSWORD)
    await other_station.asave()
    refused = await refusal(slug=None, credentials=(None, SOURCE_PASSWORD))
    assert (refused.status, refused.reason) == (
        403,
        "Say which station: password:#slug",
    )


async def test_a_dj_logs_in_with_their_own_password(station, dj_user):
    account = await aauthorize_source(
        slug=STATION_SLUG, credentials=("dee", DJ_PASSWORD), address=ADDRESS
    )
    assert (account.station, account.user) == (station, dj_user)
    assert (account.username, account.lease_user_id) == ("dee", dj_user.pk)


async def test_a_dj_s_wrong_password_is_401(station, dj_user):
    refused = await refusal(slug=STATION_SLUG, credentials=("dee", "wrong"))
    assert refused.status == 401


async def test_an_inactive_dj_is_401(station, dj_user):
    dj_user.is_active = False
    await dj_user.asave()
    refused = await refusal(slug=STATION_SLUG, credentials=("dee", DJ_PASSWORD))
    assert refused.status == 401


async def test_a_user_who_is_not_the_station_s_dj_is_403(station, other_station):
    await make_user_async("other", station=other_station)
    refused = await refusal(slug=STATION_SLUG, credentials=("other", DJ_PASSWORD))
    assert refused.status == 403


async def test_staff_who_are_not_djs_are_403(station):
    await make_user_async("boss", is_staff=True, is_superuser=True)
    refused = await refusal(slug=STATION_SLUG, credentials=("boss", DJ_PASSWORD))
    assert refused.status == 403


async def test_without_slug_a_dj_gets_their_one_station(station, dj_user):
    account = await aauthorize_source(
        slug=None, credentials=("dee", DJ_PASSWORD), address=ADDRESS
    )
    assert account.station == station


async def test_without_slug_a_dj_of_two_stations_must_say_which(
    station, other_station, dj_user
):
    await other_station.djs.aadd(dj_user)
    refused = await refusal(slug=None, credentials=("dee", DJ_PASSWORD))
    assert (refused.status, refused.reason) == (
        403,
        "Say which station: username:password:#slug",
    )


async def test_without_slug_a_user_of_no_station_is_403(station):
    await make_user_async("nobody")
    refused = await refusal(slug=None, credentials=("nobody", DJ_PASSWORD))
    assert refused.status == 403


# --- The failure limit -----------------------------------------------------------


async def test_too_many_failures_block_the_address(sourced_station, settings):
    """After the limit, even the right password is refused with 403 for
    RADIO_SOURCE_BLOCK_SECONDS; other addresses may still log in."""
    settings.RADIO_SOURCE_FAILURES_PER_MINUTE = 3
    settings.RADIO_SOURCE_BLOCK_SECONDS = 45
    for _ in range(3):
        wrong = await refusal(slug=STATION_SLUG, credentials=("source", "wrong"))
        assert wrong.status == 401
    right = ("source", SOURCE_PASSWORD)
    blocked = await refusal(slug=STATION_SLUG, credentials=right)
    assert (blocked.status, blocked.reason) == (
        403,
        "Too many failed logins; try again later",
    )
    assert 44 < auth._failure_limit().wait_seconds(ADDRESS) <= 45
    account = await aauthorize_source(
        slug=STATION_SLUG, credentials=right, address=ELSEWHERE
    )
    assert account.station == sourced_station


async def test_failures_below_the_limit_do_not_block(sourced_station, dj_user):
    """Nine failures by default, of either kind, still let the tenth try in."""
    for username in ["source", "dee"] * 4 + ["nobody"]:
        await refusal(slug=STATION_SLUG, credentials=(username, "wrong"))
    account = await aauthorize_source(
        slug=STATION_SLUG, credentials=("source", SOURCE_PASSWORD), address=ADDRESS
    )
    assert account.user is None
    await refusal(slug=STATION_SLUG, credentials=("source", "wrong"))
    assert (await refusal(slug=STATION_SLUG, credentials=None)).status == 403


async def test_no_password_is_logged(sourced_station, dj_user, caplog):
    caplog.set_level(logging.DEBUG)
    for credentials in [
        ("source", "wrong-source-secret"),
        ("dee", "wrong-dj-secret"),
        ("source", SOURCE_PASSWORD),
        ("dee", DJ_PASSWORD),
    ]:
        with contextlib.suppress(SourceRefused):
            await aauthorize_source(
                slug=STATION_SLUG, credentials=credentials, address=ADDRESS
            )
    assert "203.0.113.7" in caplog.text
    secrets = ["wrong-source-secret", "wrong-dj-secret", SOURCE_PASSWORD, DJ_PASSWORD]
    for secret in secrets:
        assert secret not in caplog.text


async def test_an_account_locked_by_failed_sign_ins_stays_locked(
    station, dj_user, settings
):
    """Wrong passwords count towards the account's sign-in lock, which holds
    for encoders too, from any address."""
    settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT = 2
    for address in ["192.0.2.1", "192.0.2.2"]:
        wrong = await refusal(
            slug=STATION_SLUG, credentials=("dee", "wrong"), address=address
        )
        assert wrong.status == 401
    locked = await refusal(slug=STATION_SLUG, credentials=("dee", DJ_PASSWORD))
    assert (locked.status, locked.reason) == (403, auth.TOO_MANY_FAILURES)
