/**
 * The live player: a station's audio messages through Media Source
 * Extensions, kept close to the live edge.
 *
 *   import { LivePlayer } from "./player.js";
 *   const fallbackUrl = httpSourceUrl(audioElement, { streamUrl, hlsUrl });
 *   const player = new LivePlayer(audioElement, { fallbackUrl });
 *   connection.on("binary", (buffer) => player.feed(buffer));
 *   button.onclick = () => player.play();   // in the click: browsers need a gesture
 *   player.stop();
 *   player.resync();            // after a reconnect or going on air: old audio is stale
 *   player.atSeq(seq, () => showTitle());   // runs when the audio of `seq` is heard
 *   player.backToLive();
 *   player.addEventListener("status", () => player.status);
 *   // status: { state: "stopped" | "starting" | "playing" | "buffering",
 *   //           behindMs, aheadS, firstSoundMs, mode }
 *
 * Modes, feature-detected: "mse" (MediaSource with audio/mpeg), "managed"
 * (ManagedMediaSource, iOS Safari 17.1+), else "http": a plain <audio src> of
 * `fallbackUrl` (see httpSourceUrl), where the socket's audio is ignored.
 *
 * An audio message is a 12-byte big-endian header (uint32 seq, uint64
 * ingest_ms) and whole MP3 frames. The SourceBuffer runs in "sequence" mode,
 * so any message can follow any other: gaps in seq just close up.
 */

import {
  isDue,
  keepFrom,
  mp3Seconds,
  newClock,
  observeClock,
  packetAt,
  startFrom,
} from "./live-edge.js";

const HEADER_BYTES = 12;
// Audio to start with, from the newest received, in seconds.
const START_AHEAD_S = 0.8;
// Start anyway this long after the first message, with what there is (ms).
const START_WAIT_MS = 1000;
// Received audio kept while stopped, so that Play starts at once (seconds).
const RECENT_S = 3;
// More buffered than this ahead of the playhead: jump to near the end.
const CATCH_UP_AHEAD_S = 1.6;
// Where a jump lands, in seconds before the end of what is buffered.
const TARGET_AHEAD_S = 0.7;
// Played audio kept in the SourceBuffer, and how much more before trimming.
const KEEP_PLAYED_S = 10;
const TRIM_SLACK_S = 5;
// How often the playhead is checked (ms).
const TICK_MS = 250;

/** "mse", "managed" or "http": how this browser can play the station. */
export function playbackMode() {
  if (window.MediaSource?.isTypeSupported?.("audio/mpeg")) return "mse";
  if (window.ManagedMediaSource?.isTypeSupported?.("audio/mpeg")) return "managed";
  return "http";
}

/**
 * What the "http" mode plays: the station's HLS playlist where the browser
 * plays HLS itself (older iOS Safari, which keeps HLS playing in the
 * background), else its endless stream.mp3.
 */
export function httpSourceUrl(audio, { streamUrl, hlsUrl }) {
  return hlsUrl && audio.canPlayType("application/vnd.apple.mpegurl") ? hlsUrl : streamUrl;
}

export class LivePlayer extends EventTarget {
  constructor(audio, { fallbackUrl, mode = playbackMode() } = {}) {
    super();
    this.audio = audio;
    this.fallbackUrl = fallbackUrl;
    this.mode = mode;
    // More than this buffered ahead of the playhead makes the player jump.
    this.catchUpAheadS = CATCH_UP_AHEAD_S;
    this.wanted = false;
    // Newest received packets, { seq, ingestMs, data, seconds }.
    this.recent = [];
    // Appended packets and where they sit on the media timeline.
    this.timeline = [];
    this.queue = [];
    this.waiters = [];
    this.mediaSource = null;
    this.sourceBuffer = null;
    this.appendedEnd = 0;
    this.starting = false;
    this.startingSince = null;
    this.trimTo = null;
    this.clock = newClock();
    this.status = { state: "stopped", behindMs: null, aheadS: 0, firstSoundMs: null, mode };
    this.playClickedAt = null;
    this.timer = null;
    // True while the player itself changes the source (pauses are its own).
    this.switching = false;
    audio.addEventListener("playing", () => {
      if (this.playClickedAt !== null && this.status.firstSoundMs === null) {
        this.status.firstSoundMs = Math.round(performance.now() - this.playClickedAt);
      }
      this.tick();
    });
    audio.addEventListener("waiting", () => this.tick());
    audio.addEventListener("pause", () => {
      // Paused from outside (media keys, the OS): treat it as Stop.
      if (this.wanted && !this.switching) this.stop();
    });
  }

