"""Feedback variants of the reconstruction detector, chosen on validation halves.

Defaults of the feedback are chosen here, never on the figures the label
benchmark reports. Each task is split as the label benchmark splits it
(:func:`alad.experiments.labels.make_label_split`, ``"anomalous"``: a pool
that holds anomalies, the rest is the evaluation part); the evaluation part
is then cut in two halves in time order: the **validation** half (the
first) decides, the **test** half (the second) is only printed beside it.

For every task and seed the detector is fitted once with its defaults
(``random_state`` = the seed) and the non-overlapping windows the studies
began with (``BASE_FIT``); a variant with parameters of the fit itself
(``FIT_KEY``) gets a fit of its own. Each variant continues a copy of it through
the user's loop (:func:`alad.active.run_active_learning`) to 10, 25 and 50
labelled windows (``--budgets`` scores it at others, e.g. 10 25 50 100),
and the seconds of each round (query + ``partial_fit``, whose refresh of
``threshold_`` is part of it) are recorded.

    python benchmarks/label_variants.py --run           # runs what is missing
    python benchmarks/label_variants.py                 # prints the tables
    python benchmarks/label_variants.py --run --variant steps120 --task gecco
    python benchmarks/label_variants.py --run --task msl1   # univariate tasks

``--records PATH [PATH ...]`` reads other files (and appends to the first):
the way to rerun a variant on changed code and set it beside the committed
records.

Variants that differ only in how the scores are made of the model
(``SCORE_ONLY``: ``score_smoothing``) share one loop: the queries and the
training do not read them, so each is scored on the same detector at every
budget, paired exactly.

Records: ``benchmarks/results/label_variants.jsonl`` (one line per task,
seed, variant and budget; ``n_anomalous_windows``, the labelled windows
holding an anomaly, since 2026-12-06); fitted detectors are cached in
``--cache``. ``--first-anomalous N`` keeps the (task, seed) pairs whose first
10 windows held N anomalous ones: the first round's queries come from the
same fitted model for every variant that queries and scores alike (a fit
of its own aside), so one variant's record of it serves them all.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from alad.experiments.labels import METRIC_NAMES

RECORDS = Path(__file__).parent / "results" / "label_variants.jsonl"
#: the fit every study continues from (``_fitted``), whatever the defaults:
#: non-overlapping windows, scores neither smoothed nor detrended (variants set
#: ``score_smoothing``, ``SCORE_ONLY``)
BASE_FIT = {
    "stride": None,
    "score_smoothing": None,
    "score_detrend": None,
    # ... and the backbone trained from the first label (variants set it)
    "feedback_min_anomalous": 0,
}
#: under this key, the labelled windows below which a variant's loop leaves
#: the backbone as it is (``feedback_lr=FROZEN_LR``, the head alone learns),
#: checked before each budget's rounds
FROZEN_UNTIL = "frozen_until"
FROZEN_LR = 1e-12
#: a variant's parameters of the fit itself, under this key: the variant
#: gets a fit of its own (cached apart) instead of the fitted default
FIT_KEY = "fit"
#: a fit's ``stride`` that this script resolves per task: windows of 50 (the
#: default) stepped so that the training part gives at least 500 windows, as
#: ``stride="auto"`` steps a univariate series, on any series
MIN_WINDOWS_STRIDE = "min500"
#: parameters that change the scores of a model, not the loop that trains
#: it (queries, feedback, head): variants that differ only in them share a loop
SCORE_ONLY = ("score_smoothing", "scored_detrend")
#: a ``SCORE_ONLY`` key: ``score_detrend`` set after the loop, so that the
#: queries and the training read the plain score and only the scores
#: measured are detrended (the head's reference made again from the
#: detrended training scores)
SCORED_DETREND = "scored_detrend"
#: name -> detector parameters set on the fitted default before the loop
VARIANTS = {
    # every variant states its whole feedback schedule: the cached detectors
    # were fitted when the paper's was the default, a fresh one is not
    "paper schedule": {
        "feedback_steps": None,
        "pool_replay": 0.0,
        "score_head": "none",
        "channel_score": "mean",
    },
    "steps120": {
        "feedback_steps": 120,
        "pool_replay": 0.0,
        "score_head": "none",
        "channel_score": "mean",
    },
    "steps120+pool": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "none",
        "channel_score": "mean",
    },
    "pool": {
        "feedback_steps": None,
        "pool_replay": 0.5,
        "score_head": "none",
        "channel_score": "mean",
    },
    # the label-trained window classifier (alad.label_head), its rule chosen
    # offline by benchmarks/label_head.py on the same validation halves
    "steps120+pool+head": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "window_classifier",
        "head_weight": 1.0,
        "channel_score": "mean",
    },
    # ... weighed by its held-out skill (the default since)
    "steps120+pool+skill": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "window_classifier",
        "head_weight": "skill",
        "channel_score": "mean",
    },
    # ... with the channels' errors scaled, the largest taken (the default
    # since; alad.channel_score, chosen by benchmarks/channel_score.py)
    "steps120+pool+skill+channels": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "window_classifier",
        "head_weight": "skill",
        "channel_score": "max_scaled",
    },
    # ... whose head also sees each channel's (scaled) reconstruction error
    "steps120+pool+skill+channels+errors": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "window_classifier",
        "head_weight": "skill",
        "channel_score": "max_scaled",
        "head_features": "window+errors",
    },
    # ... with the head's skill measured out of bag (one forest, not five)
    "steps120+pool+skill+channels+oob": {
        "feedback_steps": 120,
        "pool_replay": 0.5,
        "score_head": "window_classifier",
        "head_weight": "skill",
        "channel_score": "max_scaled",
        "head_skill": "out_of_bag",
    },
}
#: the defaults, each with one part of a round taken away: which part costs a
#: series what its first labels lose (the telemetry's validation halves)
_DEFAULTS = VARIANTS["steps120+pool+skill+channels+oob"]
VARIANTS.update(
    {
        "defaults, no maximise phase": {
            **_DEFAULTS,
            "feedback_loss": "weighted",
            "anomaly_weight": 0.0,
        },
        "defaults, no pool replay": {**_DEFAULTS, "pool_replay": 0.0},
        "defaults, backbone frozen": {**_DEFAULTS, "feedback_lr": FROZEN_LR},
        "defaults, no head": {**_DEFAULTS, "score_head": "none"},
        # no head until its skill can be measured (two anomalous windows):
        # on MSL's evaluation parts one labelled anomalous window lowered
        # PA%K AUC (benchmarks/label_pairs.py --by-anomalous)
        "defaults, head when measured": {
            **_DEFAULTS,
            "head_weight": "measured_skill",
        },
        "defaults, margin 1": {**_DEFAULTS, "anomaly_margin": 1.0},
        # a round of 40 steps: MSL's rounds at a tenth of its short fit
        "defaults, 40 steps": {**_DEFAULTS, "feedback_steps": 40},
        # overlapping scoring windows (benchmarks/scoring_stride.py measured
        # them without labels): the queries, the head and the threshold all
        # read the overlapped scores
        "defaults, score stride 25": {**_DEFAULTS, "score_stride": 25},
        "defaults, score stride 10": {**_DEFAULTS, "score_stride": 10},
        # overlapping training windows too (a fit of its own, ``FIT_KEY``):
        # twice the training windows, each timestep seen at two offsets
        "defaults, stride 25": {**_DEFAULTS, FIT_KEY: {"stride": 25}},
        # ... and a head that also sees each window's profile (the means of
        # ten stretches, less the window's mean): the shape of a beat, which
        # six statistics of a single channel cannot describe
        "defaults, stride 25, head shape": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "head_features": "window+shape",
        },
        # a head that also reads how rare each window's rows are to an
        # isolation forest of the training rows (no labels): an unsupervised
        # view of the windows the labelled anomalies do not resemble
        "defaults, head forest": {**_DEFAULTS, "head_features": "window+forest"},
        # the channels' scale also from the timesteps labelled normal (the
        # detector's own false alarms): a channel that errs on them weighs less
        "defaults, labelled scale": {**_DEFAULTS, "scale_with_labels": True},
        # queries weighted to the top of the score: 8 of each 10 windows from
        # the top (the paper's hybrid: 5 top, 5 from score intervals)
        "defaults, top 8": {**_DEFAULTS, "top_k": 8, "n_bins": 2},
        "defaults, stride 25, top 8": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "top_k": 8,
            "n_bins": 2,
        },
        # a window of one period where a univariate series has a clear cycle
        # (window_size="auto", alad.windows.dominant_period), stepped by an
        # eighth of it; elsewhere the same fit as "defaults, stride 25"
        "defaults, window auto": {
            **_DEFAULTS,
            FIT_KEY: {"window_size": "auto", "stride": "auto"},
        },
        # stride="auto" since the step is shortened to give at least 500
        # training windows (MIN_TRAINING_WINDOWS); a long series (UCR 001) gets
        # the same fit as "defaults, stride 25"
        "defaults, stride auto": {**_DEFAULTS, FIT_KEY: {"stride": "auto"}},
        # ... scored every 25 rows, the step before it was shortened (the
        # scoring cost of the half-window step on a long series to score)
        "defaults, stride auto, score stride 25": {
            **_DEFAULTS,
            FIT_KEY: {"stride": "auto"},
            "score_stride": 25,
        },
        # the same parameters, run after stride="auto" kept 500 training
        # windows (a step of 2 instead of 22 on InternalBleeding16's 1,200 rows)
        "defaults, window auto, 500 windows": {
            **_DEFAULTS,
            FIT_KEY: {"window_size": "auto", "stride": "auto"},
        },
        # a multivariate series stepped as a short univariate one is (MSL's
        # entities give 8 to 86 windows of 50; GECCO keeps its step of 50)
        "defaults, 500 windows": {**_DEFAULTS, FIT_KEY: {"stride": MIN_WINDOWS_STRIDE}},
        "defaults, stride 25, head forest": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "head_features": "window+forest",
        },
        # each timestep's score the mean of a window around it (the cached
        # fits predate score_smoothing and scored without it); with their
        # baselines in the same loop (SCORE_ONLY)
        "defaults, smoothed": {**_DEFAULTS, "score_smoothing": "window"},
        "defaults, smoothed 25": {**_DEFAULTS, "score_smoothing": 25},
        "defaults, stride 25, smoothed": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "score_smoothing": "window",
        },
        "defaults, stride 25, smoothed 25": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "score_smoothing": 25,
        },
        "defaults, stride auto, smoothed": {
            **_DEFAULTS,
            FIT_KEY: {"stride": "auto"},
            "score_smoothing": "window",
        },
        "defaults, stride auto, smoothed 25": {
            **_DEFAULTS,
            FIT_KEY: {"stride": "auto"},
            "score_smoothing": 25,
        },
        # ... or scanned over widths of 1, 12, 25 and 50, each ranked among the
        # training scores smoothed alike (score_smoothing="multiscale")
        "defaults, multiscale": {**_DEFAULTS, "score_smoothing": "multiscale"},
        "defaults, stride 25, multiscale": {
            **_DEFAULTS,
            FIT_KEY: {"stride": 25},
            "score_smoothing": "multiscale",
        },
        "defaults, stride auto, multiscale": {
            **_DEFAULTS,
            FIT_KEY: {"stride": "auto"},
            "score_smoothing": "multiscale",
        },
    }
)
#: the univariate defaults since (overlapping windows, the scan over widths),
#: each less one part of a round, as "defaults, backbone frozen" and
#: "defaults, no maximise phase" were measured on the multivariate series:
#: does the backbone's feedback pay on a univariate series whose scores are
#: scanned?
_UNIVARIATE_DEFAULTS = VARIANTS["defaults, stride auto, multiscale"]
VARIANTS.update(
    {
        "univariate defaults, backbone frozen": {
            **_UNIVARIATE_DEFAULTS,
            "feedback_lr": FROZEN_LR,
        },
        "univariate defaults, no maximise phase": {
            **_UNIVARIATE_DEFAULTS,
            "feedback_loss": "weighted",
            "anomaly_weight": 0.0,
        },
    }
)
#: each default with its scores less their moving median over 5,000
#: timesteps (score_detrend; benchmarks/score_detrend.py measured it without
#: labels): does a drift-free score also pay once the labels come?
VARIANTS.update(
    {
        "defaults, detrend 5000": {**_DEFAULTS, "score_detrend": 5000},
        # ... without the head: is it the head that undoes the gain with labels?
        "defaults, detrend 5000, no head": {
            **_DEFAULTS,
            "score_detrend": 5000,
            "score_head": "none",
        },
        "univariate defaults, detrend 5000": {
            **_UNIVARIATE_DEFAULTS,
            "score_detrend": 5000,
        },
        # the defaults' loop (queries, feedback, head on the plain score),
        # only the scores measured detrended: do the plain score's queries
        # (drifted normal windows among them) teach what the detrended
        # score's do not?
        "defaults, scored detrended 5000": {**_DEFAULTS, SCORED_DETREND: 5000},
        "univariate defaults, scored detrended 5000": {
            **_UNIVARIATE_DEFAULTS,
            SCORED_DETREND: 5000,
        },
        # where do GECCO's first ten labels cost with the detrended score:
        # the head (at full weight while its skill is unmeasurable) or the
        # feedback's maximise phase?
        "defaults, no head, scored detrended 5000": {
            **_DEFAULTS,
            "score_head": "none",
            SCORED_DETREND: 5000,
        },
        "defaults, no maximise phase, scored detrended 5000": {
            **_DEFAULTS,
            "feedback_loss": "weighted",
            "anomaly_weight": 0.0,
            SCORED_DETREND: 5000,
        },
        # ... or the training of the backbone at all, or the pool's replay?
        "defaults, backbone frozen, scored detrended 5000": {
            **_DEFAULTS,
            "feedback_lr": FROZEN_LR,
            SCORED_DETREND: 5000,
        },
        "defaults, no pool replay, scored detrended 5000": {
            **_DEFAULTS,
            "pool_replay": 0.0,
            SCORED_DETREND: 5000,
        },
        # ... and the candidate rule: the head alone for the first 10 windows
        "defaults, frozen until 10, scored detrended 5000": {
            **_DEFAULTS,
            FROZEN_UNTIL: 10,
            SCORED_DETREND: 5000,
        },
        "univariate defaults, frozen until 10, scored detrended 5000": {
            **_UNIVARIATE_DEFAULTS,
            FROZEN_UNTIL: 10,
            SCORED_DETREND: 5000,
        },
    }
)
#: the backbone trained only once the labels hold this many anomalous windows
#: (``feedback_min_anomalous``; the head learns from the first): on GECCO the
#: rounds with one or two labelled anomalies lowered the validation halves
#: most, a frozen backbone did not (label_variants_dip.jsonl)
VARIANTS.update(
    {
        f"{defaults}, backbone from {k} anomalous, scored detrended 5000": {
            **base,
            "feedback_min_anomalous": k,
            SCORED_DETREND: 5000,
        }
        for k in (2, 3)
        for defaults, base in (
            ("defaults", _DEFAULTS),
            ("univariate defaults", _UNIVARIATE_DEFAULTS),
        )
    }
)
#: where a round starts (``feedback_start``): from the fitted backbone, so that
#: the feedback of the rounds does not add up (GECCO's label benchmark fell
#: from 0.682 at 25 windows to 0.630 at 100); run with ``--budgets 10 25 50
#: 100`` into a records file of its own
VARIANTS.update(
    {
        "defaults, feedback from the fitted backbone, scored detrended 5000": {
            **_DEFAULTS,
            "feedback_min_anomalous": 3,
            "feedback_start": "fitted",
            SCORED_DETREND: 5000,
        },
        "univariate defaults, feedback from the fitted backbone, "
        "scored detrended 5000": {
            **_UNIVARIATE_DEFAULTS,
            "feedback_start": "fitted",
            SCORED_DETREND: 5000,
        },
    }
)
#: task spec -> pool ratio (MSL's 20 % pools hold 4 to 24 windows)
TASKS = {
    "gecco": 0.2,
    "ucr:1": 0.2,
    "msl:C-1": 0.5,
    "msl:D-14": 0.5,
    "msl:F-7": 0.5,
    "msl:P-11": 0.5,
    "msl:T-9": 0.5,
    "msl:M-6": 0.5,
}
#: multivariate MSL entities beyond ``TASKS``, run only when named:
#: ``--task msl:C-2,D-15`` (pools at 50 %, as above)
MSL = "msl"
#: tasks run only when named (``--task``): the demo's synthetic telemetry,
#: kept out of the real-data means that chose the defaults
EXTRA_TASKS = {"telemetry": 0.2}
#: univariate tasks, run only when named: column 0 of an MSL entity (the
#: telemetry value its labels are about; columns 1-54 are commands), as
#: univariate benchmarks take spacecraft channels. ``--task msl1`` runs the
#: entities whose training value is a signal (at least 30 distinct values);
#: ``msl1:C-1,M-1`` names them. Pools at 50 %, as MSL's.
UNIVARIATE = "msl1"
UNIVARIATE_ENTITIES = (
    "C-1,D-15,D-16,F-4,F-5,F-7,F-8,M-1,M-2,M-3,M-4,M-5,M-7,P-11,P-15,T-12,T-13"
)
#: univariate series from aeon's wheel (``benchmarks/aeon_series.py``), run
#: only when named: ``--task aeon`` or ``aeon:ib16``
AEON = "aeon"


def study_tasks(spec: str):
    """The tasks of ``spec``: a data-set spec, or ``msl1[:E,...]`` (univariate)."""
    from alad.experiments.tasks import Task, load_tasks

    name, _, entities = spec.partition(":")
    if name == AEON:
        from aeon_series import load

        return load(entities.split(",") if entities else None)
    if name != UNIVARIATE:
        return load_tasks(spec)
    return [
        Task(UNIVARIATE, t.entity, t.X_train[:, :1], t.X_test[:, :1], t.y_test)
        for t in load_tasks(f"msl:{entities or UNIVARIATE_ENTITIES}")
    ]


def pool_ratio(spec: str) -> float:
    if spec.partition(":")[0] in (UNIVARIATE, MSL):
        return 0.5
    if spec.partition(":")[0] == AEON:
        return 0.2
    return {**TASKS, **EXTRA_TASKS}[spec]


def task_spec(spec: str) -> str:
    """``--task``'s check: a known task, ``msl:E[,...]`` or ``msl1[:E,...]``."""
    if (
        spec in TASKS
        or spec in EXTRA_TASKS
        or spec.partition(":")[0] in (UNIVARIATE, AEON)
        or (spec.partition(":")[0] == MSL and spec.partition(":")[2])
    ):
        return spec
    raise argparse.ArgumentTypeError(
        f"one of {[*TASKS, *EXTRA_TASKS]}, {MSL}:ENTITY[,...], "
        f"{UNIVARIATE}[:ENTITY,...] or "
        f"{AEON}[:NAME,...]; got {spec!r}"
    )


