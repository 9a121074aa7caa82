// The AutoDJ library panel: upload, order, delete, shuffle and crossfade.
//
// API (all under ``library/`` of the studio URL; POSTs carry X-CSRFToken):
//   GET  ./                  {"tracks": [track...], "shuffle", "crossfade_ms"}
//   POST ./ (multipart file) 201 track | 400/413 {"error"}
//   POST ./order/            {"track_ids": [...]}
//   POST ./settings/         {"shuffle", "crossfade_ms"}
//   POST ./<id>/delete/
// A server without the AutoDJ answers GET with 404; the panel stays hidden.

import { LIMITS } from "./protocol.js";
import { crossfadeSeconds, formatDuration } from "./studio-helpers.js";

// Longest crossfade the panel offers, in seconds: what the server allows.
const MAX_CROSSFADE_S = LIMITS.crossfadeMaxMs / 1000;

export class Library {
  constructor(root, { url, csrfToken }) {
    this.root = root;
    this.url = url;
    this.csrfToken = csrfToken;
    this.tracks = [];
    this.list = root.querySelector("#library-tracks");
    this.empty = root.querySelector("#library-empty");
    this.note = root.querySelector("#library-note");
    this.progress = root.querySelector("#library-progress");
    this.fileInput = root.querySelector("#library-file");
    this.shuffle = root.querySelector("#library-shuffle");
    this.crossfade = root.querySelector("#library-crossfade");
    this.crossfade.max = String(MAX_CROSSFADE_S);
  }

  /** Show the panel if the server has an AutoDJ library. */
  async load() {
    let response;
    try {
      response = await fetch(this.url, { headers: { Accept: "application/json" } });
    } catch {
      return;
    }
    if (!response.ok) return;
    const library = await response.json();
    this.shuffle.checked = Boolean(library.shuffle);
    this.crossfade.value = String((library.crossfade_ms || 0) / 1000);
    this.tracks = library.tracks || [];
    this.render();
    this.bind();
    this.root.hidden = false;
  }

  bind() {
    this.fileInput.addEventListener("change", () => {
      const [file] = this.fileInput.files;
      if (file) this.upload(file);
    });
    this.shuffle.addEventListener("change", () => this.saveSettings());
    this.crossfade.addEventListener("change", () => this.saveSettings());
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const id = Number(button.closest("li").dataset.id);
      const action = button.dataset.action;
      if (action === "delete") this.remove(id);
      else this.move(id, action === "up" ? -1 : 1);
    });
  }

  render() {
    const focused = document.activeElement?.closest?.("#library-tracks button");
    const focusKey = focused && `${focused.closest("li").dataset.id}:${focused.dataset.action}`;
    this.list.replaceChildren(...this.tracks.map((track, index) => this.row(track, index)));
    this.empty.hidden = this.tracks.length > 0;
    if (focusKey) {
      const [id, action] = focusKey.split(":");
      const button = this.list.querySelector(`li[data-id="${id}"] [data-action="${action}"]`);
      if (button && !button.disabled) button.focus();
    }
  }

  row(track, index) {
    const item = document.createElement("li");
    item.dataset.id = String(track.id);
    const title = document.createElement("span");
    title.className = "track-title";
    title.textContent = track.title || "Untitled";
    if (track.artist) {
      const artist = document.createElement("span");
      artist.className = "track-artist";
      artist.textContent = track.artist;
      title.append(artist);
    }
    const duration = document.createElement("span");
    duration.className = "track-duration";
    duration.textContent = formatDuration(track.duration_ms);
    const actions = document.createElement("span");
    actions.className = "track-actions";
    const name = track.title || "this track";
    actions.append(
      button("↑", "up", `Move ${name} up`, index === 0),
      button("↓", "down", `Move ${name} down`, index === this.tracks.length - 1),
      button("Delete", "delete", `Delete ${name}`, false),
    );
    item.append(title, duration, actions);
    return item;
  }

  upload(file) {
    const form = new FormData();
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", this.url);
    request.setRequestHeader("X-CSRFToken", this.csrfToken);
    request.responseType = "json";
    this.progress.hidden = false;
    this.progress.value = 0;
    this.say(`Uploading ${file.name}…`);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) this.progress.value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("load", () => {
      this.progress.hidden = true;
      this.fileInput.value = "";
      if (request.status === 201 && request.response) {
        this.tracks.push(request.response);
        this.render();
        this.say(`Added ${request.response.title || file.name}.`, "ok");
      } else {
        const reason = request.response?.error;
        this.say(reason || `The upload failed (HTTP ${request.status}).`, "error");
      }
    });
    request.addEventListener("error", () => {
      this.progress.hidden = true;
      this.say("The upload failed: the server could not be reached.", "error");
    });
    request.send(form);
  }

  async move(id, step) {
    const from = this.tracks.findIndex((track) => track.id === id);
    const to = from + step;
    if (from < 0 || to < 0 || to >= this.tracks.length) return;
    const before = [...this.tracks];
    const [track] = this.tracks.splice(from, 1);
    this.tracks.splice(to, 0, track);
    this.render();
    const ok = await this.post("order/", { track_ids: this.tracks.map((t) => t.id) });
    if (!ok) {
      this.tracks = before;
      this.render();
    }
  }

  async remove(id) {
    const track = this.tracks.find((candidate) => candidate.id === id);
    if (!track) return;
    if (await this.post(`${id}/delete/`, null)) {
      this.tracks = this.tracks.filter((candidate) => candidate.id !== id);
      this.render();
      this.say(`Deleted ${track.title || "the track"}.`, "ok");
    }
  }

  saveSettings() {
    const seconds = crossfadeSeconds(this.crossfade.value, MAX_CROSSFADE_S);
    this.crossfade.value = String(seconds);
    return this.post("settings/", {
      shuffle: this.shuffle.checked,
      crossfade_ms: Math.round(seconds * 1000),
    });
  }

  /** POST JSON (or nothing) to ``path`` under the library; true when it worked. */
  async post(path, body) {
    const headers = { "X-CSRFToken": this.csrfToken, Accept: "application/json" };
    if (body !== null) headers["Content-Type"] = "application/json";
    try {
      const response = await fetch(this.url + path, {
        method: "POST",
        headers,
        body: body === null ? undefined : JSON.stringify(body),
      });
      if (response.ok) return true;
      const answer = await response.json().catch(() => ({}));
      this.say(answer.error || `The change failed (HTTP ${response.status}).`, "error");
    } catch {
      this.say("The change failed: the server could not be reached.", "error");
    }
    return false;
  }

  say(text, kind = "") {
    this.note.textContent = text;
    this.note.dataset.kind = kind;
  }
}

function button(text, action, label, disabled) {
  const element = document.createElement("button");
  element.type = "button";
  element.className =
    action === "delete" ? "button button-quiet button-danger" : "button button-quiet";
  element.textContent = text;
  element.dataset.action = action;
  element.setAttribute("aria-label", label);
  element.disabled = disabled;
  return element;
}
