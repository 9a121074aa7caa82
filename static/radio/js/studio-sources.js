/**
 * The console's sources panel: the microphone and its inputs, a local
 * file, their levels and the meters. The mix itself is studio-mixer.js.
 */

import { finder } from "./dom.js";
import { meterLevel } from "./studio-helpers.js";
import { Mixer, microphones } from "./studio-mixer.js";

export class SourcesPanel {
  /** ``onFilePlay(fileName)``: a newly loaded file plays for the first time. */
  constructor(root, { onFilePlay }) {
    this.find = finder(root);
    this.onFilePlay = onFilePlay;
    this.mixer = null;
  }

  /** The mix to send on air, with the microphone on (asked for if need be). */
  async prepare() {
    this.ensureMixer();
    this.mixer.context.resume();
    if (!this.mixer.micStream) await this.enableMicrophone();
    return this.mixer.stream;
  }

  /** Builds the mixer on first use: it must come from a user gesture. */
  ensureMixer() {
    if (this.mixer) return;
    this.mixer = new Mixer();
    this.mixer.setLevel("mic", Number(this.find("mic-level").value));
    this.mixer.setLevel("file", Number(this.find("file-level").value));
    this.mixer.addFile(this.find("file-player"));
    const tick = () => {
      const levels = this.mixer.levels();
      showLevel(this.find("mic-meter"), levels.mic);
      showLevel(this.find("output-meter"), levels.output);
      requestAnimationFrame(tick);
    };
    tick();
  }

  bind() {
    const select = this.find("mic-select");
    this.find("mic-enable").addEventListener("click", () => this.enableMicrophone());
    select.addEventListener("change", () => this.enableMicrophone(select.value));
    navigator.mediaDevices?.addEventListener("devicechange", () => {
      if (this.mixer?.micStream) this.listMicrophones();
    });
    for (const source of ["mic", "file"]) {
      const slider = this.find(`${source}-level`);
      const output = this.find(`${source}-level-value`);
      slider.addEventListener("input", () => {
        const value = Number(slider.value);
        output.textContent = `${Math.round(value * 100)}%`;
        this.mixer?.setLevel(source, value);
      });
    }
    const player = this.find("file-player");
    this.find("file-input").addEventListener("change", (event) => {
      const [file] = event.target.files;
      if (file) this.loadFile(file);
    });
    player.addEventListener("play", () => {
      this.ensureMixer();
      this.mixer.context.resume();
      // Once per file: a pause and play must not undo the DJ's own typing.
      if (player.dataset.prefilled !== "yes") this.onFilePlay(player.dataset.fileName);
      player.dataset.prefilled = "yes";
    });
    player.addEventListener("error", () => {
      this.find("file-name").textContent = "This file cannot be played by the browser.";
    });
  }

  async enableMicrophone(deviceId = "") {
    this.ensureMixer();
    const note = this.find("mic-note");
    if (!navigator.mediaDevices?.getUserMedia) {
      note.textContent = "This page needs HTTPS to use a microphone.";
      note.dataset.kind = "error";
      return;
    }
    try {
      const inUse = await this.mixer.useMicrophone(deviceId);
      await this.listMicrophones(inUse);
      note.textContent = "";
      const enable = this.find("mic-enable");
      const hadFocus = document.activeElement === enable;
      enable.hidden = true;
      if (hadFocus) this.find("mic-select").focus();
    } catch (error) {
      note.dataset.kind = "error";
      note.textContent =
        error.name === "NotAllowedError"
          ? "The browser was not allowed to use the microphone. Allow it in the address bar."
          : `The microphone could not be opened (${error.name}).`;
    }
  }

  async listMicrophones(selected = this.find("mic-select").value) {
    const select = this.find("mic-select");
    const options = (await microphones()).map(({ deviceId, label }) => {
      const option = document.createElement("option");
      option.value = deviceId;
      option.textContent = label;
      return option;
    });
    select.replaceChildren(...options);
    if (selected && options.some((option) => option.value === selected)) {
      select.value = selected;
    }
    select.disabled = options.length === 0;
  }

  loadFile(file) {
    this.ensureMixer();
    const player = this.find("file-player");
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(file);
    player.dataset.fileName = file.name;
    player.dataset.prefilled = "no";
    this.find("file-name").textContent = file.name;
  }
}

function showLevel(meter, level) {
  const shown = meterLevel(level, Number(meter.dataset.shown || 0));
  meter.dataset.shown = shown.toFixed(3);
  meter.style.setProperty("--level", shown.toFixed(3));
  // The peak itself, 0 to 1, for whoever wants a number (the tests do).
  meter.dataset.level = level.toFixed(3);
}
