/**
 * The console's callers panel: the station's queue of calls (``calls``
 * messages on the broadcast socket), and the calls this console answered.
 *
 * Answering a call opens a strip for the caller on the desk
 * (studio-mixer.js, CallerChannel) and a voice link to their browser
 * (call-link.js): the caller sends an offer once the server tells them
 * the call is answered. The call's state (talking privately, on air, on
 * hold) sets where their voice goes. When a caller goes on air,
 * ``onCallerOnAir(name)`` is called; ``onCallerOffAir()`` when none is.
 */

import { CallLink } from "./call-link.js";
import { clockTime, el, finder, say } from "./dom.js";
import { TYPES } from "./protocol.js";

// Every second the waiting and remaining times are shown again.
const TICK_MS = 1000;
const STATE_LABELS = {
  waiting: "Waiting",
  private: "Talking off air",
  on_air: "On air",
  hold: "On hold",
};

export class CallsPanel {
  /**
   * ``me``: the DJ's username. ``request(message)``: sends on the broadcast
   * socket. ``mixer()``: the desk's mixer, built if need be.
   */
  constructor(root, { me, request, mixer, onCallerOnAir, onCallerOffAir }) {
    this.root = root;
    this.find = finder(root);
    this.me = me;
    this.request = request;
    this.mixer = mixer;
    this.onCallerOnAir = onCallerOnAir;
    this.onCallerOffAir = onCallerOffAir;
    this.queue = { enabled: false, paused: false, calls: [], ice_servers: [] };
    // The calls this console answered: id -> { channel, link }.
    this.lines = new Map();
    this.onAirCaller = null;
  }

  bind() {
    this.find("calls-pause").addEventListener("click", () => {
      this.request({ type: TYPES.callsPause, paused: !this.queue.paused });
    });
    setInterval(() => this.showTimes(), TICK_MS);
  }

  /** Takes a message of the broadcast socket; true if it was the calls'. */
  handle(message) {
    if (message.type === TYPES.calls) {
      this.queue = message;
      this.followQueue();
      this.render();
      return true;
    }
    if (message.type === TYPES.callSignal) {
      this.signal(message.id, message.signal);
      return true;
    }
    return false;
  }

  note(text, kind = "error") {
    say(this.find("calls-note"), text, kind);
  }

  // --- The calls this console answered --------------------------------------

  answer(id) {
    if (!this.request({ type: TYPES.callAccept, id })) return;
    this.lines.set(id, { channel: this.mixer().addCaller(), link: null });
  }

  /** A signal of one of this console's calls: the caller's offer opens the voice link. */
  async signal(id, signal) {
    const line = this.lines.get(id);
    if (!line) return;
    if (!line.link) {
      line.link = new CallLink({
        outgoing: line.channel.stream,
        iceServers: this.queue.ice_servers,
        send: (out) => this.request({ type: TYPES.callSignal, id, signal: out }),
      });
      line.link.addEventListener("remote", () => line.channel.attach(line.link.remoteStream));
      line.link.addEventListener("state", () => this.showLinkState(id, line.link.state));
    }
    try {
      await line.link.receive(signal);
    } catch (error) {
      this.note(`The call could not connect (${error.name}).`);
    }
  }

  /** The queue says where this console's calls stand: each strip follows, ended ones close. */
  followQueue() {
    const open = new Map(this.queue.calls.map((call) => [call.id, call]));
    for (const [id, line] of this.lines) {
      const call = open.get(id);
      const ours = call && (call.state === "waiting" || call.answered_by === this.me);
      if (!ours) {
        this.hangUpLine(id, line);
      } else if (call.state !== "waiting") {
        line.channel.setState(call.state);
      }
    }
    const onAir = this.queue.calls.find(
      (call) => call.state === "on_air" && this.lines.has(call.id),
    );
    if (onAir?.user !== this.onAirCaller) {
      this.onAirCaller = onAir?.user ?? null;
      if (this.onAirCaller) this.onCallerOnAir(this.onAirCaller);
      else this.onCallerOffAir();
    }
  }

  hangUpLine(id, line) {
    line.link?.close();
    line.channel.close();
    this.lines.delete(id);
  }

  showLinkState(id, state) {
    const row = this.find("calls-list").querySelector(`[data-call-id="${id}"]`);
    if (row) row.dataset.link = state;
    if (state === "failed") {
      this.note("The voice link to the caller failed; hang up and take the call again.");
    }
  }

  // --- Showing the queue ------------------------------------------------------

  render() {
    const { enabled, paused, calls } = this.queue;
    this.root.dataset.calls = enabled ? (paused ? "paused" : "open") : "off";
    const pause = this.find("calls-pause");
    pause.hidden = !enabled;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Take calls again" : "Pause calls";
    this.find("calls-status").textContent = !enabled
      ? "Call-ins are off for this station (its settings turn them on)."
      : paused
        ? "Paused: listeners cannot call now."
        : calls.length
          ? ""
          : "No callers. Listeners call from the station page.";
    this.find("calls-list").replaceChildren(...calls.map((call) => this.row(call)));
    this.showTimes();
  }

  row(call) {
    const mine = this.lines.has(call.id);
    const action = (label, type, extra = {}) =>
      el(
        "button",
        {
          type: "button",
          class: "button button-small",
          dataset: { action: type },
          "aria-label": `${label}: ${call.user}`,
          onclick: () => this.act(call, type),
          ...extra,
        },
        label,
      );
    const buttons = [];
    if (call.state === "waiting") {
      buttons.push(action("Answer", TYPES.callAccept), action("Decline", TYPES.callHangup));
    } else if (mine) {
      if (call.state !== "on_air") buttons.push(action("Put on air", TYPES.callAir));
      if (call.state !== "private") buttons.push(action("Talk off air", TYPES.callPrivate));
      if (call.state !== "hold") buttons.push(action("Hold", TYPES.callHold));
      buttons.push(action("Hang up", TYPES.callHangup));
    }
    if (call.state === "waiting" || mine) buttons.push(action("Block", TYPES.callBlock));
    return el(
      "li",
      { class: "call", dataset: { callId: call.id, state: call.state, mine: String(mine) } },
      el(
        "p",
        { class: "call-who" },
        el("strong", { class: "call-user" }, call.user),
        " ",
        el("span", { class: "call-state" }, STATE_LABELS[call.state] ?? call.state),
        mine || call.state === "waiting" ? null : ` (answered by ${call.answered_by})`,
        " ",
        el("span", { class: "call-time muted", dataset: { since: call.requested_at } }),
      ),
      call.text ? el("p", { class: "call-text" }, call.text) : null,
      el("div", { class: "call-actions" }, buttons),
    );
  }

  act(call, type) {
    this.note("", "");
    if (type === TYPES.callAccept) this.answer(call.id);
    else if (type !== TYPES.callBlock || confirm(`Block ${call.user} from calling again?`)) {
      this.request({ type, id: call.id });
    }
  }

  /** "waiting 1:05" for waiting calls, "3:20 left" for answered ones. */
  showTimes() {
    const now = Date.now();
    for (const row of this.find("calls-list").children) {
      const call = this.queue.calls.find((c) => String(c.id) === row.dataset.callId);
      if (!call) continue;
      const time = row.querySelector(".call-time");
      time.textContent = call.ends_at
        ? `${clockTime(Date.parse(call.ends_at) - now)} left`
        : `waiting ${clockTime(now - Date.parse(call.requested_at))}`;
    }
  }
}
