"""Training and scoring throughput of alad's backbones against peer implementations.

For every model that alad and a pip-installable peer both implement, this
script trains and scores both on the same data, in the same run, with the
same window size, batch sizes, model sizes (mapped as stated in ``PAIRS``),
one training epoch and the same number of torch threads, and reports the
ratio ``ours / peer`` of windows per second (> 1: ours is faster).

Peers (each imported only inside the subprocess that times it):

- DeepOD (``deepod.models.time_series``): ``USAD``, ``AnomalyTransformer``;
- TSB-AD (``TSB_AD.models``): ``USAD``, ``OmniAnomaly``, ``AnomalyTransformer``;
- PyOD 3 (``pyod.models.ts_anomaly_transformer``): ``AnomalyTransformer``.

PyOD 3's other deep time-series model, ``pyod.models.ts_lstm.LSTMAD``, is a
next-step forecasting LSTM (Malhotra et al. 2015) scored by a Mahalanobis
distance, not the LSTM-VAE of alad, so it has no pair here.

**Like with like.** Both sides go through their public ``fit`` and
``decision_function`` on 2-D series of GECCO's training part
(:func:`alad.datasets.load_gecco`, standardised with its mean and standard
deviation): the first ``n_train`` rows train, the following ``n_score``
rows are scored. Every side uses stride-1 windows for both training and
scoring (alad with ``stride=1``; the peers' own default), and the windows
actually processed are counted: ``rows - window + 1`` for DeepOD, PyOD and
alad, ``rows`` for TSB-AD, whose multivariate ``ReconstructDataset`` has one
item per row and repeats the last window for the final ``window - 1`` rows.

- *train windows/s* is measured on each library's training loop only: the
  skorch ``BackboneNet.partial_fit`` inside alad's ``fit``; DeepOD's ``training``
  method; PyOD's ``_train``; TSB-AD's whole ``fit`` (its loop is inline,
  run with ``validation_size=0`` so that nothing else happens in it). No side
  validates (alad ``validation_fraction=0``, DeepOD ``train_val_pc=0``).
  One epoch (``--epochs`` for more; TSB-AD's patience of 3 and alad's of
  10 cannot stop a run of 3 epochs early); *fit s* is the whole public
  ``fit``, which for alad, DeepOD and PyOD also scores the training series
  (TSB-AD does not).
- *score windows/s* is the whole public ``decision_function`` on the
  scoring rows (windowing, batching, per-timestep folding included).

Each (pair, side) runs in a fresh subprocess, so that its peak resident set
size is its own (``VmHWM``, restarted after the imports and the data:
:func:`alad.experiments.machine.peak_rss_mb`); ``rss0`` is the resident set
then. CPU seconds are the process's (all threads).

Usage (the peers live in their own virtual environment, see
docs/benchmarks.rst)::

    ALAD_DATA_HOME=/work/shared/datasets /work/peers-venv/bin/python \\
        benchmarks/peer_throughput.py --threads 1 \\
        --out benchmarks/results/peer_throughput.json --append
    python benchmarks/peer_throughput.py --pairs usad/deepod --scale 0.1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# light (no torch): a peer's worker keeps the resident set of its own library
from alad.experiments.machine import (
    cpu_model,
    current_rss_mb,
    peak_rss_mb,
    reset_peak_rss,
)
from alad.experiments.store import atomic_write
from alad.experiments.tables import render_table

WINDOW = 50

#: One entry per (alad backbone, peer model). ``ours`` are the backbone name
#: and ``backbone_params``; ``peer`` the peer's constructor arguments besides
#: window size, channels, epochs, batch size, device and verbosity. ``match``
#: says how the sizes correspond.
PAIRS = {
    "usad/deepod": dict(
        backbone="usad",
        ours={},  # latent_size=None -> 100 * window = 5,000
        peer="deepod.USAD",
        peer_kwargs=dict(hidden_dims=100),  # z_size = window * hidden_dims = 5,000
        train_batch=128,
        score_batch=128,  # DeepOD scores with its training batch size
        n_train=16_384,
        n_score=32_768,
        match=(
            "same model: encoder 450-225-112-5000 and two decoders 5000-112-225-450 "
            "(DeepOD hidden_dims=100 gives z_size = 50*100 = 5,000 = alad's default "
            "latent_size 100*window); DeepOD's decoders end with a sigmoid, alad's "
            "with a linear layer; both train two Adam optimisers per batch"
        ),
    ),
    "usad/tsb_ad": dict(
        backbone="usad",
        ours={"latent_size": 5, "hidden_sizes": [16, 16]},
        peer="tsb_ad.USAD",
        peer_kwargs={},
        train_batch=128,
        score_batch=128,
        n_train=16_384,
        n_score=32_768,
        match=(
            "same sizes, different training: both 450-16-16-5 / 5-16-16-450 "
            "(TSB-AD hard-codes n_hidden=16, n_latent=5; alad set to it with "
            "hidden_sizes=(16, 16), latent_size=5); TSB-AD takes one AdamW step on "
            "loss1+loss2 per batch, alad the paper's two phases with two optimisers "
            "(two forward, backward and step passes per batch)"
        ),
    ),
    "anomaly_transformer/deepod": dict(
        backbone="anomaly_transformer",
        ours={},  # d_model 512, 8 heads, 3 layers, d_ff 512, dropout 0
        peer="deepod.AnomalyTransformer",
        peer_kwargs=dict(epoch_steps=-1),  # the whole epoch, not 22 batches
        train_batch=32,
        score_batch=32,
        n_train=640,
        n_score=2_048,
        match=(
            "same model: d_model 512, 8 heads, 3 encoder layers, d_ff 512, dropout 0 "
            "(DeepOD hard-codes the reference sizes; alad's defaults are the same); "
            "both one optimiser step per batch on loss1+loss2 (DeepOD AdamW, alad "
            "Adam)"
        ),
    ),
    "anomaly_transformer/tsb_ad": dict(
        backbone="anomaly_transformer",
        ours={},
        peer="tsb_ad.AnomalyTransformer",
        peer_kwargs={},
        train_batch=128,
        score_batch=128,
        n_train=1_024,
        n_score=2_048,
        match=(
            "same model: d_model 512, 8 heads, 3 layers, d_ff 512, dropout 0 (TSB-AD "
            "hard-codes the reference sizes); TSB-AD calls .cuda() in "
            "AnomalyAttention and so cannot run on a CPU as published: "
            "torch.Tensor.cuda is replaced by the identity for this run"
        ),
    ),
    "anomaly_transformer/pyod": dict(
        backbone="anomaly_transformer",
        ours={"d_ff": 2048, "dropout": 0.1},
        peer="pyod.AnomalyTransformer",
        peer_kwargs=dict(d_model=512, n_heads=8, n_layers=3, dropout=0.1),
        train_batch=32,
        score_batch=64,  # hard-coded in PyOD's _score_windows
        n_train=384,
        n_score=1_024,
        match=(
            "same sizes (d_model 512, 8 heads, 3 layers, d_ff 2048 = PyOD's 4*d_model, "
            "dropout 0.1: alad set to PyOD's), different algorithm: PyOD learns one "
            "prior sigma per head (not per position), has no final LayerNorm and "
            "takes two forward/backward/step passes per batch (minimise, then "
            "maximise); alad one pass on loss1+loss2"
        ),
    ),
    "omni_anomaly/tsb_ad": dict(
        backbone="omni_anomaly",
        ours={"hidden_size": 32, "dense_size": 32, "latent_size": 8, "n_flows": 0},
        peer="tsb_ad.OmniAnomaly",
        peer_kwargs={},
        train_batch=128,
        score_batch=128,
        n_train=8_192,
        n_score=16_384,
        match=(
            "NOT the same model: TSB-AD's OmniAnomaly is a GRU-VAE (2-layer GRU of 32, "
            "per-timestep latent 8 from an MLP, no stochastic variable connection, no "
            "planar flow, MSE score); alad's is the paper's model, set to the nearest "
            "sizes (GRU 32, dense 32, latent 8, n_flows=0) but still with the "
            "per-timestep recurrence z_t <- (e_t, z_{t-1}) and the state-space prior"
        ),
    ),
}


# --------------------------------------------------------------------------- #
# Worker: one side of one pair, in its own process
# --------------------------------------------------------------------------- #


class _Clock:
    def __init__(self):
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0


def _time_method(owner, name, clock):
    """Replace ``owner.name`` by a wrapper adding its wall and CPU time to ``clock``."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            clock.wall += time.perf_counter() - wall
            clock.cpu += time.process_time() - cpu
            clock.calls += 1

    setattr(owner, name, timed)


