"""Every page works under its Content-Security-Policy in Chromium: no script,
style or connection of it is blocked (``page_errors`` collects violations)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CSP_VIOLATION, DJ, LISTENER, STATION

# Each page with who opens it, and an element once its scripts have run (the
# listener page's badge is set by the socket's hello).
PAGES = [
    (None, "/", ".station-card"),
    (None, "/accounts/login/", "form"),
    (LISTENER, f"/stations/{STATION}/", '#on-air:not([data-on-air="unknown"])'),
    (DJ, f"/stations/{STATION}/studio/", "#listeners"),
    (None, f"/stations/{STATION}/schedule/", "main"),
    (DJ, f"/stations/{STATION}/studio/statistics/", "canvas"),
]


@pytest.mark.parametrize(("user", "path", "ready"), PAGES)
def test_the_page_reports_no_policy_violation(new_page, page_errors, user, path, ready):
    """The page loads, runs its scripts and connects with nothing blocked."""
    page = new_page(user, path=path)
    expect(page.locator(ready).first).to_be_attached()
    page.wait_for_load_state("networkidle")

    assert page_errors == []


def test_inline_code_is_blocked_and_reported(new_page, page_errors):
    """What the pages must not do is refused, and the tests hear of it."""
    page = new_page(path="/accounts/login/")
    reported = page.expect_console_message(
        lambda message: message.text.startswith(CSP_VIOLATION)
    )
    with reported:
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true;";
                document.body.append(script);
            }"""
        )

    assert page.evaluate("() => window.inlineRan === undefined")
    assert [error for error in page_errors if error.startswith(CSP_VIOLATION)]
    page_errors.clear()
