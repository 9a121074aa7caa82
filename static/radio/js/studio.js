/**
 * The DJ console (templates/stations/studio.html): wires its panels to the
 * station's broadcast socket.
 *
 * The console keeps the broadcast socket open from the start, on air or
 * not: it brings the listener count, the signed-in listeners, the chat and
 * the station's on-air changes. Going live sends ``start`` on it
 * (studio-broadcast.js); the audio is the mix of the microphone and a local
 * file (studio-sources.js, studio-mixer.js). Shout-outs go through the
 * header's inbox socket (studio-listeners.js).
 *
 * Panels, one module each: studio-onair.js (state, Go live, Stop),
 * studio-sources.js, studio-now-playing.js, studio-listeners.js,
 * studio-chat.js (chat with moderation) and studio-library.js (AutoDJ).
 */

import { Connection, socketUrl } from "./connection.js";
import { onReady } from "./dom.js";
import { ERRORS, TYPES } from "./protocol.js";
import { siteInbox } from "./site.js";
import { Broadcast, State } from "./studio-broadcast.js";
import { StudioChat } from "./studio-chat.js";
import { Library } from "./studio-library.js";
import { ListenersPanel } from "./studio-listeners.js";
import { NowPlayingPanel } from "./studio-now-playing.js";
import { FATAL_CLOSES, OnAirPanel } from "./studio-onair.js";
import { SourcesPanel } from "./studio-sources.js";

// Close code the console uses to drop a stalled socket. Not 1000/1001, so the
// server keeps the broadcast for its reconnection grace.
const CLOSE_STALLED = 4000;

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
    this.sources = new SourcesPanel(root, {
      onFilePlay: (fileName) => this.nowPlaying.prefill(fileName),
    });
    this.onAir = new OnAirPanel(root, {
      broadcast: this.broadcast,
      prepare: () => this.sources.prepare(),
    });
    this.chat = new StudioChat(root.querySelector("#chat"), {
      request: (message) => this.request("moderation", message),
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
    this.sources.bind();
    this.nowPlaying.bind();
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
    if (this.chat.handle(message)) return;
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
      case TYPES.error:
        this.showError(message);
        break;
    }
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
    if (this.lastRequest === "title") this.nowPlaying.note(message.message, "error");
    else if (this.lastRequest === "moderation") this.chat.notice(message.message, "error");
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
  if (root) new Studio(root).start();
});