def load_series():
    """GECCO's training part, standardised with its own mean and standard deviation."""
    from alad.datasets import load_gecco

    X = load_gecco().X_train
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _build(pair, side, n_channels, epochs=1):
    """Return (estimator, training-loop clock, note, n_params function)."""
    import torch

    cfg = PAIRS[pair]
    clock = _Clock()
    note = ""
    if side == "ours":
        from alad import ActiveReconstructionDetector
        from alad.training.nets import BackboneNet

        # the detector trains through partial_fit (training.callbacks.train_epochs),
        # which initialises the net and runs the loop, as fit did before
        _time_method(BackboneNet, "partial_fit", clock)
        est = ActiveReconstructionDetector(
            backbone=cfg["backbone"],
            backbone_params=cfg["ours"] or None,
            window_size=WINDOW,
            stride=1,
            batch_size=cfg["train_batch"],
            eval_batch_size=cfg["score_batch"],
            max_epochs=epochs,  # patience 10: no early stop within 10 epochs
            validation_fraction=0.0,
            device="cpu",
            random_state=0,
        )
        return (
            est,
            clock,
            note,
            lambda: sum(p.numel() for p in est.net_.module_.parameters()),
        )

    library, model = cfg["peer"].split(".")
    kwargs = dict(cfg["peer_kwargs"])
    if library == "deepod":
        from deepod.models import time_series

        cls = getattr(time_series, model)
        _time_method(cls, "training", clock)
        est = cls(
            seq_len=WINDOW,
            stride=1,
            epochs=epochs,
            batch_size=cfg["train_batch"],
            device="cpu",
            verbose=0,
            random_state=0,
            **({"train_val_pc": 0} if model == "USAD" else {}),
            **kwargs,
        )
        module = "model" if model == "USAD" else "net"
        return (
            est,
            clock,
            note,
            lambda: sum(p.numel() for p in getattr(est, module).parameters()),
        )
    if library == "pyod":
        from pyod.models.ts_anomaly_transformer import AnomalyTransformer

        _time_method(AnomalyTransformer, "_train", clock)
        est = AnomalyTransformer(
            window_size=WINDOW,
            epochs=epochs,
            batch_size=cfg["train_batch"],
            step=1,
            device="cpu",
            **kwargs,
        )
        return est, clock, note, lambda: sum(p.numel() for p in est.model_.parameters())
    if library == "tsb_ad":
        import importlib

        cls = getattr(importlib.import_module(f"TSB_AD.models.{model}"), model)
        _time_method(cls, "fit", clock)
        common = dict(win_size=WINDOW, batch_size=cfg["train_batch"], validation_size=0)
        if model == "AnomalyTransformer":
            try:
                cls(input_c=n_channels, num_epochs=epochs, **common)
            except Exception as exc:  # as published it needs CUDA
                note = (
                    f"unpatched: {type(exc).__name__}: {exc}; ran with "
                    "torch.Tensor.cuda = identity"
                )
            torch.Tensor.cuda = lambda self, *a, **k: self
            est = cls(input_c=n_channels, num_epochs=epochs, **common)
        else:
            est = cls(feats=n_channels, epochs=epochs, **common)
        return est, clock, note, lambda: sum(p.numel() for p in est.model.parameters())
    raise ValueError(f"unknown peer {cfg['peer']!r}")


