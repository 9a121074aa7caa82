"""A radio installation served by real daphne processes."""

from __future__ import annotations

import pytest
import redis

from tests.support.servers import (
    Deployment,
    drop_postgres_database,
    new_postgres_database,
)

DJ = ("dj", "dj-password-1")
OTHER_DJ = ("dj2", "dj2-password-1")
LISTENER = ("listener", "listener-password-1")
# A username with every character Django allows beyond letters and digits.
FAN = ("a+b@example.com", "fan-password-1")
STRANGER = ("stranger", "stranger-password-1")
# Staff: may read a worker's /worker.json.
OPERATOR = ("operator", "operator-password-1")
STATION = "live"
# A 320 kbit/s station: its bursts are more than a transport takes at once.
LOUD_STATION = "loud"


def populate(deployment: Deployment) -> None:
    djs = ["--dj", DJ[0], "--dj", OTHER_DJ[0]]
    deployment.set_up(
        users=[DJ, OTHER_DJ, LISTENER, FAN, STRANGER],
        staff=[OPERATOR],
        commands=[
            ["createstation", STATION, "--name", "Live Test", *djs],
            ["createstation", LOUD_STATION, "--name", "Loud", "--bitrate", "320", *djs],
        ],
    )


def sqlite_installation(tmp_path_factory, **settings: str) -> Deployment:
    """One worker's installation, populated: SQLite and the in-memory channel
    layer, with ``settings`` in the environment."""
    database = tmp_path_factory.mktemp("db") / "radio.sqlite3"
    deployment = Deployment.create(database_url=f"sqlite:///{database}", **settings)
    populate(deployment)
    return deployment


@pytest.fixture(scope="module")
def sqlite_deployment(tmp_path_factory):
    deployment = sqlite_installation(tmp_path_factory)
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def server(sqlite_deployment):
    return sqlite_deployment.start_worker()


@pytest.fixture(scope="module")
def shared_deployment(redis_url, postgres_url):
    """Several workers' installation: PostgreSQL and Redis."""
    database_url = new_postgres_database(postgres_url)
    redis.Redis.from_url(redis_url).flushdb()
    deployment = Deployment.create(
        database_url=database_url, redis_url=redis_url, migrated=True
    )
    populate(deployment)
    yield deployment
    deployment.stop()
    drop_postgres_database(database_url)
