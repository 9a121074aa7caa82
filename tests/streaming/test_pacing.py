"""How far ahead of real time a DJ's audio may run."""

from __future__ import annotations

from stations.streaming.pacing import AudioPace


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_real_time_audio_never_runs_out():
    """An hour of 100 ms packets, one every 100 ms, is always allowed."""
    clock = Clock()
    pace = AudioPace(head_start_s=2.0, max_speed=2.0, clock=clock)
    for _ in range(36_000):
        clock.now += 0.1
        assert pace.allows(100)


def test_a_backlog_within_the_head_start_is_allowed():
    clock = Clock()
    pace = AudioPace(head_start_s=2.0, max_speed=2.0, clock=clock)
    assert all(pace.allows(100) for _ in range(20))


def test_a_flood_overdraws_the_budget():
    """Two minutes at once: allowed up to the head start, then refused."""
    clock = Clock()
    pace = AudioPace(head_start_s=2.0, max_speed=2.0, clock=clock)
    allowed = [pace.allows(100) for _ in range(1200)]
    assert allowed.index(False) == 20


def test_the_head_start_comes_back_at_max_speed_and_no_further():
    clock = Clock()
    pace = AudioPace(head_start_s=2.0, max_speed=2.0, clock=clock)
    assert pace.allows(2000)
    clock.now += 0.5
    assert pace.allows(1000)
    assert not pace.allows(100)
    clock.now += 3600
    assert pace.allows(2000)
    assert not pace.allows(100)