def _windows(library, rows):
    return rows if library == "tsb_ad" else rows - WINDOW + 1


def worker(pair, side, threads, scale, raw_loop=False, data=None, epochs=1):
    import warnings

    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = PAIRS[pair]
    n_train = max(4 * WINDOW, int(cfg["n_train"] * scale)) + WINDOW - 1
    n_score = max(4 * WINDOW, int(cfg["n_score"] * scale)) + WINDOW - 1
    series = load_series() if data is None else np.load(data)
    if n_train + n_score > len(series):
        raise ValueError(
            f"{n_train} + {n_score} rows asked for; the series has {len(series)}."
        )
    X_train = series[:n_train].copy()
    X_score = series[n_train : n_train + n_score].copy()
    del series
    library = "alad" if side == "ours" else cfg["peer"].split(".")[0]

    est, clock, note, n_params = _build(pair, side, X_train.shape[1], epochs)
    # Outside the timed sections: warm torch's thread pool and kernels, and
    # build one optimiser, since the first torch.optim.Optimizer of a process
    # imports torch._dynamo (about a second); some libraries build theirs
    # inside the timed training loop, others before it.
    layer = torch.nn.Linear(256, 256)
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.randn(64, 256)).sum().backward()
    optimizer.step()
    del layer, optimizer
    rss0 = current_rss_mb()
    hwm_reset = reset_peak_rss()

    wall, cpu = time.perf_counter(), time.process_time()
    est.fit(X_train)
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_after_fit = peak_rss_mb()

    wall, cpu = time.perf_counter(), time.process_time()
    scores = np.asarray(est.decision_function(X_score))
    score_wall, score_cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = peak_rss_mb()

    raw = None
    if raw_loop and side == "ours":
        # alad's backbone alone, without the detector and skorch: the loop of
        # benchmarks/backbone_throughput.py, at this pair's sizes and batches
        from backbone_throughput import N_WINDOWS, time_backbone

        _, epoch_s, epoch_cpu, rate, cpu_rate = time_backbone(
            cfg["backbone"],
            train_batches=max(1, min(20, n_train // cfg["train_batch"])),
            batch_size=cfg["train_batch"],
            eval_batch_size=cfg["score_batch"],
            params=cfg["ours"] or None,
        )
        raw = dict(
            train_windows_per_s=N_WINDOWS / epoch_s,
            train_windows_per_cpu_s=N_WINDOWS / epoch_cpu,
            score_windows_per_s=rate,
            score_windows_per_cpu_s=cpu_rate,
        )

    n_train_windows = epochs * _windows(library, n_train)
    n_score_windows = _windows(library, n_score)
    return dict(
        pair=pair,
        side=side,
        library=library,
        model=cfg["backbone"] if side == "ours" else cfg["peer"],
        params=n_params(),
        threads=torch.get_num_threads(),
        train_batch=cfg["train_batch"],
        score_batch=cfg["score_batch"],
        train_rows=n_train,
        score_rows=n_score,
        epochs=epochs,
        train_windows=n_train_windows,
        score_windows=n_score_windows,
        train_loop_calls=clock.calls,
        train_wall_s=clock.wall,
        train_cpu_s=clock.cpu,
        train_windows_per_s=n_train_windows / clock.wall,
        train_windows_per_cpu_s=n_train_windows / clock.cpu,
        fit_wall_s=fit_wall,
        fit_cpu_s=fit_cpu,
        score_wall_s=score_wall,
        score_cpu_s=score_cpu,
        score_windows_per_s=n_score_windows / score_wall,
        score_windows_per_cpu_s=n_score_windows / score_cpu,
        scores_shape=list(scores.shape),
        scores_finite=bool(np.isfinite(scores).all()),
        rss0_mib=rss0,
        peak_rss_fit_mib=peak_after_fit,
        peak_rss_mib=peak,
        peak_rss_is_since_rss0=hwm_reset,
        raw_backbone_loop=raw,
        load_average=list(os.getloadavg()),
        note=note,
    )


# --------------------------------------------------------------------------- #
# Driver
# --------------------------------------------------------------------------- #


def _versions():
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("alad", "torch", "numpy", "skorch", "deepod", "TSB-AD", "pyod"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git_state():
    """Commit of the alad checkout and the files of alad/ changed since (read-only)."""
    root = Path(__file__).resolve().parent.parent

    def git(*cmd):
        try:
            return subprocess.run(
                ["git", *cmd], cwd=root, capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            return ""

    return dict(
        commit=git("rev-parse", "HEAD"),
        modified=git("status", "--porcelain", "--", "alad").splitlines(),
    )


def _run_side(pair, side, args):
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        pair,
        side,
        "--threads",
        str(args.threads),
        "--scale",
        str(args.scale),
        "--epochs",
        str(args.epochs),
        "--data",
        str(args.data),
    ] + (["--raw-loop"] if args.raw_loop else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return dict(pair=pair, side=side, error=" | ".join(tail))
    return json.loads(lines[-1])


def _ratios(ours, peer):
    if "error" in ours or "error" in peer:
        return {}
    return {
        key: ours[key] / peer[key]
        for key in (
            "train_windows_per_s",
            "train_windows_per_cpu_s",
            "score_windows_per_s",
            "score_windows_per_cpu_s",
        )
    }


def _print_table(rows):
    header = (
        f"{'pair':<28} {'side':<5} {'params':>10} {'train w/s':>10} {'w/cpu s':>9} "
        f"{'fit s':>7} {'score w/s':>10} {'w/cpu s':>9} {'rss0':>6} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        for side in ("ours", "peer"):
            r = row[side]
            if "error" in r:
                print(f"{row['pair']:<28} {side:<5} ERROR {r['error'][:150]}")
                continue
            print(
                f"{row['pair']:<28} {side:<5} {r['params']:>10,} "
                f"{r['train_windows_per_s']:>10.1f} "
                f"{r['train_windows_per_cpu_s']:>9.1f} "
                f"{r['fit_wall_s']:>7.1f} {r['score_windows_per_s']:>10.1f} "
                f"{r['score_windows_per_cpu_s']:>9.1f} {r['rss0_mib']:>6.0f} "
                f"{r['peak_rss_mib']:>8.0f}"
            )
            raw = r.get("raw_backbone_loop")
            if raw:
                print(
                    f"{'':<28} {'bare':<5} {'':>10} "
                    f"{raw['train_windows_per_s']:>10.1f} "
                    f"{raw['train_windows_per_cpu_s']:>9.1f} {'':>7} "
                    f"{raw['score_windows_per_s']:>10.1f} "
                    f"{raw['score_windows_per_cpu_s']:>9.1f}"
                )
        q = row["ratio"]
        if q:
            print(
                f"{'':<28} {'ratio':<5} {'':>10} "
                f"{q['train_windows_per_s']:>10.2f} "
                f"{q['train_windows_per_cpu_s']:>9.2f} {'':>7} "
                f"{q['score_windows_per_s']:>10.2f} "
                f"{q['score_windows_per_cpu_s']:>9.2f}"
            )
    print(
        "ratio = ours / peer (> 1: ours is faster); bare = alad's backbone in the "
        "loop of backbone_throughput.py, without detector and skorch; peak = "
        "VmHWM of fit + scoring"
    )


def rst_tables(runs, numbers=None):
    """Tables of docs/benchmarks.rst from saved runs (1-based ``numbers``, or all)."""
    lines = []

    def table(title, header, body):
        lines.extend([render_table(header, body, "rst", title=title), ""])

    def rate(r, key):
        return f"{r[key]:,.0f}" if r[key] >= 100 else f"{r[key]:.1f}"

    def pair_of(o, p, key):
        return f"{rate(o, key)} / {rate(p, key)}"

    def ratio(q, key):
        return f"**{q[key + '_cpu_s']:.2f}** ({q[key + '_s']:.2f})"

    for number, run in enumerate(runs, 1):
        if numbers and number not in numbers:
            continue
        order = "peer first" if run["peer_first"] else "alad first"
        if run.get("epochs", 1) != 1:
            order += f", {run['epochs']} epochs"
        load = ", ".join(f"{v:.1f}" for v in run["started_load_average"])
        end = ", ".join(f"{v:.1f}" for v in run["finished_load_average"])
        body = []
        for row in run["pairs"]:
            o, p, q = row["ours"], row["peer"], row["ratio"]
            if "error" in o or "error" in p:
                body.append([row["pair"], "error", "", "", "", "", "", "", "", ""])
                continue
            body.append(
                [
                    f"``{row['pair']}``",
                    f"{o['params']:,} / {p['params']:,}",
                    pair_of(o, p, "train_windows_per_cpu_s"),
                    ratio(q, "train_windows_per"),
                    pair_of(o, p, "score_windows_per_cpu_s"),
                    ratio(q, "score_windows_per"),
                    f"{o['fit_wall_s']:.0f} / {p['fit_wall_s']:.0f}",
                    f"{o['peak_rss_mib']:,.0f} / {p['peak_rss_mib']:,.0f}",
                ]
            )
        table(
            f"Run {number} ({order}; load average {load} at the start, "
            f"{end} at the end)",
            [
                "pair",
                "parameters (alad / peer)",
                "train windows per CPU s (alad / peer)",
                "train ratio, CPU (wall)",
                "score windows per CPU s (alad / peer)",
                "score ratio, CPU (wall)",
                "fit wall s (alad / peer)",
                "peak RSS MiB (alad / peer)",
            ],
            body,
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="*", default=list(PAIRS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every pair's numbers of training and scoring windows",
    )
    parser.add_argument(
        "--raw-loop",
        action="store_true",
        help="also time alad's bare backbone loop (backbone_throughput.time_backbone)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="training epochs of both sides (default 1; windows/s counts them all)",
    )
    parser.add_argument("--peer-first", action="store_true", help="time the peer first")
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    parser.add_argument(
        "--append", action="store_true", help="add this run to the runs in --out"
    )
    parser.add_argument(
        "--rst",
        nargs="*",
        type=int,
        metavar="RUN",
        default=None,
        help="print the docs tables of the runs in --out (1-based numbers; all "
        "if none given)",
    )
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--worker", nargs=2, metavar=("PAIR", "SIDE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.rst is not None:
        print(rst_tables(json.loads(args.out.read_text())["runs"], args.rst))
        return
    if args.worker:
        result = worker(
            *args.worker,
            args.threads,
            args.scale,
            args.raw_loop,
            args.data,
            args.epochs,
        )
        print(json.dumps(result), flush=True)
        return

    unknown = sorted(set(args.pairs) - set(PAIRS))
    if unknown:
        parser.error(f"unknown pairs {unknown}; choose from {list(PAIRS)}")
    load_start = list(os.getloadavg())
    print(
        f"window {WINDOW}, stride 1, {args.epochs} epoch(s), {args.threads} torch "
        "thread(s), "
        f"scale {args.scale}, {cpu_model()}, {os.cpu_count()} CPUs, load average "
        + ", ".join(f"{v:.2f}" for v in load_start),
        flush=True,
    )
    # load GECCO once; every worker reads the same standardised array
    tmp = tempfile.TemporaryDirectory()
    args.data = Path(tmp.name) / "gecco_train_standardised.npy"
    np.save(args.data, load_series())
    rows = []
    for pair in args.pairs:
        order = ("peer", "ours") if args.peer_first else ("ours", "peer")
        result = {side: _run_side(pair, side, args) for side in order}
        row = dict(pair=pair, match=PAIRS[pair]["match"], **result)
        row["ratio"] = _ratios(row["ours"], row["peer"])
        rows.append(row)
        _print_table([row])
    print()
    _print_table(rows)

    if args.out:
        run = dict(
            started_load_average=load_start,
            finished_load_average=list(os.getloadavg()),
            threads=args.threads,
            scale=args.scale,
            epochs=args.epochs,
            peer_first=args.peer_first,
            window=WINDOW,
            cpu=cpu_model(),
            cpu_count=os.cpu_count(),
            versions=_versions(),
            alad_checkout=_git_state(),
            time=time.strftime("%Y-%m-%d %H:%M:%S"),
            pairs=rows,
        )
        runs = []
        if args.append and args.out.exists():
            runs = json.loads(args.out.read_text()).get("runs", [])
        runs.append(run)
        text = json.dumps({"runs": runs}, indent=1) + "\n"
        atomic_write(args.out, lambda f: f.write(text))
        print(f"wrote {args.out} ({len(runs)} run(s))")


if __name__ == "__main__":
    main()
