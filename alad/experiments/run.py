"""Reading the records back: result files of any protocol, and Han's labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .engine import PROTOCOLS
from .machine import cpu_model, machine
from .store import ResultStore, write_json

__all__ = ["cpu_model", "dump_json", "load_labels", "machine", "read_records"]


def load_labels(records) -> dict[str, np.ndarray]:
    """Evaluation labels of each task, from the paths the records name."""
    labels = {}
    for r in records:
        path = r.get("labels")
        if path and r["task"] not in labels and Path(path).exists():
            labels[r["task"]] = np.load(path).astype(np.int64)
    return labels


def read_records(paths) -> list[dict]:
    """Records of one or more result files.

    JSON-lines files of ``alad benchmark`` (any protocol), and the JSON files
    that ``benchmarks/naf_tables.py`` wrote before the NAF-AL tables became a
    protocol (``{"table1": {"rows": [...]}, ...}``).
    """
    records = {}
    for path in paths:
        path = Path(path)
        if _legacy(path):
            from .nafal import read_legacy

            records.update((r["key"], r) for r in read_legacy(path))
            continue
        records.update((r["key"], r) for r in ResultStore(path))
    for r in records.values():
        if r.get("protocol", "han") not in PROTOCOLS:
            raise ValueError(
                f"a record has protocol {r['protocol']!r}; alad knows "
                f"{', '.join(sorted(PROTOCOLS))}."
            )
    return list(records.values())


def _legacy(path: Path) -> bool:
    """Is ``path`` a file of ``benchmarks/naf_tables.py``: one JSON value
    that is no record? ``alad benchmark --out results.json`` writes JSON
    lines like any other name (more than one record is no single value)."""
    if path.suffix != ".json":
        return False
    try:
        value = json.loads(path.read_text())
    except (ValueError, OSError):  # JSON lines, or unreadable: said by the store
        return False
    return not (isinstance(value, dict) and "key" in value)


def dump_json(records, path) -> None:
    """All records in one JSON file (the published results)."""
    write_json(path, list(records))
