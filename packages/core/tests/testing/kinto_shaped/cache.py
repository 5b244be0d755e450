"""A cache with Kinto 26.5.0's ``CacheBase`` methods and signatures only."""

import json
import threading
import time

from kinto.core.cache import CacheBase


class Cache(CacheBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._texts = {}
        self._expires_at = {}

    def initialize_schema(self, dry_run=False):
        pass

    def flush(self):
        with self._lock:
            for key in [key for key in self._texts if key.startswith(self.prefix)]:
                self._forget(key)

    def ttl(self, key):
        with self._lock:
            if self._alive(self.prefix + key) is None:
                return -1
            return self._expires_at[self.prefix + key] - time.time()

    def expire(self, key, ttl):
        with self._lock:
            if self._alive(self.prefix + key) is not None:
                self._expires_at[self.prefix + key] = time.time() + ttl

    def set(self, key, value, ttl):
        if "\x00" in key:
            raise ValueError("a cache key cannot hold a NUL character")
        try:
            text = json.dumps(value, allow_nan=False)
        except ValueError as error:
            raise TypeError(f"not JSON: {error}") from error
        with self._lock:
            self._texts[self.prefix + key] = text
            self._expires_at[self.prefix + key] = time.time() + ttl

    def get(self, key):
        with self._lock:
            text = self._alive(self.prefix + key)
        if text is None:
            self.metrics_backend.count_miss()
            return None
        self.metrics_backend.count_hit()
        return json.loads(text)

    def delete(self, key):
        with self._lock:
            text = self._alive(self.prefix + key)
            self._forget(self.prefix + key)
        return None if text is None else json.loads(text)

    def _alive(self, full_key):
        if self._expires_at.get(full_key, 0) <= time.time():
            self._forget(full_key)
            return None
        return self._texts[full_key]

    def _forget(self, full_key):
        self._texts.pop(full_key, None)
        self._expires_at.pop(full_key, None)


def load_from_config(config):
    settings = config.get_settings()
    return Cache(cache_prefix=settings.get("cache_prefix", ""), cache_max_size_bytes=None)
