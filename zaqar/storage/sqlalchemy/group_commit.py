"""Group commit: concurrent message posts of one process share a write transaction.

Under load many posts wait for the write lock at once, and each would pay for its own
transaction (gate, BEGIN, queue lookup, COMMIT), which costs more than its inserts. Here
the first poster becomes the leader: it takes every post queued so far, writes them all
in one transaction, hands each its ids, and repeats while more arrived meanwhile; the
others just wait for their ids. A lone post (a sync worker) is a batch of one, so
nothing changes for it. Posts keep their arrival order, so each queue stays FIFO.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PendingPost:
    """One post waiting for its batch: its rows in, its ids (or error) out."""

    project: str
    queue: str
    rows: list[dict[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    ids: Sequence[int] = ()
    error: BaseException | None = None


class GroupCommitter:
    def __init__(self, write_batch: Callable[[list[PendingPost]], None]) -> None:
        """``write_batch`` writes every post of a batch in one transaction and sets the
        ids of each; it raises to fail the whole batch."""
        self._write_batch = write_batch
        self._lock = threading.Lock()
        self._queued: list[PendingPost] = []
        self._leading = False

    def post(self, pending: PendingPost) -> Sequence[int]:
        with self._lock:
            self._queued.append(pending)
            follow = self._leading
            self._leading = True
        if follow:
            pending.done.wait()
        else:
            self._lead()
        if pending.error is not None:
            raise pending.error
        return pending.ids

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch, self._queued = self._queued, []
                if not batch:
                    self._leading = False
                    return
            try:
                self._write_batch(batch)
            except BaseException as error:  # every post of the batch fails alike
                for pending in batch:
                    pending.error = error
            for pending in batch:
                pending.done.set()
