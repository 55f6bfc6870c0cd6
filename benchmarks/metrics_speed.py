"""Speed and agreement of alad.metrics against TSB-AD's and tadpak's metric code.

The scores are real: an :class:`~sklearn.ensemble.IsolationForest` (100
trees, ``random_state=0``) fitted on GECCO's training part and scoring its
training and test parts (138,521 rows, 9 channels), concatenated in time order
and tiled to ``--n`` points (450,000 by default) with their EVENT labels. The
tiling repeats the real anomaly segments and keeps the ties of the real
scores (GECCO has many identical rows, hence identical scores).

Timed, each the best of ``--repeats`` calls (slow peers once):

- alad: :func:`~alad.metrics.best_f1`, :func:`~alad.metrics.pa_f1`,
  :func:`~alad.metrics.pa_k_curve` (K = 0..100), :func:`~alad.metrics.pa_k_auc`,
  :func:`~alad.metrics.roc_auc`, :func:`~alad.metrics.average_precision`,
  :func:`~alad.metrics.detection_report`;
- TSB-AD (``TSB_AD.evaluation.basic_metrics.basic_metricor``): the functions
  behind ``get_metrics``'s ``Standard-F1`` (``metric_PointF1``), ``PA-F1``
  (``metric_PointF1PA``), ``AUC-ROC`` (``metric_ROC``) and ``AUC-PR``
  (``metric_PR``), on the same ``(labels, score)``;
- tadpak: ``evaluate(scores, targets, pa=True, interval=10, k=K)``, which
  searches every 10th threshold of the precision-recall curve, calling ``pak``
  and ``sklearn.metrics.f1_score`` for each; too slow for 450,000 points
  (about 40 s for 20,000 and 160 s for 40,000 here), it is timed on
  ``--tadpak-sizes`` prefixes (the first 10,000 points hold no anomaly) and
  extrapolated with the exponent fitted on them (stated in the output);
- a brute-force PA%K reference built on tadpak's ``pak``: for each K, the best
  F1 of ``pak(scores, targets, t, K)`` over every threshold ``t`` that yields a
  different set of predicted anomalous points (the largest score below each
  distinct anomalous score, and one below the minimum: any other threshold
  predicts the same anomalous points as one of these and at least as many
  normal ones, so it cannot do better). F1 is counted with numpy from the
  adjusted prediction. On all ``--n`` points for the K of ``--brute-ks``;
  checked against a brute force over *every* distinct score on a
  ``--check-n`` prefix.

Agreement is reported as the absolute difference of each pair of numbers,
with the reason for every difference that is not rounding.

With ``--range``, it times instead the VUS, range, affiliation and event
metrics against TSB-AD 1.5's (``RangeAUC_volume_opt``, ``metric_Affiliation``,
``metric_RF1``, ``metric_EventF1PA`` and the affiliation authors'
``pr_from_events``) on series of ``--range-sizes`` points with
``--range-segments`` segments (:func:`range_data`). That mode runs in alad's
own environment and imports no peer: TSB-AD runs in
``benchmarks/.venv-metrics`` (made by ``benchmarks/peers/make_metrics_env.sh``
when missing) through ``benchmarks/peers/metrics_timing.py``, the two
exchanging files; see docs/user_guide/which_metric.rst::

    ALAD_DATA_HOME=/work/shared/datasets .venv/bin/python \\
        benchmarks/metrics_speed.py --range \\
        --out benchmarks/results/metrics_speed_range.json \\
        --rst docs/results/metrics_speed_range.inc

Usage of the default mode (the peers live in their own virtual environment,
see docs/benchmarks.rst)::

    ALAD_DATA_HOME=/work/shared/datasets /work/peers-venv/bin/python \\
        benchmarks/metrics_speed.py --out benchmarks/results/metrics_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from alad import metrics as am
from alad.experiments.run import cpu_model

DEFAULT_BRUTE_KS = [0, 1, 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99, 100]


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #


def gecco_scores(n):
    """IsolationForest scores of GECCO (train then test), tiled to ``n`` points."""
    from sklearn.ensemble import IsolationForest

    from alad.datasets import load_gecco

    data = load_gecco()
    forest = IsolationForest(n_estimators=100, random_state=0).fit(data.X_train)
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test]).astype(np.int64)
    score = -forest.score_samples(X)  # higher = more anomalous
    reps = -(-n // len(X))
    return np.tile(score, reps)[:n], np.tile(y, reps)[:n]


def segment_lengths(y):
    edges = np.diff(np.r_[0, y, 0])
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


def best_time(fn, repeats):
    """Best wall-clock seconds of ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# --------------------------------------------------------------------------- #
