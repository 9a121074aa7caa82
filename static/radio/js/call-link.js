/**
 * One call's voice link between the caller's and the DJ's browsers: a
 * WebRTC peer connection, audio both ways. The server only passes the
 * signals (``call.signal``) between the two sockets; the audio goes
 * directly, as fast as the network allows.
 *
 * The caller offers, the DJ's console answers. Candidates are trickled;
 * any that come before the description they belong to wait for it.
 *
 * Events: "remote" (the other side's stream is here, ``link.remoteStream``)
 * and "state" (``link.state``: the peer connection's connectionState).
 */

export class CallLink extends EventTarget {
  /**
   * ``outgoing``: the MediaStream to send. ``send(signal)``: passes a
   * signal to the other side. ``iceServers``: from the server's ``call``
   * or ``calls`` message.
   */
  constructor({ outgoing, send, iceServers = [] }) {
    super();
    this.send = send;
    this.peer = new RTCPeerConnection({ iceServers });
    this.remoteStream = null;
    this.waitingCandidates = [];
    for (const track of outgoing.getAudioTracks()) this.peer.addTrack(track, outgoing);
    this.peer.addEventListener("icecandidate", ({ candidate }) => {
      this.send({ candidate: candidate ? candidate.toJSON() : null });
    });
    this.peer.addEventListener("track", ({ streams, track }) => {
      this.remoteStream = streams[0] ?? new MediaStream([track]);
      this.dispatchEvent(new Event("remote"));
    });
    this.peer.addEventListener("connectionstatechange", () => {
      this.dispatchEvent(new Event("state"));
    });
  }

  get state() {
    return this.peer.connectionState;
  }

  /** The caller's side: starts the call with an offer. */
  async offer() {
    await this.peer.setLocalDescription(await this.peer.createOffer());
    this.send({ description: this.peer.localDescription.toJSON() });
  }

  /** A signal from the other side: a description (answered if an offer) or a candidate. */
  async receive(signal) {
    if (signal.description) {
      await this.peer.setRemoteDescription(signal.description);
      if (signal.description.type === "offer") {
        await this.peer.setLocalDescription(await this.peer.createAnswer());
        this.send({ description: this.peer.localDescription.toJSON() });
      }
      const waiting = this.waitingCandidates.splice(0);
      for (const candidate of waiting) await this.addCandidate(candidate);
    } else if (this.peer.remoteDescription) {
      await this.addCandidate(signal.candidate);
    } else {
      this.waitingCandidates.push(signal.candidate);
    }
  }

  async addCandidate(candidate) {
    // null: the other side has no more candidates.
    await this.peer.addIceCandidate(candidate ?? undefined);
  }

  close() {
    this.peer.close();
    this.dispatchEvent(new Event("state"));
  }
}
