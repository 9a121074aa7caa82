"""What the AutoDJ plays next: playlist order, or a shuffle bag."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from django.db import connection

from stations.library.services import (
    library_reorder,
    library_settings_update,
    next_track,
    track_delete,
)

from .conftest import make_track

pytestmark = pytest.mark.django_db(transaction=True)


def titles(station, count: int) -> list[str]:
    return [next_track(station.pk).title for _ in range(count)]


def test_empty_library_has_no_next_track(station):
    assert next_track(station.pk) is None


def test_unknown_station_has_no_next_track(transactional_db):
    assert next_track(12345) is None


def test_playlist_plays_in_order_and_wraps(station):
    for position, title in enumerate(["a", "b", "c"]):
        make_track(station, title, position)
    assert titles(station, 7) == ["a", "b", "c", "a", "b", "c", "a"]


def test_playlist_continues_after_the_last_track_when_reordered(station):
    """Reordering moves the cursor with the track that played last."""
    a, b, c = (make_track(station, title, n) for n, title in enumerate("abc"))
    assert titles(station, 1) == ["a"]
    library_reorder(station=station, track_ids=[c.pk, a.pk, b.pk])
    assert titles(station, 3) == ["b", "c", "a"]


def test_playlist_goes_on_past_a_deleted_track(station):
    """The last track's place is kept when the track itself is gone."""
    tracks = [make_track(station, title, n) for n, title in enumerate("abc")]
    assert titles(station, 2) == ["a", "b"]
    track_delete(track=tracks[1])
    assert titles(station, 2) == ["c", "a"]


def test_new_tracks_join_the_end_of_the_playlist(station):
    make_track(station, "a", 0)
    assert titles(station, 2) == ["a", "a"]
    make_track(station, "b", 1)
    assert titles(station, 2) == ["b", "a"]


def test_shuffle_plays_every_track_once_before_any_repeats(station):
    """Every round is the whole library in some order, never one track twice
    in a row, even where rounds meet."""
    library_settings_update(station=station, shuffle=True)
    library = {f"t{n}" for n in range(5)}
    for title in library:
        make_track(station, title)
    played = titles(station, 5 * 6)
    rounds = [played[start : start + 5] for start in range(0, len(played), 5)]
    assert all(set(one_round) == library for one_round in rounds)
    assert all(this != after for this, after in pairwise(played))


def test_shuffle_plays_a_track_added_mid_round_in_that_round(station):
    library_settings_update(station=station, shuffle=True)
    for title in "abc":
        make_track(station, title)
    first = titles(station, 2)
    make_track(station, "new")
    rest = titles(station, 2)
    assert set(first + rest) == {"a", "b", "c", "new"}


def test_shuffle_of_one_track_plays_it_again(station):
    library_settings_update(station=station, shuffle=True)
    make_track(station, "only")
    assert titles(station, 3) == ["only"] * 3


def test_switching_to_shuffle_and_back_keeps_going(station):
    """The playlist resumes after whatever the shuffle played last."""
    for position, title in enumerate("abcd"):
        make_track(station, title, position)
    assert titles(station, 1) == ["a"]
    library_settings_update(station=station, shuffle=True)
    last = titles(station, 1)[0]
    library_settings_update(station=station, shuffle=False)
    following = "abcd"[("abcd".index(last) + 1) % 4]
    assert titles(station, 1) == [following]


@pytest.mark.parametrize("shuffle", [False, True])
def test_concurrent_callers_never_pick_from_the_same_state(station, shuffle):
    """Workers picking at once still play every track once per round."""
    library_settings_update(station=station, shuffle=shuffle)
    for position, title in enumerate("abcd"):
        make_track(station, title, position)

    def pick_five() -> list[str]:
        try:
            return [next_track(station.pk).title for _ in range(5)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        picks = [
            title
            for titles in pool.map(lambda _: pick_five(), range(8))
            for title in titles
        ]
    assert Counter(picks) == dict.fromkeys("abcd", 10)
