"""Who may send a station's audio from an encoder, as an Icecast or
Shoutcast source.

Two kinds of login: user ``source`` with the station's source password,
as every encoder offers, or a DJ's own username and password. Failed
logins are counted per client address in Django's cache (shared by every
worker with REDIS_URL); an address with too many is blocked for a while.
Passwords and the Authorization header are never logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser

from listeners.throttle import Limit, account_wait_seconds

from ..models import Station
from ..selectors import station_get, station_has_dj, station_list_of_dj

logger = logging.getLogger(__name__)

SOURCE_USERNAME = "source"
# The lease's user id of a broadcast by user "source": no user has it.
SOURCE_PASSWORD_USER_ID = -1
# Failed logins count for this long (RADIO_SOURCE_FAILURES_PER_MINUTE).
FAILURE_WINDOW_SECONDS = 60
TOO_MANY_FAILURES = "Too many failed logins; try again later"
# What a 401 carries, so that clients retry with credentials.
CHALLENGE = ("WWW-Authenticate", 'Basic realm="radio"')


class SourceRefused(Exception):
    """An encoder may not log in or do what it asked: the HTTP ``status``
    and a short ``reason`` for the encoder to show."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SourceAccount:
    """Who logged in, for which station."""

    station: Station
    # None: user "source", with the station's source password.
    user: AbstractBaseUser | None

    @property
    def username(self) -> str:
        return SOURCE_USERNAME if self.user is None else self.user.get_username()

    @property
    def lease_user_id(self) -> int:
        """The user id the broadcast's lease (and its rate limits) go by."""
        return SOURCE_PASSWORD_USER_ID if self.user is None else self.user.pk


def _decode_credentials(raw: bytes) -> str:
    # Encoders send UTF-8, or Latin-1 when they predate it.
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """``(username, password)`` of an ``Authorization: Basic`` header value;
    None if it is absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    username, colon, password = _decode_credentials(raw).partition(":")
    if not colon:
        return None
    return username, password


def parse_shoutcast_login(line: bytes) -> tuple[str | None, str, str | None]:
    """``(username, password, slug)`` of a Shoutcast v1 login line.

    ``password`` (user ``source``), ``username:password`` (a DJ, as in
    AzuraCast) and either followed by ``:#slug`` to name the station.
    Passwords may hold ``:``; the username may not.
    """
    text = _decode_credentials(line.strip(b"\r\n"))
    login, marker, slug = text.rpartition(":#")
    if not marker:
        login, slug = text, ""
    username, colon, password = login.partition(":")
    if not colon:
        username, password = "", login
    return username or None, password, slug or None


def _failure_limit() -> Limit:
    # Settings are read on each use, so that tests may change them.
    return Limit(
        "source-address",
        settings.RADIO_SOURCE_FAILURES_PER_MINUTE,
        FAILURE_WINDOW_SECONDS,
        lock_seconds=settings.RADIO_SOURCE_BLOCK_SECONDS,
    )


class _WrongCredentials(Exception):
    pass


def _source_password_account(station: Station | None, password: str) -> SourceAccount:
    """User "source" of ``station``, or with no station, of the one station
    whose source password it is."""
    if station is not None:
        candidates = [station]
    else:
        candidates = list(Station.objects.exclude(source_password=""))
    matches = [each for each in candidates if each.check_source_password(password)]
    if not matches:
        raise _WrongCredentials
    if len(matches) > 1:
        raise SourceRefused(403, "Say which station: password:#slug")
    return SourceAccount(station=matches[0], user=None)


def _user_account(
    station: Station | None, username: str, password: str
) -> SourceAccount:
    """A DJ of ``station``, or with no station, of their one station.

    An account locked by failed sign-ins stays locked here too, else
    guessing its password from many addresses would go on through encoders.
    """
    if account_wait_seconds(username):
        raise SourceRefused(403, TOO_MANY_FAILURES)
    user = authenticate(username=username, password=password)
    if user is None:
        raise _WrongCredentials
    if station is not None:
        if not station_has_dj(station, user):
            raise SourceRefused(403, "You are not a DJ of this station")
        return SourceAccount(station=station, user=user)
    stations = station_list_of_dj(user)
    if not stations:
        raise SourceRefused(403, "You are not a DJ of any station")
    if len(stations) > 1:
        raise SourceRefused(403, "Say which station: username:password:#slug")
    return SourceAccount(station=stations[0], user=user)


def _authorize_source(
    *, slug: str | None, credentials: tuple[str | None, str] | None, address: str
) -> SourceAccount:
    failures = _failure_limit()
    if failures.wait_seconds(address):
        raise SourceRefused(403, TOO_MANY_FAILURES)
    if credentials is None:
        raise SourceRefused(401, "Authentication required")
    station = None
    if slug is not None:
        station = station_get(slug)
        if station is None:
            raise SourceRefused(404, "No such station")
    username, password = credentials
    try:
        if username in (None, SOURCE_USERNAME):
            return _source_password_account(station, password)
        return _user_account(station, username, password)
    except _WrongCredentials:
        failures.record(address)
        logger.info(
            "Source login as %r from %s refused: wrong password", username, address
        )
        raise SourceRefused(401, "Wrong username or password") from None


async def aauthorize_source(
    *, slug: str | None, credentials: tuple[str | None, str] | None, address: str
) -> SourceAccount:
    """The account that ``credentials`` log in to, for station ``slug`` or,
    with no slug, for the one station they may send to.

    ``credentials`` is ``(username, password)``; a username of None (a
    Shoutcast password alone) means user "source". ``address`` is the
    client's, as ``listeners.throttle.client_address`` gives it. Raises
    :class:`SourceRefused`: 403 for an address blocked after too many
    failures, 401 without or with wrong credentials (counted as a failure),
    404 for an unknown station, 403 for a user who may not broadcast there.
    """
    # Not thread-sensitive: checking a password takes a hash's deliberate
    # tenth of a second or more, which would hold up every other ORM call
    # of the process on its one shared thread.
    authorize = database_sync_to_async(_authorize_source, thread_sensitive=False)
    return await authorize(slug=slug, credentials=credentials, address=address)
