// Going live: a MediaRecorder of the mix, its chunks sent in order on the
// broadcast socket (docs/PROTOCOL.md, "a DJ goes live").
//
// The broadcast socket itself belongs to the console, which keeps it open
// while off air for chat and listeners; this module only says what to send
// on it and follows the broadcast's state. One recorder runs per socket: a
// socket that drops takes its recorder along, and the next socket gets a new
// recorder, because the server starts a new decoder on every ``start`` and
// that decoder needs the container's header from the first chunk.

import { CLOSE, ERRORS, TYPES } from "./protocol.js";
import { slotEndingText } from "./studio-helpers.js";

// Formats the server transcodes, in order of preference (PROTOCOL.md, start).
const FORMATS = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg"];
// How often the recorder hands over a chunk, in milliseconds.
const TIMESLICE_MS = 250;
// Opus bitrate of the upload, in bits per second.
const UPLOAD_BITS_PER_SECOND = 128_000;
// Unsent bytes the socket may hold (about 8 s at the upload bitrate) before
// the connection counts as stalled and is replaced.
const MAX_BUFFERED_BYTES = 128 * 1024;

// Error codes after which the broadcast is over (PROTOCOL.md, error codes).
const FATAL_ERRORS = new Set([
  ERRORS.unsupportedFormat,
  ERRORS.inputFailed,
  ERRORS.idle,
  ERRORS.tooFast,
  ERRORS.outsideSlot,
  ERRORS.slotEnded,
]);

/** The states the console shows; ``detail`` of "change" events says why. */
export const State = Object.freeze({
  OFF_AIR: "off-air",
  CONNECTING: "connecting",
  LIVE: "live",
  TAKEN: "taken",
  LOST: "lost",
  STOPPED: "stopped",
  FAILED: "failed",
});

/** The first format of ``FORMATS`` this browser records, or null. */
export function recordingFormat() {
  if (typeof MediaRecorder === "undefined") return null;
  return FORMATS.find((format) => MediaRecorder.isTypeSupported(format)) || null;
}

export class Broadcast extends EventTarget {
  /**
   * ``stream``: the audio to send. ``socket()``: the console's open
   * WebSocket, or null while it is not open.
   */
  constructor({ stream, socket }) {
    super();
    this.stream = stream;
    this.socket = socket;
    this.wanted = false;
    this.state = State.OFF_AIR;
    this.recorder = null;
    // Messages waiting for the audio recorded before them (sendWithAudio).
    this.withAudio = [];
  }

  get live() {
    return this.state === State.LIVE;
  }

  /** The DJ pressed Go live. */
  start() {
    if (this.wanted) return;
    this.wanted = true;
    if (this.socket()) {
      this.sendStart();
    } else {
      this.setState(State.CONNECTING, "Connecting to the studio…");
    }
  }

  /** The DJ pressed Stop. */
  stop() {
    const wasLive = this.live;
    this.wanted = false;
    this.stopRecorder();
    if (wasLive) this.send({ type: TYPES.stop });
    this.setState(State.STOPPED, "You stopped the broadcast.");
  }

  /** The console's socket (re)opened: resume if the DJ wants to be live. */
  socketOpened() {
    if (this.wanted) this.sendStart();
  }

  /** The console's socket closed with ``code``; it reconnects by itself. */
  socketClosed(code) {
    this.stopRecorder();
    if (code === CLOSE.djAlreadyLive) {
      this.wanted = false;
      this.setState(State.TAKEN, "Another DJ is live on this station.");
    } else if (this.wanted) {
      this.setState(State.LOST, "Connection lost. Reconnecting…");
    }
  }

  /** A JSON message from the broadcast socket. */
  handle(message) {
    if (message.type === TYPES.live) {
      if (!this.wanted) {
        // Stop was pressed while the start was on its way.
        this.stopRecorder();
        this.send({ type: TYPES.stop });
        return;
      }
      this.startRecorder();
      this.setState(State.LIVE, message.resumed ? "Back on air." : "You are on air.");
    } else if (message.type === TYPES.slotEnding && this.live) {
      this.setState(State.LIVE, slotEndingText(message));
    } else if (message.type === TYPES.error && this.wanted) {
      this.failed(message);
    }
  }

  failed(error) {
    // The broadcast has ended, or never started, after these errors; the
    // rest (a bad now playing title, say) leave it running.
    if (!FATAL_ERRORS.has(error.code)) return;
    this.wanted = false;
    this.stopRecorder();
    this.setState(State.FAILED, error.message || "The broadcast failed.");
  }

  sendStart() {
    const format = recordingFormat();
    if (!format) {
      this.wanted = false;
      this.setState(
        State.FAILED,
        "This browser cannot record Opus audio; use a current Chrome, Edge or Firefox.",
      );
      return;
    }
    this.stopRecorder();
    this.recorder = new MediaRecorder(this.stream, {
      mimeType: format,
      audioBitsPerSecond: UPLOAD_BITS_PER_SECOND,
    });
    this.setState(State.CONNECTING, "Going live…");
    this.send({ type: TYPES.start, format: this.recorder.mimeType || format });
  }

  startRecorder() {
    const recorder = this.recorder;
    if (recorder?.state !== "inactive") return;
    recorder.addEventListener("dataavailable", (event) => {
      if (recorder !== this.recorder || event.data.size === 0) return;
      this.sendAudio(event.data);
      this.releaseWithAudio();
    });
    recorder.addEventListener("error", () => {
      if (recorder !== this.recorder) return;
      this.failed({ code: ERRORS.inputFailed, message: "The browser stopped recording." });
    });
    recorder.start(TIMESLICE_MS);
  }

  stopRecorder() {
    const recorder = this.recorder;
    this.recorder = null;
    this.withAudio = [];
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  sendAudio(chunk) {
    const socket = this.socket();
    if (!socket) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      // The upload cannot keep up. Dropping chunks would corrupt the
      // container, so start over on a fresh connection within the grace.
      this.dispatchEvent(new CustomEvent("stalled"));
      return;
    }
    socket.send(chunk);
  }

  /**
   * Sends ``message`` (a deck's ``now_playing``) once the audio recorded
   * until now has gone out, and one chunk more. The server gives a title to
   * the next audio message it sends, and its transcoder is one chunk behind
   * what it was given: sent at once, a title would reach listeners a chunk
   * and a half before its music, on average.
   */
  sendWithAudio(message) {
    this.withAudio.push({ message, chunksLeft: 2 });
  }

  releaseWithAudio() {
    for (const waiting of this.withAudio) waiting.chunksLeft -= 1;
    const due = this.withAudio.filter((waiting) => waiting.chunksLeft <= 0);
    this.withAudio = this.withAudio.filter((waiting) => waiting.chunksLeft > 0);
    for (const { message } of due) this.send(message);
  }

  send(message) {
    const socket = this.socket();
    if (socket) socket.send(JSON.stringify(message));
  }

  setState(state, text) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("change", { detail: { state, text } }));
  }
}
