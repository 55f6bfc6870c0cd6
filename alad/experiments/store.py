"""Results of the reproduction as JSON lines, appended as they finish (resumable)."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .._atomic import replacing

__all__ = ["ResultStore", "atomic_write", "beside", "write_json"]


def atomic_write(
    path: str | Path, write: Callable[[IO], None], mode: str = "w"
) -> Path:
    """Write a file so that an interruption leaves the old file or the new one.

    ``write(f)`` fills a temporary file beside ``path`` (``mode`` ``"w"`` for
    text, ``"wb"`` for bytes), which then replaces ``path`` in one
    ``os.replace``: a crash mid-write never leaves a truncated file. The
    parent folders are created.
    """
    with replacing(path, mode) as f:
        write(f)
    return path


def beside(out: str | Path, suffix: str) -> Path:
    """A path next to the results file ``out``, named after it with ``suffix``
    (its cache or work folder): ``labels.jsonl`` and ``labels.jsonl.gz`` both
    give ``labels.work`` for ``".work"``."""
    out = Path(out)
    if out.suffix == ".gz":
        out = out.with_suffix("")
    return out.with_suffix(suffix)


def write_json(path: str | Path, data, *, indent: int | None = 1) -> Path:
    """:func:`atomic_write` of ``data`` as JSON (numbers of numpy as floats)."""
    return atomic_write(
        path, lambda f: json.dump(data, f, indent=indent, default=float)
    )


class ResultStore:
    """An append-only JSON-lines file of run records, keyed by ``record["key"]``.

    Each finished run is appended and flushed at once, so an interrupted
    benchmark loses at most the run in progress; rerunning the same command
    skips every key already in the file. A truncated last line (a crash while
    writing) is ignored; any other line that is no record (the path names
    another file) is a ValueError, before anything is appended.

    A path ending in ``.gz`` keeps the lines gzip-compressed (a committed
    results file of thousands of runs stays small: the records repeat their
    keys and metadata). Every :meth:`add` then rewrites the file with
    :func:`atomic_write`, so an interruption leaves the file as it was before
    the run or after it, never truncated; the bytes depend on the records
    only (no time stamp in the gzip header).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.compressed = self.path.suffix == ".gz"
        self.records: dict[str, dict] = {}
        self._text = ""  # the lines of a compressed store, rewritten by add
        self._unended = False  # a plain file whose last line was cut short
        if not self.path.exists():
            return
        if self.compressed:
            try:
                text = gzip.decompress(self.path.read_bytes()).decode()
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                # written whole by atomic_write: this is another file
                raise ValueError(
                    f"{self.path} is not a whole gzip file: {exc}"
                ) from exc
        else:
            text = self.path.read_text()
        kept = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if line.startswith('{"') or '{"'.startswith(line):
                    continue  # the half-written line of an interrupted run
                record = None
            if not isinstance(record, dict) or "key" not in record:
                # another file (JSON or text), which add must not append to
                raise ValueError(
                    f"{self.path}, line {number}: not a record of alad benchmark "
                    '(a JSON object with a "key").'
                )
            self.records[record["key"]] = record
            kept.append(line + "\n")
        if self.compressed:
            self._text = "".join(kept)
        # a half-written last line is ended before the next record, not now:
        # reading (alad report) leaves the file as it is
        self._unended = bool(text) and not text.endswith("\n")

    @property
    def done(self) -> set[str]:
        return set(self.records)

    def add(self, record: dict) -> None:
        line = json.dumps(record, default=float) + "\n"
        if self.compressed:
            data = gzip.compress((self._text + line).encode(), mtime=0)
            atomic_write(self.path, lambda f: f.write(data), mode="wb")
            self._text += line
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(("\n" if self._unended else "") + line)
                f.flush()
            self._unended = False
        self.records[record["key"]] = record

    def __iter__(self):
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)
