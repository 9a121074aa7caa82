"""The API knows its caller by a personal API key or by the session, and
locks out an address that tries wrong keys (``GET /api/me``)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path
from django.utils.crypto import get_random_string
from ninja import NinjaAPI

from listeners.api_keys import api_key_create, api_key_revoke
from stations.api.auth import key_or_session

pytestmark = pytest.mark.django_db

ME = "/api/me"
# Addresses from the documentation ranges (RFC 5737).
GUESSER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
FAILURES_PER_ADDRESS = 3
LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery-1"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


@pytest.fixture
def key(alice) -> str:
    return api_key_create(user=alice, name="bot").key


def get_me(key: str, *, at: str = ELSEWHERE):
    return Client(REMOTE_ADDR=at).get(ME, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_key_makes_the_caller_its_user(key):
    response = get_me(key)

    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_the_session_makes_the_caller_its_user(alice):
    client = Client()
    client.force_login(alice)

    assert client.get(ME).json() == {"username": "alice"}


def test_nobody_gets_401_with_a_json_detail(db):
    response = Client().get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response["WWW-Authenticate"] == 'Bearer realm="radio"'


def test_a_revoked_key_gets_401(alice, key):
    api_key_revoke(user=alice, key_id=alice.api_keys.get().pk)

    response = get_me(key)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_an_address_that_tries_wrong_keys_is_locked_out(settings, key):
    settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS = FAILURES_PER_ADDRESS
    for number in range(FAILURES_PER_ADDRESS):
        assert get_me(f"radio_0000000{number}_guess", at=GUESSER).status_code == 401

    locked = get_me(key, at=GUESSER)

    assert locked.status_code == 429
    assert locked.json() == {"detail": "Too many requests."}
    assert 0 < int(locked["Retry-After"]) <= settings.RADIO_SIGNIN_LOCKOUT_SECONDS
    assert get_me(key, at=ELSEWHERE).status_code == 200


def test_wrong_keys_do_not_lock_the_address_out_of_signing_in(settings, alice):
    settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS = FAILURES_PER_ADDRESS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice.set_password(PASSWORD)
    alice.save()
    for _ in range(FAILURES_PER_ADDRESS):
        get_me("radio_00000000_guess", at=GUESSER)
    client = Client(REMOTE_ADDR=GUESSER)

    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get(ME).json() == {"username": "alice"}


def test_right_keys_and_sessions_count_no_failures(settings, alice, key):
    settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS = FAILURES_PER_ADDRESS
    client = Client(REMOTE_ADDR=GUESSER)
    client.force_login(alice)
    for _ in range(FAILURES_PER_ADDRESS + 1):
        assert get_me(key, at=GUESSER).status_code == 200
        assert client.get(ME).status_code == 200


def test_the_schema_names_both_ways_in(db):
    schema = Client().get("/api/openapi.json").json()

    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"


# The write endpoints to come are unsafe methods: their session callers
# need the CSRF token, their key callers do not (no browser sends a key by
# itself). This module's own URLs hold one such endpoint.
write_api = NinjaAPI(urls_namespace="write-test")


@write_api.post("/write", auth=key_or_session)
def write(request):
    return {"username": request.auth.get_username()}


@write_api.post("/async-write", auth=key_or_session)
async def async_write(request):
    return {"username": request.auth.get_username()}


urlpatterns = [path("api/", write_api.urls)]
WRITE = "/api/write"


@pytest.mark.urls(__name__)
def test_a_session_write_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    refused = client.post(WRITE)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF check Failed"}

    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    response = client.post(WRITE, HTTP_X_CSRFTOKEN=token)
    assert response.json() == {"username": "alice"}


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("write_path", [WRITE, "/api/async-write"])
def test_a_key_write_needs_no_csrf_token(key, write_path):
    client = Client(enforce_csrf_checks=True)

    response = client.post(write_path, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200
    assert response.json() == {"username": "alice"}
