"""Real radio servers for tests and benchmarks: a database, daphne workers.

Everything runs as it does in production: ``manage.py`` commands set the
database up, and daphne serves ``radio.asgi`` in its own process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import child_processes

PROJECT = Path(__file__).resolve().parents[2]
# How long a starting daphne may take to accept connections.
STARTUP_TIMEOUT_S = 30.0


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
    def create(cls, *, database_url: str, redis_url: str | None = None, **extra: str):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "test-secret-key-not-for-production",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            # Every worker of the deployment shares these, as on one machine.
            "RADIO_SOURCE_PORT": str(free_port_pair()),
            # Uploaded tracks and recordings, never in the checkout's media/.
            "MEDIA_ROOT": tempfile.mkdtemp(prefix="radio-media-"),
            **extra,
        }
        env.pop("REDIS_URL", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        deployment = cls(env)
        deployment.manage("migrate", "--noinput")
        return deployment

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT, env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def create_user(self, username: str, password: str, *, staff: bool = False) -> None:
        self.create_users([(username, password)], staff=staff)

    def create_users(
        self, users: list[tuple[str, str]], *, staff: bool = False
    ) -> None:
        """Make ``users`` (username, password) in one ``manage.py shell``."""
        code = "from django.contrib.auth import get_user_model; User = get_user_model()"
        for username, password in users:
            code += (
                f"; User.objects.create_user({username!r}, "
                f"password={password!r}, is_staff={staff!r})"
            )
        self.manage("shell", "-c", code)

    def shell(self, code: str) -> str:
        """Run Python ``code`` in ``manage.py shell``, as an operator would."""
        return self.manage("shell", "-c", code)

    def start_worker(self, *extra_args: str, **env: str) -> Worker:
        worker = Worker.start({**self.env, **env}, *extra_args)
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

    @classmethod
    def start(
        cls, env: dict[str, str], *extra_args: str, port: int | None = None
    ) -> Worker:
        port = port or free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             *extra_args, "radio.asgi:application"],
            cwd=PROJECT, env=env,
        )  # fmt: skip
        worker = cls(process, port, env, extra_args)
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
        started = Worker.start(self.env, *self.extra_args, port=self.port)
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
