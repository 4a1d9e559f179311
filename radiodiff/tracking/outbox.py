"""A durable, ordered outbox of tracking records: training never waits for the tracking server.

Every metric, tag, image and checkpoint upload of a run goes through here. `put` appends the record to a journal
on local disk (one JSON line; images and artifact snapshots as files beside it) and returns at once; one daemon
thread delivers the records to the store in order and notes each delivered one. When the store does not answer,
the thread says so once, keeps the records and retries until it answers again; nothing is dropped and nothing
is sent twice (a record re-sent after a crash between its delivery and its note is identical, and MLflow keeps
one copy of an identical metric). A later process for the same run (a resume, or `radiodiff sync`) delivers what
an earlier one left in the journal.

Folder layout (`<home>/outputs/<run_id>/outbox/`):
    journal.jsonl   one record per line: {"seq": n, "kind": ..., "payload": {...}}
    delivered       the highest seq delivered, in order
    files/<seq>/    the files of image and artifact records
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"
DELIVERED_FILE = "delivered"
FILES_DIR = "files"
RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0)
"""Waits between attempts while the store is unreachable (the last one repeats)."""
SLOW_DELIVERY_S = 10.0
"""A delivery still running after this long makes the watcher ask the store whether it is there."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One tracking operation waiting for delivery."""

    seq: int
    kind: str
    """"metrics", "tags", "image" or "artifacts"."""
    payload: dict[str, Any]
    files: Path | None = None
    """The folder of the record's files (an image, an artifact snapshot)."""
    replaces: str = ""
    """A later record with the same non-empty key supersedes this one before delivery (e.g. `checkpoints/last`)."""


class PermanentError(Exception):
    """The store refused a record for good (a bad value, a missing permission): retrying will not help."""


@dataclass
class Delivery:
    """How records reach the store: `send(record)` delivers one (raising PermanentError for a refusal and any
    other exception while the store is unreachable); `answers()` asks cheaply whether the store is there."""

    send: Callable[[Record], None]
    answers: Callable[[], bool]
    where: str
    """The store, as the warnings name it."""
    on_back: Callable[[], None] = field(default=lambda: None)
    """Called once when the store answers again after an outage."""


