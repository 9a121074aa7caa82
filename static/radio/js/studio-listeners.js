/**
 * The console's listeners panel: the count, the signed-in listeners, and
 * shout-outs to them through the header's inbox (inbox.js).
 */

import { finder, say } from "./dom.js";
import { inboxErrorText } from "./inbox.js";

export class ListenersPanel {
  /** ``inbox``: the page's InboxClient. ``station``: the station's slug. */
  constructor(root, { inbox, station }) {
    this.find = finder(root);
    this.inbox = inbox;
    this.station = station;
  }

  bind() {
    const to = this.find("shoutout-to");
    const text = this.find("shoutout-text");
    this.find("listeners").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-user]");
      if (!button) return;
      to.value = button.dataset.user;
      text.focus();
    });
    this.find("shoutout-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const recipient = to.value.trim();
      const message = text.value.trim();
      if (!recipient || !message) return;
      const note = this.find("shoutout-note");
      try {
        await this.inbox.send(recipient, message, { station: this.station });
        text.value = "";
        say(note, `Shout-out sent to ${recipient}.`, "ok");
      } catch (error) {
        say(note, inboxErrorText(error), "error");
      }
    });
  }

  setCount(count) {
    this.find("listener-count").textContent = String(count ?? 0);
  }

  /** Shows a ``listeners`` message: the count and, for DJs, the users. */
  show(message) {
    this.setCount(message.count);
    if (!Array.isArray(message.users)) return;
    const list = this.find("listeners");
    const focused = document.activeElement?.closest?.("#listeners button")?.dataset.user;
    list.replaceChildren(
      ...message.users.map((user) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = user;
        button.dataset.user = user;
        button.setAttribute("aria-label", `Send a shout-out to ${user}`);
        const item = document.createElement("li");
        item.append(button);
        return item;
      }),
    );
    if (focused) list.querySelector(`button[data-user="${CSS.escape(focused)}"]`)?.focus();
    this.find("listeners-empty").hidden = message.users.length > 0;
    const datalist = this.find("shoutout-users");
    datalist.replaceChildren(
      ...message.users.map((user) => {
        const option = document.createElement("option");
        option.value = user;
        return option;
      }),
    );
  }
}
