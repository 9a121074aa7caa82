// The DJ's mixing desk as a Web Audio graph: two decks, the microphone, a
// crossfader, talk-over, a limiter before the encoder, and a headphone
// (monitor) mix of the cue bus and the programme.
//
//   deck A ─▶ EQ ─▶ level ─┬─▶ crossfader A ─┐
//                          └─▶ cue send ─────┼────────────────┐
//   deck B ─▶ EQ ─▶ level ─┬─▶ crossfader B ─┤                │
//                          └─▶ cue send ─────┼────────────────┤
//                               music ◀──────┘                ▼
//                                 │                          cue
//                              ducking ──▶ monitor's programme side
//                                 ▼                           │
//   microphone ─▶ level ─▶ open ─▶ programme ─▶ limiter ─▶ on air
//                   └─▶ cue send ──────────────────────▶ cue ─┴─▶ monitor
//                                                              (headphones)
//
// The monitor's programme side is the music without the microphone, so the
// DJ never hears their own voice late. Callers (CallerChannel) join the
// programme like the microphone, and hear a mix of their own. Nothing here
// touches the DOM.

import {
  callerRoutes,
  clipperCurve,
  compressorMakeupDb,
  crossfadeCurve,
  crossfadeGains,
  crossfadePosition,
  decibelsToGain,
  duckTarget,
  LIMITER,
  TALKOVER,
  timeConstant,
} from "./mixing.js";

// Browser voice processing colours music; a DJ wants the signal as it is.
const MIC_CONSTRAINTS = {
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
};
// Samples the meters look at per frame.
const METER_FFT_SIZE = 1024;
// How fast a level, EQ or switch change is applied, in seconds: quick, but
// without a click.
const SMOOTHING_S = 0.015;
// The crossfader's gains are scheduled as a curve of this many points,
// starting this long after the value is held.
const CURVE_STEPS = 128;
const CURVE_START_DELAY_S = 0.01;
// Points of the clipper's curve: fine enough that it passes audio unchanged.
const CLIPPER_POINTS = 8193;
// The three EQ bands: a low shelf, a bell in the middle, a high shelf.
const EQ_BANDS = [
  { name: "low", type: "lowshelf", frequency: 250 },
  { name: "mid", type: "peaking", frequency: 1000, q: 0.7 },
  { name: "high", type: "highshelf", frequency: 4000 },
];

export class Mixer {
  /** Must be built from a user gesture, or the AudioContext starts suspended. */
  constructor() {
    const context = new AudioContext();
    this.context = context;
    this.music = context.createGain();
    this.ducking = context.createGain();
    this.programme = context.createGain();
    this.limiter = brickWall(context);
    this.output = context.createMediaStreamDestination();
    this.cue = context.createGain();
    this.monitorProgramme = context.createGain();
    this.monitorCue = context.createGain();
    this.monitor = context.createGain();
    this.programmeAnalyser = analyser(context);
    this.outputAnalyser = analyser(context);

    this.music.connect(this.ducking).connect(this.programme);
    this.programme.connect(this.programmeAnalyser);
    this.programme.connect(this.limiter.input);
    this.limiter.output.connect(this.output);
    this.limiter.output.connect(this.outputAnalyser);
    this.ducking.connect(this.monitorProgramme).connect(this.monitor);
    this.cue.connect(this.monitorCue).connect(this.monitor);
    this.monitor.connect(context.destination);

    this.decks = { a: new DeckChannel(this, "a"), b: new DeckChannel(this, "b") };
    this.mic = new MicChannel(this);
    this.callers = new Set();
    this.crossfade = { from: 0, to: 0, start: 0, seconds: 0 };
    this.talkover = { enabled: true, depthDb: TALKOVER.depthDb };
    this.setCrossfader(0.5);
    this.setMonitorMix(0.5);
  }

  /** The mixed audio, what goes on air. */
  get stream() {
    return this.output.stream;
  }

  get now() {
    return this.context.currentTime;
  }

  /** Where the crossfader is now (0 = deck A, 1 = deck B), moving or not. */
  get crossfader() {
    const { from, to, start, seconds } = this.crossfade;
    return crossfadePosition({ from, to, elapsed: this.now - start, seconds });
  }

