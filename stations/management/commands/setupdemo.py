import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from stations.services import station_create_or_update

DEMO_DJ = "demo-dj"


class Command(BaseCommand):
    help = (
        "Make the demo station and its DJ, with a new password, and say how to sign in."
    )

    def handle(self, *args, **options):
        user, _ = get_user_model().objects.get_or_create(username=DEMO_DJ)
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.save()
        station, _ = station_create_or_update(
            slug="demo", name="Demo Radio", dj_usernames=[DEMO_DJ]
        )
        self.stdout.write(
            f"Demo station: /stations/{station.slug}/ · its DJ signs in at "
            f"/accounts/login/ as {DEMO_DJ!r} with password {password!r}"
        )
