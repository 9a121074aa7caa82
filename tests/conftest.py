"""Fixtures shared by the whole suite: real audio, Redis and PostgreSQL."""

from __future__ import annotations

import os
import socket
import urllib.parse
import uuid

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.audio import make_tone

IN_CI = os.environ.get("CI") == "true"
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
POSTGRES_TEST_URL = os.environ.get(
    "POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432/test"
)

# How hard the property-based tests (tests/stations/test_fuzz_sockets.py)
# search: "quick" takes seconds, as every run must; "thorough" minutes.
hypothesis_settings.register_profile("quick", max_examples=200)
hypothesis_settings.register_profile("thorough", max_examples=5000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def _reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def _require(url: str, what: str) -> str:
    if _reachable(url):
        return url
    message = f"{what} is not reachable at {url}: start it (see README.md) to run this"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test counts sign-ins, sign-ups and failed source logins from
    zero, in its own memory."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """Each test's uploads and broadcast recordings go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dj_client(db):
    """A Django test client signed in as ``dj``, a DJ of the station ``demo``."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from stations.services import station_create_or_update

    user = get_user_model().objects.create_user("dj", password="pw-not-secret")
    station_create_or_update(slug="demo", name="Demo", dj_usernames=["dj"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for tests, emptied before use."""
    url = _require(REDIS_TEST_URL, "Redis")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _require(POSTGRES_TEST_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def tone_mp3(tmp_path_factory) -> bytes:
    """Six seconds of a 440 Hz tone as a 128 kbit/s MP3 file (ID3 and all)."""
    path = tmp_path_factory.mktemp("audio") / "tone.mp3"
    return make_tone(path, seconds=6).read_bytes()


@pytest.fixture(scope="session")
def tone_webm(tmp_path_factory) -> bytes:
    """Six seconds of a tone as MediaRecorder makes it: WebM with Opus."""
    path = tmp_path_factory.mktemp("audio") / "tone.webm"
    options = {"codec": "libopus", "bitrate": "96k", "sample_rate": 48000}
    return make_tone(path, seconds=6, container="webm", **options).read_bytes()
