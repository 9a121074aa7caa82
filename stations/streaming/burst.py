"""The most recent audio of a station, replayed to listeners who join."""

from collections import deque

from .packets import AudioPacket


class BurstBuffer:
    """Keeps at least ``seconds`` of the newest packets, and not much more."""

    def __init__(self, seconds: float) -> None:
        self._keep_ms = seconds * 1000
        self._packets: deque[AudioPacket] = deque()
        self._duration_ms = 0.0

    def append(self, packet: AudioPacket) -> None:
        self._packets.append(packet)
        self._duration_ms += packet.duration_ms
        while self._duration_ms - self._packets[0].duration_ms >= self._keep_ms:
            self._duration_ms -= self._packets.popleft().duration_ms

    def clear(self) -> None:
        self._packets.clear()
        self._duration_ms = 0.0

    def snapshot(self) -> list[AudioPacket]:
        return list(self._packets)