BUDGETS = (10, 25, 50)
SEEDS = (0, 1, 2)
#: the label benchmark's metrics and names, PA-F1 left out (it saturates on MSL)
METRICS = {
    key: METRIC_NAMES[key]
    for key in ("pa_k_auc", "f1", "roc_auc", "average_precision", "vus_pr")
}


def _halves(split):
    half = len(split.y_eval) // 2
    return {"validation": slice(0, half), "test": slice(half, None)}


def _metrics(y, scores, part):
    from alad.metrics import detection_report

    y, scores = np.asarray(y)[part], np.asarray(scores, np.float64)[part]
    if y.min() == y.max():
        return None
    report = detection_report(y, scores)
    return {m: report[m] for m in METRICS}


def _mean_row(labels, ms) -> str:
    """A markdown row: ``labels``, the count and the mean of each metric of ``ms``."""
    means = [np.mean([m[k] for m in ms]) for k in METRICS]
    cells = [*map(str, labels), str(len(ms)), *(f"{v:.3f}" for v in means)]
    return "| " + " | ".join(cells) + " |"


def _fitted(task, seed, cache: Path, fit_params=None):
    """The detector fitted on ``task``: the defaults, ``BASE_FIT``, ``fit_params``."""
    from alad import ActiveReconstructionDetector

    fit_params = fit_params or {}
    tag = "".join(f"_{k}{v}" for k, v in sorted(fit_params.items()))
    path = cache / f"{task.name.replace('/', '_')}_{seed}{tag}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    # the studies' fitted default: non-overlapping windows, the default when
    # they were run (stride="auto" overlaps a univariate series' since)
    params = {**BASE_FIT, **fit_params}
    if params["stride"] == MIN_WINDOWS_STRIDE:
        from alad.detectors.active_reconstruction import (
            AUTO_WINDOW,
            MIN_TRAINING_WINDOWS,
        )
        from alad.windows import stride_for_windows

        params["stride"] = stride_for_windows(
            len(task.X_train), AUTO_WINDOW, AUTO_WINDOW, MIN_TRAINING_WINDOWS
        )
    det = ActiveReconstructionDetector(random_state=seed, **params)
    start = time.perf_counter()
    det.fit(task.X_train)
    print(
        f"{task.name} seed {seed} fit {fit_params}: "
        f"{time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(det, f)
    return det


def _with_params(fitted, params):
    """A copy of ``fitted`` with ``params``; a new ``channel_score``,
    ``score_stride`` or ``score_detrend`` rescored.

    None of them changes how the backbone is trained, only how its errors
    are scored, so rescoring the training data (the scale and ``threshold_``)
    gives what a fit with it gives, without training again.
    """
    det = copy.deepcopy(fitted)

    def scoring():
        return det.channel_score, det.score_stride, det.score_detrend

    before = scoring()
    det.set_params(**params)
    if scoring() != before:
        det.score_stride_ = det.score_stride or det.stride_
        scale, raw = det._training_scores(det.net_.module_)
        scores, level = det._detrended_training(raw)
        det.channel_scale_, det._score_level = scale, level
        det._set_training_scores(scores)
        det._bind_fit_params()
    return det


def _scored_as(det, params):
    """``det``'s scoring with ``params`` (``SCORE_ONLY``), or ``det`` itself.

    A copy with them set and bound to its fit, its smoother made again from
    its training scores unsmoothed: its ``decision_function`` is what a
    detector with them gives after the same loop.
    """
    if not params:
        return det
    det = copy.deepcopy(det)
    params = dict(params)
    span = params.pop(SCORED_DETREND, None)
    if span is not None:
        _detrend_after_loop(det, span)
    det.set_params(**params)
    det._bind_fit_params()
    det._smoother = None
    det._set_training_scores(det._score(det._train_data, standardized=True))
    return det


def _detrend_after_loop(det, span: int) -> None:
    """Set ``score_detrend=span`` on ``det`` after its loop: the level and,
    with a head, its reference made from its training scores, as a round
    commits them (a series' training scores)."""
    det.set_params(score_detrend=span)
    raw = det._plain_score(det._train_data, standardized=True)
    scores, det._score_level = det._detrended_training(raw)
    if det._head is not None:
        det._head_reference = np.sort(scores)


def _scores(det, members, X) -> dict[str, np.ndarray]:
    """Each member variant's scores of ``X`` after the loop of ``det``."""
    return {
        name: _scored_as(det, scoring).decision_function(X) for name, scoring in members
    }


def _loops(variants) -> dict[str, list[tuple[str, dict]]]:
    """The loops ``variants`` need: each variant's loop parameters (as JSON)
    -> its variants and their ``SCORE_ONLY`` parameters."""
    loops = {}
    for name in variants:
        params = dict(VARIANTS[name])
        scoring = {k: params.pop(k) for k in SCORE_ONLY if k in params}
        loops.setdefault(json.dumps(params, sort_keys=True), []).append((name, scoring))
    return loops


def _read(paths) -> list[dict]:
    return [json.loads(line) for p in paths for line in p.read_text().splitlines()]


def run(
    variants,
    tasks,
    cache: Path,
    records=(RECORDS,),
    seeds=SEEDS,
    budgets=BUDGETS,
) -> None:
    """Run what ``records`` (files) lack; new records are appended to the first."""
    import torch

    from alad.active import run_active_learning
    from alad.experiments.labels import make_label_split

    torch.set_num_threads(1)
    done = {
        (r["task"], r["seed"], r["variant"], r["budget"])
        for r in _read(p for p in records if p.exists())
    }
    for spec in tasks:
        for task in study_tasks(spec):
            for seed in seeds:
                todo = [
                    v
                    for v in variants
                    if any((task.name, seed, v, b) not in done for b in (0, *budgets))
                ]
                if not todo:
                    continue
                split = make_label_split(task, "anomalous", pool_ratio(spec), seed)
                halves = _halves(split)
                for loop, members in _loops(todo).items():
                    params = json.loads(loop)
                    base = _fitted(task, seed, cache, params.pop(FIT_KEY, None))
                    frozen_until = params.pop(FROZEN_UNTIL, 0)
                    det = _with_params(base, params)
                    rows = [(0, 0, 0, [], _scores(det, members, split.X_eval))]
                    spent = 0
                    for budget in budgets:
                        if frozen_until:
                            det.set_params(
                                feedback_lr=FROZEN_LR
                                if spent < frozen_until
                                else params.get("feedback_lr", base.feedback_lr)
                            )
                        result = run_active_learning(
                            det, split.X_pool, split.y_pool, budget=budget - spent
                        )
                        rounds = [h["seconds"] for h in result.history[1:]]
                        spent += result.history[-1]["n_labelled"]
                        rows.append(
                            (
                                budget,
                                spent,
                                det._anomalous_window_count(),
                                rounds,
                                _scores(det, members, split.X_eval),
                            )
                        )
                    with records[0].open("a") as f:
                        for name, _ in members:
                            for budget, n_labelled, anomalous, rounds, s in rows:
                                record = {
                                    "task": task.name,
                                    "seed": seed,
                                    "variant": name,
                                    "params": VARIANTS[name],
                                    "budget": budget,
                                    "n_labelled": n_labelled,
                                    "n_anomalous_windows": anomalous,
                                    "round_seconds": rounds,
                                    **{
                                        part: _metrics(split.y_eval, s[name], rows_)
                                        for part, rows_ in halves.items()
                                    },
                                }
                                f.write(json.dumps(record) + "\n")
                    names = ", ".join(name for name, _ in members)
                    print(f"{task.name} seed {seed} {names}: done", file=sys.stderr)


def table(
    part: str = "validation",
    tasks=None,
    paths=(RECORDS,),
    variants=None,
    first_anomalous=None,
    budgets=BUDGETS,
) -> str:
    """The variants' means on ``part``; ``tasks`` (specs) keeps their data sets only,
    ``variants`` (names) these variants only, ``first_anomalous`` the pairs whose
    first 10 windows held that many anomalous ones."""
    records = _read(paths)
    if tasks:
        sets = {spec.split(":")[0] for spec in tasks}
        records = [r for r in records if r["task"].split("/")[0] in sets]
    if first_anomalous is not None:
        pairs = {
            (r["task"], r["seed"])
            for r in records
            if r["budget"] == budgets[0]
            and r.get("n_anomalous_windows") == first_anomalous
            and FIT_KEY not in r["params"]
        }
        records = [r for r in records if (r["task"], r["seed"]) in pairs]
    lines = [
        f"{part} halves: mean over tasks and seeds (cells present for every variant)",
        "| variant | budget | n | "
        + " | ".join(METRICS.values())
        + " | round s (mean, max) |",
        "|---|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    # compare on the (task, seed) pairs every variant has, so means are paired
    names = [v for v in variants or VARIANTS if any(r["variant"] == v for r in records)]
    have = {}
    for r in records:
        have.setdefault((r["task"], r["seed"], r["budget"]), {})[r["variant"]] = r
    for budget in (0, *budgets):
        cells = [
            runs
            for (t, s, b), runs in have.items()
            if b == budget and all(v in runs for v in names)
        ]
        for name in names:
            rows = [c[name][part] for c in cells if c[name][part] is not None]
            if not rows:
                continue
            means = [f"{np.mean([r[m] for r in rows]):.4f}" for m in METRICS]
            secs = [x for c in cells for x in c[name]["round_seconds"]]
            speed = f"{np.mean(secs):.1f}, {np.max(secs):.1f}" if secs else "-"
            lines.append(
                f"| {name} | {budget} | {len(rows)} | "
                + " | ".join(means)
                + f" | {speed} |"
            )
    if len(lines) == 3:
        raise ValueError(
            f"no (task, seed, budget) cell of the records holds every variant "
            f"named ({', '.join(names) or 'none found'}) on the {part} halves: "
            "name variants that ran on the same tasks (--task, --variant); "
            "univariate and multivariate variants share no task"
        )
    return "\n".join(lines)


def study_parser(doc: str) -> argparse.ArgumentParser:
    """The options every validation study shares: ``--run`` and ``--cache``.

    It also points ``ALAD_DATA_HOME`` at ``../shared/datasets`` beside the
    checkout when the variable is not set, as the tests do.
    """
    os.environ.setdefault(
        "ALAD_DATA_HOME", str(Path(__file__).parents[2] / "shared" / "datasets")
    )
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--run", action="store_true", help="run what is missing")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("alad_output/label_variants/cache"),
        help="the fitted detectors, one per task and seed",
    )
    return parser


def main() -> None:
    parser = study_parser(__doc__)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS))
    parser.add_argument(
        "--task",
        action="append",
        type=task_spec,
        help="run (and print) these tasks only; default: the real-data tasks",
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(SEEDS), help="seeds to run"
    )
    parser.add_argument("--part", default="validation", choices=("validation", "test"))
    parser.add_argument(
        "--first-anomalous",
        type=int,
        help="only the pairs whose first 10 windows held this many anomalous ones",
    )
    parser.add_argument(
        "--records",
        type=Path,
        nargs="+",
        default=[RECORDS],
        help="records files (new records go to the first)",
    )
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=list(BUDGETS),
        help="labelled windows at which the loop is scored",
    )
    args = parser.parse_args()
    if args.run:
        run(
            args.variant or list(VARIANTS),
            args.task or list(TASKS),
            args.cache,
            args.records,
            args.seeds,
            args.budgets,
        )
    try:
        text = table(
            args.part,
            args.task or list(TASKS),
            args.records,
            args.variant,
            args.first_anomalous,
            args.budgets,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(text)


if __name__ == "__main__":
    main()
