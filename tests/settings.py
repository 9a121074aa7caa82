"""The project's settings, for the test run.

pytest imports the settings with DEBUG unset, that is off, where
radio.settings refuses the built-in development key; tests get a key of
their own instead. Processes the tests start (tests/support/servers.py)
use radio.settings with their own key.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from radio.settings import *  # noqa: F403
