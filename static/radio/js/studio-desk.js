/**
 * The console's mixing desk: two decks (studio-deck.js), the crossfader and
 * the auto-DJ mode, the microphone with talk-over and push-to-talk, the
 * headphone cue, the meters and the silence warning. The sound itself is
 * studio-mixer.js.
 *
 * The desk tells the console which track listeners hear: when a deck
 * becomes the audible one, or the audible deck changes track,
 * ``onAudibleTrack({title, artist})`` is called.
 */

import { finder, microphoneProblem, say } from "./dom.js";
import { AUTOMIX_LEAD_S, audibleDeck, mixStartsIn, TALKOVER } from "./mixing.js";
import { Deck } from "./studio-deck.js";
import { meterLevel } from "./studio-helpers.js";
import { audioDevices, Mixer } from "./studio-mixer.js";

// While live, this long without a sound on air brings a warning.
const SILENCE_WARNING_S = 10;
// Below this peak (about -60 dBFS) the output counts as silent.
const SILENCE_LEVEL = 0.001;
// A peak at or above full scale before the limiter lights the clip lamp this long.
const CLIP_HOLD_MS = 1500;
// Keys that are typing, not a push-to-talk press.
const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT", "BUTTON"]);

export class Desk {
  /**
   * ``onAudibleTrack(track)``: listeners now hear ``track``.
   * ``isLive()``: whether the console is on air (for the silence warning).
   */
  constructor(root, { onAudibleTrack, isLive }) {
    this.root = root;
    this.find = finder(root);
    this.onAudibleTrack = onAudibleTrack;
    this.isLive = isLive;
    this.mixer = null;
    this.decks = {
      a: new Deck(this.find("deck-a"), "a"),
      b: new Deck(this.find("deck-b"), "b"),
    };
    this.automix = { on: false, leadSeconds: AUTOMIX_LEAD_S };
    this.micWanted = true;
    this.pushToTalk = false;
    this.audible = null;
    this.announced = null;
    this.silentSince = null;
    this.clippedAt = Number.NEGATIVE_INFINITY;
  }

  /** The mix to send on air, with the microphone turned on (asked for if need be). */
  async prepare() {
    this.ensureMixer();
    await this.mixer.context.resume();
    if (!this.mixer.mic.live) await this.enableMicrophone();
    return this.mixer.stream;
  }

  /** Builds the mixer on first use: it must come from a user gesture. */
  ensureMixer() {
    if (this.mixer) return;
    this.mixer = new Mixer();
    this.mixer.context.resume();
    for (const [name, deck] of Object.entries(this.decks)) deck.connect(this.mixer.decks[name]);
    this.mixer.setCrossfader(Number(this.find("crossfader").value));
    this.mixer.setMonitorMix(Number(this.find("monitor-mix").value));
    this.mixer.mic.setLevel(Number(this.find("mic-level").value));
    this.mixer.setTalkover({
      enabled: this.find("talkover").checked,
      depthDb: Number(this.find("talkover-depth").value),
    });
    this.watchMeters();
    this.watchSilence();
  }

  bind() {
    this.find("automix-seconds").value = String(AUTOMIX_LEAD_S);
    this.find("talkover-depth").value = String(TALKOVER.depthDb);
    this.find("talkover-depth-value").textContent = `${TALKOVER.depthDb} dB`;
    this.find("silence-warning").textContent =
      `Nothing has gone on air for ${SILENCE_WARNING_S} seconds: check the decks and the microphone.`;
    for (const deck of Object.values(this.decks)) this.bindDeck(deck);
    this.bindCrossfader();
    this.bindMicrophone();
    this.bindMonitor();
  }

  // --- Decks, crossfader, auto-DJ ---------------------------------------------

  bindDeck(deck) {
    deck.bind();
    deck.addEventListener("wants-audio", () => this.ensureMixer());
    deck.addEventListener("ended", () => this.deckEnded(deck));
    deck.addEventListener("time", () => {
      this.startMixIfDue(deck);
      this.checkAudible();
    });
    deck.addEventListener("state", () => {
      this.holdCrossfaderOn(deck);
      this.checkAudible();
    });
    deck.addEventListener("track", () => this.checkAudible());
  }

  bindCrossfader() {
    const crossfader = this.find("crossfader");
    crossfader.addEventListener("input", () => {
      this.ensureMixer();
      this.mixer.setCrossfader(Number(crossfader.value));
      this.checkAudible();
    });
    const automix = this.find("automix");
    const lead = this.find("automix-seconds");
    automix.addEventListener("change", () => {
      this.automix.on = automix.checked;
      for (const deck of Object.values(this.decks)) this.holdCrossfaderOn(deck);
    });
    lead.addEventListener("change", () => {
      this.automix.leadSeconds = Math.min(Math.max(Number(lead.value) || AUTOMIX_LEAD_S, 1), 30);
      lead.value = String(this.automix.leadSeconds);
    });
  }

