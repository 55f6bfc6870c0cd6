"""The data sets of the reproduction as tasks: a training and a labelled test series."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DATASETS",
    "NAFAL_DATASETS",
    "ODDS",
    "UEA",
    "Task",
    "load_tasks",
    "load_all_tasks",
]


@dataclass(frozen=True, eq=False)
class Task:
    """One train/test series pair: a data set, or one entity of a data set.

    ``digest`` identifies the data of a series file (``file:``), whose
    contents may change under the same name: records and exchanged files
    made from other contents are then not taken for this task's. None for
    the data sets shipped with a fixed content.
    """

    dataset: str
    entity: str | None
    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    digest: str | None = None

    @property
    def name(self) -> str:
        return self.dataset if self.entity is None else f"{self.dataset}/{self.entity}"


# the loaders are imported when a task is made, so that listing the data sets
# (``alad benchmark --help``) does not import scikit-learn


def _gecco(data_home, entities):
    from ..datasets import load_gecco

    if entities:
        raise ValueError(
            f"gecco is one series, without entities; got gecco:{','.join(entities)}."
        )

    data = load_gecco(data_home)
    return [Task("gecco", None, data.X_train, data.X_test, data.y_test)]


def _msl(data_home, entities):
    from ..datasets import load_msl

    if entities:
        bunches = {e: load_msl(e, data_home) for e in entities}
    else:
        bunches = load_msl(None, data_home)
    return [
        Task("msl", name, b.X_train, b.X_test, b.y_test) for name, b in bunches.items()
    ]


def _numbers(dataset: str, entities: list[str], what: str) -> list[int]:
    try:
        return [int(e) for e in entities]
    except ValueError:
        raise ValueError(
            f"the entities of {dataset} are {what}, e.g. {dataset}:1,2; got "
            f"{dataset}:{','.join(entities)}."
        ) from None


def _ucr(data_home, entities):
    from ..datasets import load_ucr

    numbers = _numbers("ucr", entities, "series numbers") if entities else [1]
    tasks = []
    for number in numbers:
        data = load_ucr(number, data_home)
        tasks.append(
            Task("ucr", f"{number:03d}", data.X_train, data.X_test, data.y_test)
        )
    return tasks


def _telemetry(data_home, entities):
    from ..datasets import make_telemetry

    seeds = _numbers("telemetry", entities, "seeds") if entities else [0]
    tasks = []
    for seed in seeds:
        data = make_telemetry(random_state=seed)
        tasks.append(
            Task("telemetry", str(seed), data.X_train, data.X_test, data.y_test)
        )
    return tasks


def _file(data_home, entities):
    from ..datasets import load_series_file

    if not entities:
        raise ValueError(
            "file: needs the path of a series, e.g. file:mine.npz or "
            "file:001_NAB_id_1_Facility_tr_1007_1st_2014.csv."
        )
    tasks = []
    for path in entities:
        data = load_series_file(path)
        digest = _digest(data.X_train, data.X_test, data.y_test)
        tasks.append(
            Task("file", data.name, data.X_train, data.X_test, data.y_test, digest)
        )
    return tasks


def _digest(*arrays) -> str:
    """A short hash of arrays' shapes, types and values."""
    h = hashlib.sha1()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.shape}{array.dtype}".encode())
        h.update(array.tobytes())
    return h.hexdigest()[:12]


#: Data set name -> loader of its tasks, ``loader(data_home, entities)``.
DATASETS = {
    "gecco": _gecco,
    "msl": _msl,
    "ucr": _ucr,
    "telemetry": _telemetry,
    "file": _file,
}


def load_tasks(spec: str, data_home=None) -> list[Task]:
    """Tasks of a data-set spec: ``"gecco"``, ``"msl"``, ``"msl:C-1,M-6"``, ``"ucr:1"``,
    ``"file:mine.npz"``.

    The part after ``:`` selects entities (MSL channels, UCR series numbers,
    seeds of the synthetic ``telemetry`` series, paths of your own series
    files: :func:`~alad.datasets.load_series_file`); without it, MSL gives
    its 27 entities, UCR series 001 and ``telemetry`` seed 0.
    """
    name, _, rest = spec.partition(":")
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}; got {spec!r}.")
    entities = [e for e in rest.split(",") if e] if rest else []
    if ":" in spec and not entities:  # msl:$EMPTY would be every entity
        raise ValueError(f"{spec!r} names no entity after ':'.")
    return DATASETS[name](data_home, entities)


def load_all_tasks(specs, data_home=None) -> list[Task]:
    """The tasks of several specs (or tasks), each name once.

    Raises
    ------
    ValueError
        If two tasks share a name: their runs and records would be taken
        for one another's (two series files of the same name in different
        folders, or ``mine.csv`` beside ``mine.npz``).
    """
    tasks = []
    for spec in specs:
        tasks += [spec] if isinstance(spec, Task) else load_tasks(spec, data_home)
    counts = Counter(task.name for task in tasks)
    twice = sorted(name for name, n in counts.items() if n > 1)
    if twice:
        raise ValueError(
            f"more than one task is named {', '.join(map(repr, twice))}: a series "
            "file's task is named after the file, without its folder and suffix, "
            "so give the files different names (and name each data set once)."
        )
    return tasks


#: The data sets of the NAF-AL tables: ODDS (Table 1) and UEA (Tables 2, 3),
#: in the order of the paper's columns. Their loaders are
#: :func:`~alad.datasets.load_odds` and :func:`~alad.datasets.load_uea`.
ODDS = ("arrhythmia", "cardio", "lympho", "thyroid")
UEA = ("Epilepsy", "NATOPS", "RacketSports", "CharacterTrajectories")
NAFAL_DATASETS = ODDS + UEA
