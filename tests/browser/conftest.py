"""Real headless Chromium against a real daphne: fixtures for tests/browser.

The fixture names below are stable; the listener, directory and studio tests
all use them. Playwright's sync API runs in the test's own thread, so browser
tests are plain ``def`` functions (no asyncio loop may be running).

Fixtures
--------
``deployment`` (module)
    A :class:`~tests.support.servers.Deployment`: a temporary SQLite database
    with the users ``DJ``, ``LISTENER`` and ``FAN`` and the stations
    ``STATION`` (DJs: ``DJ``) and ``QUIET_STATION`` (no DJ, so never on air;
    a long description), serving the static files collected once into
    ``static_root``.
``radio_server`` (module)
    One daphne :class:`~tests.support.servers.Worker` of ``deployment``:
    ``.http_url``, ``.ws_url``, ``.port``, ``.restart()`` (same port).
``browser`` (session)
    Playwright's ``Browser``: Debian's ``/usr/bin/chromium``, new headless
    mode, fake media devices and no autoplay gate (``CHROMIUM_ARGS``).
``new_page`` (function)
    ``new_page(user=None, *, viewport=DESKTOP, path=None, on=None, **options)
    -> Page``: a page in a fresh context of ``browser`` (or of ``on``, e.g.
    ``mic_browser``), signed in as ``user`` (a ``(username, password)`` pair,
    e.g. ``LISTENER``) by session cookie. Relative URLs resolve against
    ``radio_server``; with ``path`` the page has already opened it. ``options``
    go to ``Browser.new_context`` (e.g. ``permissions=["microphone"]``).
    Contexts are closed after the test.
``fake_mic_wav`` (session)
    Path of a 10 s 440 Hz tone, 48 kHz mono 16-bit WAV, for
    ``--use-file-for-fake-audio-capture``.
``mic_browser`` (session)
    Like ``browser``, with ``fake_mic_wav`` as the microphone; its contexts
    need ``permissions=["microphone"]``.
``sockets``, ``room``, ``studio`` (function)
    The DJ console's tests (studio_page.py): ``sockets(path, user=None)`` opens
    a ``BackgroundSocket``; ``room`` is the station room as ``LISTENER``;
    ``studio(user=DJ, **options)`` opens the console in ``mic_browser``, and
    the station must be off air again after the test.
``page_errors`` (function)
    A list that ``new_page`` pages append uncaught JS errors and
    Content-Security-Policy violations to; it must be empty at the end of
    the test, or the test fails.

The pages' policy forbids eval: give ``wait_for_function`` a function
(``"() => ..."``), never a bare expression, which Playwright would eval.

Outside CI the browser tests are skipped, with a message, when Chromium or
Playwright is missing; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.audio import make_tone
from tests.support.clients import sign_in
from tests.support.servers import Deployment, Worker, collect_static

if TYPE_CHECKING:
    from playwright.sync_api import Page

    # Imported by the fixtures when they run: it imports this module's names.
    from tests.browser.studio_page import BackgroundSocket

IN_CI = os.environ.get("CI") == "true"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    # The test modules import Playwright too: skip the whole directory,
    # except in CI, where a missing Playwright must fail the run.
    if IN_CI:
        raise
    pytest.skip(
        "Playwright is missing: run bin/setup requirements-dev.txt",
        allow_module_level=True,
    )
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

DJ = ("dj", "dj-password-1")
LISTENER = ("listener", "listener-password-1")
FAN = ("fan", "fan-password-1")
STATION = "night"
STATION_NAME = "Night Shift"
# Sorts before STATION by name, so "on air first" is visible in the directory.
QUIET_STATION = "afternoon"
QUIET_STATION_NAME = "Afternoon Mix"
QUIET_STATION_DESCRIPTION = (
    "Sunny grooves, requests and news from the neighbourhood, every weekday "
    "afternoon from two until the school run is over."
)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Playwright's default wait for expect() and wait_for_function(), in ms.
EXPECT_TIMEOUT_MS = 10_000
# Reports every Content-Security-Policy violation of the page as a console
# error that the tests collect; installed before any of the page's scripts.
CSP_VIOLATION = "CSP violation:"
REPORT_CSP_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error(`{CSP_VIOLATION} ${{event.effectiveDirective}} blocked `
    + `${{event.blockedURI || "inline code"}} at ${{event.sourceFile}}:`
    + `${{event.lineNumber}}`);
}});
"""


def pytest_collection_modifyitems(items):
    """Every test under tests/browser carries the ``browser`` marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(message: str):
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="package")
def playwright_instance():
    """Playwright itself; skipped (outside CI) when Chromium is missing.

    Package-scoped: Playwright's sync API keeps an event loop running in
    this thread, and the asyncio tests of other packages need it gone.
    """
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"Chromium is not at {CHROMIUM}: run bin/setup requirements-dev.txt "
            "(it installs Debian's chromium) or set CHROMIUM to its path"
        )
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        yield playwright


def launch(playwright, *extra_args: str):
    """Debian's Chromium with the flags the tests need (never a download)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