  /** In the auto-DJ mode a deck that plays alone has the crossfader all to itself. */
  holdCrossfaderOn(deck) {
    if (!this.automix.on || !this.mixer || !deck.playing || this.other(deck).playing) return;
    this.mixer.setCrossfader(side(deck));
    this.find("crossfader").value = String(side(deck));
  }

  other(deck) {
    return deck === this.decks.a ? this.decks.b : this.decks.a;
  }

  /**
   * Auto-DJ mode: with ``leadSeconds`` left on the audible deck, the other
   * deck starts its next track and the crossfader moves across meanwhile.
   */
  startMixIfDue(deck) {
    if (!this.automix.on || !deck.playing || this.mixer?.crossfading) return;
    if (this.audible !== deck.name) return;
    const next = this.other(deck);
    if (next.playing) return;
    const startsIn = mixStartsIn({
      duration: deck.duration,
      position: deck.position,
      leadSeconds: this.automix.leadSeconds,
    });
    if (startsIn !== 0) return;
    const ready = next.fresh || next.advance({ play: false });
    if (!ready) return;
    next.play();
    const seconds = Math.max(
      Math.min(this.automix.leadSeconds, deck.duration - deck.position),
      0.5,
    );
    this.mixer.moveCrossfader(side(next), seconds);
    this.followCrossfader();
  }

  /** Keeps the crossfader's slider with the fade the mixer plays. */
  followCrossfader() {
    const slider = this.find("crossfader");
    const follow = () => {
      slider.value = String(this.mixer.crossfader);
      this.checkAudible();
      if (this.mixer.crossfading) requestAnimationFrame(follow);
    };
    follow();
  }

  /** A deck's track ended: the next of its playlist plays, unless the other deck took over. */
  deckEnded(deck) {
    const takenOver = this.automix.on && this.other(deck).playing;
    deck.advance({ play: !takenOver });
  }

  /** Tells the console when the track listeners hear changes. */
  checkAudible() {
    if (!this.mixer) return;
    const crossfader = this.mixer.crossfader;
    const loudness = Object.fromEntries(
      Object.entries(this.decks).map(([name, deck]) => [
        name,
        deck.playing ? this.mixer.decks[name].loudness(crossfader) : 0,
      ]),
    );
    const name = audibleDeck(loudness);
    const track = name ? this.decks[name].track : null;
    for (const [deckName, deck] of Object.entries(this.decks)) {
      deck.root.dataset.audible = String(deckName === name);
    }
    this.audible = name;
    if (!track || track === this.announced) return;
    this.announced = track;
    this.onAudibleTrack({ title: track.title, artist: track.artist });
  }

  /** Announces the audible deck's track again (after a caller's time on air). */
  announceAudibleAgain() {
    this.announced = null;
    this.checkAudible();
  }

  // --- Microphone, talk-over ------------------------------------------------

  bindMicrophone() {
    const select = this.find("mic-select");
    this.find("mic-enable").addEventListener("click", () => this.enableMicrophone());
    select.addEventListener("change", () => this.enableMicrophone(select.value));
    navigator.mediaDevices?.addEventListener("devicechange", () => {
      if (this.mixer?.mic.live) this.listDevices();
    });
    const level = this.find("mic-level");
    level.addEventListener("input", () => {
      this.find("mic-level-value").textContent = `${Math.round(Number(level.value) * 100)}%`;
      this.mixer?.mic.setLevel(Number(level.value));
    });
    this.find("mic-open").addEventListener("click", () => {
      this.micWanted = !this.micWanted;
      this.applyMic();
    });
    this.find("mic-cue").addEventListener("click", (event) => {
      const on = event.currentTarget.getAttribute("aria-pressed") !== "true";
      event.currentTarget.setAttribute("aria-pressed", String(on));
      this.ensureMixer();
      this.mixer.mic.setCue(on);
    });
    const talkover = this.find("talkover");
    const depth = this.find("talkover-depth");
    const applyTalkover = () => {
      this.find("talkover-depth-value").textContent = `${depth.value} dB`;
      this.mixer?.setTalkover({ enabled: talkover.checked, depthDb: Number(depth.value) });
    };
    talkover.addEventListener("change", applyTalkover);
    depth.addEventListener("input", applyTalkover);
    // Push-to-talk: the space bar held opens the microphone, wherever the
    // focus is, except in a field or on a button (where space types or presses).
    document.addEventListener("keydown", (event) => {
      if (event.code !== "Space" || event.repeat || TYPING.has(event.target.tagName)) return;
      event.preventDefault();
      this.setPushToTalk(true);
    });
    document.addEventListener("keyup", (event) => {
      if (event.code === "Space" && this.pushToTalk) this.setPushToTalk(false);
    });
    window.addEventListener("blur", () => this.setPushToTalk(false));
  }

