"""Sign-in throttles on real daphne workers, over HTTP, as a browser signs in.

The workers run with ``--proxy-headers``, as behind nginx, so each visitor
can come from its own address (X-Forwarded-For).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

import pytest

from tests.support.servers import Deployment, Worker

pytestmark = pytest.mark.live

ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-1")
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
FAILURES_PER_ACCOUNT = 10
LOGIN = "/accounts/login/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Attempt:
    status: int
    page: str
    signed_in: bool


@dataclass
class Visitor:
    """A browser at ``address``: fetches the form, then posts it with its token."""

    address: str
    jar: CookieJar = field(default_factory=CookieJar)

    def sign_in(self, worker: Worker, username: str, password: str) -> Attempt:
        self.jar.clear()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )
        headers = {"X-Forwarded-For": self.address}
        url = worker.http_url + LOGIN
        form_page = opener.open(urllib.request.Request(url, headers=headers))
        token = TOKEN.search(form_page.read().decode()).group(1)
        form = {"username": username, "password": password}
        body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(url, data=body.encode(), headers=headers)
        try:
            with opener.open(request) as response:
                status, page = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, page = error.code, error.read().decode()
        signed_in = any(cookie.name == "sessionid" for cookie in self.jar)
        return Attempt(status, page, signed_in)


def populate(deployment: Deployment) -> None:
    deployment.create_users([ALICE, BOB])


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One worker with SQLite and its own, in-memory, counts."""
    database = tmp_path_factory.mktemp("db") / "radio.sqlite3"
    deployment = Deployment.create(database_url=f"sqlite:///{database}")
    populate(deployment)
    yield deployment.start_worker("--proxy-headers")
    deployment.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, redis_url):
    """Two workers that share SQLite and, through REDIS_URL, the counts."""
    database = tmp_path_factory.mktemp("db") / "radio.sqlite3"
    deployment = Deployment.create(
        database_url=f"sqlite:///{database}", redis_url=redis_url
    )
    populate(deployment)
    yield (
        deployment.start_worker("--proxy-headers"),
        deployment.start_worker("--proxy-headers"),
    )
    deployment.stop()


def test_wrong_passwords_lock_the_account_over_http(worker):
    """30 wrong passwords: 429 after the limit, then for the right one too."""
    attacker, elsewhere = Visitor(ATTACKER), Visitor(ELSEWHERE)
    attempts = [attacker.sign_in(worker, ALICE[0], "wrong") for _ in range(30)]
    statuses = [attempt.status for attempt in attempts]
    assert statuses == [200] * FAILURES_PER_ACCOUNT + [429] * 20
    assert "Too many sign-in attempts; try again in 15 minutes." in attempts[-1].page

    right = attacker.sign_in(worker, *ALICE)
    assert (right.status, right.signed_in) == (429, False)
    other = elsewhere.sign_in(worker, *BOB)
    assert (other.status, other.signed_in) == (200, True)


@pytest.mark.redis
def test_workers_sharing_redis_share_the_counts(two_workers):
    """Failures on either worker add up: both then refuse the right password."""
    first, second = two_workers
    attacker = Visitor(ATTACKER)
    for number in range(FAILURES_PER_ACCOUNT):
        worker = (first, second)[number % 2]
        assert attacker.sign_in(worker, ALICE[0], "wrong").status == 200
    for worker in two_workers:
        right = attacker.sign_in(worker, *ALICE)
        assert (right.status, right.signed_in) == (429, False)
    other = Visitor(ELSEWHERE).sign_in(second, *BOB)
    assert (other.status, other.signed_in) == (200, True)
