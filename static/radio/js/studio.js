/**
 * The DJ console (templates/stations/studio.html).
 *
 * The console keeps the station's broadcast socket open from the start, on
 * air or not: it brings the listener count, the signed-in listeners, the
 * chat and the station's on-air changes. Going live sends ``start`` on it
 * (studio-broadcast.js); the audio is the mix of the microphone and a local
 * file (studio-mixer.js). Shout-outs go through the header's inbox socket.
 */

import { ChatPanel } from "./chat.js";
import { Connection, socketUrl } from "./connection.js";
import { onReady } from "./dom.js";
import { inboxErrorText } from "./inbox.js";
import { CLOSE, ERRORS } from "./protocol.js";
import { siteInbox } from "./site.js";
import { Broadcast, State } from "./studio-broadcast.js";
import { Library } from "./studio-library.js";
import { Mixer, microphones } from "./studio-mixer.js";

const STATE_LABELS = {
  [State.OFF_AIR]: "Off air",
  [State.CONNECTING]: "Connecting",
  [State.LIVE]: "Live",
  [State.TAKEN]: "Another DJ is live",
  [State.LOST]: "Connection lost",
  [State.STOPPED]: "Stopped",
  [State.FAILED]: "Not live",
};
// Close codes after which the console cannot work at all (PROTOCOL.md).
const FATAL_CLOSES = {
  [CLOSE.signInRequired]: "You are signed out. Sign in again to use the studio.",
  [CLOSE.forbidden]: "You are not a DJ of this station.",
  [CLOSE.noSuchStation]: "This station no longer exists.",
};
// Close code the console uses to drop a stalled socket. Not 1000/1001, so the
// server keeps the broadcast for its reconnection grace.
const CLOSE_STALLED = 4000;

class Studio {
  constructor(root) {
    this.root = root;
    this.station = root.dataset.station;
    this.mixer = null;
    this.stationOnAir = false;
    this.pendingNowPlaying = null;
    this.muted = new Set();

    this.connection = new Connection(socketUrl(root.dataset.broadcastPath), {
      // djAlreadyLive (4409) closes the socket, but the console still wants chat and
      // listeners: only the codes in FATAL_CLOSES end it.
      permanentCodes: new Set(Object.keys(FATAL_CLOSES).map(Number)),
    });
    this.broadcast = new Broadcast({
      stream: null,
      socket: () => (this.connection.state === "open" ? this.connection.socket : null),
    });
    this.chat = new ChatPanel(this.find("chat"), {
      me: null,
      moderation: {
        delete: (id) => this.request("moderation", { type: "chat.delete", id }),
        mute: (user) => this.toggleMute(user),
      },
    });
    // The header's inbox (site.js); a DJ is always signed in.
    this.inbox = siteInbox;
    this.library = new Library(this.find("library"), {
      url: root.dataset.libraryUrl,
      csrfToken: root.dataset.csrfToken,
    });
  }

  find(id) {
    return this.root.querySelector(`#${id}`);
  }

  start() {
    this.bindBroadcast();
    this.bindSources();
    this.bindNowPlaying();
    this.bindShoutouts();
    this.connection.open();
    this.library.load();
    this.loadStatus();
    this.showState(State.OFF_AIR, "Turn on your microphone or load a file, then go live.");
  }

  // --- The broadcast socket and the on-air state ---------------------------

  bindBroadcast() {
    this.find("go-live").addEventListener("click", () => this.goLive());
    this.find("stop").addEventListener("click", () => this.broadcast.stop());
    this.broadcast.addEventListener("change", ({ detail }) => {
      // The station's own on_air false follows a stop; do not wait for it.
      if (detail.state === State.STOPPED) this.stationOnAir = false;
      this.showState(detail.state, detail.text);
      if (detail.state === State.LIVE) this.announcePending();
    });
    this.broadcast.addEventListener("stalled", () => {
      this.connection.socket?.close(CLOSE_STALLED);
    });
    this.connection.on("open", () => this.broadcast.socketOpened());
    this.connection.on("close", (event) => this.broadcast.socketClosed(event.code));
    this.connection.on("json", (message) => this.receive(message));
    this.connection.on("state", (state, detail) => this.connectionState(state, detail));
    window.addEventListener("beforeunload", (event) => {
      if (!this.broadcast.wanted) return;
      event.preventDefault();
      event.returnValue = "";
    });
  }

