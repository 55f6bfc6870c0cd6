"""The reproduction harness of the papers' experiments (``alad benchmark``)."""

from .protocol import ABLATIONS, ACTIVE_DEFAULTS, BASELINES, SETTINGS, make_split
from .report import (
    average_gains,
    format_report,
    save_figures,
    select_configs,
    summarize,
)
from .run import GRIDS, expand_grid, load_labels, read_records, run_benchmark
from .store import ResultStore
from .tasks import DATASETS, Task, load_tasks

__all__ = [
    "ABLATIONS",
    "ACTIVE_DEFAULTS",
    "BASELINES",
    "DATASETS",
    "GRIDS",
    "SETTINGS",
    "ResultStore",
    "average_gains",
    "Task",
    "expand_grid",
    "load_labels",
    "load_tasks",
    "make_split",
    "format_report",
    "read_records",
    "run_benchmark",
    "save_figures",
    "select_configs",
    "summarize",
]
