"""What kind of client a listener used, read from its User-Agent.

A table of patterns, tried in order: the first that matches names the kind.
Players are tried before browsers, since a browser's audio element on iOS
sends AppleCoreMedia's agent and many apps embed a browser's.
"""

from __future__ import annotations

import re

from .models import ClientKind

# Longest User-Agent looked at; real ones are a few hundred characters.
MAX_USER_AGENT_CHARS = 512

CLIENT_PATTERNS: list[tuple[ClientKind, re.Pattern[str]]] = [
    (
        ClientKind.BOT,
        re.compile(
            r"bot\b|crawler|spider|slurp|curl/|wget/|python-|python/|"
            r"aiohttp|go-http-client|libwww|java/|headlesschrome|uptime|monitor",
            re.IGNORECASE,
        ),
    ),
    (ClientKind.VLC, re.compile(r"\bvlc/|libvlc", re.IGNORECASE)),
    (ClientKind.WINAMP, re.compile(r"winamp|foobar2000", re.IGNORECASE)),
    (
        ClientKind.MOBILE_APP,
        re.compile(
            r"tunein|radiodroid|radio\.(?:de|net|fr|at|it|es|pl|pt|dk|se)|"
            r"mytuner|simple ?radio|radio ?garden|audials|streema|"
            r"replaio|radioplayer|transistor",
            re.IGNORECASE,
        ),
    ),
    (
        ClientKind.APPLE,
        re.compile(r"itunes|applecoremedia|\bmusic/|podcasts/|cfnetwork", re.I),
    ),
    (
        ClientKind.ANDROID,
        re.compile(r"stagefright|exoplayer|androidx\.media|dalvik|okhttp", re.I),
    ),
    (
        ClientKind.BROWSER,
        re.compile(r"^mozilla/\d.*(?:gecko|webkit|trident)", re.IGNORECASE),
    ),
]


def client_kind(user_agent: str) -> ClientKind:
    """The kind of client ``user_agent`` names; OTHER when none is known."""
    text = user_agent[:MAX_USER_AGENT_CHARS]
    for kind, pattern in CLIENT_PATTERNS:
        if pattern.search(text):
            return kind
    return ClientKind.OTHER
