"""Who connects in the consumer tests: signed-in users and anonymous ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

ORIGIN = "http://127.0.0.1"


@dataclass(frozen=True)
class Persona:
    """Someone who connects: a user with a session cookie, or nobody."""

    username: str | None = None
    cookie: str | None = None

    def headers(self, origin: str = ORIGIN) -> list[tuple[bytes, bytes]]:
        headers = [(b"origin", origin.encode())]
        if self.cookie is not None:
            headers.append((b"cookie", self.cookie.encode()))
        return headers


def signed_in(username: str) -> tuple[Any, Persona]:
    """A new user and a persona carrying that user's session cookie."""
    user = get_user_model().objects.create_user(username, password=None)
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return user, Persona(username, f"{settings.SESSION_COOKIE_NAME}={session}")
