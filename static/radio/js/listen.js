/**
 * The listener page: player, now playing, listener count, chat, /pm, and
 * calling the DJ (call-in.js) where the station takes calls.
 *
 * Config comes from data- attributes of #listen. For tests and debugging the
 * page's objects are at globalThis.radio: { connection, player, chat, callIn }.
 */

import { CallIn } from "./call-in.js";
import { ChatPanel } from "./chat.js";
import { parsePm } from "./commands.js";
import { Connection, socketUrl } from "./connection.js";
import { inboxErrorText } from "./inbox.js";
import { behindLabel } from "./live-edge.js";
import { httpSourceUrl, LivePlayer } from "./player.js";
import { scheduleLines } from "./programme.js";
import { CLOSE, TYPES } from "./protocol.js";
import { RecentPlays } from "./recent-plays.js";
import { siteInbox } from "./site.js";

const VOLUME_KEY = "radio.volume";
const MUTED_KEY = "radio.muted";

const root = document.getElementById("listen");
const config = root.dataset;
const $ = (id) => document.getElementById(id);
const audio = $("audio");
const playButton = $("play");
const muteButton = $("mute");
const volume = $("volume");
const stationName = $("station-name").textContent;

const connection = new Connection(socketUrl(config.socketPath));
const player = new LivePlayer(audio, {
  fallbackUrl: httpSourceUrl(audio, { streamUrl: config.streamUrl, hlsUrl: config.hlsUrl }),
});
const chat = new ChatPanel($("chat"), {
  me: config.user || null,
  signInUrl: config.signInUrl,
  send: (text) => connection.sendJson({ type: TYPES.chat, text }),
  onCommand: privateMessage,
});
const recentPlays = new RecentPlays($("recent-plays"));
const callForm = $("call-form");
const callIn = callForm
  ? new CallIn($("call-in"), {
      send: (message) => connection.sendJson(message),
      station: player,
    })
  : null;
callIn?.bind();
let helloSeen = false;
let onAir = false;

globalThis.radio = { connection, player, chat, callIn };

// --- Socket ----------------------------------------------------------------

connection.on("binary", (buffer) => player.feed(buffer));
connection.on("json", (message) => {
  if (callIn?.handle(message) || chat.handle(message)) return;
  switch (message.type) {
    case TYPES.hello:
      // A new socket's audio follows on from nothing the player has.
      if (helloSeen) player.resync();
      helloSeen = true;
      setOnAir(message.on_air);
      setListeners(message.listeners);
      showTitle(message.now_playing);
      showSchedule(message.schedule);
      break;
    case TYPES.schedule:
      showSchedule(message);
      break;
    case TYPES.nowPlaying:
      player.atSeq(message.seq, () => {
        showTitle(message);
        recentPlays.add(message);
      });
      break;
    case TYPES.onAir:
      // Off air, or a new producer (a DJ after the AutoDJ): its titles follow.
      setOnAir(message.on_air);
      showTitle(null);
      if (message.on_air) player.resync();
      break;
    case TYPES.listeners:
      setListeners(message.count);
      break;
  }
});
const REFUSALS = {
  [CLOSE.stationFull]: "The station is full. Trying again soon…",
  [CLOSE.tooManyConnections]: "Too many connections from your network. Trying again soon…",
};
connection.on("state", (state, detail) => {
  const text = {
    connecting: "Connecting…",
    open: "",
    reconnecting: REFUSALS[detail?.code] ?? "Reconnecting…",
    closed:
      detail.code === CLOSE.noSuchStation ? "This station no longer exists." : "Disconnected.",
  }[state];
  $("connection").textContent = text ?? "";
  root.dataset.connection = state;
  chat.setConnected(state === "open");
  if (state !== "open") callIn?.connectionLost();
});
connection.open();

function setOnAir(value) {
  onAir = value;
  const badge = $("on-air");
  badge.dataset.onAir = String(onAir);
  badge.querySelector(".label").textContent = onAir ? "On air" : "Off air";
}

