/**
 * The console's on-air panel: the state badge and its detail, Go live and
 * Stop. It shows the Broadcast's state (studio-broadcast.js), the socket's
 * losses, and whether the station is on air with another source.
 */

import { finder } from "./dom.js";
import { CLOSE } from "./protocol.js";
import { State } from "./studio-broadcast.js";

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
export const FATAL_CLOSES = {
  [CLOSE.signInRequired]: "You are signed out. Sign in again to use the studio.",
  [CLOSE.forbidden]: "You are not a DJ of this station.",
  [CLOSE.noSuchStation]: "This station no longer exists.",
};

export class OnAirPanel {
  /**
   * ``broadcast``: the console's Broadcast. ``prepare()``: resolves with the
   * stream to send once the sources are ready (it may ask for the microphone).
   */
  constructor(root, { broadcast, prepare }) {
    this.root = root;
    this.find = finder(root);
    this.broadcast = broadcast;
    this.prepare = prepare;
    // Whether the station is on air, from this console or another source.
    this.stationOnAir = false;
    this.stateText = "";
  }

  bind() {
    this.find("go-live").addEventListener("click", () => this.goLive());
    this.find("stop").addEventListener("click", () => this.broadcast.stop());
    this.broadcast.addEventListener("change", ({ detail }) => {
      // The station's own on_air false follows a stop; do not wait for it.
      if (detail.state === State.STOPPED) this.stationOnAir = false;
      this.showState(detail.state, detail.text);
    });
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
    let stream;
    try {
      stream = await this.prepare();
    } finally {
      button.disabled = false;
    }
    this.broadcast.stream = stream;
    this.broadcast.start();
  }

  /** The station went on or off air (``on_air``, status.json). */
  setStationOnAir(onAir) {
    this.stationOnAir = Boolean(onAir);
    this.showState(this.broadcast.state);
  }

  /** The broadcast socket's state (connection.js). */
  connectionState(state, detail) {
    if (state === "reconnecting" && this.broadcast.wanted) {
      const seconds = Math.max(1, Math.round(detail.delayMs / 1000));
      this.showState(State.LOST, `Connection lost. Retrying in ${seconds} s…`);
    } else if (state === "closed" && FATAL_CLOSES[detail.code]) {
      this.showState(State.FAILED, FATAL_CLOSES[detail.code]);
      this.find("go-live").disabled = true;
    }
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
}
