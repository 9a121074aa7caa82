from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from stations.library.analysis import UnusableAudio
from stations.library.services import track_add
from stations.selectors import station_get


class Command(BaseCommand):
    help = (
        "Add audio files to a station's AutoDJ library. A file that is not "
        "usable audio is refused with a message, and the exit status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, slug, files, **options):
        station = station_get(slug)
        if station is None:
            raise CommandError(f"No station has the slug {slug!r}.")
        refused = 0
        for name in files:
            try:
                with open(name, "rb") as handle:
                    track = track_add(
                        station=station, upload=File(handle, name=Path(name).name)
                    )
            except (OSError, UnusableAudio) as problem:
                refused += 1
                self.stderr.write(_refusal(name, problem))
            else:
                self.stdout.write(f"Added {name} as {str(track)!r}.")
        if refused:
            raise CommandError(f"Refused {refused} of {len(files)} files.")


def _refusal(name: str, problem: Exception) -> str:
    """One line; an UnusableAudio's message already names the file."""
    if isinstance(problem, OSError):
        return f"Refused {name}: {problem.strerror or problem}."
    return f"Refused: {problem}"
