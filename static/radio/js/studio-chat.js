/**
 * The console's chat panel: the station's chat (chat.js), in which the DJ
 * writes on the broadcast socket (listeners see a DJ badge), with the DJ's
 * tools, Delete and Mute/Unmute on every message.
 */

import { ChatPanel } from "./chat.js";
import { TYPES } from "./protocol.js";

export class StudioChat {
  /**
   * ``me``: the DJ's username. ``request(message)``: sends a chat message or
   * a moderation request on the broadcast socket; false when not sent.
   */
  constructor(element, { me, request }) {
    this.element = element;
    this.request = request;
    // Users muted in this station, as far as this console has seen.
    this.muted = new Set();
    this.chat = new ChatPanel(element, {
      me,
      send: (text) => this.request({ type: TYPES.chat, text }),
      moderation: {
        delete: (id) => this.request({ type: TYPES.chatDelete, id }),
        mute: (user) => this.toggleMute(user),
      },
    });
  }

  /** Takes a message of the broadcast socket; true if it was the chat's. */
  handle(message) {
    if (this.chat.handle(message)) return true;
    if (message.type !== TYPES.chatMuted && message.type !== TYPES.chatUnmuted) return false;
    this.showMuted(message.user, message.type === TYPES.chatMuted);
    return true;
  }

  toggleMute(user) {
    const type = this.muted.has(user) ? TYPES.chatUnmute : TYPES.chatMute;
    this.request({ type, user });
  }

  showMuted(user, muted) {
    if (muted) this.muted.add(user);
    else this.muted.delete(user);
    this.chat.notice(muted ? `${user} is muted in this station.` : `${user} may chat again.`);
    const selector = `button[data-action="mute"][data-user="${CSS.escape(user)}"]`;
    for (const button of this.element.querySelectorAll(selector)) {
      button.textContent = muted ? "Unmute" : "Mute";
      button.setAttribute("aria-label", `${muted ? "Unmute" : "Mute"} ${user}`);
    }
  }

  notice(text, kind) {
    this.chat.notice(text, kind);
  }

  setConnected(connected) {
    this.chat.setConnected(connected);
  }
}
