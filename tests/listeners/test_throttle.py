"""Sign-in and sign-up throttles, through Django's test client.

The client's address is ``REMOTE_ADDR``, as daphne sets it (from the
socket, or from X-Forwarded-For with ``--proxy-headers``).
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
SIGNUP = "/accounts/signup/"
PASSWORD = "correct-horse-battery-1"
WRONG = "not-the-password"
# Addresses from the documentation ranges (RFC 5737, RFC 3849).
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
DEFAULT_FAILURES_PER_ACCOUNT = 10
DEFAULT_LOCKOUT_MINUTES = 15


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hundreds of sign-ins: a real hasher would take most of a minute."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    """Staff, so that the admin lets her in too."""
    return get_user_model().objects.create_user(
        "alice", password=PASSWORD, is_staff=True
    )


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", password=PASSWORD, is_staff=True)


def sign_in(username: str, password: str, *, at: str, path: str = LOGIN):
    """One sign-in from address ``at``; the response, and whether it worked."""
    client = Client(REMOTE_ADDR=at)
    response = client.post(path, {"username": username, "password": password})
    return response, SESSION_KEY in client.session


def sign_up(username: str, *, at: str, password: str = PASSWORD):
    client = Client(REMOTE_ADDR=at)
    return client.post(
        SIGNUP, {"username": username, "password1": password, "password2": password}
    )


@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN])
def test_wrong_passwords_lock_the_account_even_for_the_right_one(path, alice, bob):
    """After the limit: 429 for alice, right password too; bob elsewhere is fine."""
    statuses = [sign_in("alice", WRONG, at=ATTACKER, path=path)[0].status_code
                for _ in range(30)]  # fmt: skip
    allowed = DEFAULT_FAILURES_PER_ACCOUNT
    assert statuses == [200] * allowed + [429] * (30 - allowed)

    response, signed_in = sign_in("alice", PASSWORD, at=ATTACKER, path=path)
    assert response.status_code == 429
    assert signed_in is False
    response, signed_in = sign_in("alice", PASSWORD, at=ELSEWHERE, path=path)
    assert response.status_code == 429
    assert signed_in is False

    response, signed_in = sign_in("bob", PASSWORD, at=ELSEWHERE, path=path)
    assert response.status_code == 302
    assert signed_in is True


def test_the_lock_page_says_when_to_try_again(alice):
    """A page of the site, a 429 and Retry-After with the lockout's length."""
    for _ in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in("alice", WRONG, at=ATTACKER)
    response, _ = sign_in("alice", PASSWORD, at=ATTACKER)
    assert response.status_code == 429
    page = response.content.decode()
    minutes = DEFAULT_LOCKOUT_MINUTES
    assert f"Too many sign-in attempts; try again in {minutes} minutes." in page
    assert 'class="site-header"' in page
    assert 0 < int(response["Retry-After"]) <= minutes * 60


def test_one_lock_covers_both_sign_in_forms(alice, settings):
    """Failures on /accounts/login/ lock /admin/login/ too, and the other way."""
    settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        sign_in("alice", WRONG, at=ATTACKER, path=LOGIN)
    response, signed_in = sign_in("alice", PASSWORD, at=ATTACKER, path=ADMIN_LOGIN)
    assert (response.status_code, signed_in) == (429, False)


def test_spelling_the_username_differently_does_not_escape_the_lock(alice, settings):
    """Spaces and case the form ignores do not make another account to count."""
    settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        sign_in("alice", WRONG, at=ATTACKER)
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in fullwidth letters
    for spelling in (" alice ", "ALICE", fullwidth):
        response, signed_in = sign_in(spelling, PASSWORD, at=ELSEWHERE)
        assert (response.status_code, signed_in) == (429, False), spelling


def test_the_lock_ends_after_the_lockout(alice, settings):
    """Once RADIO_SIGNIN_LOCKOUT_SECONDS have passed the right password works."""
    settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT = 3
    settings.RADIO_SIGNIN_LOCKOUT_SECONDS = 1
    for _ in range(3):
        sign_in("alice", WRONG, at=ATTACKER)
    assert sign_in("alice", PASSWORD, at=ATTACKER)[0].status_code == 429
    time.sleep(1.1)
    response, signed_in = sign_in("alice", PASSWORD, at=ATTACKER)
    assert (response.status_code, signed_in) == (302, True)


def test_signing_in_clears_the_accounts_count(alice, settings):
    """Failures before a success do not add up with failures after it."""
    settings.RADIO_SIGNIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(2):
        for _ in range(2):
            sign_in("alice", WRONG, at=ATTACKER)
        response, signed_in = sign_in("alice", PASSWORD, at=ATTACKER)
        assert (response.status_code, signed_in) == (302, True)


def test_many_accounts_from_one_address_lock_the_address(alice, settings):
    """One wrong password each for many names locks the address, not alice."""
    settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS = 5
    for number in range(5):
        assert sign_in(f"user{number}", WRONG, at=ATTACKER)[0].status_code == 200
    for path in (LOGIN, ADMIN_LOGIN):
        response, signed_in = sign_in("alice", PASSWORD, at=ATTACKER, path=path)
        assert (response.status_code, signed_in) == (429, False)
    response, signed_in = sign_in("alice", PASSWORD, at=ELSEWHERE)
    assert (response.status_code, signed_in) == (302, True)


def test_an_ipv6_address_counts_with_its_64_network(alice, settings):
    """A /64 is one customer's: its addresses share one count."""
    settings.RADIO_SIGNIN_FAILURES_PER_ADDRESS = 5
    for number in range(1, 6):
        sign_in(f"user{number}", WRONG, at=f"2001:db8:0:1::{number}")
    response, _ = sign_in("alice", PASSWORD, at="2001:db8:0:1::ffff")
    assert response.status_code == 429
    response, signed_in = sign_in("alice", PASSWORD, at="2001:db8:0:2::1")
    assert (response.status_code, signed_in) == (302, True)


def test_showing_the_form_is_never_refused(alice):
    """GET shows the form even while the account and address are locked."""
    for _ in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in("alice", WRONG, at=ATTACKER)
    assert Client(REMOTE_ADDR=ATTACKER).get(LOGIN).status_code == 200


def test_signups_from_one_address_are_limited_per_hour(settings):
    """The N+1th sign-up from an address in an hour gets 429; none is made."""
    settings.RADIO_SIGNUPS_PER_ADDRESS_PER_HOUR = 3
    users = get_user_model().objects
    for number in range(3):
        assert sign_up(f"new{number}", at=ATTACKER).status_code == 302
    response = sign_up("one-too-many", at=ATTACKER)
    assert response.status_code == 429
    assert "Too many sign-ups from your address; try again in" in (
        response.content.decode()
    )
    assert not users.filter(username="one-too-many").exists()
    assert users.count() == 3
    assert sign_up("from-elsewhere", at=ELSEWHERE).status_code == 302


def test_refused_signup_forms_do_not_count(settings):
    """Only accounts made count: mistakes in the form do not use the allowance."""
    settings.RADIO_SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    for _ in range(5):
        assert sign_up("new", at=ATTACKER, password="short").status_code == 200
    for number in range(2):
        assert sign_up(f"new{number}", at=ATTACKER).status_code == 302
