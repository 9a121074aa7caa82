"""Settings refuse to serve with the built-in secret key once DEBUG is off."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.servers import PROJECT

IMPORT_SETTINGS = (
    "import django; django.setup(); "
    "from django.conf import settings; print(settings.DEBUG)"
)
# Variables the test process has that would decide the outcome.
DECIDING = ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")


def import_settings(
    code: str = IMPORT_SETTINGS, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code``, which imports radio.settings, in a new interpreter with
    only ``env`` deciding."""
    base = {name: value for name, value in os.environ.items() if name not in DECIDING}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env={**base, "DJANGO_SETTINGS_MODULE": "radio.settings", **env},
        capture_output=True,
        text=True,
    )


def test_debug_off_without_a_secret_key_refuses_to_start():
    """DEBUG=0 and no SECRET_KEY: ImproperlyConfigured, saying how to make one."""
    result = import_settings(DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr


def test_debug_unset_counts_as_off():
    """Without DEBUG in the environment (production's default) it refuses too."""
    result = import_settings()
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr


def test_debug_off_with_a_secret_key_starts():
    """A real key is all production needs."""
    result = import_settings(DEBUG="0", SECRET_KEY="a-long-random-key-" + "x" * 40)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_on_keeps_the_development_key():
    """A developer's DEBUG=1 (bin/run's default) still needs no key."""
    result = import_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_ice_servers_must_be_a_json_array():
    """A mistyped RADIO_ICE_SERVERS stops the server with a clear message,
    rather than giving the pages something RTCPeerConnection refuses."""
    result = import_settings(DEBUG="1", RADIO_ICE_SERVERS='{"urls": "stun:x"}')
    assert result.returncode != 0
    assert "RADIO_ICE_SERVERS must be a JSON array" in result.stderr


def test_ice_servers_are_read_as_json():
    servers = '[{"urls": "turn:turn.example.org", "username": "u", "credential": "c"}]'
    result = import_settings(
        DEBUG="1",
        RADIO_ICE_SERVERS=servers,
        code="import django; django.setup(); from django.conf import settings; "
        "print(settings.RADIO_ICE_SERVERS[0]['urls'])",
    )
    assert result.stdout.strip() == "turn:turn.example.org", result.stderr
