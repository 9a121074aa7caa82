import secrets
import subprocess
import tempfile
from datetime import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand

from stations.library.services import track_add
from stations.programme.services import show_create, slot_add_weekly
from stations.services import station_create_or_update

DEMO_DJ = "demo-dj"
# Title, and the notes (Hz) of the chord each demo track holds.
DEMO_CHORDS = [
    ("Evening in A minor", (220.0, 261.63, 329.63)),
    ("Slow F major", (174.61, 220.0, 261.63)),
    ("Open G", (196.0, 246.94, 293.66)),
]
DEMO_TRACK_SECONDS = 40
# The demo DJ's show: weekdays (0 is Monday) at this local time, this long.
DEMO_SHOW = "Evening Session"
DEMO_SHOW_DAYS = range(5)
DEMO_SHOW_START = time(19, 0)
DEMO_SHOW_MINUTES = 120


class Command(BaseCommand):
    help = (
        "Make the demo station and its DJ, with a new password, and say how to "
        "sign in. The first time, the station's AutoDJ library gets a few "
        "short pieces made with ffmpeg, so that it is on air at once, and the "
        "demo DJ a weekday evening show."
    )

    def handle(self, *args, **options):
        user, _ = get_user_model().objects.get_or_create(username=DEMO_DJ)
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        station, _ = station_create_or_update(
            slug="demo", name="Demo Radio", dj_usernames=[DEMO_DJ]
        )
        if not station.tracks.exists():
            with tempfile.TemporaryDirectory() as folder:
                for title, notes in DEMO_CHORDS:
                    path = make_chord(Path(folder), title, notes)
                    with path.open("rb") as handle:
                        track_add(station=station, upload=File(handle, path.name))
        if not station.shows.exists():
            show = show_create(
                station=station,
                name=DEMO_SHOW,
                hosts=[user],
                description="The demo DJ live from the studio page, weekday evenings.",
            )
            for weekday in DEMO_SHOW_DAYS:
                slot_add_weekly(
                    show=show,
                    weekday=weekday,
                    start=DEMO_SHOW_START,
                    minutes=DEMO_SHOW_MINUTES,
                )
        self.stdout.write(
            f"Demo station: /stations/{station.slug}/ · its DJ signs in at "
            f"/accounts/login/ as {DEMO_DJ!r} with password {password!r}"
        )


def make_chord(folder: Path, title: str, notes: tuple[float, ...]) -> Path:
    """A soft, slowly pulsing chord as an MP3 with tags, made by ffmpeg."""
    path = folder / f"{title.lower().replace(' ', '-')}.mp3"
    tones = "".join(
        f"sine=frequency={note}:duration={DEMO_TRACK_SECONDS}[n{index}];"
        for index, note in enumerate(notes)
    )
    mix = "".join(f"[n{index}]" for index in range(len(notes)))
    graph = (
        f"{tones}{mix}amix=inputs={len(notes)},volume=3,tremolo=f=0.5:d=0.5,"
        f"afade=t=in:d=3,afade=t=out:st={DEMO_TRACK_SECONDS - 3}:d=3"
    )
    subprocess.run(
        [settings.RADIO_FFMPEG, "-nostdin", "-v", "error", "-y",
         "-filter_complex", graph, "-ac", "2", "-ar", "44100", "-b:a", "128k",
         "-metadata", f"title={title}", "-metadata", "artist=radio demo",
         str(path)],
        check=True,
    )  # fmt: skip
    return path