@pytest.fixture(scope="package")
def browser(playwright_instance):
    browser = launch(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def fake_mic_wav(tmp_path_factory) -> Path:
    """A 440 Hz tone, 48 kHz mono, for Chromium's fake microphone."""
    if shutil.which("ffmpeg") is None:
        _unavailable("ffmpeg is missing: run bin/setup")
    path = tmp_path_factory.mktemp("mic") / "tone-48k.wav"
    return make_tone(
        path, seconds=10, codec="pcm_s16le", sample_rate=48_000, channels=1
    )


@pytest.fixture(scope="package")
def mic_browser(playwright_instance, fake_mic_wav):
    browser = launch(
        playwright_instance, f"--use-file-for-fake-audio-capture={fake_mic_wav}"
    )
    yield browser
    browser.close()


def populate(deployment: Deployment) -> None:
    deployment.set_up(
        users=[DJ, LISTENER, FAN],
        commands=[
            ["createstation", STATION, "--name", STATION_NAME, "--dj", DJ[0]],
            ["createstation", QUIET_STATION, "--name", QUIET_STATION_NAME],
        ],
        # A long description, so that layouts are tried with text that must
        # wrap or be cut.
        then=(
            "from stations.models import Station; "
            f"Station.objects.filter(slug={QUIET_STATION!r}).update(description="
            f"{QUIET_STATION_DESCRIPTION!r})"
        ),
    )


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """The static files, collected once for every deployment of the run."""
    root = tmp_path_factory.mktemp("static")
    collect_static(root)
    return root


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, static_root) -> Iterator[Deployment]:
    """A fresh installation: SQLite, the in-memory layer, collected statics."""
    root = tmp_path_factory.mktemp("browser-site")
    deployment = Deployment.create(
        database_url=f"sqlite:///{root / 'radio.sqlite3'}",
        STATIC_ROOT=str(static_root),
    )
    populate(deployment)
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def radio_server(deployment) -> Worker:
    return deployment.start_worker()


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def new_page(browser, radio_server, page_errors) -> Iterator[Callable[..., object]]:
    contexts = []

    def open_page(user=None, *, viewport=DESKTOP, path=None, on=None, **options):
        context = (on or browser).new_context(
            viewport=viewport, base_url=radio_server.http_url, **options
        )
        contexts.append(context)
        if user is not None:
            context.add_cookies(session_cookies(radio_server, user))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("console", lambda message: _collect_violation(message, page_errors))
        if path is not None:
            page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _collect_violation(message, page_errors: list[str]) -> None:
    if message.type == "error" and message.text.startswith(CSP_VIOLATION):
        page_errors.append(message.text)


def session_cookies(server: Worker, user: tuple[str, str]) -> list[dict]:
    """The cookies of ``user`` signed in through the login form."""
    header = sign_in(server.http_url, *user)
    cookies = []
    for pair in header.split("; "):
        name, value = pair.split("=", 1)
        cookies.append({"name": name, "value": value, "url": server.http_url})
    return cookies


# --- The DJ console (tests/browser/studio_page.py) ---------------------------


@pytest.fixture
def sockets(radio_server) -> Iterator[Callable[..., BackgroundSocket]]:
    """``sockets(path, user=None)``: a BackgroundSocket, closed after the test."""
    from tests.browser.studio_page import BackgroundSocket

    opened: list[BackgroundSocket] = []

    def open_socket(path: str, user: tuple[str, str] | None = None):
        cookie = sign_in(radio_server.http_url, *user) if user else None
        socket = BackgroundSocket(f"{radio_server.ws_url}{path}", cookie=cookie)
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        socket.close()


@pytest.fixture
def room(sockets) -> BackgroundSocket:
    """The station room, as the signed-in LISTENER."""
    socket = sockets(f"/ws/stations/{STATION}/", LISTENER)
    socket.wait_for("hello")
    return socket


@pytest.fixture
def studio(new_page, mic_browser, radio_server) -> Iterator[Callable[..., Page]]:
    """``studio(user=DJ, viewport=...)``: the console in the tone-mic browser.

    After the test the station must go off air: a broadcast the test left
    running would refuse the next test's DJ.
    """

    from tests.browser.studio_page import STUDIO, wait_until_off_air

    pages: list[Page] = []

    def open_studio(user=DJ, **options) -> Page:
        page = new_page(
            user, on=mic_browser, permissions=["microphone"], path=STUDIO, **options
        )
        pages.append(page)
        return page

    yield open_studio
    for page in pages:
        page.context.close()
    wait_until_off_air(radio_server)
