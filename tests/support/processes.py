"""A process's children, to prove that none is left behind."""

from __future__ import annotations

import os


def child_processes(*names: str, parent: int | None = None) -> list[int]:
    """Ids of the children of ``parent`` (this process by default) whose
    command is one of ``names``, zombies included."""
    parent = os.getpid() if parent is None else parent
    children = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as comm:
                name = comm.read().strip()
        except OSError:
            continue
        if int(fields[1]) == parent and name in names:
            children.append(int(pid))
    return children
