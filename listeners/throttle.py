"""Sign-in and sign-up throttles, counted in Django's cache.

Failed sign-ins (Django's ``user_login_failed`` signal) are counted per
account and per client address. An account or address that reaches its
limit may not sign in, with any password, for RADIO_SIGNIN_LOCKOUT_SECONDS;
a successful sign-in clears the account's count, not the address's.
Accounts made are counted per address per hour. Wrong API keys are counted
per address apart, with the sign-in address limit: a program still using a
revoked key locks its address out of the API, not out of signing in. With
REDIS_URL the cache is Redis and the counts are every worker's; otherwise
each process has its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

KEY_PREFIX = "throttle"
SIGNUP_WINDOW_SECONDS = 60 * 60
# An ISP gives one customer a whole IPv6 /64, so its single addresses cost
# an attacker nothing: a /64 counts as one address.
IPV6_NETWORK_PREFIX = 64
TEMPLATE = "registration/too_many_attempts.html"

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Limit:
    """``allowed`` events within ``seconds`` lock the subject for
    ``lock_seconds`` (by default ``seconds`` too)."""

    name: str
    allowed: int
    seconds: int
    lock_seconds: int | None = None

    def _key(self, subject: str, part: str) -> str:
        # Hashed: usernames may hold any character, and be long.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}:{self.name}:{part}:{digest}"

    def wait_seconds(self, subject: str) -> float:
        """How much longer ``subject`` is locked out; 0 if it is not."""
        locked_until = cache.get(self._key(subject, "locked"))
        return max(0.0, locked_until - time.time()) if locked_until else 0.0

    def record(self, subject: str) -> None:
        """Count one event of ``subject``; lock it once the limit is reached."""
        key = self._key(subject, "count")
        cache.add(key, 0, timeout=self.seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # expired since the add
            cache.add(key, 1, timeout=self.seconds)
            count = 1
        if count >= self.allowed:
            lock_seconds = self.lock_seconds or self.seconds
            locked_until = time.time() + lock_seconds
            cache.set(self._key(subject, "locked"), locked_until, lock_seconds)

    def forget(self, subject: str) -> None:
        cache.delete(self._key(subject, "count"))


# Settings are read on each use, so that tests may change them.
def _account_limit() -> Limit:
    return Limit(
        "signin-account",
        settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT,
        settings.RADIO_SIGNIN_LOCKOUT_SECONDS,
    )


def _address_limit() -> Limit:
    return Limit(
        "signin-address",
        settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS,
        settings.RADIO_SIGNIN_LOCKOUT_SECONDS,
    )


def _api_key_address_limit() -> Limit:
    return Limit(
        "apikey-address",
        settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS,
        settings.RADIO_SIGNIN_LOCKOUT_SECONDS,
    )


def _signup_limit() -> Limit:
    return Limit(
        "signup-address",
        settings.RADIO_SIGNUPS_PER_ADDRESS_PER_HOUR,
        SIGNUP_WINDOW_SECONDS,
    )


def client_address(request: HttpRequest) -> str:
    """The client's address as daphne gives it; an IPv6 address's /64."""
    return address_key(request.META.get("REMOTE_ADDR", ""))


def address_key(address: str) -> str:
    """What limits count an address as: itself, or an IPv6 address's /64
    (one host may hold a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_NETWORK_PREFIX}", strict=False))


def account_name(username: str) -> str:
    """``username`` as the sign-in form reads it, in one case.

    The form strips and NFKC-normalizes; without the same here " alice"
    would be counted apart from "alice" yet sign in as her. Case is folded
    in case a database compares usernames without it.
    """
    return unicodedata.normalize("NFKC", username).strip().casefold()


def account_wait_seconds(username: str) -> float:
    """How long sign-ins as ``username`` must wait, from anywhere."""
    return _account_limit().wait_seconds(account_name(username))


def signin_wait_seconds(request: HttpRequest, username: str) -> float:
    """How long a sign-in as ``username`` from this client must wait."""
    return max(
        account_wait_seconds(username),
        _address_limit().wait_seconds(client_address(request)),
    )


def api_key_wait_seconds(request: HttpRequest) -> float:
    """How long API keys from this client must wait."""
    return _api_key_address_limit().wait_seconds(client_address(request))


def api_key_failure_record(request: HttpRequest) -> None:
    """Count a wrong API key from this client."""
    _api_key_address_limit().record(client_address(request))


def signin_failure_record(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """Count a failed sign-in: receiver of ``user_login_failed``."""
    username = credentials.get("username")
    if username:
        _account_limit().record(account_name(username))
    if request is not None:
        _address_limit().record(client_address(request))


def signin_success_record(sender: Any, user: Any, **kwargs: Any) -> None:
    """Clear the account's failures: receiver of ``user_logged_in``."""
    _account_limit().forget(account_name(user.get_username()))


def signup_record(request: HttpRequest) -> None:
    """Count an account made from this client."""
    _signup_limit().record(client_address(request))


def _too_many(request: HttpRequest, attempts: str, wait_seconds: float) -> HttpResponse:
    minutes = max(1, math.ceil(wait_seconds / 60))
    context = {"attempts": attempts, "minutes": minutes}
    response = render(request, TEMPLATE, context, status=429)
    response["Retry-After"] = str(math.ceil(wait_seconds))
    return response


def signin_throttled(view: View) -> View:
    """Refuse a locked account's or address's sign-in with 429, before ``view``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            username = request.POST.get("username", "")
            wait_seconds = signin_wait_seconds(request, username)
            if wait_seconds:
                return _too_many(request, "sign-in attempts", wait_seconds)
        return view(request, *args, **kwargs)

    return wrapper


def signups_throttled(view: View) -> View:
    """Refuse sign-ups from an address that made too many accounts, with 429.

    ``view`` must call :func:`signup_record` for each account it makes.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            wait_seconds = _signup_limit().wait_seconds(client_address(request))
            if wait_seconds:
                attempts = "sign-ups from your address"
                return _too_many(request, attempts, wait_seconds)
        return view(request, *args, **kwargs)

    return wrapper