  get crossfading() {
    const { start, seconds } = this.crossfade;
    return this.now < start + seconds;
  }

  /** Moves the crossfader to ``position`` at once (the DJ's hand). */
  setCrossfader(position) {
    this.moveCrossfader(position, 0);
  }

  /**
   * Moves the crossfader to ``position`` over ``seconds``, on the audio
   * clock: the fade keeps going in a background tab.
   */
  moveCrossfader(position, seconds) {
    const from = this.crossfader;
    const { a, b } = this.decks;
    if (seconds > 0) {
      // A curve may not start where another event is: the held value's.
      const start = this.now + CURVE_START_DELAY_S;
      this.crossfade = { from, to: position, start, seconds };
      const curve = crossfadeCurve(from, position, CURVE_STEPS);
      cancel(a.crossfader.gain, this.now);
      cancel(b.crossfader.gain, this.now);
      a.crossfader.gain.setValueCurveAtTime(curve.a, start, seconds);
      b.crossfader.gain.setValueCurveAtTime(curve.b, start, seconds);
    } else {
      this.crossfade = { from, to: position, start: this.now, seconds };
      const gains = crossfadeGains(position);
      setSmoothly(a.crossfader.gain, gains.a, this.now);
      setSmoothly(b.crossfader.gain, gains.b, this.now);
    }
  }

  /** The headphones' balance: 0 = only the cue bus, 1 = only the programme. */
  setMonitorMix(position) {
    const { a: cue, b: programme } = crossfadeGains(position);
    setSmoothly(this.monitorCue.gain, cue, this.now);
    setSmoothly(this.monitorProgramme.gain, programme, this.now);
  }

  /** Talk-over: whether the music ducks while the microphone is open, and by how much. */
  setTalkover({ enabled = this.talkover.enabled, depthDb = this.talkover.depthDb }) {
    this.talkover = { enabled, depthDb };
    this.applyTalkover();
  }

  applyTalkover() {
    const talking = (this.mic.open && this.mic.live) || [...this.callers].some((c) => c.onAir);
    const ducked = this.talkover.enabled && talking;
    const target = duckTarget(ducked, this.talkover.depthDb);
    const seconds = ducked ? TALKOVER.attackS : TALKOVER.releaseS;
    cancel(this.ducking.gain, this.now);
    this.ducking.gain.setTargetAtTime(target, this.now, timeConstant(seconds));
  }

  /**
   * Sends the headphone mix to the output device ``deviceId`` ("" for the
   * default). False where the browser cannot choose (no setSinkId).
   */
  async setMonitorDevice(deviceId) {
    if (typeof this.context.setSinkId !== "function") return false;
    await this.context.setSinkId(deviceId);
    return true;
  }

  /** A strip for a caller, off air until moved; their voice comes with ``attach``. */
  addCaller() {
    const caller = new CallerChannel(this);
    this.callers.add(caller);
    return caller;
  }

  /** Peak levels, 0 to 1: each deck, the mic, the callers, the programme before the limiter, what goes on air. */
  levels() {
    return {
      a: peak(this.decks.a.analyser),
      b: peak(this.decks.b.analyser),
      mic: this.mic.live ? peak(this.mic.analyser) : 0,
      callers: Math.max(0, ...[...this.callers].map((caller) => peak(caller.analyser))),
      programme: peak(this.programmeAnalyser, { clamp: false }),
      output: peak(this.outputAnalyser),
    };
  }

  close() {
    this.mic.release();
    for (const caller of this.callers) caller.close();
    return this.context.close();
  }
}

/**
 * A caller's strip: their voice on air or to the headphones only, and the
 * mix they hear (``stream``), as ``callerRoutes`` says for the call's state.
 */