class Outbox:
    """The journal of one run and the thread that delivers it."""

    def __init__(self, folder: Path, delivery: Delivery) -> None:
        self.folder = Path(folder)
        self.delivery = delivery
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Condition()
        self._pending: deque[Record] = deque(_undelivered(self.folder))
        self._next_seq = max((r.seq for r in self._pending), default=_delivered_seq(self.folder)) + 1
        self._journal = (self.folder / JOURNAL_FILE).open("a", encoding="utf-8")
        self._in_flight_since: float | None = None
        self._down_since: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._deliver_forever, name="radiodiff-outbox", daemon=True)
        self._watcher = threading.Thread(target=self._watch, name="radiodiff-outbox-watch", daemon=True)
        self._thread.start()
        self._watcher.start()

    @property
    def waiting(self) -> int:
        """Records not yet delivered."""
        with self._lock:
            return len(self._pending)

    @property
    def down_since(self) -> float | None:
        """When the current outage began (time.time()), None while the store answers."""
        return self._down_since

    def put(self, kind: str, payload: dict[str, Any], files: Path | None = None, replaces: str = "") -> Record:
        """Journal a record and queue it; `files` (a folder) moves into the outbox. Returns at once."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            stored = None
            if files is not None:
                stored = self.folder / FILES_DIR / str(seq)
                stored.parent.mkdir(parents=True, exist_ok=True)
                os.replace(files, stored)
            record = Record(seq, kind, payload, stored, replaces)
            line = {"seq": seq, "kind": kind, "payload": payload, "replaces": replaces}
            self._journal.write(json.dumps(line) + "\n")
            self._journal.flush()
            if replaces:
                self._drop_superseded(replaces)
            self._pending.append(record)
            self._lock.notify_all()
        return record

    def staging_folder(self) -> Path:
        """A fresh folder on the outbox's file system to assemble a record's files in (then `put(files=...)`)."""
        staging = self.folder / "staging" / f"{time.time_ns()}"
        staging.mkdir(parents=True)
        return staging

    def persist(self) -> None:
        """fsync the journal: the records put so far survive a crash of the machine, not only of the process."""
        with self._lock:
            self._journal.flush()
            os.fsync(self._journal.fileno())

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until every record put so far is delivered; False when `timeout_s` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left if left is not None else 1.0)
        return True

    def close(self) -> None:
        """Stop the threads (undelivered records stay in the journal); an empty journal is removed."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join(timeout=5)
        self._journal.close()
        if not self._pending:
            shutil.rmtree(self.folder, ignore_errors=True)

    # ----- the delivery thread ------------------------------------------------------------------------
    def _deliver_forever(self) -> None:
        attempt = 0
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if not self._pending:
                    return
                record = self._pending[0]
                self._in_flight_since = time.monotonic()
            try:
                self.delivery.send(record)
            except PermanentError as err:
                self._warn(f"radiodiff: the tracking store refused a {record.kind} record ({err}); it is skipped")
            except Exception as err:
                self._note_outage(err)
                if self._closed:
                    return
                time.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
                attempt += 1
                continue
            attempt = 0
            self._delivered(record)
            self._note_back()

    def _delivered(self, record: Record) -> None:
        with self._lock:
            self._in_flight_since = None
            if self._pending and self._pending[0] is record:
                self._pending.popleft()
            _write_atomic(self.folder / DELIVERED_FILE, str(record.seq))
            if record.files is not None:
                shutil.rmtree(record.files, ignore_errors=True)
            self._lock.notify_all()

    def _drop_superseded(self, key: str) -> None:
        """Forget queued records with the same `replaces` key (all but one being delivered right now)."""
        keep = deque()
        for i, record in enumerate(self._pending):
            superseded = record.replaces == key and not (i == 0 and self._in_flight_since is not None)
            if superseded and record.files is not None:
                shutil.rmtree(record.files, ignore_errors=True)
            if not superseded:
                keep.append(record)
        self._pending = keep

    # ----- outages ------------------------------------------------------------------------------------
    def _watch(self) -> None:
        """Tell a slow delivery (a client retrying against a dead server) from a slow store, and say so once."""
        while not self._closed:
            time.sleep(SLOW_DELIVERY_S / 2)
            started = self._in_flight_since
            slow = started is not None and time.monotonic() - started > SLOW_DELIVERY_S
            if self._down_since is None and slow and not self.delivery.answers():
                self._note_outage("no answer")

    def _note_outage(self, err: object) -> None:
        if self._down_since is not None:
            return
        self._down_since = time.time()
        self._warn(
            f"radiodiff: the tracking server {self.delivery.where} is not answering ({_short(err)}); training "
            f"goes on, and its metrics, images and checkpoints wait in {self.folder} until it is back"
        )

    def _note_back(self) -> None:
        if self._down_since is None:
            return
        outage = time.time() - self._down_since
        self._down_since = None
        self._warn(
            f"radiodiff: the tracking server {self.delivery.where} answers again after {outage:.0f} s; "
            f"sending {self.waiting} waiting records"
        )
        self.delivery.on_back()

    @staticmethod
    def _warn(message: str) -> None:
        print(message, file=sys.stderr, flush=True)


def pending_records(folder: Path) -> list[Record]:
    """The records of an outbox folder not yet delivered (superseded ones left out), in order."""
    return _undelivered(Path(folder)) if Path(folder).is_dir() else []


def _undelivered(folder: Path) -> list[Record]:
    journal = folder / JOURNAL_FILE
    if not journal.is_file():
        return []
    done = _delivered_seq(folder)
    records: list[Record] = []
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # the last line of a journal cut by a crash
            continue
        if entry["seq"] <= done:
            continue
        files = folder / FILES_DIR / str(entry["seq"])
        kept = files if files.exists() else None
        records.append(Record(entry["seq"], entry["kind"], entry["payload"], kept, entry.get("replaces", "")))
    last_of = {r.replaces: r.seq for r in records if r.replaces}
    return [r for r in records if not r.replaces or last_of[r.replaces] == r.seq]


def _delivered_seq(folder: Path) -> int:
    path = folder / DELIVERED_FILE
    try:
        return int(path.read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _short(err: object) -> str:
    """The gist of a client error: its first line, without the long retry chatter of urllib3."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    for marker in ("Failed to establish a new connection", "Connection refused", "Max retries exceeded"):
        if marker in text:
            return "connection refused" if "refused" in text.lower() else marker.lower()
    return text[:160]
