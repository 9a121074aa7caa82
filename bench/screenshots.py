"""Screenshots of the directory and the listener page, for docs/screenshots/.

Starts a real installation (daphne, a temporary SQLite database), puts a DJ
on air with the Python client, has two listeners chat and a shout-out sent,
then saves PNGs at desktop (1280x800) and phone (390x844) size, and the
listener page in dark mode:

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import (  # noqa: E402
    DESKTOP,
    DJ,
    FAN,
    LISTENER,
    PHONE,
    STATION,
    launch,
    populate,
    session_cookies,
)
from tests.browser.dj import PythonDj, make_show  # noqa: E402
from tests.browser.test_chat_and_inbox import run_async, send_private  # noqa: E402
from tests.support.servers import Deployment  # noqa: E402

DESCRIPTIONS = {
    STATION: "Slow electronica and late-night conversation, live from the studio.",
    "afternoon": "Sunny grooves, requests and news from the neighbourhood.",
    "jazz": "Standards, bebop and the occasional big band.",
}
PLAYED_A_WHILE = "document.getElementById('audio').currentTime > 1.5"
CHAT = [
    (FAN, "Evening all! Tuning in from Lisbon"),
    (LISTENER, "This track is perfect for the drive home"),
    (FAN, "Can you play something by Bonobo next?"),
    (LISTENER, "<b>bold?</b> nope, it shows as text"),
]


def set_descriptions(deployment: Deployment) -> None:
    deployment.manage("createstation", "jazz", "--name", "Blue Note Hour")
    code = "; ".join(
        f"Station.objects.filter(slug={slug!r}).update(description={text!r})"
        for slug, text in DESCRIPTIONS.items()
    )
    deployment.manage("shell", "-c", f"from stations.models import Station; {code}")


def page_for(browser, server, user, viewport, **options):
    context = browser.new_context(
        viewport=viewport, base_url=server.http_url, **options
    )
    if user is not None:
        context.add_cookies(session_cookies(server, user))
    return context.new_page()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="radio-shots-"))
    deployment = Deployment.create(
        database_url=f"sqlite:///{root / 'radio.sqlite3'}",
        STATIC_ROOT=str(root / "static"),
    )
    deployment.manage("collectstatic", "--noinput")
    populate(deployment)
    set_descriptions(deployment)
    server = deployment.start_worker()
    dj = PythonDj(server, DJ, STATION, make_show(root / "show.mp3"))
    try:
        dj.go_live()
        dj.announce("Kiara", "Bonobo")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            listen = f"/stations/{STATION}/"
            fan = page_for(browser, server, FAN, DESKTOP)
            fan.goto(listen)
            me = page_for(browser, server, LISTENER, DESKTOP)
            me.goto(listen)
            for user, text in CHAT:
                page = fan if user == FAN else me
                page.get_by_label("Chat message").fill(text)
                page.get_by_role("button", name="Send").click()
                expect(me.locator(".chat-message").filter(has_text=text)).to_have_count(
                    1
                )
            shoutout = "Shout-out to you on the drive home!"
            run_async(send_private(server, DJ, LISTENER[0], shoutout, STATION))
            me.get_by_role("button", name="Play").click()
            me.wait_for_function(PLAYED_A_WHILE)
            expect(me.locator("#now-title")).to_have_text("Kiara")
            expect(me.locator("#inbox-toggle .count")).to_have_text("1")
            me.screenshot(path=args.out / "listen-desktop.png")
            me.locator("#inbox-toggle").click()
            expect(me.locator(".inbox-message.shoutout")).to_be_visible()
            me.screenshot(path=args.out / "listen-inbox-desktop.png")

            dark = page_for(browser, server, FAN, DESKTOP, color_scheme="dark")
            dark.goto(listen)
            dark.get_by_role("button", name="Play").click()
            dark.wait_for_function(PLAYED_A_WHILE)
            dark.screenshot(path=args.out / "listen-desktop-dark.png")
            dark.context.close()

            phone = page_for(browser, server, None, PHONE)
            phone.goto(listen)
            phone.get_by_role("button", name="Play").click()
            phone.wait_for_function(PLAYED_A_WHILE)
            phone.screenshot(path=args.out / "listen-phone.png", full_page=True)

            for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
                page = page_for(browser, server, None, viewport)
                page.goto("/")
                expect(page.locator(".station-card").first).to_have_attribute(
                    "data-on-air", "true"
                )
                counts = page.locator(".station-card .listeners .count")
                expect(counts.first).to_have_text("3")
                page.screenshot(path=args.out / f"directory-{name}.png")
            browser.close()
    finally:
        dj.close()
        deployment.stop()
    for path in sorted(args.out.glob("*.png")):
        print(path.relative_to(PROJECT))


if __name__ == "__main__":
    main()
