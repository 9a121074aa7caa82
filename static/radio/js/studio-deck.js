/**
 * One deck of the console's desk: a playlist of the DJ's local files, the
 * transport (play/pause, previous, next, cue), a position bar with seek,
 * the elapsed and remaining time, a level and a 3-band EQ. The files are
 * decoded by the browser; nothing is uploaded.
 *
 * The deck plays through its channel of the mixer (studio-mixer.js) once
 * the desk has one. It dispatches:
 *   "track"  the loaded track changed (detail: the track or null)
 *   "state"  it started or stopped playing
 *   "time"   its position moved (about four times a second while playing)
 *   "ended"  its track played to the end; the desk decides what comes next
 */

import { el, finder } from "./dom.js";
import { formatDuration } from "./studio-helpers.js";
import { trackOfFile } from "./track-tags.js";

export class Deck extends EventTarget {
  /** ``root``: the deck's element (templates/stations/_deck.html); ``name``: "a" or "b". */
  constructor(root, name) {
    super();
    this.root = root;
    this.name = name;
    this.label = name.toUpperCase();
    this.find = finder(root);
    this.id = (part) => this.find(`deck-${name}-${part}`);
    this.element = new Audio();
    this.element.preload = "auto";
    this.playlist = [];
    this.index = -1;
    this.channel = null;
    this.settings = { level: 1, low: 0, mid: 0, high: 0, cue: false };
  }

  get track() {
    return this.playlist[this.index] ?? null;
  }

  get playing() {
    return !this.element.paused && !this.element.ended && this.track !== null;
  }

  get position() {
    return this.element.currentTime || 0;
  }

  get duration() {
    return this.element.duration;
  }

  /** The track has not been played yet from its start. */
  get fresh() {
    return this.track !== null && this.position === 0 && !this.element.ended;
  }

  bind() {
    this.id("files").addEventListener("change", (event) => {
      this.add([...event.target.files]);
      event.target.value = "";
    });
    this.root.addEventListener("dragover", (event) => {
      event.preventDefault();
      this.root.dataset.dropping = "yes";
    });
    this.root.addEventListener("dragleave", () => delete this.root.dataset.dropping);
    this.root.addEventListener("drop", (event) => {
      event.preventDefault();
      delete this.root.dataset.dropping;
      // Some systems give no type for audio files (FLAC, say): those are
      // tried too, and say so if the browser cannot play them.
      const files = [...event.dataTransfer.files].filter(
        (file) => file.type === "" || file.type.startsWith("audio/"),
      );
      if (files.length) this.add(files);
      else this.say("Only audio files can go on a deck.");
    });
    this.id("play").addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.id("previous").addEventListener("click", () => this.step(-1));
    this.id("next").addEventListener("click", () => this.step(1));
    this.id("cue").addEventListener("click", () => this.setCue(!this.settings.cue));
    const position = this.id("position");
    position.addEventListener("input", () => this.seek(Number(position.value)));
    this.id("level").addEventListener("input", (event) =>
      this.setLevel(Number(event.target.value)),
    );
    for (const band of ["low", "mid", "high"]) {
      this.id(band).addEventListener("input", (event) =>
        this.setEq(band, Number(event.target.value)),
      );
    }
    this.bindElement();
  }

  bindElement() {
    const element = this.element;
    element.addEventListener("play", () => this.changed("state"));
    element.addEventListener("pause", () => this.changed("state"));
    element.addEventListener("timeupdate", () => this.changed("time"));
    element.addEventListener("durationchange", () => this.changed("time"));
    element.addEventListener("ended", () => {
      this.changed("state");
      this.dispatchEvent(new Event("ended"));
    });
    element.addEventListener("error", () => {
      if (!this.track) return;
      this.track.broken = true;
      this.showPlaylist();
      this.say(`${this.track.title} cannot be played by this browser.`);
    });
  }

  /** Plays through ``channel`` of the mixer from now on. */
  connect(channel) {
    this.channel = channel;
    channel.attach(this.element);
    channel.setLevel(this.settings.level);
    for (const band of ["low", "mid", "high"]) channel.setEq(band, this.settings[band]);
    channel.setCue(this.settings.cue);
  }

  /** Adds ``files`` to the playlist; the first loads when the deck was empty. */
  async add(files) {
    const tracks = await Promise.all(
      files.map(async (file) => ({ file, ...(await trackOfFile(file)), broken: false })),
    );
    this.playlist.push(...tracks);
    if (this.index < 0 && this.playlist.length) this.load(0);
    this.showPlaylist();
    this.dispatchEvent(new Event("added"));
  }

