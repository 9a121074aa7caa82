/**
 * A WebSocket that reconnects by itself, with exponential backoff.
 *
 *   import { Connection, socketUrl } from "./connection.js";
 *   const conn = new Connection(socketUrl("/ws/stations/demo/"));
 *   conn.on("json", (message) => ...);      // every JSON message, parsed
 *   conn.on("binary", (arrayBuffer) => ...); // every binary message
 *   conn.on("state", (state, detail) => ...);
 *   conn.on("open", () => ...);              // after every (re)connect
 *   conn.open();
 *   conn.sendJson({ type: TYPES.chat, text: "hi" }); // false when not open
 *   conn.close();                            // for good: no reconnecting
 *
 * States: "connecting" (first attempt), "open", "reconnecting" (lost, a
 * retry is scheduled or under way; detail = { attempt, delayMs, code }),
 * "closed" (closed for good: by close(), or by a close code in
 * `permanentCodes`; detail = { code, reason }).
 *
 * Retries wait minDelayMs, then twice as long each time up to maxDelayMs,
 * with ±20 % jitter so that many listeners do not come back in step after a
 * server restart. After a close with 1012 (service restart: the worker is
 * stopping, and the load balancer has another) the first retry is at once;
 * after 4503 or 4429 (no room) retries wait 10 s to a minute.
 * Going online, or the tab becoming visible, retries at once.
 */

import { retryDelayMs } from "./backoff.js";
import { CLOSE } from "./protocol.js";

// Close codes after which retrying cannot help (docs/PROTOCOL.md).
export const PERMANENT_CLOSE_CODES = new Set([
  CLOSE.signInRequired,
  CLOSE.forbidden,
  CLOSE.noSuchStation,
]);
// Close codes that mean the server has no room for the client now.
export const BUSY_CLOSE_CODES = new Set([CLOSE.stationFull, CLOSE.tooManyConnections]);
const DEFAULT_MIN_DELAY_MS = 250;
const DEFAULT_MAX_DELAY_MS = 4000;

/** The ws:/wss: URL of `path` on this page's host. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class Connection {
  constructor(
    url,
    {
      minDelayMs = DEFAULT_MIN_DELAY_MS,
      maxDelayMs = DEFAULT_MAX_DELAY_MS,
      permanentCodes = PERMANENT_CLOSE_CODES,
    } = {},
  ) {
    this.url = url;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.permanentCodes = permanentCodes;
    this.state = "idle";
    this.socket = null;
    this.attempt = 0;
    this.handlers = new Map();
    this.timer = null;
    this.wanted = false;
    this.retryNow = () => {
      if (this.state === "reconnecting" && this.socket === null) this.connect();
    };
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.retryNow();
    };
  }

  /** Calls `handler` for each `event`: json, binary, state, open, close. */
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  emit(event, ...args) {
    for (const handler of this.handlers.get(event) ?? []) {
      try {
        handler(...args);
      } catch (error) {
        // One broken handler must not stop the others or the socket.
        reportError(error);
      }
    }
  }

  setState(state, detail = {}) {
    this.state = state;
    this.emit("state", state, detail);
  }

  open() {
    if (this.wanted) return this;
    this.wanted = true;
    window.addEventListener("online", this.retryNow);
    document.addEventListener("visibilitychange", this.onVisible);
    this.setState("connecting");
    this.connect();
    return this;
  }

  connect() {
    clearTimeout(this.timer);
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.setState("open");
      this.emit("open");
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        this.emit("json", message);
      } else {
        this.emit("binary", event.data);
      }
    });
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.emit("close", event);
    if (!this.wanted) return;
    if (this.permanentCodes.has(event.code)) {
      this.stop();
      this.setState("closed", { code: event.code, reason: event.reason });
      return;
    }
    const delayMs = retryDelayMs(this.attempt, {
      restarted: event.code === CLOSE.serviceRestart,
      busy: BUSY_CLOSE_CODES.has(event.code),
      minDelayMs: this.minDelayMs,
      maxDelayMs: this.maxDelayMs,
    });
    this.attempt += 1;
    this.setState("reconnecting", { attempt: this.attempt, delayMs, code: event.code });
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  /** Sends a string or binary message; false when the socket is not open. */
  send(data) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(data);
    return true;
  }

  sendJson(message) {
    return this.send(JSON.stringify(message));
  }

  stop() {
    this.wanted = false;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.retryNow);
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  /** Closes the socket for good. */
  close(code = 1000) {
    const socket = this.socket;
    this.stop();
    this.socket = null;
    socket?.close(code);
    this.setState("closed", { code, reason: "" });
  }
}
