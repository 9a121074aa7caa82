/**
 * A station's chat panel: history, live messages, a send box.
 *
 *   import { ChatPanel } from "./chat.js";
 *   const chat = new ChatPanel(rootElement, {
 *     me: "alice",                 // null: a sign-in link instead of the box
 *     signInUrl: "/accounts/login/?next=/stations/demo/",
 *     send: (text) => conn.sendJson({ type: TYPES.chat, text }), // false if not sent
 *     onCommand: (text) => false,  // text starting with "/": true if handled
 *     moderation: null,            // or { delete(id), mute(user) }: adds buttons,
 *                                  // button[data-action="delete"] and
 *                                  // button[data-action="mute"][data-user]
 *   });
 *   conn.on("json", (message) => chat.handle(message));
 *   chat.setConnected(false);      // disables the box while reconnecting
 *   chat.notice("text", "error");  // a line of its own, not a message
 *
 * handle() takes `chat.history` (replaces the list), `chat` (added once per
 * id; a DJ's, `dj: true`, with a badge), `chat.deleted` and the chat `error`
 * codes, and returns whether the message was the chat's. All text is
 * rendered with textContent.
 */

import { el, stickToBottom, timeOfDay } from "./dom.js";
import { ERRORS, LIMITS, TYPES } from "./protocol.js";

// The protocol's limit on one chat message, in characters after trimming.
export const CHAT_MAX_CHARS = LIMITS.chatMaxChars;
// Messages kept in the list; older ones are dropped from the page.
const MAX_SHOWN = 200;
const ERROR_TEXT = {
  [ERRORS.tooLong]: `Messages are at most ${CHAT_MAX_CHARS} characters.`,
  [ERRORS.rateLimited]: "Slow down a little: too many messages at once.",
  [ERRORS.authRequired]: "Sign in to chat.",
  [ERRORS.forbidden]: "You can't chat in this station right now.",
};
// The error codes that answer a chat message.
const CHAT_ERRORS = new Set(Object.keys(ERROR_TEXT));

export class ChatPanel {
  constructor(root, { me = null, signInUrl = null, send, onCommand, moderation = null } = {}) {
    this.root = root;
    this.me = me;
    this.sendText = send;
    this.onCommand = onCommand;
    this.moderation = moderation;
    this.shown = new Map();
    this.list = el("ol", {
      class: "chat-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Chat log",
      tabindex: "0",
    });
    this.empty = el("p", { class: "chat-empty muted" }, "No messages yet. Say hello!");
    root.append(this.list, this.empty);
    if (me) {
      root.append(this.buildForm());
      // The /pm tip only where a command handler is given (the listener page).
      if (onCommand) root.append(this.hint);
    } else if (signInUrl) {
      root.append(
        el(
          "p",
          { class: "chat-signin" },
          el("a", { href: signInUrl }, "Sign in"),
          " to chat with other listeners.",
        ),
      );
    }
  }

  buildForm() {
    const id = `chat-input-${Math.random().toString(36).slice(2, 8)}`;
    this.input = el("input", {
      id,
      type: "text",
      name: "text",
      autocomplete: "off",
      maxlength: String(CHAT_MAX_CHARS),
      placeholder: "Say something…",
      "aria-describedby": `${id}-hint`,
    });
    this.button = el("button", { type: "submit", class: "button" }, "Send");
    this.form = el(
      "form",
      { class: "chat-form" },
      el("label", { for: id, class: "visually-hidden" }, "Chat message"),
      this.input,
      this.button,
    );
    this.hint = el(
      "p",
      { id: `${id}-hint`, class: "chat-hint" },
      "Tip: /pm name message sends a private message.",
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    return this.form;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.startsWith("/") && this.onCommand?.(text)) {
      this.input.value = "";
      return;
    }
    if (text.length > CHAT_MAX_CHARS) {
      this.notice(ERROR_TEXT[ERRORS.tooLong], "error");
      return;
    }
    if (this.sendText?.(text) === false) {
      this.notice("Not connected: your message was not sent.", "error");
      return;
    }
    this.input.value = "";
  }

  handle(message) {
    switch (message.type) {
      case TYPES.chatHistory:
        this.replace(message.messages ?? []);
        return true;
      case TYPES.chat:
        this.add(message);
        return true;
      case TYPES.chatDeleted:
        this.remove(message.id);
        return true;
      case TYPES.error:
        if (!CHAT_ERRORS.has(message.code)) return false;
        this.notice(ERROR_TEXT[message.code] ?? message.message, "error");
        return true;
      default:
        return false;
    }
  }

  replace(messages) {
    this.shown.clear();
    this.list.replaceChildren();
    for (const message of messages) this.add(message);
    this.list.scrollTop = this.list.scrollHeight;
    this.updateEmpty();
  }

  add(message) {
    if (this.shown.has(message.id)) return;
    const item = this.render(message);
    this.shown.set(message.id, item);
    stickToBottom(this.list, () => {
      this.list.append(item);
      while (this.list.children.length > MAX_SHOWN) {
        const oldest = this.list.firstElementChild;
        this.shown.delete(Number(oldest.dataset.id));
        oldest.remove();
      }
    });
    this.updateEmpty();
  }

  render(message) {
    const mine = this.me !== null && message.user === this.me;
    const item = el(
      "li",
      { class: mine ? "chat-message mine" : "chat-message", dataset: { id: message.id } },
      el(
        "span",
        { class: "chat-user" },
        message.user,
        message.dj
          ? el("span", { class: "chat-badge", title: "A DJ of this station" }, "DJ")
          : null,
      ),
      el("time", { class: "chat-time", datetime: message.ts }, timeOfDay(message.ts)),
      el("p", { class: "chat-text" }, message.text),
    );
    if (this.moderation) {
      item.append(
        el(
          "span",
          { class: "chat-tools" },
          el(
            "button",
            {
              type: "button",
              class: "link-button",
              "aria-label": `Delete message from ${message.user}`,
              dataset: { action: "delete" },
              onclick: () => this.moderation.delete(message.id),
            },
            "Delete",
          ),
          el(
            "button",
            {
              type: "button",
              class: "link-button",
              "aria-label": `Mute ${message.user}`,
              dataset: { action: "mute", user: message.user },
              onclick: () => this.moderation.mute(message.user),
            },
            "Mute",
          ),
        ),
      );
    }
    return item;
  }

  remove(id) {
    this.shown.get(id)?.remove();
    this.shown.delete(id);
    this.updateEmpty();
  }

  notice(text, kind = "info") {
    const item = el(
      "li",
      { class: `chat-notice ${kind}`, role: kind === "error" ? "alert" : null },
      text,
    );
    stickToBottom(this.list, () => this.list.append(item));
    this.updateEmpty();
  }

  setConnected(connected) {
    if (this.input) this.input.disabled = !connected;
    if (this.button) this.button.disabled = !connected;
  }

  updateEmpty() {
    this.empty.hidden = this.list.children.length > 0;
  }
}
