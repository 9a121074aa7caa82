from __future__ import annotations

import pytest

from stations.api import nowplaying


@pytest.fixture(autouse=True)
def empty_api_cache(monkeypatch):
    """Each test builds its answers afresh: the cache outlives a request."""
    monkeypatch.setattr(nowplaying, "_built", {})
