"""What every page answers so a browser keeps its users safe: the
Content-Security-Policy, no framing, careful cookies, CSRF on every form."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.test_settings import import_settings

PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/api-keys/",
    "/stations/demo/",
    "/stations/demo/studio/",
    "/stations/demo/schedule/",
    "/stations/demo/archive/",
    "/stations/demo/studio/statistics/",
    "/api/docs",
]
# The one view that checks CSRF itself, after its size limit
# (stations/library/views.py).
CHECKS_CSRF_ITSELF = {"stations.library.views"}


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_policy_without_inline_code(dj_client, path):
    """Scripts and styles only from the site's own files; no page in a frame."""
    response = dj_client.get(path, follow=True)

    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == directives["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_and_csrf_cookies_are_http_only_and_same_site(db):
    """Scripts can read neither cookie; other sites' requests carry neither."""
    get_user_model().objects.create_user("fan", password="pw-not-secret")
    client = Client()
    client.get("/accounts/login/")
    client.post(
        "/accounts/login/", {"username": "fan", "password": "pw-not-secret"}
    )  # the test client skips the CSRF check, not the cookies

    for name in ("sessionid", "csrftoken"):
        cookie = client.cookies[name]
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


def test_cookies_are_secure_over_https():
    """HTTPS=1 (behind a proxy) marks both cookies Secure."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    )
    result = import_settings(
        code, DEBUG="0", SECRET_KEY="a-long-random-key-" + "x" * 40, HTTPS="1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def views(resolver: URLResolver = None):
    """Every view the site routes to."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from views(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def test_every_form_is_csrf_protected():
    """No view skips Django's CSRF check, except the one that makes it itself."""
    exempt = {
        view.__module__
        for view in views()
        if getattr(view, "csrf_exempt", False)
        and not view.__module__.startswith("ninja")
    }

    assert exempt == CHECKS_CSRF_ITSELF
