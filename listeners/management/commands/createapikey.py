from django.core.management.base import BaseCommand, CommandError

from listeners.api_keys import ApiKeyError, api_key_create
from listeners.services import UnknownUser, user_get


class Command(BaseCommand):
    help = "Make a personal API key for a user and print it, once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--name", default="createapikey", help="What the key is for."
        )

    def handle(self, *args, username, name, **options):
        try:
            new_key = api_key_create(user=user_get(username), name=name)
        except UnknownUser:
            raise CommandError(f"No user is called {username!r}.") from None
        except ApiKeyError as problem:
            raise CommandError(problem) from None
        self.stdout.write(new_key.key)