class CallerChannel {
  constructor(mixer) {
    const { context } = mixer;
    this.mixer = mixer;
    this.context = context;
    this.level = context.createGain();
    this.onAirSend = silentGain(context);
    this.headphonesSend = silentGain(context);
    this.analyser = analyser(context);
    this.level.connect(this.analyser);
    this.level.connect(this.onAirSend).connect(mixer.programme);
    this.level.connect(this.headphonesSend).connect(mixer.monitor);
    this.feed = context.createMediaStreamDestination();
    this.hearsMic = silentGain(context);
    this.hearsMusic = silentGain(context);
    mixer.mic.level.connect(this.hearsMic).connect(this.feed);
    mixer.ducking.connect(this.hearsMusic).connect(this.feed);
    this.source = null;
    this.element = null;
    this.state = "hold";
  }

  /** The caller's voice, a remote WebRTC stream. */
  attach(stream) {
    this.source?.disconnect();
    // Chromium feeds a remote WebRTC stream to Web Audio only while a
    // media element plays it too.
    this.element ??= new Audio();
    this.element.muted = true;
    this.element.srcObject = stream;
    this.element.play().catch(() => {});
    this.source = this.context.createMediaStreamSource(stream);
    this.source.connect(this.level);
  }

  /** What the caller hears. */
  get stream() {
    return this.feed.stream;
  }

  get onAir() {
    return this.state === "on_air";
  }

  /** The call's state ("private", "on_air", "hold") sets where the voice goes. */
  setState(state) {
    this.state = state;
    const routes = callerRoutes(state);
    const now = this.context.currentTime;
    setSmoothly(this.onAirSend.gain, routes.onAir, now);
    setSmoothly(this.headphonesSend.gain, routes.headphones, now);
    setSmoothly(this.hearsMic.gain, routes.hearsMic, now);
    setSmoothly(this.hearsMusic.gain, routes.hearsMusic, now);
    this.mixer.applyTalkover();
  }

  setLevel(value) {
    setSmoothly(this.level.gain, value, this.context.currentTime);
  }

  close() {
    this.source?.disconnect();
    this.level.disconnect();
    this.mixer.mic.level.disconnect(this.hearsMic);
    this.mixer.ducking.disconnect(this.hearsMusic);
    if (this.element) this.element.srcObject = null;
    this.mixer.callers.delete(this);
    this.mixer.applyTalkover();
  }
}

/** A deck's channel strip: EQ, level, crossfader side and cue send. */
class DeckChannel {
  constructor(mixer, side) {
    const { context } = mixer;
    this.context = context;
    this.eq = Object.fromEntries(EQ_BANDS.map((band) => [band.name, filter(context, band)]));
    this.level = context.createGain();
    this.crossfader = context.createGain();
    this.cueSend = context.createGain();
    this.cueSend.gain.value = 0;
    this.analyser = analyser(context);
    this.input = this.eq.low;
    this.eq.low.connect(this.eq.mid).connect(this.eq.high).connect(this.level);
    this.level.connect(this.analyser);
    this.level.connect(this.crossfader).connect(mixer.music);
    this.level.connect(this.cueSend).connect(mixer.cue);
    this.side = side;
    this.elements = new WeakSet();
  }

  /** Plays ``element`` (the deck's <audio>) through this strip; once per element. */
  attach(element) {
    if (this.elements.has(element)) return;
    this.context.createMediaElementSource(element).connect(this.input);
    this.elements.add(element);
  }

  /** 0 to 1.5, 1 = unchanged. */
  setLevel(value) {
    setSmoothly(this.level.gain, value, this.context.currentTime);
  }

  /** ``band`` "low", "mid" or "high", in decibels. */
  setEq(band, decibels) {
    setSmoothly(this.eq[band].gain, decibels, this.context.currentTime);
  }

  setCue(on) {
    setSmoothly(this.cueSend.gain, on ? 1 : 0, this.context.currentTime);
  }

  /** This deck's share of the programme: its level times its crossfader gain. */
  loudness(crossfader) {
    return this.level.gain.value * crossfadeGains(crossfader)[this.side];
  }
}

/** The microphone's strip: level, the on-air switch and a cue send. */
class MicChannel {
  constructor(mixer) {
    const { context } = mixer;
    this.mixer = mixer;
    this.context = context;
    this.level = context.createGain();
    this.gate = context.createGain();
    this.gate.gain.value = 0;
    this.cueSend = context.createGain();
    this.cueSend.gain.value = 0;
    this.analyser = analyser(context);
    this.level.connect(this.gate).connect(mixer.programme);
    this.level.connect(this.cueSend).connect(mixer.cue);
    this.source = null;
    this.stream = null;
    this.open = false;
  }

