"""Real radio servers for tests and benchmarks: a database, daphne workers.

Everything runs as it does in production: ``manage.py`` commands set the
database up, and daphne serves ``radio.asgi`` in its own process.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.processes import child_processes

PROJECT = Path(__file__).resolve().parents[2]
SQLITE = "sqlite:///"
# How long a starting daphne may take to accept connections.
STARTUP_TIMEOUT_S = 60.0


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with ``args`` in ``env``; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def _server_env(database_url: str) -> dict[str, str]:
    """This process's environment made a production server's on ``database_url``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@functools.cache
def _migrated_sqlite() -> Path:
    folder = tempfile.mkdtemp(prefix="radio-migrated-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = Path(folder) / "radio.sqlite3"
    manage(_server_env(f"{SQLITE}{path}"), "migrate", "--noinput")
    return path


def collect_static(root: Path) -> None:
    """Gather the static files into ``root``, as a deploy does for WhiteNoise."""
    env = {**_server_env("sqlite://:memory:"), "STATIC_ROOT": str(root)}
    manage(env, "collectstatic", "--noinput")


def new_postgres_database(server_url: str) -> str:
    """The URL of a new, migrated database on the PostgreSQL of ``server_url``.

    It is a copy of a database migrated once in this process (``CREATE
    DATABASE ... TEMPLATE``), for the reason ``Deployment.migrate`` gives.
    """
    name = f"radio_live_{uuid.uuid4().hex[:8]}"
    _create_database(server_url, name, template=_migrated_postgres(server_url))
    return _database_url(server_url, name)


def drop_postgres_database(url: str) -> None:
    server_url, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def _migrated_postgres(server_url: str) -> str:
    name = f"radio_migrated_{uuid.uuid4().hex[:8]}"
    _create_database(server_url, name)
    url = _database_url(server_url, name)
    atexit.register(drop_postgres_database, url)
    manage(_server_env(url), "migrate", "--noinput")
    return name


def _create_database(server_url: str, name: str, *, template: str = "") -> None:
    clause = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{clause}')


def _database_url(server_url: str, name: str) -> str:
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> int:
    """A free port whose next port is free too (Icecast and Shoutcast sources)."""
    while True:
        port = free_port()
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port + 1))
            return port


