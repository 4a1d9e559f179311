"""The outbox delivers in order, once, across outages and process restarts (its store here: a Python list)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from radiodiff.tracking import outbox as outbox_module
from radiodiff.tracking.outbox import Delivery, Outbox, PermanentError, Record, pending_records


class FlakyStore:
    """A store that refuses connections while `down` is set, and refuses records whose payload says so."""

    def __init__(self) -> None:
        self.received: list[tuple[int, dict]] = []
        self.down = threading.Event()
        self.attempts = 0

    def send(self, record: Record) -> None:
        self.attempts += 1
        if self.down.is_set():
            raise ConnectionError("Connection refused")
        if record.payload.get("bad"):
            raise PermanentError("INVALID_PARAMETER_VALUE")
        files = sorted(p.name for p in record.files.rglob("*")) if record.files else []
        self.received.append((record.seq, {**record.payload, "files": files}))

    def delivery(self) -> Delivery:
        return Delivery(send=self.send, answers=lambda: not self.down.is_set(), where="test://store")


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "RETRY_DELAYS_S", (0.05,))


def test_records_arrive_in_order_and_the_empty_outbox_is_removed(tmp_path: Path) -> None:
    store = FlakyStore()
    box = Outbox(tmp_path / "outbox", store.delivery())
    for step in range(5):
        box.put("metrics", {"step": step})
    assert box.wait(10)
    box.close()
    assert [payload["step"] for _, payload in store.received] == [0, 1, 2, 3, 4]
    assert not (tmp_path / "outbox").exists()


def test_an_outage_is_announced_once_and_nothing_is_lost(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = FlakyStore()
    box = Outbox(tmp_path / "outbox", store.delivery())
    box.put("metrics", {"step": 0})
    assert box.wait(10)
    store.down.set()
    for step in range(1, 6):
        box.put("metrics", {"step": step})
    assert not box.wait(0.5)  # the store is away: the records wait
    assert box.waiting == 5 and box.down_since is not None
    store.down.clear()
    assert box.wait(10)
    box.close()
    assert [payload["step"] for _, payload in store.received] == list(range(6))
    lines = capsys.readouterr().err.splitlines()
    assert len([line for line in lines if "is not answering (connection refused)" in line]) == 1
    assert len([line for line in lines if "answers again" in line]) == 1
    assert store.attempts > 6  # it retried


def test_a_refused_record_is_skipped_with_a_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = FlakyStore()
    box = Outbox(tmp_path / "outbox", store.delivery())
    box.put("metrics", {"bad": True})
    box.put("metrics", {"step": 1})
    assert box.wait(10)
    box.close()
    assert [payload.get("step") for _, payload in store.received] == [1]
    assert "refused a metrics record (INVALID_PARAMETER_VALUE)" in capsys.readouterr().err


def test_a_later_process_delivers_what_an_earlier_one_left(tmp_path: Path) -> None:
    store = FlakyStore()
    store.down.set()
    first = Outbox(tmp_path / "outbox", store.delivery())
    files = first.staging_folder()
    (files / "weights.safetensors").write_bytes(b"w")
    for step in range(3):
        first.put("metrics", {"step": step})
    first.put("artifacts", {"artifact_path": "checkpoints/last"}, files=files, replaces="checkpoints/last")
    first.close()  # the process ends with its records undelivered
    assert [r.seq for r in pending_records(tmp_path / "outbox")] == [1, 2, 3, 4]
    store.down.clear()
    second = Outbox(tmp_path / "outbox", store.delivery())
    second.put("metrics", {"step": 3})
    assert second.wait(10)
    second.close()
    assert [seq for seq, _ in store.received] == [1, 2, 3, 4, 5]
    assert store.received[3][1]["files"] == ["weights.safetensors"]


def test_a_newer_upload_of_the_same_path_supersedes_a_waiting_one(tmp_path: Path) -> None:
    store = FlakyStore()
    store.down.set()
    box = Outbox(tmp_path / "outbox", store.delivery())
    for name in ("old", "new"):
        files = box.staging_folder()
        (files / f"{name}.bin").write_bytes(b"x")
        box.put("artifacts", {"artifact_path": "checkpoints/last"}, files=files, replaces="checkpoints/last")
    box.put("metrics", {"step": 1})
    store.down.clear()
    assert box.wait(10)
    box.close()
    uploads = [payload["files"] for _, payload in store.received if "artifact_path" in payload]
    assert uploads[-1] == ["new.bin"]
    assert ["new.bin"] in uploads and len(uploads) <= 2  # the first may have been in flight when the second came
