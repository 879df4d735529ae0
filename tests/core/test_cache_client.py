"""The Redis cache reuses its client (core/cache.py) and behaves as Django's."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from core.cache import RedisCache


@pytest.fixture
def redis_cache() -> RedisCache:
    backend = caches["default"]
    if not isinstance(backend, DjangoRedisCache):
        pytest.fail("the test suite runs with CACHE_URL on Redis")
    assert isinstance(backend, RedisCache)  # put in place by config/settings.py
    return backend


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client("some-key") is client


def test_it_behaves_as_djangos(redis_cache):
    cache.delete_many(["cc:a", "cc:b", "cc:n"])
    assert cache.get("cc:a") is None and cache.get("cc:a", 5) == 5
    cache.set("cc:a", {"x": [1, 2]}, 30)
    assert cache.add("cc:a", "other") is False
    assert cache.add("cc:b", "b") is True
    assert cache.get_many(["cc:a", "cc:b", "cc:missing"]) == {"cc:a": {"x": [1, 2]}, "cc:b": "b"}
    cache.set("cc:n", 1)
    assert cache.incr("cc:n") == 2
    cache.delete("cc:a")
    assert cache.get("cc:a") is None
