"""Label efficiency: metrics against labelled windows, alad next to its peers.

Issue 13's benchmark as a protocol of the engine
(:mod:`alad.experiments.engine`): ``alad benchmark --protocol labels``. For
each task (a training series and a labelled test series), split and seed:

- **the split**: a contiguous stretch of ``pool_ratio`` of the test series is
  the unlabelled pool, the rest (before and after it) the evaluation part,
  whose two pieces every method scores apart (:func:`score_apart`); the
  ratio may differ per data set (:data:`POOL_RATIO`: half of MSL's short
  test series, 20 % of the others'). ``"anomalous"`` places the pool
  by :func:`pool_start`, a rule that depends only on the positions of the
  anomalies and the seed, so that the pool holds anomalies; ``"paper"`` is
  Han et al.'s first ``pool_ratio`` of the test series (its pool may hold
  none);
- **alad**, for each backbone of :class:`~alad.ActiveReconstructionDetector`:
  fitted on the training part (``"w/o labels"``), on the training part and the
  pool taken as normal (``"pool as normal"``), and the first model continued by
  the user's loop (query, label with the ground truth, ``partial_fit``;
  :func:`alad.active.run_active_learning`) up to each budget of labelled
  windows (``"with labels"``), scored on the evaluation part at every budget;
- **a task file** (:func:`write_task_file`): the data of the split and the
  windows the first backbone queried at each budget, for the peers, which run
  in their own virtual environment (``benchmarks/peers/run_peers.py``) and
  write one score per evaluation timestep to ``scores/``;
- **peer records**: the score files found are scored here, by
  :func:`alad.metrics.detection_report`, like alad's; missing ones are
  listed, not fatal. A peer that puts each window's score at the window's
  last row (:data:`WINDOW_END_PEERS`) is scored twice: as it scores, and
  re-aligned to alad's rule, the mean over the windows covering a row
  (:func:`covering_from_window_end`; method ``"<peer> (covering mean)"``).

The report (:func:`format_report`) prints the comparison at 50 labelled
windows against the best unsupervised peer and the best peer that takes
labels, on GECCO, the mean over MSL's entities and UCR 001, and whether labels
ever make a detector worse on average than the same detector without labels
or with the pool taken as normal; a second comparison gives the peers that
score windows under alad's alignment (:data:`ALIGNMENTS`).

The code is split by job: :mod:`.split` (where the pool is), :mod:`.exchange`
(the files exchanged with the peers), :mod:`.runs` (alad's runs, the peers'
score files, :func:`jobs`) and :mod:`.report` (tables and figures); every
public name is importable from here.
"""

from ..tasks import DATASETS
from .exchange import (
    LABEL_PEERS,
    ROW_ERROR_PEERS,
    UNSUPERVISED_PEERS,
    WINDOW_END_PEERS,
    covering_from_window_end,
    peer_stride,
    peer_window,
    read_task_file,
    score_path,
    task_file,
    task_id,
    write_task_file,
)
from .report import (
    ALIGNMENTS,
    COMPARED,
    METRIC_NAMES,
    SETTINGS,
    comparison,
    current,
    curves,
    format_report,
    pooled_curves,
    save_figures,
)
from .runs import BUDGETS, COVERING, jobs
from .split import (
    EVAL_SCORING,
    PAPER_POOL_RATIO,
    POOL_RATIO,
    SPLITS,
    LabelSplit,
    make_label_split,
    pool_ratio_of,
    pool_ratios,
    pool_rows,
    pool_start,
    pool_windows,
    score_apart,
)

__all__ = [
    "ALIGNMENTS",
    "BUDGETS",
    "COMPARED",
    "COVERING",
    "DATASETS",
    "EVAL_SCORING",
    "LABEL_PEERS",
    "ROW_ERROR_PEERS",
    "METRIC_NAMES",
    "POOL_RATIO",
    "SETTINGS",
    "SPLITS",
    "UNSUPERVISED_PEERS",
    "WINDOW_END_PEERS",
    "LabelSplit",
    "comparison",
    "covering_from_window_end",
    "peer_stride",
    "current",
    "curves",
    "format_report",
    "jobs",
    "make_label_split",
    "PAPER_POOL_RATIO",
    "peer_window",
    "pool_ratio_of",
    "pool_ratios",
    "pool_rows",
    "pool_start",
    "pool_windows",
    "pooled_curves",
    "read_task_file",
    "save_figures",
    "score_apart",
    "score_path",
    "task_file",
    "task_id",
    "write_task_file",
]
