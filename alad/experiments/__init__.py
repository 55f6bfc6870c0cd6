"""The benchmark harness: one protocol engine, the papers' protocols as configurations.

Han et al.'s Table 2 (``alad benchmark --protocol han``) and the NAF-AL tables
of Zhang et al. (``alad benchmark --protocol nafal``).
"""

from .._lazy import lazy_dir, lazy_getattr

__all__ = [
    "ABLATIONS",
    "ACTIVE_DEFAULTS",
    "BASELINES",
    "DATASETS",
    "GRIDS",
    "PROTOCOLS",
    "SETTINGS",
    "Job",
    "ResultStore",
    "Task",
    "atomic_write",
    "average_gains",
    "expand_grid",
    "format_report",
    "get_protocol",
    "load_labels",
    "load_tasks",
    "make_split",
    "read_records",
    "render_table",
    "run_benchmark",
    "run_jobs",
    "save_figures",
    "select_configs",
    "summarize",
]

# imported on first use (PEP 562): the command line lists protocols and data
# sets without importing torch
__exports__ = {
    "ABLATIONS": ".han",
    "ACTIVE_DEFAULTS": ".han",
    "BASELINES": ".han",
    "GRIDS": ".han",
    "SETTINGS": ".han",
    "expand_grid": ".han",
    "make_split": ".han",
    "run_benchmark": ".han",
    "PROTOCOLS": ".engine",
    "Job": ".engine",
    "get_protocol": ".engine",
    "run_jobs": ".engine",
    "average_gains": ".report",
    "format_report": ".report",
    "save_figures": ".report",
    "select_configs": ".report",
    "summarize": ".report",
    "load_labels": ".run",
    "read_records": ".run",
    "ResultStore": ".store",
    "atomic_write": ".store",
    "render_table": ".tables",
    "DATASETS": ".tasks",
    "Task": ".tasks",
    "load_tasks": ".tasks",
}
__getattr__ = lazy_getattr(__name__, __exports__)
__dir__ = lazy_dir(__name__, __exports__)
