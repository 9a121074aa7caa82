from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stations.services import UnknownUsers, station_create_or_update


class Command(BaseCommand):
    help = "Create a station, or update it if the slug exists."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--dj",
            action="append",
            default=[],
            metavar="USERNAME",
            help="A user who may broadcast; may be repeated.",
        )
        parser.add_argument("--bitrate", type=int, help="Output bitrate in kbit/s.")
        parser.add_argument(
            "--source-password",
            metavar="PASSWORD",
            help='Password of the user "source" for encoders (BUTT, Mixxx, '
            "ffmpeg); an empty one removes it.",
        )

    def handle(self, *args, slug, name, dj, bitrate, source_password, **options):
        try:
            station, created = station_create_or_update(
                slug=slug,
                name=name,
                dj_usernames=dj,
                bitrate=bitrate,
                source_password=source_password,
            )
        except (UnknownUsers, ValidationError) as problem:
            raise CommandError(problem) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} station {station.slug!r} ({station.name}).")
