/**
 * The console's now playing panel: announce a title and artist, at once
 * when live, else when the DJ goes live. The desk announces each track as
 * it becomes what listeners hear.
 */

import { finder, say } from "./dom.js";
import { TYPES } from "./protocol.js";
import { nowPlayingText } from "./studio-helpers.js";

export class NowPlayingPanel {
  /**
   * ``broadcast``: the console's Broadcast. ``send(message)``: sends on the
   * broadcast socket; false when it is not open.
   */
  constructor(root, { broadcast, send }) {
    this.find = finder(root);
    this.broadcast = broadcast;
    this.send = send;
    // Announced while off air: sent on going live.
    this.pending = null;
  }

  bind() {
    this.find("now-playing-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const title = this.find("np-title").value.trim();
      const artist = this.find("np-artist").value.trim();
      if (this.broadcast.live) {
        this.announce(title, artist);
      } else {
        this.pending = { title, artist };
        this.note("This will be announced when you go live.");
      }
    });
  }

  /**
   * Listeners now hear ``track`` (from a deck): announce it with the audio
   * it comes with, or keep it for going live.
   */
  announceTrack({ title, artist }) {
    this.find("np-title").value = title;
    this.find("np-artist").value = artist;
    if (this.broadcast.live) {
      this.broadcast.sendWithAudio({ type: TYPES.nowPlaying, title, artist });
      this.note("Announced with the deck's track.", "ok");
    } else {
      this.pending = { title, artist };
      this.note("From the deck: this will be announced when you go live.");
    }
  }

  /** The DJ is live: send what was announced while off air. */
  announcePending() {
    const pending = this.pending;
    this.pending = null;
    if (pending && (pending.title || pending.artist)) {
      this.announce(pending.title, pending.artist);
    }
  }

  announce(title, artist) {
    if (this.send({ type: TYPES.nowPlaying, title, artist })) {
      this.note("Announced.", "ok");
    } else {
      this.note("Not connected: try again in a moment.", "error");
    }
  }

  /** Shows the station's now playing (a message, a status, or null). */
  show(nowPlaying) {
    const shown = this.find("now-playing");
    const text = nowPlayingText(nowPlaying);
    shown.textContent = text || "Nothing announced.";
    shown.toggleAttribute("data-empty", !text);
  }

  note(text, kind = "") {
    say(this.find("np-note"), text, kind);
  }
}
