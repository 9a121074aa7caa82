/**
 * Private messages: the inbox socket `/ws/inbox/` and its panel.
 *
 *   import { InboxClient, InboxPanel } from "./inbox.js";
 *   const inbox = new InboxClient();     // socket to /ws/inbox/ on this host
 *   inbox.on("message", (m) => ...);    // each inbox.message, once per id,
 *                                       // unread ones on (re)connect included
 *   inbox.on("read", (ids) => ...);     // messages read (on any connection)
 *   inbox.on("state", (state) => ...);  // the Connection's states
 *   inbox.open();
 *   await inbox.send("bob", "hi");      // resolves with inbox.sent;
 *   await inbox.send("bob", "hey!", { station: "demo" }); // a shout-out
 *   // rejects with an Error whose .code is the protocol's error code
 *   inbox.markRead([1, 2]);
 *
 *   new InboxPanel(rootElement, inbox, { toggle: buttonElement });
 *   // Lists messages newest first; shout-outs (kind "shoutout") stand out;
 *   // each has a Reply box in place. The toggle button opens and closes the
 *   // panel and shows the unread count; opening it marks messages read.
 */

import { Connection, socketUrl } from "./connection.js";
import { el, timeOfDay } from "./dom.js";
import { ERRORS, LIMITS, TYPES } from "./protocol.js";

// The protocol's limit on one private message, in characters after trimming.
export const INBOX_MAX_CHARS = LIMITS.inboxMaxTextChars;
// Errors that answer an inbox.send (the socket answers in order).
const SEND_ERRORS = new Set([
  ERRORS.unknownUser,
  ERRORS.forbidden,
  ERRORS.rateLimited,
  ERRORS.badRequest,
  ERRORS.tooLong,
]);
const ERROR_TEXT = {
  [ERRORS.unknownUser]: "There is no user of that name.",
  [ERRORS.forbidden]: "You may not send that message.",
  [ERRORS.rateLimited]: "Too many messages at once: wait a moment.",
  [ERRORS.tooLong]: `Messages are at most ${INBOX_MAX_CHARS} characters.`,
  [ERRORS.badRequest]: "That message could not be sent.",
  // The client's own code: the socket was not open.
  not_connected: "Not connected to your inbox: try again in a moment.",
};

export function inboxErrorText(error) {
  return ERROR_TEXT[error?.code] ?? error?.message ?? "The message was not sent.";
}