  setPushToTalk(held) {
    this.pushToTalk = held;
    this.applyMic();
  }

  /** The microphone is on air when the DJ opened it or holds the space bar. */
  applyMic() {
    const open = this.micWanted || this.pushToTalk;
    const button = this.find("mic-open");
    button.setAttribute("aria-pressed", String(this.micWanted));
    button.textContent = this.micWanted ? "Mic on air" : "Mic off air";
    this.root.dataset.mic = open ? "open" : "closed";
    this.mixer?.mic.setOpen(open);
  }

  async enableMicrophone(deviceId = "") {
    this.ensureMixer();
    const note = this.find("mic-note");
    if (!navigator.mediaDevices?.getUserMedia) {
      say(note, "This page needs HTTPS to use a microphone.", "error");
      return;
    }
    try {
      const inUse = await this.mixer.mic.use(deviceId);
      this.applyMic();
      await this.listDevices(inUse);
      say(note, "");
      const enable = this.find("mic-enable");
      const hadFocus = document.activeElement === enable;
      enable.hidden = true;
      if (hadFocus) this.find("mic-select").focus();
    } catch (error) {
      say(note, microphoneProblem(error), "error");
    }
  }

  /** Fills the microphone and headphone lists; labels come with the microphone's permission. */
  async listDevices(micInUse = this.find("mic-select").value) {
    fill(this.find("mic-select"), await audioDevices("audioinput"), micInUse);
    if (!canChooseOutput()) return;
    const outputs = [
      { deviceId: "", label: "Default output" },
      ...(await audioDevices("audiooutput")),
    ];
    fill(this.find("monitor-output"), outputs, this.find("monitor-output").value);
  }

  // --- Headphones -----------------------------------------------------------

  bindMonitor() {
    const mix = this.find("monitor-mix");
    mix.addEventListener("input", () => {
      this.ensureMixer();
      this.mixer.setMonitorMix(Number(mix.value));
    });
    const output = this.find("monitor-output");
    if (!canChooseOutput()) {
      say(
        this.find("monitor-note"),
        "This browser cannot send the headphone mix to a second device: it plays on the default output. Chrome and Edge can.",
      );
    }
    output.addEventListener("change", async () => {
      this.ensureMixer();
      try {
        await this.mixer.setMonitorDevice(output.value);
        say(this.find("monitor-note"), "");
      } catch (error) {
        say(this.find("monitor-note"), `That output cannot be used (${error.name}).`, "error");
      }
    });
  }

  // --- Meters, clip, silence ------------------------------------------------

  watchMeters() {
    const tick = () => {
      const levels = this.mixer.levels();
      showLevel(this.find("deck-a-meter"), levels.a);
      showLevel(this.find("deck-b-meter"), levels.b);
      showLevel(this.find("mic-meter"), levels.mic);
      showLevel(this.find("output-meter"), levels.output);
      if (levels.programme >= 1) this.clippedAt = performance.now();
      this.find("clip").dataset.on = String(performance.now() - this.clippedAt < CLIP_HOLD_MS);
      requestAnimationFrame(tick);
    };
    tick();
  }

  /** Warns when nothing has gone on air for SILENCE_WARNING_S while live. */
  watchSilence() {
    setInterval(() => {
      const silent = this.isLive() && this.mixer.levels().output < SILENCE_LEVEL;
      if (!silent) this.silentSince = null;
      else this.silentSince ??= performance.now();
      const warn =
        this.silentSince !== null &&
        performance.now() - this.silentSince >= SILENCE_WARNING_S * 1000;
      const warning = this.find("silence-warning");
      warning.hidden = !warn;
    }, 500);
  }
}

/** The crossfader's position that plays ``deck`` alone. */
function side(deck) {
  return deck.name === "a" ? 0 : 1;
}

function fill(select, devices, selected) {
  const options = devices.map(({ deviceId, label }) => {
    const option = document.createElement("option");
    option.value = deviceId;
    option.textContent = label;
    return option;
  });
  select.replaceChildren(...options);
  if (selected && options.some((option) => option.value === selected)) select.value = selected;
  select.disabled = options.length === 0;
}

/** Whether this browser can play the headphone mix on a device of the DJ's choice. */
function canChooseOutput() {
  return typeof AudioContext !== "undefined" && "setSinkId" in AudioContext.prototype;
}

function showLevel(meter, level) {
  const shown = meterLevel(level, Number(meter.dataset.shown || 0));
  meter.dataset.shown = shown.toFixed(3);
  meter.style.setProperty("--level", shown.toFixed(3));
  // The peak itself, 0 to 1, for whoever wants a number (the tests do).
  meter.dataset.level = level.toFixed(3);
}
