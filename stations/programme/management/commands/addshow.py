import re
from datetime import datetime, time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from stations.models import Station
from stations.programme.models import MAX_SLOT_MINUTES
from stations.programme.services import (
    ProgrammeError,
    show_ensure,
    slot_add_once,
    slot_add_weekly,
    slot_describe,
)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKLY = re.compile(
    r"(?P<day>[A-Za-z]{3})[A-Za-z]*\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
)


def parse_weekly(text: str) -> tuple[int, time]:
    """ "Mon 20:00" (or "monday 20:00") as a weekday (0 is Monday) and a time."""
    match = WEEKLY.fullmatch(text.strip())
    day = match and match["day"].lower()
    if day not in WEEKDAYS:
        raise CommandError(f'--weekly must be like "Mon 20:00", not {text!r}.')
    try:
        return WEEKDAYS.index(day), time(int(match["hour"]), int(match["minute"]))
    except ValueError:
        raise CommandError(f"--weekly has no such time of day: {text!r}.") from None


def parse_once(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise CommandError(
            f'--once must be like "2026-12-24 18:00", not {text!r}.'
        ) from None


class Command(BaseCommand):
    help = (
        "Add a slot to a station's show, making the show if it has none of that "
        "name. Times are the station's local time."
    )

    def add_arguments(self, parser):
        parser.add_argument("station", metavar="STATION", help="The station's slug.")
        parser.add_argument("name", metavar="NAME", help="The show's name.")
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            metavar="USERNAME",
            help="A DJ of the station who hosts the show; may be repeated.",
        )
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--weekly", metavar='"Mon 20:00"')
        when.add_argument("--once", metavar='"2026-12-24 18:00"')
        parser.add_argument(
            "--minutes",
            type=int,
            required=True,
            help=f"How long the slot is, 1 to {MAX_SLOT_MINUTES}.",
        )
        parser.add_argument("--description")

    def handle(self, *args, station, name, host, weekly, once, minutes, **options):
        found = Station.objects.filter(slug=station).first()
        if found is None:
            raise CommandError(f"No such station: {station}.")
        hosts = list(get_user_model().objects.filter(username__in=host))
        missing = sorted(set(host) - {user.get_username() for user in hosts})
        if missing:
            raise CommandError(f"No such user: {', '.join(missing)}.")
        try:
            with transaction.atomic():
                show, created = show_ensure(
                    station=found,
                    name=name,
                    hosts=hosts,
                    description=options["description"],
                )
                if weekly:
                    weekday, start = parse_weekly(weekly)
                    slot = slot_add_weekly(
                        show=show, weekday=weekday, start=start, minutes=minutes
                    )
                else:
                    slot = slot_add_once(
                        show=show, local_start=parse_once(once), minutes=minutes
                    )
        except ProgrammeError as problem:
            raise CommandError(problem) from None
        verb = "Created show" if created else "Added a slot to"
        when = slot_describe(slot, found)
        self.stdout.write(f"{verb} {show.name!r}: {when}.")
