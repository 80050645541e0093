"""A bounded, thread-safe cache of per-text detector results, keyed by the text's digest.

Small requests are inspected on the event loop and large ones on a worker thread, so a detector's
cache is shared across threads; keys are SHA-256 digests, so memory stays bounded however long
the texts are.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class DigestCache(Generic[T]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: bytes, compute: Callable[[], T]) -> T:
        """The cached result for ``key``, or ``compute()`` stored under it (oldest evicted)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        if self._size > 0:
            with self._lock:
                self._items[key] = value
                if len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value
