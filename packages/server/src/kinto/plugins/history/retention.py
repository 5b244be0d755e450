"""Trimming the history at a cost that does not grow with it.

Kinto counts a bucket's entries of a kind on every write, and trims by
listing them: a write then costs a scan of the bucket's history. Here each
trimmed *stream* (a bucket's entries about one kind of object, or about one
kind by one user) keeps a counter, stored beside the entries: the sequence
numbers of its oldest live entry (``first``) and of the next one (``next``).
An entry's id is derived from its stream's ``epoch`` (drawn when the counter
is created) and its sequence number, so the entries to trim are known by id
without reading any: trimming deletes them by primary key, ``threshold + 1``
of them once every ``threshold`` writes. A write costs one counter read and
update (under the counters' lock, so that concurrent writers of one bucket
never draw the same number) besides the entry itself.

Entries written while trimming was off (or under another stream, when
``history.auto_trim_user_ids`` changes) are not counted, so never trimmed:
``DELETE /buckets/<bid>/history?_before=<timestamp>`` removes them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from kinto.core.storage import ObjectNotFoundError

__all__ = ["COUNTERS", "StreamCounters"]

#: The storage resource of the counters, under the bucket's URI like the entries.
COUNTERS = "history-trimming"


@dataclass
class StreamCounters:
    """The counters of one bucket's streams, read and written once per event."""

    storage: Any
    bucket_uri: str
    max_count: int
    threshold: int
    _counters: dict[str, dict[str, Any]] = field(default_factory=dict)
    _locked: bool = False

    def next_entry(self, stream: str) -> tuple[str, list[str]]:
        """The id of the stream's next entry, and the ids of the entries it pushes out."""
        counter = self._counter(stream)
        sequence = counter["next"]
        counter["next"] = sequence + 1
        condemned: list[str] = []
        if counter["next"] - counter["first"] > self.max_count + self.threshold:
            oldest_kept = counter["next"] - self.max_count
            condemned = [_entry_id(counter["epoch"], number) for number in range(counter["first"], oldest_kept)]
            counter["first"] = oldest_kept
        return _entry_id(counter["epoch"], sequence), condemned

    def save(self) -> None:
        for counter in self._counters.values():
            self.storage.update(COUNTERS, self.bucket_uri, counter["id"], counter)

    def _counter(self, stream: str) -> dict[str, Any]:
        if stream in self._counters:
            return self._counters[stream]
        if not self._locked:
            self.storage.lock_for_write(COUNTERS, self.bucket_uri)
            self._locked = True
        counter_id = str(uuid.uuid5(uuid.NAMESPACE_URL, stream))
        try:
            counter = self.storage.get(COUNTERS, self.bucket_uri, counter_id)
        except ObjectNotFoundError:
            counter = {"id": counter_id, "stream": stream, "epoch": uuid.uuid4().hex, "first": 0, "next": 0}
        self._counters[stream] = counter
        return counter


def _entry_id(epoch: str, sequence: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{epoch}:{sequence}"))