# Brute-force PA%K on tadpak's pak
# --------------------------------------------------------------------------- #


def _f1_counts(pred, y):
    tp = int(np.count_nonzero(pred & y))
    fp = int(np.count_nonzero(pred & ~y))
    fn = int(np.count_nonzero(~pred & y))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def candidate_thresholds(score, y, every_score=False):
    """Thresholds ``t`` of ``score > t`` giving every distinct prediction needed.

    With ``every_score`` all distinct scores (and one below the minimum);
    otherwise only the largest score below each distinct anomalous score.
    """
    values = np.unique(score)
    below = np.r_[values[0] - 1.0, values[:-1]]  # predecessor of each value
    if every_score:
        return below
    wanted = np.unique(score[y])
    return below[np.searchsorted(values, wanted)]


def tadpak_brute_force(score, y, k, thresholds):
    """Best F1 after tadpak's ``pak(score, y, t, k)`` over ``thresholds``."""
    from tadpak.pak import pak

    yb = y.astype(bool)
    best, best_t = -1.0, None
    for t in thresholds:
        f1 = _f1_counts(np.asarray(pak(score, y, t, k), dtype=bool), yb)
        if f1 > best:
            best, best_t = f1, float(t)
    return best, best_t


def integer_boundary(ks, lengths):
    """For each K: does ``K * L / 100`` hit an integer for some segment length L?

    There tadpak's ``hits > K/100 * L`` and alad's ``100 * hits >= K * L`` differ
    (exact arithmetic). Also reports whether tadpak's floating-point
    ``K / 100 * L`` lands below the integer, which makes its ``>`` act as ``>=``.
    """
    out = []
    lengths = np.unique(lengths)
    for k in ks:
        exact = (k * lengths) % 100 == 0
        hit = lengths[exact & (k > 0)]
        float_below = [int(L) for L in hit if k / 100 * L < k * L // 100]
        out.append(
            dict(
                k=int(k),
                integer_lengths=[int(L) for L in hit[:10]],
                n_integer_lengths=int(hit.size),
                float_rounds_below=float_below[:10],
            )
        )
    return out


# --------------------------------------------------------------------------- #
# --range: VUS, range, affiliation and event metrics against TSB-AD
# --------------------------------------------------------------------------- #

REFERENCE_PYTHON = Path(__file__).resolve().parent / ".venv-metrics" / "bin" / "python"


def range_data(n, n_segments, seed=0):
    """Labels with ``n_segments`` segments and smooth, tied scores.

    Segments of 1 to 200 points start at random in ``n_segments`` equal
    stretches; scores are AR(1) noise (coefficient 0.9) plus a random lift
    inside each segment, rounded to 3 decimals so that many scores tie, like
    the scores of a real detector.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    stretch = n // n_segments
    starts = np.arange(n_segments) * stretch + rng.integers(0, stretch // 2, n_segments)
    lengths = rng.integers(1, min(200, stretch // 2) + 1, n_segments)
    y = np.zeros(n, dtype=np.int64)
    lift = np.zeros(n)
    for start, length in zip(starts, lengths, strict=True):
        y[start : start + length] = 1
        lift[start : start + length] = rng.uniform(0.5, 3.0)
    score = lfilter([1.0], [1.0, -0.9], rng.normal(size=n)) + lift
    return y, np.round(score, 3)


def peak_mib(fn):
    """Peak memory numpy allocates during ``fn()`` (tracemalloc), in MiB."""
    import tracemalloc

    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run_peer_timing(data, tasks, python):
    import subprocess
    import tempfile

    if not Path(python).exists():
        script = Path(__file__).resolve().parent / "peers" / "make_metrics_env.sh"
        print(f"{python} missing: running {script}", flush=True)
        subprocess.run(["bash", str(script)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.savez(tmp / "data.npz", **data)
        (tmp / "tasks.json").write_text(json.dumps(tasks))
        script = Path(__file__).resolve().parent / "peers" / "metrics_timing.py"
        subprocess.run(
            [
                str(python),
                str(script),
                *(str(tmp / f) for f in ("data.npz", "tasks.json", "out.json")),
            ],
            check=True,
        )
        return json.loads((tmp / "out.json").read_text())


def time_alad(y, s, n_seg, W, repeats):
    """Best-of-``repeats`` seconds, value and peak memory of alad's new metrics."""
    n = y.size
    pred = s > float(np.quantile(s, 0.99))
    calls = [
        ("vus_pr", lambda: am.vus_pr(y, s, sliding_window=W), repeats),
        ("vus_roc", lambda: am.vus_roc(y, s, sliding_window=W), repeats),
        (
            "vus_pr, every distinct threshold",
            lambda: am.vus_pr(y, s, sliding_window=W, n_thresholds=None),
            1,
        ),
        (
            "affiliation_precision_recall (one prediction)",
            lambda: am.affiliation_precision_recall(y, pred),
            repeats,
        ),
        ("affiliation_f1", lambda: am.affiliation_f1(y, s), repeats),
        ("range_f1", lambda: am.range_f1(y, s), repeats),
        ("event_f1", lambda: am.event_f1(y, s), repeats),
        ("composite_f1", lambda: am.composite_f1(y, s), repeats),
        (
            "detection_report (all 11 metrics)",
            lambda: am.detection_report(y, s, sliding_window=W),
            repeats,
        ),
    ]
    rows = []
    for name, fn, k in calls:
        seconds, value = best_time(fn, k)
        if isinstance(value, tuple):
            p, r = value
            value = 2 * p * r / (p + r) if p + r else 0.0
        if isinstance(value, dict):
            value = value["vus_pr"]
        row = dict(metric=name, n=n, segments=n_seg, seconds=seconds, value=value)
        if name in ("vus_pr", "affiliation_f1"):
            row["peak_mib"] = peak_mib(fn)
            row["input_mib"] = (s.nbytes + y.nbytes) / 2**20
        rows.append(row)
        print(f"alad   {name:<46} n={n:<9,} {seconds:9.4f} s", flush=True)
    return rows


def range_main(args):
    load_start = list(os.getloadavg())
    W = args.window
    sets = {}
    for n, n_seg in zip(args.range_sizes, args.range_segments, strict=True):
        y, s = range_data(n, n_seg)
        sets[f"{n}"] = (y, s, n_seg)
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{v:.2f}" for v in load_start),
        flush=True,
    )

    ours = []
    for y, s, n_seg in sets.values():
        ours += time_alad(y, s, n_seg, W, args.repeats)

    tasks = []
    for key, (y, s, _) in sets.items():
        n = y.size
        t99 = float(np.quantile(s, 0.99))
        if n in args.peer_vus_sizes:
            tasks.append(dict(data=key, fn="vus_pr", window=W, label=f"VUS-PR n={n:,}"))
        tasks.append(
            dict(
                data=key,
                fn="affiliation_one",
                threshold=t99,
                label=f"affiliation one prediction n={n:,}",
            )
        )
        if n <= args.peer_grid_max:
            for fn in ("affiliation_f1", "range_f1", "composite_f1"):
                tasks.append(dict(data=key, fn=fn, label=f"{fn} n={n:,}"))
    data = {}
    for key, (y, s, _) in sets.items():
        data[f"y_{key}"], data[f"s_{key}"] = y, s
    peer = run_peer_timing(data, tasks, args.reference_python)

    match = {
        "vus_pr": "vus_pr",
        "affiliation_one": "affiliation_precision_recall (one prediction)",
        "affiliation_f1": "affiliation_f1",
        "range_f1": "range_f1",
        "composite_f1": "composite_f1",
    }
    table = []
    for res in peer["results"]:
        n = int(res["data"])
        mine = next(r for r in ours if r["metric"] == match[res["fn"]] and r["n"] == n)
        table.append(
            dict(
                metric=mine["metric"],
                n=n,
                segments=mine["segments"],
                alad_seconds=mine["seconds"],
                tsb_ad_seconds=res["seconds"],
                speedup=res["seconds"] / mine["seconds"],
                alad_value=mine["value"],
                tsb_ad_value=res["value"],
                abs_diff=abs(mine["value"] - res["value"]),
            )
        )

    print()
    print(
        f"{'metric':<46} {'n':>10} {'alad s':>9} {'TSB-AD s':>10} {'ratio':>8} "
        f"{'|diff|':>8}"
    )
    for row in table:
        print(
            f"{row['metric']:<46} {row['n']:>10,} {row['alad_seconds']:9.4f} "
            f"{row['tsb_ad_seconds']:10.2f} {row['speedup']:8.0f} "
            f"{row['abs_diff']:8.1e}"
        )
    print()
    for row in ours:
        mem = (
            f"   peak {row['peak_mib']:.0f} MiB for {row['input_mib']:.0f} MiB of input"
            if "peak_mib" in row
            else ""
        )
        print(f"alad {row['metric']:<46} n={row['n']:<9,} {row['seconds']:.4f} s{mem}")

    result = dict(
        cpu=cpu_model(),
        cpu_count=os.cpu_count(),
        started_load_average=load_start,
        finished_load_average=list(os.getloadavg()),
        versions=_versions(),
        peer_versions=peer["versions"],
        peer_peak_rss_mb=peer["peak_rss_mb"],
        time=time.strftime("%Y-%m-%d %H:%M:%S"),
        repeats=args.repeats,
        window=W,
        data="benchmarks/metrics_speed.py:range_data (seed 0)",
        alad=ours,
        side_by_side=table,
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
        print(f"wrote {args.out}")
    if args.rst:
        args.rst.parent.mkdir(parents=True, exist_ok=True)
        args.rst.write_text(range_rst(result))
        print(f"wrote {args.rst}")


def range_rst(result):
    """The speed table of docs/user_guide/which_metric.rst."""
    lines = [
        f".. list-table:: Seconds on {result['cpu']} ({result['cpu_count']} "
        f"CPUs), load average {result['started_load_average'][0]:.1f} at the start; "
        f"alad best of {result['repeats']}, TSB-AD "
        f"{result['peer_versions']['TSB-AD']} once",
        "   :header-rows: 1",
        "",
        "   * - metric",
        "     - points (segments)",
        "     - ``alad``",
        "     - TSB-AD",
        "     - TSB-AD / ``alad``",
        "     - abs. difference",
    ]
    for row in result["side_by_side"]:
        lines += [
            f"   * - {row['metric']}",
            f"     - {row['n']:,} ({row['segments']:,})",
            f"     - {row['alad_seconds']:.2g}",
            f"     - {row['tsb_ad_seconds']:.3g}",
            f"     - {row['speedup']:,.0f}",
            f"     - {row['abs_diff']:.0e}",
        ]
    lines += [
        "",
        ".. list-table:: ``alad`` alone, seconds and peak memory",
        "   :header-rows: 1",
        "",
        "   * - metric",
        "     - points (segments)",
        "     - seconds",
        "     - peak MiB (input MiB)",
    ]
    for row in result["alad"]:
        mem = (
            f"{row['peak_mib']:.0f} ({row['input_mib']:.0f})"
            if "peak_mib" in row
            else ""
        )
        lines += [
            f"   * - {row['metric']}",
            f"     - {row['n']:,} ({row['segments']:,})",
            f"     - {row['seconds']:.2g}",
            f"     - {mem}",
        ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def _versions():
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("alad", "numpy", "scikit-learn", "TSB-AD", "tadpak"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=450_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tadpak-sizes", type=int, nargs="*", default=[20_000, 40_000])
    parser.add_argument("--tadpak-ks", type=int, nargs="*", default=[0])
    parser.add_argument("--brute-ks", type=int, nargs="*", default=DEFAULT_BRUTE_KS)
    parser.add_argument("--check-n", type=int, default=20_000)
    parser.add_argument(
        "--skip-tsb-pa", action="store_true", help="skip TSB-AD's slow PA-F1"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--range",
        action="store_true",
        help="time the VUS, range, affiliation and event metrics against TSB-AD "
        "(run in alad's own environment; TSB-AD runs in benchmarks/.venv-metrics)",
    )
    parser.add_argument(
        "--range-sizes", type=int, nargs="*", default=[100_000, 1_000_000]
    )
    parser.add_argument("--range-segments", type=int, nargs="*", default=[20, 2_000])
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument(
        "--peer-vus-sizes", type=int, nargs="*", default=[100_000, 1_000_000]
    )
    parser.add_argument("--peer-grid-max", type=int, default=100_000)
    parser.add_argument("--reference-python", type=Path, default=REFERENCE_PYTHON)
    parser.add_argument("--rst", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.range:
        range_main(args)
        return

    from tadpak.evaluate import evaluate
    from TSB_AD.evaluation.basic_metrics import basic_metricor

    load_start = list(os.getloadavg())
    t0 = time.perf_counter()
    score, y = gecco_scores(args.n)
    yb = y.astype(bool)
    lengths = segment_lengths(y)
    data_info = dict(
        n=int(score.size),
        anomalies=int(y.sum()),
        anomaly_rate=float(y.mean()),
        segments=int(lengths.size),
        segment_lengths=sorted(int(v) for v in np.unique(lengths)),
        distinct_scores=int(np.unique(score).size),
        distinct_anomalous_scores=int(np.unique(score[yb]).size),
        seconds_to_make=time.perf_counter() - t0,
    )
    print(
        f"{data_info['n']:,} points, {data_info['anomalies']:,} anomalous "
        f"({100 * data_info['anomaly_rate']:.2f} %) in {data_info['segments']} "
        "segments, "
        f"{data_info['distinct_scores']:,} distinct scores; {cpu_model()}, "
        f"{os.cpu_count()} CPUs, load average "
        + ", ".join(f"{v:.2f}" for v in load_start),
        flush=True,
    )

    # ---- speed -----------------------------------------------------------
    ours, peers = {}, {}
    for name, fn in [
        ("best_f1", lambda: am.best_f1(y, score)),
        ("pa_f1", lambda: am.pa_f1(y, score)),
        ("pa_k_curve", lambda: am.pa_k_curve(y, score)[1]),
        ("pa_k_auc", lambda: am.pa_k_auc(y, score)),
        ("roc_auc", lambda: am.roc_auc(y, score)),
        ("average_precision", lambda: am.average_precision(y, score)),
        ("detection_report", lambda: am.detection_report(y, score)),
    ]:
        ours[name] = best_time(fn, args.repeats)
        print(f"alad   {name:<22} {ours[name][0]:9.3f} s", flush=True)

    grader = basic_metricor()
    tsb_calls = [
        ("Standard-F1", lambda: grader.metric_PointF1(y, score), args.repeats),
        ("AUC-ROC", lambda: grader.metric_ROC(y, score), args.repeats),
        ("AUC-PR", lambda: grader.metric_PR(y, score), args.repeats),
    ]
    if not args.skip_tsb_pa:
        tsb_calls.append(("PA-F1", lambda: grader.metric_PointF1PA(y, score), 1))
    for name, fn, repeats in tsb_calls:
        peers[f"tsb_ad:{name}"] = best_time(fn, repeats)
        print(f"TSB-AD {name:<22} {peers[f'tsb_ad:{name}'][0]:9.3f} s", flush=True)

    # tadpak.evaluate on prefixes, extrapolated to n
    tadpak_runs = []
    for k in args.tadpak_ks:
        for size in args.tadpak_sizes:
            s, t = score[:size], y[:size]
            if not t.any():
                continue
            seconds, res = best_time(
                lambda s=s, t=t, k=k: evaluate(s, t, pa=True, interval=10, k=k), 1
            )
            tadpak_runs.append(
                dict(
                    k=k,
                    n=size,
                    seconds=seconds,
                    best_f1_w_pa=float(res["best_f1_w_pa"]),
                    best_f1_wo_pa=float(res["best_f1_wo_pa"]),
                    alad=float(am.pa_k_curve(t, s, ks=[k])[1][0]),
                    alad_best_f1=float(am.best_f1(t, s)),
                )
            )
            print(f"tadpak evaluate k={k:<3} n={size:<8,} {seconds:9.3f} s", flush=True)
    extrapolation = {}
    for k in args.tadpak_ks:
        runs = [r for r in tadpak_runs if r["k"] == k]
        if len(runs) >= 2:
            logn = np.log([r["n"] for r in runs])
            logt = np.log([r["seconds"] for r in runs])
            slope, intercept = np.polyfit(logn, logt, 1)
            extrapolation[k] = dict(
                exponent=float(slope),
                seconds_at_n=float(np.exp(intercept + slope * np.log(args.n))),
            )
    # tadpak's pak alone, one threshold on all n points
    from tadpak.pak import pak

    mid = float(np.quantile(score, 0.99))
    pak_seconds, _ = best_time(lambda: pak(score, y, mid, 50), args.repeats)

    # ---- agreement -------------------------------------------------------
    agreement = {}
    ours_report = ours["detection_report"][1]
    tsb = {k.split(":", 1)[1]: v[1] for k, v in peers.items()}
    agreement["best_f1 vs TSB-AD Standard-F1"] = dict(
        alad=ours["best_f1"][1],
        peer=float(tsb["Standard-F1"]),
        why=(
            "TSB-AD divides by precision + recall + 1e-5 (max over the PR curve); "
            "alad computes 2TP / (2TP + FP + FN) exactly"
        ),
    )
    agreement["roc_auc vs TSB-AD AUC-ROC"] = dict(
        alad=ours["roc_auc"][1], peer=float(tsb["AUC-ROC"]), why="both sklearn"
    )
    agreement["average_precision vs TSB-AD AUC-PR"] = dict(
        alad=ours["average_precision"][1], peer=float(tsb["AUC-PR"]), why="both sklearn"
    )
    if "PA-F1" in tsb:
        # TSB-AD's PA-F1 restricted to its own grid, computed with alad.metrics
        grid = np.linspace(score.min(), score.max(), 100)
        on_grid = max(
            _f1_counts(am.point_adjust(y, score > t).astype(bool), yb) for t in grid
        )
        agreement["pa_f1 vs TSB-AD PA-F1"] = dict(
            alad=ours["pa_f1"][1],
            peer=float(tsb["PA-F1"]),
            alad_on_tsb_grid=float(on_grid),
            why=(
                "TSB-AD tries only 100 thresholds np.linspace(min, max, 100) with "
                "score > t; alad tries every score. alad.metrics.point_adjust on "
                "TSB-AD's 100 thresholds gives 'alad_on_tsb_grid'"
            ),
        )
    agreement["detection_report == individual functions"] = dict(
        max_abs_diff=max(
            abs(ours_report["f1"] - ours["best_f1"][1]),
            abs(ours_report["f1_pa"] - ours["pa_f1"][1]),
            abs(ours_report["pa_k_auc"] - ours["pa_k_auc"][1]),
        )
    )

    # brute-force PA%K with tadpak's pak, on all n points
    brute_ks = np.asarray(args.brute_ks)
    thresholds = candidate_thresholds(score, yb)
    alad_curve = ours["pa_k_curve"][1]
    brute = []
    t_brute = time.perf_counter()
    for k in brute_ks:
        f1, t = tadpak_brute_force(score, y, int(k), thresholds)
        brute.append(dict(k=int(k), tadpak=f1, alad=float(alad_curve[k]), threshold=t))
        print(
            f"PA%K K={k:<3} tadpak brute force {f1:.6f}  alad {alad_curve[k]:.6f}  "
            f"diff {alad_curve[k] - f1:+.2e}",
            flush=True,
        )
    brute_seconds = time.perf_counter() - t_brute
    bounds = {b["k"]: b for b in integer_boundary(brute_ks, lengths)}
    for row in brute:
        row.update(bounds[row["k"]])

    # check the reduced threshold set against every distinct score on a prefix
    cs, cy = score[: args.check_n], y[: args.check_n]
    check = []
    if cy.any():
        every = candidate_thresholds(cs, cy.astype(bool), every_score=True)
        reduced = candidate_thresholds(cs, cy.astype(bool))
        for k in (0, 20, 50, 100):
            full = tadpak_brute_force(cs, cy, k, every)[0]
            red = tadpak_brute_force(cs, cy, k, reduced)[0]
            check.append(dict(k=k, every_threshold=full, reduced=red))
        print(
            f"reduced thresholds == every threshold on {args.check_n:,} points: "
            + str(all(c["every_threshold"] == c["reduced"] for c in check)),
            flush=True,
        )

    # tadpak.evaluate against alad on the prefixes it was timed on
    for r in tadpak_runs:
        r["why"] = (
            "tadpak's best_f1_w_pa searches every 10th PR-curve threshold "
            "(interval=10) and adjusts with hits > K% (alad: every threshold, >=)"
        )

    # ---- report ----------------------------------------------------------
    speed = []

    def add(label, ours_s, peer_label, peer_s, note=""):
        speed.append(
            dict(
                alad=label,
                alad_seconds=ours_s,
                peer=peer_label,
                peer_seconds=peer_s,
                speedup=peer_s / ours_s,
                note=note,
            )
        )

    add(
        "best_f1",
        ours["best_f1"][0],
        "TSB-AD metric_PointF1",
        peers["tsb_ad:Standard-F1"][0],
    )
    add("roc_auc", ours["roc_auc"][0], "TSB-AD metric_ROC", peers["tsb_ad:AUC-ROC"][0])
    add(
        "average_precision",
        ours["average_precision"][0],
        "TSB-AD metric_PR",
        peers["tsb_ad:AUC-PR"][0],
    )
    if "tsb_ad:PA-F1" in peers:
        add(
            "pa_f1",
            ours["pa_f1"][0],
            "TSB-AD metric_PointF1PA",
            peers["tsb_ad:PA-F1"][0],
            "TSB-AD: 100 thresholds; alad: all",
        )
        add(
            "detection_report",
            ours["detection_report"][0],
            "TSB-AD Standard-F1 + PA-F1 + AUC-ROC + AUC-PR",
            sum(
                peers[f"tsb_ad:{m}"][0]
                for m in ("Standard-F1", "PA-F1", "AUC-ROC", "AUC-PR")
            ),
            "alad's report adds pa_k_auc (101 K)",
        )
    for k, ex in extrapolation.items():
        add(
            "pa_k_curve (101 K)",
            ours["pa_k_curve"][0],
            f"tadpak evaluate(k={k}) x 101 K (extrapolated)",
            ex["seconds_at_n"] * 101,
            f"one K extrapolated from n={args.tadpak_sizes} with exponent "
            f"{ex['exponent']:.2f}; every 10th threshold only",
        )
        add(
            "pa_k_curve at one K",
            ours["pa_k_curve"][0] / 101,
            f"tadpak evaluate(k={k}) (extrapolated)",
            ex["seconds_at_n"],
            "alad: one 101st of the whole curve",
        )
    add(
        "pa_k_curve (101 K)",
        ours["pa_k_curve"][0],
        "brute force on tadpak.pak x 101 K",
        brute_seconds / len(brute_ks) * 101,
        f"{thresholds.size} thresholds per K, measured for {len(brute_ks)} K on "
        "all points",
    )

    print()
    print(f"{'alad':<22} {'s':>9}   {'peer':<48} {'s':>10} {'peer/alad':>10}")
    for row in speed:
        print(
            f"{row['alad']:<22} {row['alad_seconds']:9.5f}   {row['peer']:<48} "
            f"{row['peer_seconds']:10.3f} {row['speedup']:10.1f}"
        )
    print()
    for name, a in agreement.items():
        if "alad" in a:
            extra = (
                f", alad on TSB-AD's grid {a['alad_on_tsb_grid']:.6f}"
                if "alad_on_tsb_grid" in a
                else ""
            )
            print(
                f"{name:<40} alad {a['alad']:.6f}  peer {a['peer']:.6f}  "
                f"|diff| {abs(a['alad'] - a['peer']):.2e}{extra}"
            )
        else:
            print(f"{name:<40} max |diff| {a['max_abs_diff']:.2e}")
    diffs = np.array([abs(b["alad"] - b["tadpak"]) for b in brute])
    clean = [abs(b["alad"] - b["tadpak"]) for b in brute if not b["n_integer_lengths"]]
    print(
        f"PA%K vs tadpak brute force: max |diff| {diffs.max():.2e} over "
        f"{len(brute)} K; {max(clean, default=0.0):.2e} over the {len(clean)} K "
        "where no K*L/100 is an integer"
    )
    for r in tadpak_runs:
        print(
            f"tadpak evaluate k={r['k']} n={r['n']:,}: best_f1_w_pa "
            f"{r['best_f1_w_pa']:.6f}, "
            f"alad {r['alad']:.6f}; best_f1_wo_pa {r['best_f1_wo_pa']:.6f}, alad "
            f"{r['alad_best_f1']:.6f}"
        )

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        result = dict(
            data=data_info,
            cpu=cpu_model(),
            cpu_count=os.cpu_count(),
            started_load_average=load_start,
            finished_load_average=list(os.getloadavg()),
            versions=_versions(),
            time=time.strftime("%Y-%m-%d %H:%M:%S"),
            repeats=args.repeats,
            speed=speed,
            alad_seconds={k: v[0] for k, v in ours.items()},
            peer_seconds={k: v[0] for k, v in peers.items()},
            tadpak_pak_one_threshold_seconds=pak_seconds,
            tadpak_evaluate=tadpak_runs,
            tadpak_extrapolation={str(k): v for k, v in extrapolation.items()},
            agreement=agreement,
            pa_k_brute_force=dict(
                thresholds_per_k=int(thresholds.size),
                seconds=brute_seconds,
                rows=brute,
                reduced_vs_every_threshold=dict(n=args.check_n, rows=check),
            ),
        )
        args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
