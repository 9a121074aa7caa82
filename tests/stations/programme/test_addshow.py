"""``manage.py addshow``: a show and its slot in one line, errors in one line."""

from __future__ import annotations

from datetime import UTC, datetime, time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stations.programme.models import Show, Slot


def addshow(*args: str) -> str:
    out = StringIO()
    call_command("addshow", *args, stdout=out)
    return out.getvalue()


def test_a_weekly_show_is_made_with_its_host(berlin, host):
    said = addshow(
        "berlin-fm", "Jazz", "--host", "host", "--weekly", "Mon 20:00",
        "--minutes", "90", "--description", "Late jazz.",
    )  # fmt: skip
    assert said == "Created show 'Jazz': Mondays 20:00-21:30 (Europe/Berlin).\n"
    show = Show.objects.get()
    assert (show.slug, show.description) == ("jazz", "Late jazz.")
    assert list(show.hosts.all()) == [host]
    slot = show.slots.get()
    assert (slot.weekday, slot.start_time, slot.duration_minutes) == (0, time(20), 90)


def test_the_same_name_again_adds_a_slot_to_the_show(berlin, host, co_host):
    addshow(
        "berlin-fm",
        "Jazz",
        "--host",
        "host",
        "--weekly",
        "Mon 20:00",
        "--minutes",
        "60",
    )
    said = addshow(
        "berlin-fm", "Jazz", "--host", "co-host", "--once", "2026-12-24 18:00",
        "--minutes", "60",
    )  # fmt: skip
    assert said.startswith("Added a slot to 'Jazz': 2026-12-24 18:00-19:00")
    show = Show.objects.get()
    assert set(show.hosts.all()) == {host, co_host}
    once = show.slots.get(kind=Slot.Kind.ONCE)
    assert once.starts_at == datetime(2026, 12, 24, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["no-fm", "X", "--weekly", "Mon 20:00"], r"^No such station: no-fm\.$"),
        (["berlin-fm", "X", "--host", "ghost", "--weekly", "Mon 20:00"],
         r"^No such user: ghost\.$"),
        (["berlin-fm", "X", "--host", "stranger", "--weekly", "Mon 20:00"],
         r"^Not a DJ of Berlin FM: stranger\. Hosts must be the station's DJs\.$"),
        (["berlin-fm", "X", "--weekly", "Someday 20:00"],
         r"""^--weekly must be like "Mon 20:00", not 'Someday 20:00'\.$"""),
        (["berlin-fm", "X", "--weekly", "Mon 25:00"], r"^--weekly has no such time"),
        (["berlin-fm", "X", "--once", "24.12.2026"], r"^--once must be like"),
        (["berlin-fm", "X", "--once", "2026-03-29 02:30"], r"does not exist in"),
        (["berlin-fm", "Clash", "--weekly", "Mon 20:30"],
         r'^It overlaps "Jazz" on Mondays 20:00-21:00 \(Europe/Berlin\)\.$'),
    ],
)  # fmt: skip
def test_errors_are_one_line_exit_non_zero_and_change_nothing(
    berlin, host, stranger, args, error
):
    addshow("berlin-fm", "Jazz", "--weekly", "Mon 20:00", "--minutes", "60")
    with pytest.raises(CommandError, match=error) as refused:
        addshow(*args, "--minutes", "60")
    assert refused.value.returncode != 0
    assert "\n" not in str(refused.value)
    assert list(Show.objects.values_list("name", flat=True)) == ["Jazz"]
    assert Slot.objects.count() == 1


def test_too_long_a_slot_is_refused(berlin):
    with pytest.raises(CommandError, match=r"^minutes: "):
        addshow("berlin-fm", "Jazz", "--weekly", "Mon 20:00", "--minutes", "1441")
    assert not Show.objects.exists()