@dataclass
class Deployment:
    """The settings every process of one test installation shares."""

    env: dict[str, str]
    workers: list[Worker] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        database_url: str,
        redis_url: str | None = None,
        migrated: bool = False,
        **extra: str,
    ) -> Deployment:
        """An installation on ``database_url``, migrated unless ``migrated``
        says it is already (see ``new_postgres_database``)."""
        env = {
            **_server_env(database_url),
            # Every worker of the deployment shares these, as on one machine.
            "RADIO_SOURCE_PORT": str(free_port_pair()),
            # Uploaded tracks and recordings, never in the checkout's media/.
            "MEDIA_ROOT": tempfile.mkdtemp(prefix="radio-media-"),
            **extra,
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        deployment = cls(env)
        if not migrated:
            deployment.migrate()
        return deployment

    def migrate(self) -> None:
        """Migrate the database. A SQLite one is a copy of one migrated
        before in this process: migrating takes seconds, a copy does not."""
        url = self.env["DATABASE_URL"]
        if url.startswith(SQLITE):
            shutil.copyfile(_migrated_sqlite(), url.removeprefix(SQLITE))
        else:
            self.manage("migrate", "--noinput")

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def create_user(self, username: str, password: str, *, staff: bool = False) -> None:
        self.create_users([(username, password)], staff=staff)

    def create_users(
        self, users: list[tuple[str, str]], *, staff: bool = False
    ) -> None:
        """Make ``users`` (username, password) in one ``manage.py shell``."""
        if staff:
            self.set_up(staff=users)
        else:
            self.set_up(users=users)

    def set_up(
        self,
        *,
        users: Iterable[tuple[str, str]] = (),
        staff: Iterable[tuple[str, str]] = (),
        commands: Iterable[Sequence[str]] = (),
        then: str = "",
    ) -> None:
        """Make ``users`` and ``staff`` users (username, password), run the
        management ``commands`` (each as its command line), then the code
        ``then``: all in one ``manage.py shell``, as each process costs a
        second of Django's start-up."""
        lines = [
            "from django.contrib.auth import get_user_model",
            "from django.core.management import call_command",
            "User = get_user_model()",
        ]
        for (username, password), is_staff in [
            *((user, False) for user in users),
            *((user, True) for user in staff),
        ]:
            lines.append(
                f"User.objects.create_user({username!r}, password={password!r}, "
                f"is_staff={is_staff!r})"
            )
        lines += [f"call_command(*{list(command)!r})" for command in commands]
        if then:
            lines.append(then)
        self.shell("\n".join(lines))

    def shell(self, code: str) -> str:
        """Run Python ``code`` in ``manage.py shell``, as an operator would."""
        return self.manage("shell", "-c", code)

    def take_calls(self, slug: str) -> None:
        """Turn the station's call-ins on, as an operator does in the admin."""
        self.shell(
            "from stations.calls.models import CallRules; "
            "from stations.models import Station; "
            f"station = Station.objects.get(slug={slug!r}); "
            "CallRules.objects.update_or_create("
            "station=station, defaults={'enabled': True})"
        )

    def start_worker(
        self, *extra_args: str, log_path: Path | None = None, **env: str
    ) -> Worker:
        """Start a worker; with ``log_path``, its stderr (the log) goes there."""
        worker = Worker.start({**self.env, **env}, *extra_args, log_path=log_path)
        self.workers.append(worker)
        return worker

    @property
    def media_root(self) -> Path:
        return Path(self.env["MEDIA_ROOT"])

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        shutil.rmtree(self.media_root, ignore_errors=True)


@dataclass
class Worker:
    """One daphne process serving radio on a port of 127.0.0.1."""

    process: subprocess.Popen
    port: int
    # What the process was started with, so that it can be started again.
    env: dict[str, str] = field(default_factory=dict, repr=False)
    extra_args: tuple[str, ...] = ()
    log_path: Path | None = None

    @classmethod
    def start(
        cls,
        env: dict[str, str],
        *extra_args: str,
        port: int | None = None,
        log_path: Path | None = None,
    ) -> Worker:
        port = port or free_port()
        with contextlib.ExitStack() as files:
            log = files.enter_context(open(log_path, "ab")) if log_path else None
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                 *extra_args, "radio.asgi:application"],
                cwd=PROJECT, env=env, stderr=log,
            )  # fmt: skip
        worker = cls(process, port, env, extra_args, log_path)
        worker._wait_until_listening()
        return worker

    def restart(self) -> None:
        """Stop the process and start a new one on the same port.

        Clients see the server go away and come back at the same address,
        as in a deploy; the new process starts with empty station state.
        """
        self.stop()
        self.start_again()

    def start_again(self) -> None:
        """Start a stopped worker again, on the same port."""
        assert self.process.poll() is not None, "the worker is still running"
        started = Worker.start(
            self.env, *self.extra_args, port=self.port, log_path=self.log_path
        )
        self.process = started.process

    def _wait_until_listening(self) -> None:
        """Wait for the HTTP port, then the source ports (opened just after)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        ports = [self.port]
        if int(self.env.get("RADIO_SOURCE_PORT", "0")):
            ports += [self.source_port, self.source_port + 1]
        for port in ports:
            self._wait_for_port(port, deadline)

    def _wait_for_port(self, port: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"daphne did not listen on {port} in time")

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def source_port(self) -> int:
        """The Icecast source port; Shoutcast's is the next one."""
        return int(self.env["RADIO_SOURCE_PORT"])

    def rss_bytes(self) -> int:
        """The worker's resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = next(
            line for line in status.splitlines() if line.startswith("VmRSS")
        )
        return int(kilobytes.split()[1]) * 1024

    def client_connections(self) -> int:
        """Connections to the worker's port it still holds open: established,
        or closed by the client and not yet by the worker (CLOSE_WAIT)."""
        held = {"01", "08"}
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                local, _remote, state = line.split()[1:4]
                port = int(local.rsplit(":", 1)[1], 16)
                count += port == self.port and state in held
        return count

    def children(self, command: str) -> list[int]:
        """Process ids of the worker's children running ``command``."""
        return child_processes(command, parent=self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class RedisServer:
    """A Redis server of the test's own, to stop and start at will.

    No persistence: stopped and started again it is empty, as a Redis
    restarted in production without persistence is.
    """

    port: int
    process: subprocess.Popen | None = None

    @classmethod
    def start(cls) -> RedisServer:
        server = cls(free_port())
        server.start_again()
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start_again(self) -> None:
        assert self.process is None, "Redis is running"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not listen on {self.port} in time")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
