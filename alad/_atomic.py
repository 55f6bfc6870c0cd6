"""Files written whole or not at all: the one mechanism the package uses."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def replacing(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """A new file beside ``path`` that replaces it once written whole.

    The caller writes into the yielded file; when the block ends normally
    the file replaces ``path`` in one ``os.replace``, so an interruption
    (Ctrl+C, an error, a full disk) leaves the previous file, never a
    truncated one, and no temporary file beside it. Each call gets a
    temporary name of its own (its bytes are synced to the disk before the
    rename, and the rename after it): processes writing the same file at once
    (jobs of one task) must not truncate or rename each other's. The parent
    folders are created. ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes);
    ``open_kwargs`` go to ``open`` (``newline=""`` for CSV).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **open_kwargs) as f:
            yield f
            synced(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def save_figure(figure, path: str | Path, **savefig_kwargs) -> Path:
    """A matplotlib ``figure`` saved as ``path`` whole or not at all (as
    :func:`replacing`): an interrupted save leaves the earlier image, never
    a truncated one. The format is the suffix's (``.png``)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    with replacing(path, "wb") as f:
        figure.savefig(f, format=fmt, **savefig_kwargs)
    return path


def synced(f: IO) -> None:
    """Put a file's bytes on the disk before it is renamed into place: after
    a power loss the name then holds the old file or the whole new one, not
    an empty one."""
    f.flush()
    os.fsync(f.fileno())


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse to sync a folder
        pass
    finally:
        os.close(fd)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C held back until the block ends (main thread; elsewhere, as is).

    For a few quick steps that must happen together (the renames that put a
    model's files in place): a ``KeyboardInterrupt`` is raised after them,
    not between two of them.
    """
    import signal
    import threading

    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