  async goLive() {
    const button = this.find("go-live");
    if (button.disabled) return;
    // Opening the microphone may wait on the browser's permission prompt.
    button.disabled = true;
    try {
      this.ensureMixer();
      this.mixer.context.resume();
      if (!this.mixer.micStream) await this.enableMicrophone();
    } finally {
      button.disabled = false;
    }
    this.broadcast.stream = this.mixer.stream;
    this.broadcast.start();
  }

  receive(message) {
    // The server's first message comes once it has joined the socket to
    // the station: from then on nothing of the station is missed.
    this.root.dataset.connection = "ready";
    this.broadcast.handle(message);
    if (this.chat.handle(message)) return;
    switch (message.type) {
      case "listeners":
        this.showListeners(message);
        break;
      case "now_playing":
        this.showNowPlaying(message);
        break;
      case "on_air":
        this.stationOnAir = Boolean(message.on_air);
        if (!message.on_air) this.showNowPlaying(null);
        this.showState(this.broadcast.state);
        break;
      case "chat.muted":
      case "chat.unmuted":
        this.showMuted(message.user, message.type === "chat.muted");
        break;
      case "error":
        this.showError(message);
        break;
    }
  }

  connectionState(state, detail) {
    this.root.dataset.connection = state;
    if (state === "reconnecting" && this.broadcast.wanted) {
      const seconds = Math.max(1, Math.round(detail.delayMs / 1000));
      this.showState(State.LOST, `Connection lost. Retrying in ${seconds} s…`);
    } else if (state === "closed" && FATAL_CLOSES[detail.code]) {
      this.showState(State.FAILED, FATAL_CLOSES[detail.code]);
      this.find("go-live").disabled = true;
    }
    this.chat.setConnected(state === "open");
  }

  showState(state, text) {
    const badge = this.find("broadcast-state");
    badge.dataset.state = state;
    this.find("broadcast-state-label").textContent = STATE_LABELS[state];
    if (text !== undefined) this.stateText = text;
    let detail = this.stateText;
    const idle = [State.OFF_AIR, State.STOPPED].includes(state);
    if (idle && this.stationOnAir) detail = "The station is on air with another source.";
    this.find("broadcast-state-detail").textContent = detail;
    const busy = [State.CONNECTING, State.LIVE, State.LOST].includes(state);
    const goLive = this.find("go-live");
    const stop = this.find("stop");
    const focusMoves = document.activeElement === (busy ? goLive : stop);
    goLive.hidden = busy;
    stop.hidden = !busy;
    if (focusMoves) (busy ? stop : goLive).focus();
    this.root.dataset.broadcast = state;
  }

  /** Send ``message``, remembering what kind of request an error answers. */
  request(kind, message) {
    this.lastRequest = kind;
    return this.connection.sendJson(message);
  }

  showError(message) {
    // The chat panel shows the chat errors; the broadcast's own errors show
    // as its state. These answer the console's last request.
    if (![ERRORS.tooLong, ERRORS.badRequest].includes(message.code)) return;
    if (this.lastRequest === "now_playing") this.note("np-note", message.message, "error");
    else if (this.lastRequest === "moderation") this.chat.notice(message.message, "error");
  }

