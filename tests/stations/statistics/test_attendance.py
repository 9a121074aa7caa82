"""Listening per span from sessions: buckets, peaks, averages, hours."""

from __future__ import annotations

import pytest

from stations.statistics.attendance import SessionTimes, attendance, buckets


def attend(sessions, spans):
    """``attendance`` of ``sessions`` given as (start, end) pairs."""
    return attendance(SessionTimes(sessions), spans)


def test_a_session_inside_one_span_counts_whole():
    """One session of 30 s within a 60 s span: 30 listening seconds, peak 1."""
    [result] = attend([(10, 40)], [(0, 60)])
    assert result.sessions == 1
    assert result.listening_seconds == 30
    assert result.peak == 1
    assert result.average == pytest.approx(0.5)


def test_a_session_crossing_spans_is_split_between_them():
    """A session from 50 to 130 gives 10, 60 and 10 s to three minute spans."""
    results = attend([(50, 130)], buckets(0, 180, 60))
    assert [r.listening_seconds for r in results] == [10, 60, 10]
    assert [r.sessions for r in results] == [1, 1, 1]
    assert [r.peak for r in results] == [1, 1, 1]


def test_sessions_outside_the_range_are_cut_at_its_edges():
    """Only the part of a session within the spans counts."""
    results = attend([(-100, 30), (90, 500)], [(0, 60), (60, 120)])
    assert [r.listening_seconds for r in results] == [30, 30]
    assert sum(r.listening_seconds for r in results) == 60


def test_peak_is_the_most_at_one_moment():
    """Three sessions, two of them overlapping: the peak is 2, not 3."""
    [result] = attend([(0, 10), (5, 20), (30, 40)], [(0, 60)])
    assert result.sessions == 3
    assert result.peak == 2
    assert result.listening_seconds == 10 + 15 + 10


def test_one_ending_as_another_starts_is_not_two_at_once():
    """A session ending at 10 and one starting at 10 never overlap."""
    [result] = attend([(10, 20), (0, 10)], [(0, 30)])
    assert result.peak == 1


def test_a_session_open_at_a_span_start_is_counted_there():
    """Sessions open when a span starts count in its sessions and peak."""
    first, second = attend([(0, 100), (50, 100)], [(0, 10), (60, 70)])
    assert (first.sessions, first.peak) == (1, 1)
    assert (second.sessions, second.peak) == (2, 2)
    assert second.listening_seconds == 20


def test_spans_with_gaps_skip_what_happens_between_them():
    """A session wholly in a gap between spans counts in neither."""
    results = attend([(20, 30)], [(0, 10), (40, 50)])
    assert [r.sessions for r in results] == [0, 0]
    assert [r.listening_seconds for r in results] == [0, 0]


def test_many_listeners_give_the_exact_hours():
    """Fifty sessions of known lengths add up exactly."""
    sessions = [(i * 7.0, i * 7.0 + 60 + i) for i in range(50)]
    expected = sum(end - start for start, end in sessions)
    results = attend(sessions, buckets(0, 1000, 300))
    assert sum(r.listening_seconds for r in results) == pytest.approx(expected)


def test_buckets_cover_the_range_and_the_last_may_be_short():
    assert buckets(0, 250, 100) == [(0, 100), (100, 200), (200, 250)]
    assert buckets(0, 0, 100) == []


def test_an_empty_span_has_no_average():
    [result] = attend([(0, 10)], [(5, 5)])
    assert result.average == 0.0


def test_overlapping_spans_are_each_counted_whole():
    """Spans may overlap (a show's occurrences, say): each gets all its own."""
    first, second = attend([(0, 100)], [(0, 60), (30, 90)])
    assert first.listening_seconds == second.listening_seconds == 60


def test_far_times_keep_exact_sums():
    """Unix times of today, a million seconds apart, add up to the second."""
    base = 1.8e9
    sessions = [(base + i * 1000.5, base + i * 1000.5 + 30.25) for i in range(1000)]
    [result] = attend(sessions, [(base, base + 2e6)])
    assert result.listening_seconds == pytest.approx(1000 * 30.25, abs=1e-6)
    assert result.sessions == 1000
    assert result.peak == 1
