/**
 * The listener page's "Recently played": the server renders the last plays,
 * this keeps the list current from the station room's now_playing messages.
 *
 *   const recent = new RecentPlays(document.getElementById("recent-plays"));
 *   recent.add({ title, artist, started_at })
 */

import { el, timeOfDay } from "./dom.js";

export class RecentPlays {
  constructor(root) {
    this.list = root.querySelector("ol");
    this.empty = root.querySelector("[data-empty]");
    this.limit = Number(root.dataset.limit);
    // Times in the reader's zone, as the titles pushed later show them.
    for (const time of this.list.querySelectorAll("time")) {
      time.textContent = timeOfDay(time.dateTime);
    }
  }

  /** Put a now_playing at the top, unless it has no title or is shown. */
  add({ title, artist, started_at: startedAt }) {
    if (!title && !artist) return;
    const top = this.list.firstElementChild;
    if (top?.querySelector("time")?.dateTime === startedAt) return;
    this.list.prepend(
      el(
        "li",
        {},
        el("time", { datetime: startedAt }, timeOfDay(startedAt)),
        el("span", { class: "play-title" }, title),
        el("span", { class: "play-artist muted" }, artist),
      ),
    );
    while (this.list.children.length > this.limit) this.list.lastElementChild.remove();
    this.empty.hidden = true;
  }
}
