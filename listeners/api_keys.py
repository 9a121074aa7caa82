"""Personal API keys: making, revoking and checking them.

A key reads ``radio_<prefix>_<secret>``. The prefix is public and finds
the key's row; the secret is checked against the stored hash. The key
itself is shown once, when made, and stored nowhere.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import (
    API_KEY_NAME_MAX_CHARS,
    API_KEY_PREFIX_CHARS,
    API_KEY_START,
    ApiKey,
)

SECRET_BYTES = 32
# Longer than any key made here; a longer header is refused unread.
KEY_MAX_CHARS = 100
LIVE_KEYS_PER_USER = 20
# A key's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
HASH_SALT = "listeners.api_keys"


class ApiKeyError(ValueError):
    """A key cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: ``key`` is the only copy of it there will be."""

    api_key: ApiKey
    key: str


def _hash(secret: str) -> str:
    # HMAC-SHA256 keyed with SECRET_KEY, not a slow password hasher: the
    # secret is 256 random bits, so guessing it is hopeless however fast the
    # hash, and a slow one would cost its time on every API request. The key
    # makes a leaked database useless without the settings. Changing
    # SECRET_KEY therefore invalidates every key.
    return salted_hmac(HASH_SALT, secret, algorithm="sha256").hexdigest()


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name: what it is for.")
    if len(name) > API_KEY_NAME_MAX_CHARS:
        raise ApiKeyError(
            f"A key's name may be at most {API_KEY_NAME_MAX_CHARS} characters."
        )
    return name


def live_api_keys(user: AbstractBaseUser) -> QuerySet[ApiKey]:
    """``user``'s keys that are not revoked, newest first."""
    return ApiKey.objects.filter(user=user, revoked_at=None)


def api_key_create(*, user: AbstractBaseUser, name: str) -> NewApiKey:
    """Make a key for ``user``, at most LIVE_KEYS_PER_USER live at once."""
    name = _clean_name(name)
    with transaction.atomic():
        # Locks the user's row, so that two requests cannot both take the
        # last free place.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if live_api_keys(user).count() >= LIVE_KEYS_PER_USER:
            raise ApiKeyError(
                f"You have {LIVE_KEYS_PER_USER} keys, the most allowed: "
                "revoke one you no longer use."
            )
        prefix = secrets.token_hex(API_KEY_PREFIX_CHARS // 2)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        api_key = ApiKey.objects.create(
            user=user, name=name, prefix=prefix, key_hash=_hash(secret)
        )
    return NewApiKey(api_key, f"{API_KEY_START}_{prefix}_{secret}")


def api_key_revoke(*, user: AbstractBaseUser, key_id: int) -> bool:
    """Revoke ``user``'s key ``key_id``; False if there is no such live key."""
    revoked = live_api_keys(user).filter(pk=key_id).update(revoked_at=timezone.now())
    return bool(revoked)


def api_key_authenticate(key: str) -> AbstractBaseUser | None:
    """The active user whose live key ``key`` is; None for any other key."""
    if len(key) > KEY_MAX_CHARS:
        return None
    start, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if start != API_KEY_START or not prefix or not secret:
        return None
    candidates = ApiKey.objects.filter(prefix=prefix, revoked_at=None)
    hashed = _hash(secret)
    for api_key in candidates.select_related("user"):
        if hmac.compare_digest(api_key.key_hash, hashed) and api_key.user.is_active:
            _note_use(api_key)
            return api_key.user
    return None


def _note_use(api_key: ApiKey) -> None:
    now = timezone.now()
    last_used_at = api_key.last_used_at
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
