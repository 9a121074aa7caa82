"""Chat and private messages on the listener page, between real browsers."""

from __future__ import annotations

import asyncio
import json
import threading

from playwright.sync_api import expect

from tests.browser.conftest import DJ, FAN, LISTENER, STATION
from tests.support.clients import connect, next_message, sign_in

LISTEN = f"/stations/{STATION}/"
ATTACK = "<img src=x onerror=alert(1)>"


def run_async(coroutine):
    """Run ``coroutine`` on a loop of its own thread (Playwright owns this one)."""
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    if "error" in result:
        raise result["error"]
    return result["value"]


async def send_private(server, sender, to: str, text: str, station=None) -> dict:
    socket = await connect(
        f"{server.ws_url}/ws/inbox/", cookie=sign_in(server.http_url, *sender)
    )
    message = {"type": "inbox.send", "to": to, "text": text}
    if station:
        message["station"] = station
    await next_message(socket, "inbox.unread")
    await socket.send(json.dumps(message))
    reply = json.loads(await socket.recv())
    await socket.close()
    return reply


async def unread_of(server, user) -> list[dict]:
    socket = await connect(
        f"{server.ws_url}/ws/inbox/", cookie=sign_in(server.http_url, *user)
    )
    unread = await next_message(socket, "inbox.unread")
    await socket.close()
    return unread["messages"]


def open_chat(new_page, user):
    page = new_page(user, path=LISTEN)
    expect(page.get_by_label("Chat message")).to_be_enabled()
    return page


def test_chat_reaches_another_listener_as_text(new_page):
    """A message shows on the other page, markup and all, as plain text."""
    dialogs = []
    sender = open_chat(new_page, LISTENER)
    reader = open_chat(new_page, FAN)

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (sender, reader):
        page.on("dialog", on_dialog)
    sender.get_by_label("Chat message").fill(ATTACK)
    sender.get_by_role("button", name="Send").click()
    line = reader.locator(".chat-message").filter(has_text=ATTACK)
    expect(line).to_have_count(1)
    expect(line.locator(".chat-user")).to_have_text(LISTENER[0])
    mine = sender.locator(".chat-message.mine").filter(has_text=ATTACK)
    expect(mine).to_have_count(1)
    assert reader.locator(".chat-log img").count() == 0
    assert sender.locator(".chat-log img").count() == 0
    assert dialogs == []
    # Sent messages come back in the history of a page opened later.
    late = open_chat(new_page, FAN)
    expect(late.locator(".chat-message").filter(has_text=ATTACK)).to_have_count(1)


def test_visitors_get_a_sign_in_link_instead_of_the_box(new_page):
    """Someone not signed in reads the chat but is asked to sign in to write."""
    page = new_page(path=LISTEN)
    link = page.locator("#chat").get_by_role("link", name="Sign in")
    expect(link).to_have_attribute("href", f"/accounts/login/?next={LISTEN}")
    assert page.get_by_label("Chat message").count() == 0
    assert page.locator("#inbox-toggle").count() == 0


def test_shoutout_stands_out_in_the_inbox_and_can_be_answered(new_page, radio_server):
    """A DJ's shout-out shows marked in the inbox; Reply answers in place."""
    page = new_page(LISTENER, path=LISTEN)
    expect(page.get_by_label("Chat message")).to_be_enabled()
    sent = run_async(
        send_private(radio_server, DJ, LISTENER[0], "Big up the night crew!", STATION)
    )
    assert sent["type"] == "inbox.sent", sent
    toggle = page.locator("#inbox-toggle")
    expect(toggle).to_have_attribute("aria-label", "Inbox, 1 unread")
    toggle.click()
    panel = page.get_by_role("complementary", name="Inbox")
    expect(panel).to_be_visible()
    message = panel.locator(".inbox-message.shoutout")
    expect(message).to_contain_text("Big up the night crew!")
    expect(message.locator(".badge-shoutout")).to_have_text("Shout-out")
    expect(message.locator(".inbox-from")).to_have_text(DJ[0])
    expect(toggle).to_have_attribute("aria-label", "Inbox")
    message.get_by_role("button", name=f"Reply to {DJ[0]}").click()
    message.get_by_role("textbox", name=f"Reply to {DJ[0]}").fill("Thanks! " + ATTACK)
    message.get_by_role("button", name="Send").click()
    expect(message.get_by_role("status")).to_have_text(f"Sent to {DJ[0]}.")
    replies = run_async(unread_of(radio_server, DJ))
    assert [(m["from"], m["text"], m["kind"]) for m in replies] == [
        (LISTENER[0], "Thanks! " + ATTACK, "message")
    ]


def test_pm_command_in_the_chat_box_reaches_the_other_user(new_page):
    """``/pm USER TEXT`` goes to USER's inbox, not to the chat."""
    sender = open_chat(new_page, LISTENER)
    reader = open_chat(new_page, FAN)
    sender.get_by_label("Chat message").fill(f"/pm {FAN[0]} psst {ATTACK}")
    sender.get_by_role("button", name="Send").click()
    expect(sender.locator(".chat-notice")).to_have_text(
        f"Private message sent to {FAN[0]}."
    )
    toggle = reader.locator("#inbox-toggle")
    expect(toggle).to_have_attribute("aria-label", "Inbox, 1 unread")
    toggle.click()
    message = reader.locator(".inbox-message").filter(has_text=f"psst {ATTACK}")
    expect(message).to_have_count(1)
    expect(message).not_to_have_class("shoutout")
    assert reader.locator(".inbox-panel img").count() == 0
    assert reader.locator(".chat-message").filter(has_text="psst").count() == 0
    sender.get_by_label("Chat message").fill("/pm nobody-here hello")
    sender.get_by_role("button", name="Send").click()
    expect(sender.locator(".chat-notice.error")).to_have_text(
        "There is no user of that name."
    )