function showSchedule(schedule) {
  const lines = scheduleLines(schedule);
  for (const key of ["now", "next"]) {
    $(`show-${key}`).textContent = lines[key]?.name ?? "Nothing scheduled";
    $(`show-${key}-time`).textContent = lines[key]?.when ?? "";
  }
  const programme = $("programme");
  programme.dataset.now = schedule?.now?.show.slug ?? "";
  programme.dataset.next = schedule?.next?.show.slug ?? "";
}

function setListeners(count) {
  $("listener-count").textContent = String(count);
}

function showTitle(nowPlaying) {
  const title = nowPlaying?.title || "";
  const artist = nowPlaying?.artist || "";
  const fallback = nowPlaying || onAir ? "Live" : "Off air: back soon";
  $("now-title").textContent = title || fallback;
  $("now-artist").textContent = artist;
  root.dataset.title = title;
  if ("mediaSession" in navigator && "MediaMetadata" in window) {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: title || stationName,
      artist,
      album: stationName,
    });
  }
}

// --- Player ----------------------------------------------------------------

playButton.addEventListener("click", () => {
  if (player.playing) player.stop();
  else player.play();
});
$("back-to-live").addEventListener("click", () => player.backToLive());

player.addEventListener("status", () => {
  const { state, behindMs } = player.status;
  const playing = state !== "stopped";
  playButton.setAttribute("aria-pressed", String(playing));
  playButton.setAttribute("aria-label", playing ? "Stop" : "Play");
  playButton.dataset.state = state;
  root.dataset.player = state;
  const behind = $("behind");
  const label = behindLabel(state, behindMs);
  behind.textContent = label.text;
  behind.dataset.ms = behindMs === null ? "" : String(Math.round(behindMs));
  $("back-to-live").hidden = !label.late;
});

// --- Volume ----------------------------------------------------------------

function applyVolume() {
  audio.volume = Number(volume.value) / 100;
  const muted = audio.muted || audio.volume === 0;
  muteButton.setAttribute("aria-pressed", String(audio.muted));
  muteButton.setAttribute("aria-label", audio.muted ? "Unmute" : "Mute");
  muteButton.classList.toggle("is-muted", muted);
  volume.style.setProperty("--level", `${volume.value}%`);
}

// Storage may be unavailable (private modes, blocked cookies): then the
// volume is simply not remembered.
const stored = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // Not remembered; nothing else depends on it.
    }
  },
};

volume.value = stored.get(VOLUME_KEY) ?? volume.value;
audio.muted = stored.get(MUTED_KEY) === "1";
volume.addEventListener("input", () => {
  if (audio.muted && Number(volume.value) > 0) audio.muted = false;
  stored.set(VOLUME_KEY, volume.value);
  stored.set(MUTED_KEY, audio.muted ? "1" : "0");
  applyVolume();
});
muteButton.addEventListener("click", () => {
  audio.muted = !audio.muted;
  stored.set(MUTED_KEY, audio.muted ? "1" : "0");
  applyVolume();
});
applyVolume();

// --- /pm in the chat box ---------------------------------------------------

function privateMessage(line) {
  if (!line.startsWith("/pm")) return false;
  const pm = parsePm(line);
  if (!pm) {
    chat.notice("To send a private message: /pm USER TEXT", "error");
    return true;
  }
  if (!siteInbox) {
    chat.notice("Sign in to send private messages.", "error");
    return true;
  }
  siteInbox.send(pm.to, pm.text).then(
    () => chat.notice(`Private message sent to ${pm.to}.`, "info"),
    (error) => chat.notice(inboxErrorText(error), "error"),
  );
  return true;
}

// Keyboard: k toggles play when focus is not in a field.
document.addEventListener("keydown", (event) => {
  if (event.key !== "k" || event.target.closest("input, textarea, button, a, select")) return;
  event.preventDefault();
  playButton.click();
});