  async loadStatus() {
    try {
      const response = await fetch(this.root.dataset.statusUrl);
      if (!response.ok) return;
      const status = await response.json();
      this.stationOnAir = Boolean(status.on_air);
      this.showNowPlaying(status.now_playing);
      this.find("listener-count").textContent = String(status.listeners ?? 0);
      this.showState(this.broadcast.state);
    } catch {
      // The socket brings the same facts as they change.
    }
  }

  // --- Sources: microphone, file, meters ------------------------------------

  ensureMixer() {
    if (this.mixer) return;
    this.mixer = new Mixer();
    this.mixer.setLevel("mic", Number(this.find("mic-level").value));
    this.mixer.setLevel("file", Number(this.find("file-level").value));
    this.broadcast.stream = this.mixer.stream;
    this.mixer.addFile(this.find("file-player"));
    const tick = () => {
      const levels = this.mixer.levels();
      showLevel(this.find("mic-meter"), levels.mic);
      showLevel(this.find("output-meter"), levels.output);
      requestAnimationFrame(tick);
    };
    tick();
  }

  bindSources() {
    const select = this.find("mic-select");
    this.find("mic-enable").addEventListener("click", () => this.enableMicrophone());
    select.addEventListener("change", () => this.enableMicrophone(select.value));
    navigator.mediaDevices?.addEventListener("devicechange", () => {
      if (this.mixer?.micStream) this.listMicrophones();
    });
    for (const source of ["mic", "file"]) {
      const slider = this.find(`${source}-level`);
      const output = this.find(`${source}-level-value`);
      slider.addEventListener("input", () => {
        const value = Number(slider.value);
        output.textContent = `${Math.round(value * 100)}%`;
        this.mixer?.setLevel(source, value);
      });
    }
    const player = this.find("file-player");
    this.find("file-input").addEventListener("change", (event) => {
      const [file] = event.target.files;
      if (file) this.loadFile(file);
    });
    player.addEventListener("play", () => {
      this.ensureMixer();
      this.mixer.context.resume();
      // Once per file: a pause and play must not undo the DJ's own typing.
      if (player.dataset.prefilled !== "yes") this.prefillFromFile();
      player.dataset.prefilled = "yes";
    });
    player.addEventListener("error", () => {
      this.find("file-name").textContent = "This file cannot be played by the browser.";
    });
  }

  async enableMicrophone(deviceId = "") {
    this.ensureMixer();
    const note = this.find("mic-note");
    if (!navigator.mediaDevices?.getUserMedia) {
      note.textContent = "This page needs HTTPS to use a microphone.";
      note.dataset.kind = "error";
      return;
    }
    try {
      const inUse = await this.mixer.useMicrophone(deviceId);
      await this.listMicrophones(inUse);
      note.textContent = "";
      const enable = this.find("mic-enable");
      const hadFocus = document.activeElement === enable;
      enable.hidden = true;
      if (hadFocus) this.find("mic-select").focus();
    } catch (error) {
      note.dataset.kind = "error";
      note.textContent =
        error.name === "NotAllowedError"
          ? "The browser was not allowed to use the microphone. Allow it in the address bar."
          : `The microphone could not be opened (${error.name}).`;
    }
  }

  async listMicrophones(selected = this.find("mic-select").value) {
    const select = this.find("mic-select");
    const options = (await microphones()).map(({ deviceId, label }) => {
      const option = document.createElement("option");
      option.value = deviceId;
      option.textContent = label;
      return option;
    });
    select.replaceChildren(...options);
    if (selected && options.some((option) => option.value === selected)) {
      select.value = selected;
    }
    select.disabled = options.length === 0;
  }

  loadFile(file) {
    this.ensureMixer();
    const player = this.find("file-player");
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(file);
    player.dataset.fileName = file.name;
    player.dataset.prefilled = "no";
    this.find("file-name").textContent = file.name;
  }

