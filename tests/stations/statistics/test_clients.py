"""The client kind read from real User-Agent strings."""

from __future__ import annotations

import pytest

from stations.statistics.clients import MAX_USER_AGENT_CHARS, client_kind
from stations.statistics.models import ClientKind

REAL_AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ClientKind.BROWSER,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ClientKind.BROWSER,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
        ClientKind.BROWSER,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        ClientKind.BROWSER,
    ),
    ("VLC/3.0.21 LibVLC/3.0.21", ClientKind.VLC),
    ("WinampMPEG/5.66, Ultravox/2.1", ClientKind.WINAMP),
    ("foobar2000/2.1.5", ClientKind.WINAMP),
    (
        "iTunes/12.13 (Windows; Microsoft Windows 10 x64) AppleWebKit/7618",
        ClientKind.APPLE,
    ),
    (
        "AppleCoreMedia/1.0.0.21H16 (iPhone; U; CPU OS 17_7 like Mac OS X; en_us)",
        ClientKind.APPLE,
    ),
    ("Music/1.4.5 (Macintosh; OS X 14.6.1) AppleWebKit/618", ClientKind.APPLE),
    ("stagefright/1.2 (Linux;Android 9)", ClientKind.ANDROID),
    (
        "ExoPlayerLib/2.19.1 (Linux; Android 13) ExoPlayerLib/2.19.1",
        ClientKind.ANDROID,
    ),
    (
        "Dalvik/2.1.0 (Linux; U; Android 12; SM-G991B Build/SP1A.210812.016)",
        ClientKind.ANDROID,
    ),
    ("TuneIn Radio/33.5.1 (Android 14; Pixel 7; Java)", ClientKind.MOBILE_APP),
    ("RadioDroid2/0.86", ClientKind.MOBILE_APP),
    ("radio.de/6.9.1 (iPhone; iOS 17.2)", ClientKind.MOBILE_APP),
    ("myTuner/8.1.3 (iPhone; iOS 18.0)", ClientKind.MOBILE_APP),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ClientKind.BOT,
    ),
    ("curl/8.5.0", ClientKind.BOT),
    ("Wget/1.21.4", ClientKind.BOT),
    ("python-requests/2.32.3", ClientKind.BOT),
    ("Python/3.11 websockets/13.1", ClientKind.BOT),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        ClientKind.BOT,
    ),
    ("Lavf/60.16.100", ClientKind.OTHER),
    ("NSPlayer/12.00.19041.5129 WMFSDK/12.00.19041.5129", ClientKind.OTHER),
    ("", ClientKind.OTHER),
]


@pytest.mark.parametrize(("agent", "kind"), REAL_AGENTS)
def test_real_user_agents_are_classified(agent, kind):
    """Each real agent is read as the kind of client it is."""
    assert client_kind(agent) == kind


def test_only_the_start_of_a_long_agent_is_read():
    """A pattern past MAX_USER_AGENT_CHARS is not looked at."""
    padding = "x" * MAX_USER_AGENT_CHARS
    assert client_kind(padding + "VLC/3.0.21") == ClientKind.OTHER
    assert client_kind("VLC/3.0.21 " + padding) == ClientKind.VLC
