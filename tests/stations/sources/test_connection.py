"""The source ports' gate and the PROXY line (stations/sources/connection.py)."""

from __future__ import annotations

import pytest

from stations.sources.connection import BadProxyLine, Gate, parse_proxy_line


def test_the_gate_admits_up_to_its_limit_and_again_after_one_leaves():
    gate = Gate(2)
    assert gate.admit() and gate.admit()
    assert not gate.admit()
    gate.leave()
    assert gate.admit()


@pytest.mark.parametrize(
    ("line", "address"),
    [
        (b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 8000\r\n", "203.0.113.7"),
        (b"PROXY TCP6 2001:db8::1 2001:db8::2 51234 8000\r\n", "2001:db8::1"),
        (b"PROXY UNKNOWN\r\n", None),
    ],
)
def test_a_proxy_line_gives_the_clients_address(line, address):
    assert parse_proxy_line(line) == address


@pytest.mark.parametrize(
    "line",
    [
        b"PUT /live HTTP/1.1\r\n",
        b"PROXY TCP4 203.0.113.7\r\n",
        b"PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n",
        b"PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 1 2" + b" " * 100 + b"\r\n",
    ],
    ids=["no-proxy-line", "short", "not-tcp", "bad-address", "too-long"],
)
def test_anything_else_is_refused(line):
    with pytest.raises(BadProxyLine):
        parse_proxy_line(line)