  /** Fill the now playing form from the file's name: "Artist - Title.mp3". */
  prefillFromFile() {
    const name = this.find("file-player").dataset.fileName;
    if (!name) return;
    const base = name
      .replace(/\.[^.]+$/, "")
      .replace(/_/g, " ")
      .trim();
    const [artist, ...rest] = base.split(" - ");
    const title = rest.length ? rest.join(" - ") : base;
    this.find("np-title").value = title.trim();
    this.find("np-artist").value = rest.length ? artist.trim() : "";
    this.note("np-note", "Filled in from the file's name. Press Announce to send it.");
  }

  // --- Now playing ------------------------------------------------------------

  bindNowPlaying() {
    this.find("now-playing-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const title = this.find("np-title").value.trim();
      const artist = this.find("np-artist").value.trim();
      if (this.broadcast.live) {
        this.sendNowPlaying(title, artist);
      } else {
        this.pendingNowPlaying = { title, artist };
        this.note("np-note", "This will be announced when you go live.");
      }
    });
  }

  announcePending() {
    const pending = this.pendingNowPlaying;
    this.pendingNowPlaying = null;
    if (pending && (pending.title || pending.artist)) {
      this.sendNowPlaying(pending.title, pending.artist);
    }
  }

  sendNowPlaying(title, artist) {
    if (this.request("now_playing", { type: "now_playing", title, artist })) {
      this.note("np-note", "Announced.", "ok");
    } else {
      this.note("np-note", "Not connected: try again in a moment.", "error");
    }
  }

  showNowPlaying(nowPlaying) {
    const shown = this.find("now-playing");
    const text = nowPlaying
      ? [nowPlaying.artist, nowPlaying.title].filter(Boolean).join(" – ")
      : "";
    shown.textContent = text || "Nothing announced.";
    shown.toggleAttribute("data-empty", !text);
  }

  // --- Listeners, moderation and shout-outs ---------------------------------

  showListeners(message) {
    this.find("listener-count").textContent = String(message.count ?? 0);
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

  toggleMute(user) {
    const type = this.muted.has(user) ? "chat.unmute" : "chat.mute";
    this.request("moderation", { type, user });
  }

  showMuted(user, muted) {
    if (muted) this.muted.add(user);
    else this.muted.delete(user);
    this.chat.notice(muted ? `${user} is muted in this station.` : `${user} may chat again.`);
    for (const button of this.find("chat").querySelectorAll("button[aria-label]")) {
      const label = button.getAttribute("aria-label");
      if (label === `Mute ${user}` || label === `Unmute ${user}`) {
        button.textContent = muted ? "Unmute" : "Mute";
        button.setAttribute("aria-label", `${muted ? "Unmute" : "Mute"} ${user}`);
      }
    }
  }

  bindShoutouts() {
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
      try {
        await this.inbox.send(recipient, message, { station: this.station });
        text.value = "";
        this.note("shoutout-note", `Shout-out sent to ${recipient}.`, "ok");
      } catch (error) {
        this.note("shoutout-note", inboxErrorText(error), "error");
      }
    });
  }

  note(id, text, kind = "") {
    const note = this.find(id);
    note.textContent = text;
    note.dataset.kind = kind;
  }
}

// The meters show -60 dBFS to 0 dBFS, and fall back slowly like a PPM.
const METER_FLOOR_DB = -60;
const METER_FALL_PER_FRAME = 0.015;

function showLevel(meter, level) {
  const db = level > 0 ? 20 * Math.log10(level) : METER_FLOOR_DB;
  const target = Math.min(Math.max(1 - db / METER_FLOOR_DB, 0), 1);
  const shown = Math.max(target, Number(meter.dataset.shown || 0) - METER_FALL_PER_FRAME);
  meter.dataset.shown = shown.toFixed(3);
  meter.style.setProperty("--level", shown.toFixed(3));
  // The peak itself, 0 to 1, for whoever wants a number (the tests do).
  meter.dataset.level = level.toFixed(3);
}

onReady(() => {
  const root = document.getElementById("studio");
  if (root) new Studio(root).start();
});