  get playing() {
    return this.wanted;
  }

  // --- Input ---------------------------------------------------------------

  /** Takes one binary message of the station socket. */
  feed(buffer) {
    if (buffer.byteLength <= HEADER_BYTES) return;
    const view = new DataView(buffer);
    const seq = view.getUint32(0);
    const ingestMs = Number(view.getBigUint64(4));
    const data = new Uint8Array(buffer, HEADER_BYTES);
    this.clock = observeClock(this.clock, ingestMs, Date.now());
    const packet = { seq, ingestMs, data, seconds: mp3Seconds(data) };
    this.recent.push(packet);
    this.recent.splice(0, keepFrom(this.recent, RECENT_S));
    if (!this.sourceBuffer) return;
    if (this.starting) this.maybeStart();
    else {
      this.queue.push(packet);
      this.pump();
    }
  }

  /** Server time now, in ms since the epoch, as estimated (live-edge.js). */
  serverNow() {
    return Date.now() + (this.clock.offsetMs ?? 0);
  }

  // --- Control -------------------------------------------------------------

  play() {
    if (this.wanted) return;
    this.wanted = true;
    this.playClickedAt = performance.now();
    this.status.firstSoundMs = null;
    if (this.mode === "http") {
      this.audio.src = this.fallbackUrl;
    } else {
      this.openSource();
    }
    // Called inside the click, which is what lets the audio start.
    this.audio.play().catch((error) => {
      // Refused (no user gesture): show Play again. AbortError only means
      // the source changed meanwhile.
      if (error.name === "NotAllowedError") this.stop();
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop() {
    if (!this.wanted) return;
    this.wanted = false;
    clearInterval(this.timer);
    this.switching = true;
    this.audio.pause();
    this.closeSource();
    this.switching = false;
    this.flushWaiters();
    this.tick();
  }

  /** Drops what is not yet appended and starts again near the live edge. */
  resync() {
    this.recent = [];
    this.queue = [];
    this.flushWaiters();
    // seq may have started again (a restarted server): forget the old ones.
    this.timeline = [];
    if (this.sourceBuffer) this.beginStarting();
  }

  /** Jumps to just behind the newest audio received. */
  backToLive() {
    if (!this.wanted) {
      this.play();
      return;
    }
    const end = this.bufferedEnd();
    if (end - this.audio.currentTime > TARGET_AHEAD_S + 0.2) {
      this.audio.currentTime = Math.max(0, end - TARGET_AHEAD_S);
    } else if (this.mode === "http") {
      this.audio.src = this.fallbackUrl;
      this.audio.play().catch(() => {});
    }
  }

  /** Calls `callback` once the audio of message `seq` is heard. */
  atSeq(seq, callback) {
    if (!this.wanted || this.mode === "http") {
      callback();
      return;
    }
    this.waiters.push({ seq, callback });
    this.tick();
  }

  // --- Media Source --------------------------------------------------------

  openSource() {
    const Source = this.mode === "managed" ? window.ManagedMediaSource : window.MediaSource;
    const mediaSource = new Source();
    this.mediaSource = mediaSource;
    if (this.mode === "managed") this.audio.disableRemotePlayback = true;
    mediaSource.addEventListener(
      "sourceopen",
      () => {
        if (this.mediaSource !== mediaSource) return;
        const sourceBuffer = mediaSource.addSourceBuffer("audio/mpeg");
        sourceBuffer.mode = "sequence";
        sourceBuffer.addEventListener("updateend", () => this.updated());
        this.sourceBuffer = sourceBuffer;
        this.appendedEnd = 0;
        this.timeline = [];
        this.beginStarting();
      },
      { once: true },
    );
    this.switching = true;
    this.audio.src = URL.createObjectURL(mediaSource);
    this.switching = false;
  }

  closeSource() {
    // An endless stream.mp3 would go on downloading while paused: drop it too.
    if (!this.mediaSource && !this.audio.getAttribute("src")) return;
    const url = this.audio.src;
    this.mediaSource = null;
    this.sourceBuffer = null;
    this.queue = [];
    this.timeline = [];
    this.audio.removeAttribute("src");
    this.audio.load();
    if (url.startsWith("blob:")) URL.revokeObjectURL(url);
  }

  beginStarting() {
    this.starting = true;
    this.startingSince = null;
    this.maybeStart();
  }

  /** Appends the newest START_AHEAD_S of audio once there is that much. */
  maybeStart() {
    if (!this.recent.length) return;
    this.startingSince ??= performance.now();
    const total = this.recent.reduce((sum, packet) => sum + packet.seconds, 0);
    if (total < START_AHEAD_S && performance.now() - this.startingSince < START_WAIT_MS) {
      return;
    }
    this.starting = false;
    this.queue = this.recent.slice(startFrom(this.recent, START_AHEAD_S));
    this.pump();
  }

  pump() {
    const sourceBuffer = this.sourceBuffer;
    if (!sourceBuffer || sourceBuffer.updating || this.mediaSource.readyState !== "open") return;
    if (this.trimTo !== null) {
      const end = this.trimTo;
      this.trimTo = null;
      if (sourceBuffer.buffered.length && end > sourceBuffer.buffered.start(0)) {
        sourceBuffer.remove(0, end);
        return;
      }
    }
    if (!this.queue.length) return;
    const batch = this.queue.splice(0);
    const bytes = new Uint8Array(batch.reduce((sum, packet) => sum + packet.data.length, 0));
    let at = 0;
    let start = this.appendedEnd;
    for (const packet of batch) {
      bytes.set(packet.data, at);
      at += packet.data.length;
      this.timeline.push({
        seq: packet.seq,
        ingestMs: packet.ingestMs,
        start,
        end: start + packet.seconds,
      });
      start += packet.seconds;
    }
    this.appendedEnd = start;
    try {
      sourceBuffer.appendBuffer(bytes);
    } catch (error) {
      if (error.name !== "QuotaExceededError") throw error;
      // Full: drop more of what was played, then try again.
      this.queue.unshift(...batch);
      this.timeline.splice(this.timeline.length - batch.length);
      this.appendedEnd -= batch.reduce((sum, packet) => sum + packet.seconds, 0);
      this.trimTo = Math.max(0, this.audio.currentTime - 1);
    }
  }

  updated() {
    const buffered = this.sourceBuffer?.buffered;
    // The decoder's idea of where the next append lands wins over the frame
    // count, so that small differences do not add up.
    if (buffered?.length) this.appendedEnd = buffered.end(buffered.length - 1);
    this.pump();
    this.tick();
  }

  bufferedEnd() {
    const buffered = this.audio.buffered;
    return buffered.length ? buffered.end(buffered.length - 1) : 0;
  }

  jumpToLive() {
    const end = this.bufferedEnd();
    if (end > 0) this.audio.currentTime = Math.max(0, end - TARGET_AHEAD_S);
  }

  // --- The playhead ----------------------------------------------------------

  tick() {
    const audio = this.audio;
    const status = this.status;
    if (!this.wanted) {
      Object.assign(status, { state: "stopped", behindMs: null, aheadS: 0 });
      this.dispatchEvent(new Event("status"));
      return;
    }
    const now = audio.currentTime;
    const aheadS = Math.max(0, this.bufferedEnd() - now);
    if (this.mode !== "http") {
      if (aheadS > this.catchUpAheadS && !this.starting) this.jumpToLive();
      this.trim(now);
    }
    const current = packetAt(this.timeline, audio.currentTime);
    const heard = audio.readyState >= 3 && !audio.paused && status.firstSoundMs !== null;
    status.state = heard ? "playing" : status.firstSoundMs === null ? "starting" : "buffering";
    status.aheadS = aheadS;
    status.behindMs = current && heard ? Math.max(0, this.serverNow() - current.ingestMs) : null;
    status.seq = current?.seq ?? null;
    this.runWaiters(audio.currentTime);
    this.dispatchEvent(new Event("status"));
  }

  /** Runs every pending atSeq() callback now: its audio will not be heard. */
  flushWaiters() {
    for (const { callback } of this.waiters.splice(0)) callback();
  }

  runWaiters(time) {
    if (!this.waiters.length) return;
    this.waiters = this.waiters.filter(({ seq, callback }) => {
      const due = isDue(this.timeline, seq, time);
      if (due) callback();
      return !due;
    });
  }

  trim(now) {
    const buffered = this.sourceBuffer?.buffered;
    if (!buffered?.length) return;
    if (now - buffered.start(0) > KEEP_PLAYED_S + TRIM_SLACK_S) {
      this.trimTo = now - KEEP_PLAYED_S;
      this.pump();
    }
    const keepFrom = now - KEEP_PLAYED_S - TRIM_SLACK_S;
    while (this.timeline.length > 1 && this.timeline[0].end < keepFrom) this.timeline.shift();
  }
}
