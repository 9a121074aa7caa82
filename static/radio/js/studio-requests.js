/**
 * The DJ console's song requests panel: the station's request rules, the
 * queue of pending requests (polled while the tab is visible) with play,
 * skip and decline, and a button that skips the AutoDJ's track.
 *
 * API (the panel's data-* URLs; writes carry X-CSRFToken):
 *   GET  queue-url                     [{id, title, artist, user, requested_at, cued}]
 *   POST …/requests/<id>/<decision>    {success, code, message}
 *   GET/PUT rules-url                  {enabled, per_user_minutes, …}
 *   POST skip-url                      {success, code, message}
 */

import { el, onReady, say, timeOfDay } from "./dom.js";

// How often the queue is read again, in ms.
const POLL_MS = 4000;
const DECISIONS = [
  ["play", "Play", "You play it; the listener is told."],
  ["skip", "Skip", "Not now."],
  ["decline", "Decline", "Not at all."],
];
const NUMBERS = ["per_user_minutes", "repeat_minutes", "max_pending"];
const CHECKS = ["enabled", "artist_separation"];

class RequestsPanel {
  constructor(root) {
    this.root = root;
    this.queueUrl = root.dataset.queueUrl;
    this.rulesUrl = root.dataset.rulesUrl;
    this.skipUrl = root.dataset.skipUrl;
    this.csrfToken = root.dataset.csrfToken;
    this.form = root.querySelector("#request-rules");
    this.note = root.querySelector("#requests-note");
    this.list = root.querySelector("#request-queue");
    this.empty = root.querySelector("#request-queue-empty");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveRules();
    });
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-decision]");
      if (button) this.decide(button.closest("li").dataset.id, button.dataset.decision);
    });
    root.querySelector("#autodj-skip").addEventListener("click", () => this.skip());
  }

  async start() {
    const rules = await this.call(this.rulesUrl);
    if (rules?.ok) this.showRules(rules.body);
    await this.refresh();
    setInterval(() => {
      if (!document.hidden) this.refresh();
    }, POLL_MS);
  }

  showRules(rules) {
    for (const name of CHECKS) this.form.elements[name].checked = Boolean(rules[name]);
    for (const name of NUMBERS) this.form.elements[name].value = String(rules[name]);
  }

  async saveRules() {
    const rules = {};
    for (const name of CHECKS) rules[name] = this.form.elements[name].checked;
    for (const name of NUMBERS) rules[name] = Number(this.form.elements[name].value);
    const answer = await this.call(this.rulesUrl, {
      method: "PUT",
      body: JSON.stringify(rules),
    });
    if (answer === null) return;
    if (answer.ok) {
      this.showRules(answer.body);
      say(this.note, "Rules saved.", "ok");
    } else say(this.note, "Those rules were refused: check the numbers.", "error");
  }

  async refresh() {
    const answer = await this.call(this.queueUrl);
    if (answer?.ok) this.render(answer.body);
  }

  render(queue) {
    this.list.replaceChildren(...queue.map((item) => this.row(item)));
    this.empty.hidden = queue.length > 0;
  }

  row(item) {
    const song = item.artist ? `${item.title} – ${item.artist}` : item.title;
    return el(
      "li",
      { dataset: { id: item.id } },
      el("span", { class: "request-song" }, song),
      el(
        "span",
        { class: "muted" },
        ` for ${item.user} at ${timeOfDay(item.requested_at)}${item.cued ? " · up next" : ""}`,
      ),
      el(
        "span",
        { class: "request-actions" },
        DECISIONS.map(([decision, label, title]) =>
          el(
            "button",
            { type: "button", class: "button button-small", dataset: { decision }, title },
            label,
          ),
        ),
      ),
    );
  }

  async decide(id, decision) {
    const url = `${this.queueUrl.replace(/queue$/, "")}${id}/${decision}`;
    const answer = await this.call(url, { method: "POST" });
    if (answer !== null) say(this.note, answer.body.message, answer.ok ? "ok" : "error");
    await this.refresh();
  }

  async skip() {
    const answer = await this.call(this.skipUrl, { method: "POST" });
    if (answer !== null) say(this.note, answer.body.message, answer.ok ? "ok" : "error");
  }

  /** {ok, body} of a JSON answer, or null (said) when unreachable. */
  async call(url, options = {}) {
    const headers = { Accept: "application/json" };
    if (options.method) {
      headers["X-CSRFToken"] = this.csrfToken;
      headers["Content-Type"] = "application/json";
    }
    try {
      const response = await fetch(url, { ...options, headers, credentials: "same-origin" });
      return { ok: response.ok, body: await response.json() };
    } catch {
      say(this.note, "The server could not be reached.", "error");
      return null;
    }
  }
}

onReady(() => {
  const root = document.getElementById("requests-panel");
  if (root) new RequestsPanel(root).start();
});
