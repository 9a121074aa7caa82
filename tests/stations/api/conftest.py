from __future__ import annotations

import pytest

from stations.api import cache


@pytest.fixture(autouse=True)
def empty_api_cache(monkeypatch):
    """Each test builds its answers afresh: the cache outlives a request."""
    monkeypatch.setattr(cache, "_built", {})
    monkeypatch.setattr(cache, "_building", {})
