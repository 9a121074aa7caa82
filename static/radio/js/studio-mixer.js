// The DJ's mix: the microphone and a local file, each with its own level,
// summed into one MediaStream that the recorder sends on air.
//
//   microphone ─▶ mic gain ──┐
//                            ├─▶ bus ─▶ MediaStreamAudioDestinationNode (on air)
//   <audio> file ─▶ file gain┘      └─▶ output analyser (meter)
//                       └─▶ speakers (the DJ hears the file; never the mic)

// Browser voice processing colours music; a DJ wants the signal as it is.
const MIC_CONSTRAINTS = {
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
};
// Samples the meters look at per frame.
const METER_FFT_SIZE = 1024;

export class Mixer {
  /** Must be built from a user gesture, or the AudioContext starts suspended. */
  constructor() {
    const context = new AudioContext();
    this.context = context;
    this.bus = context.createGain();
    this.output = context.createMediaStreamDestination();
    this.bus.connect(this.output);
    this.outputAnalyser = analyser(context);
    this.bus.connect(this.outputAnalyser);

    this.micGain = context.createGain();
    this.micGain.connect(this.bus);
    this.micAnalyser = analyser(context);
    this.micSource = null;
    this.micStream = null;

    this.fileGain = context.createGain();
    this.fileGain.connect(this.bus);
    this.fileGain.connect(context.destination);
    this.fileElements = new WeakSet();
  }

  /** The mixed audio, what goes on air. */
  get stream() {
    return this.output.stream;
  }

  /**
   * Open the microphone ``deviceId`` (or the default one) and put it in the
   * mix instead of the previous one. Resolves to the device id in use.
   */
  async useMicrophone(deviceId) {
    const audio = { ...MIC_CONSTRAINTS };
    if (deviceId) audio.deviceId = { exact: deviceId };
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    this.releaseMicrophone();
    this.micStream = stream;
    this.micSource = this.context.createMediaStreamSource(stream);
    this.micSource.connect(this.micAnalyser);
    this.micSource.connect(this.micGain);
    await this.context.resume();
    const [track] = stream.getAudioTracks();
    return track ? track.getSettings().deviceId || "" : "";
  }

  releaseMicrophone() {
    if (this.micSource) this.micSource.disconnect();
    if (this.micStream) {
      for (const track of this.micStream.getTracks()) track.stop();
    }
    this.micSource = null;
    this.micStream = null;
  }

  /** Route an <audio> element into the mix (once per element). */
  addFile(element) {
    if (this.fileElements.has(element)) return;
    this.context.createMediaElementSource(element).connect(this.fileGain);
    this.fileElements.add(element);
  }

  /** Set the level of ``"mic"`` or ``"file"``, 0 to 1.5 (1 = unchanged). */
  setLevel(source, value) {
    const gain = source === "mic" ? this.micGain : this.fileGain;
    gain.gain.setTargetAtTime(value, this.context.currentTime, 0.02);
  }

  /** Peak levels, 0 to 1, of the microphone and of the output. */
  levels() {
    return {
      mic: this.micSource ? peak(this.micAnalyser) : 0,
      output: peak(this.outputAnalyser),
    };
  }

  close() {
    this.releaseMicrophone();
    return this.context.close();
  }
}

function analyser(context) {
  const node = context.createAnalyser();
  node.fftSize = METER_FFT_SIZE;
  node.samples = new Float32Array(node.fftSize);
  return node;
}

function peak(node) {
  node.getFloatTimeDomainData(node.samples);
  let highest = 0;
  for (const sample of node.samples) {
    const size = Math.abs(sample);
    if (size > highest) highest = size;
  }
  return Math.min(highest, 1);
}

/** The audio inputs, as ``{deviceId, label}``; labels need permission first. */
export async function microphones() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((device) => device.kind === "audioinput")
    .map((device, index) => ({
      deviceId: device.deviceId,
      label: device.label || `Microphone ${index + 1}`,
    }));
}