  remove(index) {
    if (index === this.index) return;
    this.playlist.splice(index, 1);
    if (index < this.index) this.index -= 1;
    this.showPlaylist();
  }

  /** Loads track ``index``, stopped at its start. */
  load(index) {
    const track = this.playlist[index];
    if (!track) return false;
    if (this.element.src) URL.revokeObjectURL(this.element.src);
    this.index = index;
    this.element.src = URL.createObjectURL(track.file);
    this.say("");
    this.showTrack();
    this.showPlaylist();
    this.dispatchEvent(new CustomEvent("track", { detail: track }));
    return true;
  }

  async play() {
    if (this.index < 0 && !this.load(0)) {
      this.say("Add tracks first: pick files or drop them here.");
      return;
    }
    this.dispatchEvent(new Event("wants-audio"));
    try {
      await this.element.play();
    } catch (error) {
      if (error.name !== "AbortError") this.say(`The track could not start (${error.name}).`);
    }
  }

  pause() {
    this.element.pause();
  }

  /** Loads the next track of the playlist, if any, and plays it when ``play``. */
  advance({ play }) {
    if (!this.load(this.index + 1)) return false;
    if (play) this.play();
    return true;
  }

  /** Previous or next track; playing on if the deck was playing. */
  step(by) {
    const playing = this.playing;
    if (this.load(this.index + by) && playing) this.play();
  }

  seek(seconds) {
    if (Number.isFinite(this.duration)) this.element.currentTime = Math.min(seconds, this.duration);
  }

  setLevel(value) {
    this.settings.level = value;
    this.channel?.setLevel(value);
    this.id("level-value").textContent = `${Math.round(value * 100)}%`;
    this.changed("time");
  }

  setEq(band, decibels) {
    this.settings[band] = decibels;
    this.channel?.setEq(band, decibels);
    this.id(`${band}-value`).textContent = `${decibels > 0 ? "+" : ""}${decibels} dB`;
  }

  setCue(on) {
    this.settings.cue = on;
    this.channel?.setCue(on);
    this.id("cue").setAttribute("aria-pressed", String(on));
  }

  changed(kind) {
    if (kind === "state") this.showState();
    this.showTime();
    this.dispatchEvent(new Event(kind));
  }

  showTrack() {
    const track = this.track;
    this.id("title").textContent = track ? track.title : "No track loaded.";
    this.id("artist").textContent = track?.artist ?? "";
  }

  showState() {
    const play = this.id("play");
    play.textContent = this.playing ? "Pause" : "Play";
    play.setAttribute("aria-label", `${this.playing ? "Pause" : "Play"} deck ${this.label}`);
    this.root.dataset.state = this.playing ? "playing" : this.track ? "loaded" : "empty";
  }

  showTime() {
    const position = this.id("position");
    const duration = Number.isFinite(this.duration) ? this.duration : 0;
    position.max = String(duration);
    position.value = String(this.position);
    position.setAttribute(
      "aria-valuetext",
      `${formatDuration(this.position * 1000)} of ${formatDuration(duration * 1000)}`,
    );
    this.id("elapsed").textContent = formatDuration(this.position * 1000) || "0:00";
    this.id("remaining").textContent =
      `-${formatDuration((duration - this.position) * 1000) || "0:00"}`;
  }

  showPlaylist() {
    const items = this.playlist.map((track, index) =>
      el(
        "li",
        {
          dataset: { current: String(index === this.index), broken: String(track.broken) },
          "aria-current": index === this.index ? "true" : null,
        },
        el(
          "button",
          {
            type: "button",
            class: "deck-track-button",
            "aria-label": `Load ${track.title} on deck ${this.label}`,
            onclick: () => this.load(index),
          },
          el("span", { class: "track-title" }, track.title),
          track.artist ? el("span", { class: "track-artist" }, track.artist) : null,
        ),
        el(
          "button",
          {
            type: "button",
            class: "link-button",
            "aria-label": `Remove ${track.title} from deck ${this.label}`,
            disabled: index === this.index,
            onclick: () => this.remove(index),
          },
          "✕",
        ),
      ),
    );
    this.id("playlist").replaceChildren(...items);
    this.id("empty").hidden = items.length > 0;
    this.showState();
  }

  say(text) {
    this.id("note").textContent = text;
  }
}
