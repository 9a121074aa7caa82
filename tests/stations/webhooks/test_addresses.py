"""Webhooks go to public addresses only, checked by what names resolve to,
unless RADIO_WEBHOOK_ALLOW_PRIVATE says otherwise."""

from __future__ import annotations

import socket

import pytest

from stations.webhooks import addresses
from stations.webhooks.addresses import UnsafeTarget

PUBLIC = "93.184.215.14"


def resolving_to(monkeypatch, *found: str) -> None:
    """Make every name resolve to ``found``."""

    def getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in found[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in found]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "not a public address"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_each_kind_of_non_public_address_is_refused(settings, address, why):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False
    host = f"[{address}]" if ":" in address else address

    with pytest.raises(UnsafeTarget, match=why):
        addresses.check(f"http://{host}/hook")


def test_a_name_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False
    resolving_to(monkeypatch, PUBLIC, "10.0.0.7")

    with pytest.raises(UnsafeTarget, match=r"hooks\.example resolves to 10\.0\.0\.7"):
        addresses.check("https://hooks.example/x")


def test_a_public_name_is_taken_with_its_address(settings, monkeypatch):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False
    resolving_to(monkeypatch, PUBLIC)

    target = addresses.check("https://hooks.example/x?y=1")

    assert target == addresses.Target("https", "hooks.example", 443, PUBLIC)
    assert target.pinned_origin == f"https://{PUBLIC}:443"


def test_private_addresses_are_allowed_when_the_setting_says_so(settings):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = True

    target = addresses.check("http://127.0.0.1:8080/hook")

    assert (target.address, target.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example/", "Only http"),
        ("file:///etc/passwd", "Only http"),
        ("https://user:pw@hooks.example/", "user name or password"),
        ("https:///path", "no host"),
        ("http://hooks.example:99999/", "Not a URL"),
    ],
)
def test_urls_other_than_plain_http_are_refused(settings, url, why):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = True

    with pytest.raises(UnsafeTarget, match=why):
        addresses.check(url)


async def test_the_check_before_sending_resolves_again(settings, monkeypatch):
    """A name that resolved to a public address when the webhook was made
    and to a private one now is refused now."""
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False
    resolving_to(monkeypatch, PUBLIC)
    addresses.check("https://rebind.example/")
    resolving_to(monkeypatch, "127.0.0.1")

    with pytest.raises(UnsafeTarget, match="loopback"):
        await addresses.acheck("https://rebind.example/")
