"""Personal API keys: the service, ``manage.py createapikey`` and the
user's page at ``/accounts/api-keys/``."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from listeners.api_keys import (
    LIVE_KEYS_PER_USER,
    ApiKeyError,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)
from listeners.models import API_KEY_NAME_MAX_CHARS, ApiKey

pytestmark = pytest.mark.django_db

PAGE = "/accounts/api-keys/"
KEY_PATTERN = re.compile(r"radio_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def csrf_post(client: Client, path: str, data: dict | None = None):
    """A POST with the CSRF token a page of the site gives the browser."""
    client.get(PAGE)
    token = client.cookies["csrftoken"].value
    return client.post(path, data or {}, HTTP_X_CSRFTOKEN=token)


# The service


def test_a_new_key_opens_as_its_user_and_only_its_hash_is_stored(alice):
    new_key = api_key_create(user=alice, name="my bot")

    assert KEY_PATTERN.fullmatch(new_key.key)
    stored = ApiKey.objects.get()
    assert new_key.key.split("_", 2)[2] not in stored.key_hash
    assert len(stored.key_hash) == 64
    assert new_key.key.startswith(f"radio_{stored.prefix}_")
    assert api_key_authenticate(new_key.key) == alice


@pytest.mark.parametrize(
    "wrong",
    ["", "radio", "radio__x", "bearer", "radio_00000000_nothing", "x" * 10_000],
)
def test_other_keys_open_nothing(alice, wrong):
    api_key_create(user=alice, name="bot")

    assert api_key_authenticate(wrong) is None


def test_a_key_with_another_secret_but_the_same_prefix_opens_nothing(alice):
    key = api_key_create(user=alice, name="bot").key
    prefix = key.split("_")[1]

    assert api_key_authenticate(f"radio_{prefix}_{'A' * 43}") is None


def test_a_revoked_key_opens_nothing(alice):
    new_key = api_key_create(user=alice, name="bot")

    assert api_key_revoke(user=alice, key_id=new_key.api_key.pk) is True
    assert api_key_authenticate(new_key.key) is None
    assert api_key_revoke(user=alice, key_id=new_key.api_key.pk) is False


def test_only_its_user_revokes_a_key(alice):
    bob = get_user_model().objects.create_user("bob")
    new_key = api_key_create(user=alice, name="bot")

    assert api_key_revoke(user=bob, key_id=new_key.api_key.pk) is False
    assert api_key_authenticate(new_key.key) == alice


def test_an_inactive_users_key_opens_nothing(alice):
    key = api_key_create(user=alice, name="bot").key
    alice.is_active = False
    alice.save()

    assert api_key_authenticate(key) is None


def test_use_is_noted_at_most_once_a_minute(alice):
    new_key = api_key_create(user=alice, name="bot")
    api_key_authenticate(new_key.key)
    first_use = ApiKey.objects.get().last_used_at
    api_key_authenticate(new_key.key)

    assert first_use is not None
    assert ApiKey.objects.get().last_used_at == first_use

    ApiKey.objects.update(last_used_at=first_use - timedelta(minutes=2))
    api_key_authenticate(new_key.key)
    assert ApiKey.objects.get().last_used_at > first_use


def test_a_user_has_a_limited_number_of_live_keys(alice):
    for number in range(LIVE_KEYS_PER_USER):
        api_key_create(user=alice, name=f"bot {number}")

    with pytest.raises(ApiKeyError, match="revoke one"):
        api_key_create(user=alice, name="one too many")

    api_key_revoke(user=alice, key_id=ApiKey.objects.first().pk)
    api_key_create(user=alice, name="in its place")


@pytest.mark.parametrize("name", ["", "   ", "x" * (API_KEY_NAME_MAX_CHARS + 1)])
def test_a_key_needs_a_name_of_limited_length(alice, name):
    with pytest.raises(ApiKeyError):
        api_key_create(user=alice, name=name)
    assert not ApiKey.objects.exists()


# The command


def test_createapikey_prints_a_working_key_once(alice):
    out = io.StringIO()
    call_command("createapikey", "alice", "--name", "deploy", stdout=out)

    key = out.getvalue().strip()
    assert KEY_PATTERN.fullmatch(key)
    assert api_key_authenticate(key) == alice
    assert ApiKey.objects.get().name == "deploy"


def test_createapikey_refuses_an_unknown_user_in_one_line(db):
    with pytest.raises(CommandError, match=r"^No user is called 'nobody'\.$"):
        call_command("createapikey", "nobody")


def test_createapikey_refuses_a_user_with_too_many_keys(alice):
    for number in range(LIVE_KEYS_PER_USER):
        api_key_create(user=alice, name=f"bot {number}")

    with pytest.raises(CommandError, match="revoke one"):
        call_command("createapikey", "alice")


# The page


def test_the_page_needs_a_signed_in_user(db):
    response = Client().get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_header_links_to_the_page(alice_client):
    page = alice_client.get("/accounts/signup/").content.decode()

    assert f'href="{PAGE}"' in page


def test_making_a_key_shows_it_once_and_then_only_its_prefix(alice, alice_client):
    response = csrf_post(alice_client, PAGE, {"name": "my bot"})

    page = response.content.decode()
    key = KEY_PATTERN.search(page).group()
    assert "shown only this once" in page
    assert "no-store" in response["Cache-Control"]
    assert api_key_authenticate(key) == alice

    later = alice_client.get(PAGE).content.decode()
    assert key not in later
    assert f"radio_{key.split('_')[1]}_…" in later
    assert "my bot" in later


def test_making_a_key_needs_the_csrf_token(alice_client):
    response = alice_client.post(PAGE, {"name": "my bot"})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_names_are_escaped(alice, alice_client):
    name = "<script>alert(1)</script>"
    response = csrf_post(alice_client, PAGE, {"name": name})

    page = response.content.decode()
    assert name not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_limit_is_explained_on_the_page(alice, alice_client):
    for number in range(LIVE_KEYS_PER_USER):
        api_key_create(user=alice, name=f"bot {number}")

    page = csrf_post(alice_client, PAGE, {"name": "more"}).content.decode()

    assert "revoke one you no longer use" in page
    assert not KEY_PATTERN.search(page)


def test_a_key_is_revoked_by_post_with_the_csrf_token(alice, alice_client):
    new_key = api_key_create(user=alice, name="bot")
    path = f"{PAGE}{new_key.api_key.pk}/revoke/"

    assert alice_client.get(path).status_code == 405
    assert alice_client.post(path).status_code == 403
    assert api_key_authenticate(new_key.key) == alice

    response = csrf_post(alice_client, path)
    assert response.status_code == 302
    assert api_key_authenticate(new_key.key) is None
    assert "bot" not in alice_client.get(PAGE).content.decode()


def test_nobody_revokes_another_users_key(alice):
    bob = get_user_model().objects.create_user("bob")
    new_key = api_key_create(user=alice, name="bot")
    bob_client = Client()
    bob_client.force_login(bob)

    response = bob_client.post(f"{PAGE}{new_key.api_key.pk}/revoke/")

    assert response.status_code == 404
    assert api_key_authenticate(new_key.key) == alice


def test_the_admin_lists_keys_without_them_and_revokes_them(alice):
    admin = get_user_model().objects.create_superuser("admin")
    new_key = api_key_create(user=alice, name="bot")
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/listeners/apikey/").content.decode()
    assert "bot" in listing
    assert new_key.key.split("_", 2)[2] not in listing
    assert new_key.api_key.key_hash not in listing

    client.post(
        "/admin/listeners/apikey/",
        {"action": "revoke", "_selected_action": [new_key.api_key.pk]},
    )
    assert ApiKey.objects.get().revoked_at <= timezone.now()
    assert api_key_authenticate(new_key.key) is None
