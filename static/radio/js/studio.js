/**
 * The DJ console (templates/stations/studio.html): wires its panels to the
 * station's broadcast socket.
 *
 * The console keeps the broadcast socket open from the start, on air or
 * not: it brings the listener count, the signed-in listeners, the chat and
 * the station's on-air changes, and takes the DJ's chat. Going live sends
 * ``start`` on it (studio-broadcast.js); the audio is the mixing desk's
 * programme (studio-desk.js, studio-mixer.js). Shout-outs go through the
 * header's inbox socket (studio-listeners.js).
 *
 * Panels, one module each: studio-onair.js (state, Go live, Stop),
 * studio-desk.js (decks, crossfader, microphone, headphones),
 * studio-now-playing.js, studio-listeners.js, studio-chat.js (chat with
 * moderation), studio-calls.js (listeners' calls) and studio-library.js
 * (AutoDJ).
 */

import { Connection, socketUrl } from "./connection.js";
import { onReady } from "./dom.js";
import { ERRORS, TYPES } from "./protocol.js";
import { siteInbox } from "./site.js";
import { Broadcast, State } from "./studio-broadcast.js";
import { CallsPanel } from "./studio-calls.js";
import { StudioChat } from "./studio-chat.js";
import { Desk } from "./studio-desk.js";
import { Library } from "./studio-library.js";
import { ListenersPanel } from "./studio-listeners.js";
import { NowPlayingPanel } from "./studio-now-playing.js";
import { FATAL_CLOSES, OnAirPanel } from "./studio-onair.js";

// Close code the console uses to drop a stalled socket. Not 1000/1001, so the
// server keeps the broadcast for its reconnection grace.
const CLOSE_STALLED = 4000;
// The errors that answer a now playing title.
const TITLE_ERRORS = new Set([ERRORS.tooLong, ERRORS.badRequest, ERRORS.rateLimited]);

class Studio {
  constructor(root) {
    this.root = root;
    this.connection = new Connection(socketUrl(root.dataset.broadcastPath), {
      // djAlreadyLive (4409) closes the socket, but the console still wants
      // chat and listeners: only the codes in FATAL_CLOSES end it.
      permanentCodes: new Set(Object.keys(FATAL_CLOSES).map(Number)),
    });
    this.broadcast = new Broadcast({
      stream: null,
      socket: () => (this.connection.state === "open" ? this.connection.socket : null),
    });
    this.nowPlaying = new NowPlayingPanel(root, {
      broadcast: this.broadcast,
      send: (message) => this.request("title", message),
    });
    this.desk = new Desk(root.querySelector("#desk"), {
      onAudibleTrack: (track) => this.nowPlaying.announceTrack(track),
      isLive: () => this.broadcast.live,
    });
    this.onAir = new OnAirPanel(root, {
      broadcast: this.broadcast,
      prepare: () => this.desk.prepare(),
    });
    this.calls = new CallsPanel(root.querySelector("#calls"), {
      me: root.dataset.user,
      request: (message) => this.request("call", message),
      mixer: () => {
        this.desk.ensureMixer();
        return this.desk.mixer;
      },
      onCallerOnAir: (name) =>
        this.nowPlaying.announceTrack({ title: `On the line: ${name}`, artist: "" }),
      onCallerOffAir: () => this.desk.announceAudibleAgain(),
    });
    this.chat = new StudioChat(root.querySelector("#chat"), {
      me: root.dataset.user,
      request: (message) => this.request("chat", message),
    });
    // The header's inbox (site.js); a DJ is always signed in.
    this.listeners = new ListenersPanel(root, { inbox: siteInbox, station: root.dataset.station });
    this.library = new Library(root.querySelector("#library"), {
      url: root.dataset.libraryUrl,
      csrfToken: root.dataset.csrfToken,
    });
  }

  start() {
    this.onAir.bind();
    this.bindBroadcast();
    this.desk.bind();
    this.nowPlaying.bind();
    this.calls.bind();
    this.listeners.bind();
    this.connection.open();
    this.library.load();
    this.loadStatus();
    this.onAir.showState(State.OFF_AIR, "Turn on your microphone or load a file, then go live.");
  }

  bindBroadcast() {
    this.broadcast.addEventListener("change", ({ detail }) => {
      if (detail.state === State.LIVE) this.nowPlaying.announcePending();
    });
    this.broadcast.addEventListener("stalled", () => {
      this.connection.socket?.close(CLOSE_STALLED);
    });
    this.connection.on("open", () => this.broadcast.socketOpened());
    this.connection.on("close", (event) => this.broadcast.socketClosed(event.code));
    this.connection.on("json", (message) => this.receive(message));
    this.connection.on("state", (state, detail) => {
      this.root.dataset.connection = state;
      this.onAir.connectionState(state, detail);
      this.chat.setConnected(state === "open");
    });
  }

  receive(message) {
    // The server's first message comes once it has joined the socket to
    // the station: from then on nothing of the station is missed.
    this.root.dataset.connection = "ready";
    this.broadcast.handle(message);
    if (message.type === TYPES.error) {
      this.showError(message);
      return;
    }
    if (this.chat.handle(message) || this.calls.handle(message)) return;
    switch (message.type) {
      case TYPES.listeners:
        this.listeners.show(message);
        break;
      case TYPES.nowPlaying:
        this.nowPlaying.show(message);
        break;
      case TYPES.onAir:
        this.nowPlaying.show(null);
        this.onAir.setStationOnAir(message.on_air);
        break;
    }
  }

  /** Send ``message``, remembering what kind of request an error answers. */
  request(kind, message) {
    this.lastRequest = kind;
    return this.connection.sendJson(message);
  }

  showError(message) {
    // The broadcast's own errors show as its state (studio-broadcast.js);
    // these answer the console's last title or chat message.
    if (this.lastRequest === "title" && TITLE_ERRORS.has(message.code)) {
      this.nowPlaying.note(message.message, "error");
    } else if (this.lastRequest === "chat" && !this.chat.handle(message)) {
      this.chat.notice(message.message, "error");
    } else if (this.lastRequest === "call") {
      this.calls.note(message.message);
    }
  }

  async loadStatus() {
    try {
      const response = await fetch(this.root.dataset.statusUrl);
      if (!response.ok) return;
      const status = await response.json();
      this.nowPlaying.show(status.now_playing);
      this.listeners.setCount(status.listeners);
      this.onAir.setStationOnAir(status.on_air);
    } catch {
      // The socket brings the same facts as they change.
    }
  }
}

onReady(() => {
  const root = document.getElementById("studio");
  if (!root) return;
  const studio = new Studio(root);
  // For tests and debugging, as on the listener page.
  globalThis.radio = { studio };
  studio.start();
});
