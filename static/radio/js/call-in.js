/**
 * Calling in from the listener page: a signed-in listener raises a hand
 * (``call.request`` on the room socket), waits in the DJ's queue, and once
 * the DJ answers talks to them over a voice link (call-link.js).
 *
 * The microphone is opened when the listener presses "Call in" (so a
 * refusal shows at once) but nothing is sent before the DJ answers. While
 * the call is answered the station's stream stops: the caller hears the DJ
 * directly, never the broadcast, a second late, with their own voice in it.
 */

import { CallLink } from "./call-link.js";
import { clockTime, finder, microphoneProblem, say } from "./dom.js";
import { TYPES } from "./protocol.js";

// A caller's microphone is a voice on a laptop or phone: the browser's
// echo cancellation keeps the DJ's voice from their speakers off the line.
const CALLER_MIC = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const STATUS = {
  waiting: "Waiting for the DJ to answer…",
  private: "The DJ answered: you are talking off air.",
  on_air: "You are on air.",
  hold: "On hold: the DJ will be back with you.",
};
const ENDINGS = {
  caller: "You hung up.",
  dj: "The DJ ended the call. Thanks for calling!",
  declined: "The DJ could not take your call this time.",
  blocked: "The DJ could not take your call this time.",
  time_limit: "The call reached its time limit.",
  dropped: "The call dropped.",
  replaced: "You called again from another page.",
};

export class CallIn {
  /**
   * ``send(message)``: sends on the room socket; false when not open.
   * ``station``: { stop(), play(), playing } for the station's stream.
   */
  constructor(root, { send, station }) {
    this.root = root;
    this.find = finder(root);
    this.send = send;
    this.station = station;
    this.call = null;
    this.mic = null;
    this.link = null;
    this.stationWasPlaying = false;
  }

  bind() {
    this.find("call-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start(this.find("call-text").value.trim());
    });
    this.find("hang-up").addEventListener("click", () => this.hangUp());
    setInterval(() => this.showTimeLeft(), 1000);
  }

  async start(text) {
    this.note("");
    if (!navigator.mediaDevices?.getUserMedia) {
      this.note("Calling needs a microphone, and this page served over HTTPS.");
      return;
    }
    try {
      this.mic ??= await navigator.mediaDevices.getUserMedia({ audio: CALLER_MIC });
    } catch (error) {
      this.note(microphoneProblem(error));
      return;
    }
    if (!this.send({ type: TYPES.callRequest, text })) {
      this.note("Not connected: try again in a moment.");
      this.releaseMic();
    }
  }

  hangUp() {
    if (this.call) this.send({ type: TYPES.callHangup, id: this.call.id });
  }

  /** Takes a message of the room socket; true if it was about the call. */
  handle(message) {
    if (message.type === TYPES.call) {
      this.update(message);
      return true;
    }
    if (message.type === TYPES.callSignal) {
      if (this.link && message.id === this.call?.id) {
        this.link.receive(message.signal).catch((error) => {
          this.note(`The call could not connect (${error.name}).`);
        });
      }
      return true;
    }
    if (message.type === TYPES.error && this.call === null && this.mic) {
      // The request was refused (call-ins off, blocked, lines busy).
      this.note(message.message);
      this.releaseMic();
      return true;
    }
    return false;
  }

  update(call) {
    if (call.state === "ended") {
      if (call.id === this.call?.id) this.finish(ENDINGS[call.reason] ?? "The call ended.");
      return;
    }
    this.call = call;
    this.root.dataset.state = call.state;
    this.find("call-form").hidden = true;
    this.find("call-status-box").hidden = false;
    this.find("call-status").textContent = STATUS[call.state] ?? "";
    this.showTimeLeft();
    if (call.state !== "waiting" && !this.link) this.connect(call);
  }

  /** The DJ answered: the station's stream stops, and the voice link opens. */
  connect(call) {
    this.stationWasPlaying = this.station.playing;
    this.station.stop();
    this.link = new CallLink({
      outgoing: this.mic,
      iceServers: call.ice_servers,
      send: (signal) => this.send({ type: TYPES.callSignal, id: call.id, signal }),
    });
    this.link.addEventListener("remote", () => {
      const audio = this.find("call-audio");
      audio.srcObject = this.link.remoteStream;
      audio.play().catch(() => {});
    });
    this.link.addEventListener("state", () => {
      this.root.dataset.link = this.link?.state ?? "closed";
    });
    this.link.offer().catch((error) => this.note(`The call could not start (${error.name}).`));
  }

  /** The socket closed: the server ended the call. */
  connectionLost() {
    if (this.call) this.finish(ENDINGS.dropped);
  }

  finish(text) {
    this.link?.close();
    this.link = null;
    this.call = null;
    this.releaseMic();
    this.find("call-audio").srcObject = null;
    this.root.dataset.state = "ended";
    this.find("call-form").hidden = false;
    this.find("call-status-box").hidden = true;
    this.note(text, "ok");
    if (this.stationWasPlaying) this.station.play();
    this.stationWasPlaying = false;
  }

  releaseMic() {
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    this.mic = null;
  }

  showTimeLeft() {
    const endsAt = this.call?.ends_at;
    this.find("call-time").textContent = endsAt
      ? `${clockTime(Date.parse(endsAt) - Date.now())} left`
      : "";
  }

  note(text, kind = "error") {
    say(this.find("call-note"), text, kind);
  }
}
