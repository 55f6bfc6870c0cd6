"""Results of the reproduction as JSON lines, appended as they finish (resumable)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["ResultStore"]


class ResultStore:
    """An append-only JSON-lines file of run records, keyed by ``record["key"]``.

    Each finished run is appended and flushed at once, so an interrupted
    benchmark loses at most the run in progress; rerunning the same command
    skips every key already in the file. A truncated last line (a crash while
    writing) is ignored.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.records: dict[str, dict] = {}
        if self.path.exists():
            text = self.path.read_text()
            if text and not text.endswith("\n"):
                # end the half-written line, so the next record starts afresh
                with self.path.open("a") as f:
                    f.write("\n")
            for line in text.splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the half-written line of an interrupted run
                self.records[record["key"]] = record

    @property
    def done(self) -> set[str]:
        return set(self.records)

    def add(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record, default=float) + "\n")
            f.flush()
        self.records[record["key"]] = record

    def __iter__(self):
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)