  /** A microphone is in use. */
  get live() {
    return this.stream !== null;
  }

  /**
   * Opens the microphone ``deviceId`` (or the default one) instead of the
   * previous one. Resolves to the device id in use.
   */
  async use(deviceId) {
    const audio = { ...MIC_CONSTRAINTS };
    if (deviceId) audio.deviceId = { exact: deviceId };
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    this.release();
    this.stream = stream;
    this.source = this.context.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
    this.source.connect(this.level);
    await this.context.resume();
    this.mixer.applyTalkover();
    const [track] = stream.getAudioTracks();
    return track ? track.getSettings().deviceId || "" : "";
  }

  release() {
    this.source?.disconnect();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.source = null;
    this.stream = null;
  }

  /** Puts the microphone on air (``open``) or takes it off; the music ducks meanwhile. */
  setOpen(open) {
    this.open = open;
    setSmoothly(this.gate.gain, open ? 1 : 0, this.context.currentTime);
    this.mixer.applyTalkover();
  }

  setLevel(value) {
    setSmoothly(this.level.gain, value, this.context.currentTime);
  }

  setCue(on) {
    setSmoothly(this.cueSend.gain, on ? 1 : 0, this.context.currentTime);
  }
}

function silentGain(context) {
  const node = context.createGain();
  node.gain.value = 0;
  return node;
}

function setSmoothly(param, value, now) {
  cancel(param, now);
  param.setTargetAtTime(value, now, SMOOTHING_S);
}

/** Drops what was scheduled from ``now`` on, holding the value reached. */
function cancel(param, now) {
  if (param.cancelAndHoldAtTime) {
    param.cancelAndHoldAtTime(now);
  } else {
    const reached = param.value;
    param.cancelScheduledValues(now);
    param.setValueAtTime(reached, now);
  }
}

function filter(context, { type, frequency, q }) {
  const node = context.createBiquadFilter();
  node.type = type;
  node.frequency.value = frequency;
  if (q) node.Q.value = q;
  node.gain.value = 0;
  return node;
}

/**
 * The limiter before the encoder: a hard compressor (without the gain it
 * adds by itself), then a clipper at LIMITER.ceiling for what its attack
 * lets through.
 */
function brickWall(context) {
  const compressor = context.createDynamicsCompressor();
  compressor.threshold.value = LIMITER.thresholdDb;
  compressor.knee.value = 0;
  compressor.ratio.value = LIMITER.ratio;
  compressor.attack.value = LIMITER.attackS;
  compressor.release.value = LIMITER.releaseS;
  const trim = context.createGain();
  trim.gain.value = decibelsToGain(-compressorMakeupDb(LIMITER));
  const clipper = context.createWaveShaper();
  clipper.curve = clipperCurve(LIMITER.ceiling, CLIPPER_POINTS);
  compressor.connect(trim).connect(clipper);
  return { input: compressor, output: clipper };
}

function analyser(context) {
  const node = context.createAnalyser();
  node.fftSize = METER_FFT_SIZE;
  node.samples = new Float32Array(node.fftSize);
  return node;
}

/** The highest sample size in the analyser's window; above 1 only with ``clamp`` false. */
function peak(node, { clamp = true } = {}) {
  node.getFloatTimeDomainData(node.samples);
  let highest = 0;
  for (const sample of node.samples) {
    const size = Math.abs(sample);
    if (size > highest) highest = size;
  }
  return clamp ? Math.min(highest, 1) : highest;
}

/** The audio devices of ``kind`` ("audioinput", "audiooutput"), as ``{deviceId, label}``; labels need permission first. */
export async function audioDevices(kind) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((device) => device.kind === kind)
    .map((device, index) => ({
      deviceId: device.deviceId,
      label: device.label || `${kind === "audioinput" ? "Microphone" : "Output"} ${index + 1}`,
    }));
}
