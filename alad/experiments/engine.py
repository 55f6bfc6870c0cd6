"""The protocol engine: a protocol's jobs run once each, records appended as they come.

A *protocol* is a named configuration (tasks, settings, methods, metrics) in a
module of its own that gives

- ``DATASETS``: the data-set names its ``--dataset`` accepts;
- ``jobs(...) -> list[Job]``: the work, each job yielding records with a
  ``"key"`` that is a hash of everything the result depends on;
- ``format_report(records, labels, fmt) -> str``: its tables.

The engine knows nothing of papers: it skips the keys already in the results
file (so an interrupted run resumes), appends each record as soon as it is
made, stamps it with the protocol, the machine and the time, and shows
progress. Han et al.'s Table 2 (:mod:`alad.experiments.han`) and the
NAF-AL tables (:mod:`alad.experiments.nafal`) are two protocols.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import hashlib
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .store import ResultStore

__all__ = [
    "PROTOCOLS",
    "Job",
    "check_params",
    "format_records",
    "get_protocol",
    "record_key",
    "run_jobs",
]

#: Protocol name -> its module (imported on use: ``alad --help`` stays light).
PROTOCOLS = {
    "han": "alad.experiments.han",
    "nafal": "alad.experiments.nafal",
    "labels": "alad.experiments.labels",
}


def get_protocol(name: str) -> ModuleType:
    """The module of a protocol of :data:`PROTOCOLS`."""
    if name not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {sorted(PROTOCOLS)}; got {name!r}.")
    return importlib.import_module(PROTOCOLS[name])


def record_key(*parts) -> str:
    """A short stable hash of JSON-able parts: the identity of a record."""
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def check_params(
    estimator: type,
    params: dict,
    *,
    fixed: Iterable[str] = (),
    variants: Iterable[dict] = ({},),
) -> None:
    """Refuse now the detector parameters a protocol's runs would fail on.

    A run builds its detector only when it starts, after the data are
    loaded and possibly after hours of earlier runs: a misspelt name in
    ``--params`` or a value out of range would end the benchmark there with a
    traceback. Here each ``{**params, **variant}`` is set on a default
    ``estimator`` and checked against its constraints; ``fixed`` names the
    parameters the protocol sets itself, which ``params`` may not give.

    Raises
    ------
    ValueError
        Naming the parameter and what it must be.
    """
    taken = sorted(set(params) & set(fixed))
    if taken:
        raise ValueError(
            f"params may not set {', '.join(taken)}: the protocol sets "
            f"{'it' if len(taken) == 1 else 'them'} itself."
        )
    known = estimator().get_params()
    for variant in variants:
        given = {**params, **variant}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise ValueError(f"{estimator.__name__} has no parameter {names}.")
        estimator().set_params(**given)._validate_params()


@dataclass(frozen=True)
class Job:
    """One unit of work: ``run(done)`` yields the records not yet in ``done``.

    ``label`` names the job in the progress bar; ``size`` is the number of
    records it makes when none is done yet (the bar counts records).
    ``errors`` collects what went wrong in a job that must not stop the jobs
    after it (a peers' command that failed: the scores it did write are
    still read); the command line exits non-zero when any job has one. Jobs
    run in other processes (``n_jobs > 1``) cannot report them here.
    """

    label: str
    run: Callable[[set[str]], Iterable[dict]]
    size: int = 1
    errors: list[str] = field(default_factory=list, compare=False)


def _all_records(job: Job, done) -> list[dict]:
    records = list(job.run(done))
    release_memory()
    return records


def release_memory() -> None:
    """Give the memory of a finished job back to the system.

    A job fits and drops models with tens to hundreds of MB of weights and
    optimiser state. glibc keeps freed blocks of that size in its heap (its
    threshold for allocating them apart rises after each free), so a
    process that runs hundreds of jobs grew job after job: ``python
    benchmarks/memory_growth.py`` measures it. Collect reference cycles,
    then ask glibc to return its free pages (``malloc_trim``; elsewhere
    only the collection).
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def run_jobs(
    jobs: Sequence[Job],
    out: str | Path,
    *,
    protocol: str,
    progress: bool = True,
    n_jobs: int = 1,
) -> ResultStore:
    """Run the jobs whose records are missing from ``out``; return the store.

    Parameters
    ----------
    jobs : sequence of Job
    out : str or Path
        The JSON-lines results file (:class:`~alad.experiments.ResultStore`).
    protocol : str
        Written into each record, so that reports know how to read it.
    progress : bool, default=True
        A progress bar over the runs (records), with the time left, on
        stderr; runs already in ``out`` are counted as done at once.
    n_jobs : int, default=1
        Jobs run at once, each in its own process (joblib); with 1, one after
        the other in this process, each record appended as it is made.
    """
    from tqdm.auto import tqdm

    from .machine import machine

    store = ResultStore(out)
    host = machine()

    def add(record):
        # a record may name its machine itself (e.g. after setting its threads)
        machine_ = record.get("machine", host)
        store.add(
            {**record, "protocol": protocol, "machine": machine_, "time": time.time()}
        )

    total = sum(job.size for job in jobs)
    bar = tqdm(total=total, disable=not progress, unit="run", desc=protocol)
    done = store.done
    if done and progress:
        runs = "1 run" if len(done) == 1 else f"{len(done)} runs"
        bar.write(f"{runs} already in {out}: not run again", sys.stderr)
    with _printing_above(bar):
        _run_all(jobs, store, bar, add, n_jobs)
    bar.close()
    return store


@contextlib.contextmanager
def _printing_above(bar):
    """While the bar shows, what the jobs print (missing score files, a
    detector's epochs) is written above it, whole lines, instead of into it."""
    if bar.disable:
        yield
        return
    from tqdm.contrib import DummyTqdmFile

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = DummyTqdmFile(saved[0]), DummyTqdmFile(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _run_all(jobs, store, bar, add, n_jobs: int) -> None:
    """The jobs' records, each given to ``add`` as it comes (see run_jobs)."""

    def finish(job, made):
        # a job's skipped runs count as done; the time left is over the rest
        bar.update(max(job.size - made, 0))

    if n_jobs == 1:
        for job in jobs:
            bar.set_postfix_str(job.label)
            made = 0
            # the records so far, live: a run asked for twice (a seed given
            # twice) is made once
            # (key -> record: a run may compare what it would make with it)
            for record in job.run(store.records):
                add(record)
                made += 1
                bar.update()
            finish(job, made)
            release_memory()
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_all_records)(job, dict(store.records)) for job in jobs
        )
        for job, records in zip(jobs, results):
            for record in records:
                add(record)
            bar.set_postfix_str(job.label)
            bar.update(len(records))
            finish(job, len(records))


def format_records(records, labels=None, fmt: str = "markdown") -> str:
    """The tables of records of any protocols, each by its own protocol.

    A record names its protocol (``"protocol"``); records from before the
    field existed are Han et al.'s.
    """
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get("protocol", "han"), []).append(r)
    parts = [
        get_protocol(name).format_report(mine, labels, fmt)
        for name, mine in groups.items()
    ]
    return "\n\n".join(parts)