export class InboxClient {
  constructor({ url = socketUrl("/ws/inbox/") } = {}) {
    this.connection = new Connection(url);
    this.handlers = new Map();
    this.seen = new Set();
    this.pending = [];
    this.connection.on("json", (message) => this.receive(message));
    this.connection.on("state", (state, detail) => {
      if (state !== "open") this.failPending();
      this.emit("state", state, detail);
    });
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  emit(event, ...args) {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }

  open() {
    this.connection.open();
    return this;
  }

  close() {
    this.connection.close();
  }

  receive(message) {
    switch (message.type) {
      case TYPES.inboxUnread:
        for (const item of message.messages ?? []) this.deliver(item);
        break;
      case TYPES.inboxMessage:
        this.deliver(message);
        break;
      case TYPES.inboxRead:
        this.emit("read", message.ids ?? []);
        break;
      case TYPES.inboxSent:
        this.pending.shift()?.resolve(message);
        break;
      case TYPES.error:
        if (SEND_ERRORS.has(message.code) && this.pending.length) {
          const error = new Error(message.message);
          error.code = message.code;
          this.pending.shift().reject(error);
        }
        break;
    }
  }

  deliver(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.emit("message", message);
  }

  send(to, text, { station } = {}) {
    const message = { type: TYPES.inboxSend, to, text };
    if (station) message.station = station;
    return new Promise((resolve, reject) => {
      if (!this.connection.sendJson(message)) {
        const error = new Error("not connected");
        error.code = "not_connected";
        reject(error);
        return;
      }
      this.pending.push({ resolve, reject });
    });
  }

  failPending() {
    for (const { reject } of this.pending.splice(0)) {
      const error = new Error("connection lost");
      error.code = "not_connected";
      reject(error);
    }
  }

  markRead(ids) {
    if (ids.length) this.connection.sendJson({ type: TYPES.inboxRead, ids });
  }
}

export class InboxPanel {
  constructor(root, client, { toggle = null, me = null } = {}) {
    this.root = root;
    this.client = client;
    this.toggle = toggle;
    this.me = me;
    this.items = new Map();
    this.unread = new Set();
    this.list = el("ol", { class: "inbox-list", "aria-label": "Private messages" });
    this.empty = el("p", { class: "muted inbox-empty" }, "No private messages yet.");
    this.status = el("p", { class: "inbox-status muted", role: "status" });
    root.append(this.status, this.list, this.empty);
    client.on("message", (message) => this.add(message));
    client.on("read", (ids) => {
      for (const id of ids) this.markShownRead(id);
    });
    client.on("state", (state) => {
      this.status.textContent = state === "reconnecting" ? "Reconnecting…" : "";
    });
    toggle?.addEventListener("click", () => this.setOpen(root.hidden));
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && toggle) {
        this.setOpen(false);
        toggle.focus();
      }
    });
    this.updateBadge();
  }

  get isOpen() {
    return !this.root.hidden;
  }

  setOpen(open) {
    this.root.hidden = !open;
    this.toggle?.setAttribute("aria-expanded", String(open));
    if (open) {
      this.readVisible();
      // Keyboard users land in the panel (Escape takes them back).
      if (!this.root.hasAttribute("tabindex")) this.root.tabIndex = -1;
      this.root.focus();
    }
  }

  add(message) {
    if (this.me !== null && message.from === this.me && message.to !== this.me) return;
    const item = this.render(message);
    this.items.set(message.id, item);
    this.list.prepend(item);
    this.empty.hidden = true;
    this.unread.add(message.id);
    if (this.isOpen) this.readVisible();
    this.updateBadge();
  }

  render(message) {
    const shoutout = message.kind === "shoutout";
    // A station's own notice (a request playing): nobody to reply to.
    const notice = message.kind === "notice";
    const item = el(
      "li",
      {
        class: `inbox-message unread${shoutout ? " shoutout" : ""}`,
        dataset: { id: message.id, kind: message.kind },
      },
      el(
        "header",
        { class: "inbox-meta" },
        shoutout ? el("span", { class: "badge badge-shoutout" }, "Shout-out") : null,
        notice ? el("span", { class: "badge" }, "Station") : null,
        el("span", { class: "inbox-from" }, message.from),
        shoutout && message.station
          ? el("span", { class: "muted" }, ` on ${message.station}`)
          : null,
        el("time", { datetime: message.ts, class: "muted" }, timeOfDay(message.ts)),
      ),
      el("p", { class: "inbox-text" }, message.text),
    );
    if (!notice && message.from !== this.me) item.append(this.replyBox(message.from));
    return item;
  }

  replyBox(to) {
    const id = `reply-${Math.random().toString(36).slice(2, 8)}`;
    const input = el("input", {
      id,
      type: "text",
      autocomplete: "off",
      maxlength: String(INBOX_MAX_CHARS),
      placeholder: `Reply to ${to}`,
    });
    const note = el("p", { class: "inbox-note muted", role: "status" });
    const form = el(
      "form",
      { class: "reply-form", hidden: true },
      el("label", { for: id, class: "visually-hidden" }, `Reply to ${to}`),
      input,
      el("button", { type: "submit", class: "button" }, "Send"),
    );
    const open = el(
      "button",
      {
        type: "button",
        class: "link-button",
        "aria-label": `Reply to ${to}`,
        onclick: () => {
          form.hidden = false;
          open.hidden = true;
          input.focus();
        },
      },
      "Reply",
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      try {
        await this.client.send(to, text);
        input.value = "";
        note.textContent = `Sent to ${to}.`;
      } catch (error) {
        note.textContent = inboxErrorText(error);
      }
    });
    return el("div", { class: "inbox-reply" }, open, form, note);
  }

  readVisible() {
    const ids = [...this.unread];
    this.client.markRead(ids);
    for (const id of ids) this.markShownRead(id);
  }

  markShownRead(id) {
    this.unread.delete(id);
    this.items.get(id)?.classList.remove("unread");
    this.updateBadge();
  }

  updateBadge() {
    if (!this.toggle) return;
    const count = this.unread.size;
    const badge = this.toggle.querySelector(".count");
    if (badge) {
      badge.textContent = String(count);
      badge.hidden = count === 0;
    }
    this.toggle.setAttribute("aria-label", count ? `Inbox, ${count} unread` : "Inbox");
    this.toggle.classList.toggle("has-unread", count > 0);
  }
}
