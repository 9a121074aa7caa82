/**
 * The listener page's "Request a song" panel: search the station's AutoDJ
 * library through the API and request a track. Every answer's message is
 * shown as the API gives it, refusals included.
 *
 *   GET  data-list-url?q=          → [{request_id, song: {title, artist}}]
 *   POST data-request-url (…/0 → …/<request_id>), X-CSRFToken
 *        → {success, code, message}
 */

import { el, onReady, say } from "./dom.js";

const MAX_QUERY_CHARS = 100;

class RequestPanel {
  constructor(root) {
    this.listUrl = root.dataset.listUrl;
    // Ends in "/0": the request id takes the 0's place.
    this.requestBase = root.dataset.requestUrl.replace(/0$/, "");
    this.csrfToken = root.dataset.csrfToken;
    this.form = root.querySelector("#request-search");
    this.input = root.querySelector("#request-q");
    this.note = root.querySelector("#request-note");
    this.results = root.querySelector("#request-results");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(this.input.value.trim().slice(0, MAX_QUERY_CHARS));
    });
    this.search("");
  }

  async search(query) {
    const url = `${this.listUrl}?${new URLSearchParams({ q: query })}`;
    const answer = await this.call(url, { headers: { Accept: "application/json" } });
    if (answer === null) return;
    if (!Array.isArray(answer.body)) {
      say(this.note, answer.body.message || "The search failed.", "error");
      return;
    }
    this.results.replaceChildren(...answer.body.map((item) => this.render(item)));
    say(this.note, answer.body.length ? "" : "Nothing found.");
  }

  render(item) {
    const button = el("button", { type: "button", class: "button button-small" }, "Request");
    button.addEventListener("click", () => this.request(item, button));
    return el(
      "li",
      { dataset: { requestId: item.request_id } },
      el(
        "span",
        { class: "request-song" },
        el("span", { class: "request-title" }, item.song.title),
        el("span", { class: "request-artist muted" }, item.song.artist),
      ),
      button,
    );
  }

  async request(item, button) {
    button.disabled = true;
    const answer = await this.call(`${this.requestBase}${item.request_id}`, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": this.csrfToken },
      credentials: "same-origin",
    });
    button.disabled = false;
    if (answer === null) return;
    const message = answer.body.message || answer.body.detail || "The request failed.";
    say(this.note, message, answer.body.success ? "ok" : "error");
  }

  /** {status, body} of a JSON answer, or null (said) when unreachable. */
  async call(url, options) {
    try {
      const response = await fetch(url, options);
      return { status: response.status, body: await response.json() };
    } catch {
      say(this.note, "The station could not be reached. Try again.", "error");
      return null;
    }
  }
}

onReady(() => {
  const root = document.getElementById("song-requests");
  if (root?.querySelector("#request-search")) new RequestPanel(root);
});
