"""Run the peers of the label-efficiency benchmark on alad's task files.

Runs in the peers' own virtual environment (``bash
benchmarks/peers/make_peer_env.sh``), not in alad's: it imports numpy and the
peers only (each peer when it runs), never alad. ``alad benchmark --protocol
labels`` writes one task file per task, split and seed (``WORK/tasks/<task>__
<split>/seed<k>.npz``: the training part, the pool, the evaluation part, and
the rows of the windows alad queried at each budget); this script writes one
score per evaluation timestep to ``WORK/scores/<task>__<split>/seed<k>/<peer>
[_b<budget>].npy`` (float32), with ``.json`` beside it (versions, seconds,
settings) or ``.err`` (the exception) when a peer fails; ``alad benchmark``
then scores the files with ``alad.metrics``.

Every peer gets the same input: each series standardised with the mean and
standard deviation of the training part. Every score is aligned so that the
score of timestep ``t`` is computed from rows up to ``t`` only (see
``ALIGNMENT`` and docs/label_efficiency.rst); timesteps before a peer's first
full window get its first score (edge padding; DeepOD pads with 0, PyOD's
LSTMAD with its threshold).

Usage (from the repository root)::

    benchmarks/.venv-peers/bin/python benchmarks/peers/run_peers.py \
        --work alad_output/labels.work [--peers iforest deepod_devnet] [--quick]

Runs whose score file (or ``.err``) exists are skipped; ``--force`` reruns.
A score file that scored the evaluation part of a pool inside the test series
joined (made before 2026-12-07; ``score_pieces``) is made again with the
settings it was made with.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

#: How each peer's scores are made and aligned to the timesteps.
ALIGNMENT = {
    "iforest": "one score per row (timestep): scikit-learn IsolationForest on rows",
    "pyod_ecod": "one score per row: PyOD ECOD on rows",
    "pyod_autoencoder": "one score per row: PyOD's (tabular) AutoEncoder on rows",
    "pyod_lstmad": "PyOD ts_lstm.LSTMAD: the error of the forecast of row t from "
    "rows [t-W, t), Mahalanobis; causal as published; its first W rows (filled "
    "with threshold_) get the first score",
    "deepod_tcned": "DeepOD TcnED: score of the window [t-W+1, t] at t (DeepOD's "
    "own alignment); its W-1 leading zeros replaced by the first score",
    "deepod_usad": "DeepOD USAD: as TcnED",
    "tsbad_timesnet": "TSB-AD TimesNet returns at row i the error of the last row "
    "of the window [i, i+W) (multivariate; univariate: centred padding): "
    "re-aligned here to the window end, i.e. shifted by W-1 rows",
    "tsbad_cnn": "TSB-AD CNN: the error of the forecast of row t from [t-W, t) "
    "at t, causal as published (its first W rows get the first score)",
    "tsbad_omnianomaly": "TSB-AD OmniAnomaly returns at row i the mean error of "
    "the window [i, i+W) (multivariate; univariate: centred padding), a look-"
    "ahead of W-1 rows: re-aligned here to the window end",
    "deepod_devnet": "DeepOD DevNetTS: as TcnED; fitted on the training part "
    "followed by the pool, labels 1 on the anomalous rows of the queried windows, "
    "0 elsewhere (DeepOD reads 0 as unlabelled: the normal labels are unused)",
    "deepod_prenet": "DeepOD PReNetTS: as DevNetTS (DevNetTS and PReNetTS with "
    "their default Transformer network, whose layers are patched to accept torch "
    "2's is_causal keyword)",
    "deepod_deepsad": "DeepOD DeepSADTS: as DevNetTS",
    "extratrees": "scikit-learn ExtraTreesClassifier on features of the queried "
    "windows (label 1 when a window holds an anomalous row); scores the windows "
    "[t-W+1, t] (W = alad's window) and puts each at its end",
}

UNSUPERVISED = (
    "iforest",
    "pyod_ecod",
    "pyod_autoencoder",
    "pyod_lstmad",
    "deepod_tcned",
    "deepod_usad",
    "tsbad_timesnet",
    "tsbad_cnn",
    "tsbad_omnianomaly",
)
WITH_LABELS = ("deepod_devnet", "deepod_prenet", "deepod_deepsad", "extratrees")
PEERS = UNSUPERVISED + WITH_LABELS

#: Settings: the peers' defaults (TSB-AD: its tuned multivariate settings,
#: ``HP_list.Optimal_Multi_algo_HP_dict`` and ``model_wrapper.run_*``, with
#: its constructors' epoch counts written out so that ``--max-epochs`` can
#: cap them), and tiny ones for ``--quick``.
SETTINGS = {
    "pyod_autoencoder": {"epoch_num": 10},
    "pyod_lstmad": {"window_size": 50, "epochs": 50},
    "deepod_tcned": {"seq_len": 100, "epochs": 10},
    "deepod_usad": {"seq_len": 100, "epochs": 100},
    "tsbad_timesnet": {"win_size": 96, "lr": 1e-4, "epochs": 50},
    "tsbad_cnn": {
        "window_size": 50,
        "num_channel": [32, 32, 40],
        "lr": 0.0008,
        "epochs": 50,
    },
    "tsbad_omnianomaly": {"win_size": 100, "lr": 0.002, "epochs": 50},
    "deepod_devnet": {"seq_len": 100, "epochs": 100},
    "deepod_prenet": {"seq_len": 30, "epochs": 100},
    "deepod_deepsad": {"seq_len": 100, "epochs": 100},
    "extratrees": {"n_estimators": 300},
}
QUICK = {
    "pyod_autoencoder": {"epoch_num": 1},
    "pyod_lstmad": {"window_size": 10, "epochs": 1},
    "deepod_tcned": {"seq_len": 10, "epochs": 1},
    "deepod_usad": {"seq_len": 10, "epochs": 1},
    "tsbad_timesnet": {"win_size": 10, "lr": 1e-4, "epochs": 1},
    "tsbad_cnn": {
        "window_size": 10,
        "num_channel": [8, 8, 8],
        "lr": 0.0008,
        "epochs": 1,
    },
    "tsbad_omnianomaly": {"win_size": 10, "lr": 0.002, "epochs": 1},
    "deepod_devnet": {"seq_len": 10, "epochs": 1, "d_model": 16, "hidden_dims": "16"},
    "deepod_prenet": {"seq_len": 10, "epochs": 1, "d_model": 16, "hidden_dims": "16"},
    "deepod_deepsad": {"seq_len": 10, "epochs": 1, "hidden_dims": "16", "rep_dim": 16},
    "extratrees": {"n_estimators": 20},
}


# --------------------------------------------------------------------------- #
# alignment
# --------------------------------------------------------------------------- #


def edge_pad(scores, first_valid: int) -> np.ndarray:
    """Timesteps before ``first_valid`` get the score at ``first_valid``."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if first_valid > 0:
        scores[:first_valid] = scores[first_valid]
    return scores


def window_end(window_scores, n: int, w: int) -> np.ndarray:
    """Scores of the windows ``[i, i+w)``, ``i = 0..n-w``, put at their last row."""
    window_scores = np.asarray(window_scores, dtype=np.float64)[: n - w + 1]
    out = np.empty(n)
    out[w - 1 :] = window_scores
    out[: w - 1] = window_scores[0]
    return out


def score_pieces(score, X, seam: int, min_rows: int) -> np.ndarray:
    """``score`` of ``X[:seam]`` and ``X[seam:]``, each piece on its own.

    The evaluation part of a pool inside the test series is the rows before
    the pool followed by the rows after it (joined at ``eval_seam``): scored
    joined, a windowed peer would see a jump the series never had, right on
    the anomaly the pool cut. As alad's harness does
    (``alad.experiments.labels.split.score_apart``): a piece shorter than
    ``min_rows`` is first lengthened at its end away from the pool by
    repeating its outermost row, and the added rows' scores are dropped.
    """
    n, parts = len(X), []
    for a, b, front in ((0, seam, True), (seam, n, False)):
        if a == b:
            continue
        piece, short = X[a:b], max(0, min_rows - (b - a))
        if short:
            edge = np.repeat(piece[:1] if front else piece[-1:], short, axis=0)
            piece = np.concatenate([edge, piece] if front else [piece, edge])
        scores = np.asarray(score(piece), dtype=np.float64).ravel()
        if scores.shape != (len(piece),):
            raise ValueError(f"{scores.shape[0]} scores for {len(piece)} rows")
        parts.append(scores[short:] if front else scores[: b - a])
    return np.concatenate(parts)


def fewest_rows(peer: str, settings: dict, meta: dict) -> int:
    """The rows a peer's scorer needs: its window (and one row more, for the
    forecasters that score row t from the W rows before it)."""
    if peer == "extratrees":
        return int(meta["window_size"])
    keys = ("seq_len", "win_size", "window_size")
    windows = [settings[k] for k in keys if k in settings]
    return max(windows) + 1 if windows else 1


#: what a score file of a task with a seam says it did (alad's EVAL_SCORING)
EVAL_SCORING = "pieces apart"


def tsbad_items(scores, n: int, w: int, n_features: int) -> np.ndarray:
    """TSB-AD's per-row output back to one score per window ``[i, i+w)``.

    Multivariate (``ReconstructDataset``): row ``i`` holds the window starting
    at ``i`` (the last ``w`` rows repeat the last window). Univariate: the
    ``n - w + 1`` window scores padded by ``ceil((w-1)/2)`` in front.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if n_features == 1:
        front = -(-(w - 1) // 2)
        return scores[front : front + n - w + 1]
    return scores[: n - w + 1]


# --------------------------------------------------------------------------- #
# the peers: each is fitted and returns its scorer (rows -> one score per row)
# --------------------------------------------------------------------------- #


def _seed(seed: int) -> None:
    # the peers seed (or not) through global generators: this process is theirs
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the peers draw from the global one)
    torch.manual_seed(seed)


def _rows(model, data):
    """``model`` fitted on the training part; its per-row scorer."""
    model.fit(data["X_train"])
    return model.decision_function


def run_iforest(data, seed, s):
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(random_state=seed).fit(data["X_train"])
    return lambda X: -model.score_samples(X)


def run_pyod_ecod(data, seed, s):
    from pyod.models.ecod import ECOD

    return _rows(ECOD(), data)


def run_pyod_autoencoder(data, seed, s):
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(random_state=seed, verbose=0, device="cpu", **s)
    return _rows(model, data)


def run_pyod_lstmad(data, seed, s):
    from pyod.models.ts_lstm import LSTMAD

    _seed(seed)
    score = _rows(LSTMAD(**s), data)
    return lambda X: edge_pad(score(X), s["window_size"])


def _deepod_unsupervised(cls, data, seed, s):
    model = cls(device="cpu", random_state=seed, verbose=0, **s)
    score = _rows(model, data)
    return lambda X: edge_pad(score(X), s["seq_len"] - 1)


def run_deepod_tcned(data, seed, s):
    from deepod.models.time_series import TcnED

    return _deepod_unsupervised(TcnED, data, seed, s)


def run_deepod_usad(data, seed, s):
    from deepod.models.time_series import USAD

    return _deepod_unsupervised(USAD, data, seed, s)


def _tsbad(make, w, data, seed):
    # TSB-AD's models draw their weights when made: seeded before that (the
    # state the runner held before would decide them), and again to train
    _seed(seed)
    model = make()
    _seed(seed)
    model.fit(data["X_train"])

    def score(X):
        raw = model.decision_function(X)
        return window_end(tsbad_items(raw, len(X), w, X.shape[1]), len(X), w)

    return score


def run_tsbad_timesnet(data, seed, s):
    from TSB_AD.models.TimesNet import TimesNet

    def make():
        return TimesNet(enc_in=data["X_train"].shape[1], **s)

    return _tsbad(make, s["win_size"], data, seed)


def run_tsbad_omnianomaly(data, seed, s):
    from TSB_AD.models.OmniAnomaly import OmniAnomaly

    def make():
        return OmniAnomaly(feats=data["X_train"].shape[1], **s)

    return _tsbad(make, s["win_size"], data, seed)


def run_tsbad_cnn(data, seed, s):
    from TSB_AD.models.CNN import CNN

    _seed(seed)
    model = CNN(feats=data["X_train"].shape[1], batch_size=128, **s)
    score = _rows(model, data)
    return lambda X: edge_pad(score(X), s["window_size"])


def _labelled_fit_data(data, budget):
    """Training part then pool; 1 on the anomalous rows of the queried windows."""
    X = np.concatenate([data["X_train"], data["X_pool"]])
    y = np.zeros(len(X), dtype=np.int64)
    idx = data[f"idx_b{budget}"]
    y[len(data["X_train"]) + idx] = data[f"y_b{budget}"]
    if not y.any():
        raise ValueError(
            f"no anomalous row among the {len(idx) // data['meta']['window_size']} "
            f"windows labelled at budget {budget}: this peer learns from known "
            "anomalies only"
        )
    return X, y


def _deepod_torch2():
    """Let DeepOD 0.4.1's Transformer layers run under torch 2.

    ``torch.nn.TransformerEncoder`` (torch >= 2.0) calls each layer with an
    ``is_causal`` keyword, which DeepOD's own layers (written for torch < 1.13)
    do not take: ``TypeError: TransformerEncoderLayer.forward() got an
    unexpected keyword argument 'is_causal'``. The keyword is dropped (DeepOD
    passes no causal mask, so it is always False); nothing else changes.
    """
    from deepod.core.networks import ts_network_transformer as m

    for cls in (m.TransformerEncoderLayer, m.TransformerBatchNormEncoderLayer):
        if getattr(cls.forward, "_drops_is_causal", False):
            continue
        original = cls.forward

        def forward(self, src, *args, _original=original, is_causal=None, **kw):
            return _original(self, src, *args, **kw)

        forward._drops_is_causal = True
        cls.forward = forward


def _deepod_labels(cls, data, seed, s, budget):
    _deepod_torch2()
    X, y = _labelled_fit_data(data, budget)
    model = cls(device="cpu", random_state=seed, verbose=0, **s)
    model.fit(X, y)
    return lambda X: edge_pad(model.decision_function(X), s["seq_len"] - 1)


def run_deepod_devnet(data, seed, s, budget):
    from deepod.models.time_series import DevNetTS

    return _deepod_labels(DevNetTS, data, seed, s, budget)


def run_deepod_prenet(data, seed, s, budget):
    from deepod.models.time_series import PReNetTS

    return _deepod_labels(PReNetTS, data, seed, s, budget)


def run_deepod_deepsad(data, seed, s, budget):
    from deepod.models.time_series import DeepSADTS

    return _deepod_labels(DeepSADTS, data, seed, s, budget)


def window_features(X, w: int) -> np.ndarray:
    """Per channel: mean, std, min, max, last minus first of each ``w``-row window.

    ``X`` of shape ``(n_windows, w, n_channels)`` -> ``(n_windows, 5 n_channels)``.
    """
    return np.concatenate(
        [X.mean(1), X.std(1), X.min(1), X.max(1), X[:, -1] - X[:, 0]], axis=1
    )


def run_extratrees(data, seed, s, budget):
    from numpy.lib.stride_tricks import sliding_window_view
    from sklearn.ensemble import ExtraTreesClassifier

    w = int(data["meta"]["window_size"])
    idx = data[f"idx_b{budget}"]
    windows = data["X_pool"][idx].reshape(-1, w, data["X_pool"].shape[1])
    labels = data[f"y_b{budget}"].reshape(-1, w).max(axis=1)
    if labels.min() == labels.max():
        raise ValueError(
            f"the {len(labels)} windows labelled at budget {budget} are all "
            f"{'anomalous' if labels[0] else 'normal'}: a classifier needs both"
        )
    model = ExtraTreesClassifier(random_state=seed, n_jobs=1, **s)
    model.fit(window_features(windows, w), labels)

    def score(X):
        views = sliding_window_view(X, w, axis=0).transpose(0, 2, 1)
        scores = np.empty(len(views))
        for start in range(0, len(views), 8192):  # bounded memory
            part = window_features(views[start : start + 8192], w)
            scores[start : start + len(part)] = model.predict_proba(part)[:, 1]
        return window_end(scores, len(X), w)

    return score


# --------------------------------------------------------------------------- #
# the driver
# --------------------------------------------------------------------------- #


def standardised(data: dict) -> dict:
    """Every series scaled with the training part's mean and standard deviation."""
    mean = data["X_train"].mean(axis=0)
    std = data["X_train"].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = dict(data)
    for name in ("X_train", "X_pool", "X_eval"):
        out[name] = (data[name] - mean) / std
    return out


def read_task_file(path) -> dict:
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    data["meta"] = json.loads(str(data["meta"]))
    return data


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for dist in ("numpy", "scikit-learn", "torch", "pyod", "deepod", "TSB-AD"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


def _write(path: Path, scores, info: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, np.asarray(scores, dtype=np.float32))
    os.replace(tmp, path)
    path.with_suffix(".json").write_text(json.dumps(info, indent=1))
    path.with_suffix(".err").unlink(missing_ok=True)


def _info(path: Path) -> dict:
    """The JSON beside a score file ({} when none can be read)."""
    try:
        info = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _joined_to_remake(target: Path, settings: dict, quick: bool, log) -> bool:
    """Whether a score file scored the evaluation part joined and is made
    again now: only with the settings it was made with (a ``--quick`` smoke
    run, or other ``--max-epochs`` / ``--set``, never replace an earnest
    file; ``--force`` does), and not after a failed try (its ``.err`` is
    newer)."""
    info = _info(target)
    if info.get("eval_scoring") == EVAL_SCORING:
        return False
    err = target.with_suffix(".err")
    if err.exists() and err.stat().st_mtime >= target.stat().st_mtime:
        return False
    same = json.loads(json.dumps(settings)) == info.get("settings", {}) and bool(
        info.get("quick")
    ) == bool(quick)
    if not same:
        log(
            f"  {target.name} scored the evaluation part joined, made with other "
            f"settings ({info.get('settings')}, quick={info.get('quick')}): "
            "--force makes it again with these"
        )
    return same


def capped(settings: dict, max_epochs: int | None) -> dict:
    """``settings`` with every epoch count at most ``max_epochs`` (None: as is).

    The deep peers' published defaults (100 epochs for DeepOD's USAD,
    DevNetTS, PReNetTS and DeepSADTS, 50 for TSB-AD's TimesNet) take tens of
    minutes per task and budget on a 2-core CPU; a cap makes them
    affordable, and the capped count travels in the score file's settings.
    """
    if max_epochs is None:
        return dict(settings)
    out = dict(settings)
    for key in ("epochs", "epoch_num"):
        if key in out:
            out[key] = min(out[key], max_epochs)
    return out


def overrides(pairs) -> dict:
    """``{peer: {key: value}}`` of ``--set PEER.KEY=VALUE`` arguments.

    A value is read as JSON when it is JSON (``64``, ``"100,50"``, ``true``),
    else kept as text. Raises ValueError naming a malformed pair or an
    unknown peer.
    """
    out: dict = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        peer, dot, key = name.partition(".")
        if not sep or not dot or not key:
            raise ValueError(f"--set takes PEER.KEY=VALUE, got {pair!r}")
        if peer not in PEERS:
            raise ValueError(f"--set names no peer: {peer!r} (one of {PEERS})")
        if peer not in SETTINGS:
            raise ValueError(
                f"--set {name}: {peer} takes no settings here (it runs with its "
                "library's defaults), so the setting would be recorded and not used"
            )
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        out.setdefault(peer, {})[key] = value
    return out


#: peers without an epoch count (nothing to cap)
NOT_EPOCHS = ("iforest", "pyod_ecod", "extratrees")


def run_task(
    path: Path,
    work: Path,
    peers,
    quick: bool,
    force: bool,
    log,
    max_epochs: int | None = None,
    changed: dict | None = None,
    only_budgets=None,
) -> int:
    """Every missing score file of one task file; returns the number made."""
    raw = read_task_file(path)
    meta, seed = raw["meta"], int(raw["meta"]["seed"])
    data = standardised(raw)
    n_eval = len(data["X_eval"])
    # the rows of the evaluation part before the pool: scored apart from the
    # rows after it (score_pieces); 0 when the pool starts the series
    seam = int(meta.get("eval_seam", 0))
    apart = 0 < seam < n_eval
    out_dir = work / "scores" / path.parent.name / path.stem
    versions = _versions()
    made = 0
    for peer in peers:
        budgets = (
            [None]
            if peer in UNSUPERVISED
            else [
                b
                for b in meta["budgets"]
                if b > 0 and (only_budgets is None or b in only_budgets)
            ]
        )
        settings = (QUICK if quick else SETTINGS).get(peer, {})
        if peer not in NOT_EPOCHS:
            settings = capped(settings, max_epochs)
        settings = {**settings, **(changed or {}).get(peer, {})}
        for budget in budgets:
            name = peer if budget is None else f"{peer}_b{budget}"
            target = out_dir / f"{name}.npy"
            if not force and (target.exists() or target.with_suffix(".err").exists()):
                if not (
                    apart
                    and target.exists()
                    and _joined_to_remake(target, settings, quick, log)
                ):
                    continue
                log(f"{path.parent.name}/{path.stem}: {name} scored joined: again")
            log(f"{path.parent.name}/{path.stem}: {name}")
            fn = globals()[f"run_{peer}"]
            start = time.process_time(), time.perf_counter()
            try:
                # the peers print progress: to stderr, so that stdout stays the
                # report of the command that runs this one
                with contextlib.redirect_stdout(sys.stderr):
                    if budget is None:
                        score = fn(data, seed, dict(settings))
                    else:
                        score = fn(data, seed, dict(settings), budget)
                    scores = score_pieces(
                        score, data["X_eval"], seam, fewest_rows(peer, settings, meta)
                    )
                if scores.shape != (n_eval,) or not np.isfinite(scores).all():
                    raise ValueError(
                        f"{scores.shape[0]} scores for {n_eval} timesteps, or not "
                        "finite"
                    )
            except Exception as exc:  # a failed peer is reported, not fatal
                target.parent.mkdir(parents=True, exist_ok=True)
                target.with_suffix(".err").write_text(
                    traceback.format_exc() + f"\n{type(exc).__name__}: {exc}\n"
                )
                log(f"  failed: {type(exc).__name__}: {exc}")
                continue
            info = {
                "peer": peer,
                "budget": budget,
                "settings": settings,
                "quick": quick,
                "alignment": ALIGNMENT[peer],
                **({"eval_scoring": EVAL_SCORING} if apart else {}),
                "cpu_seconds": time.process_time() - start[0],
                "seconds": time.perf_counter() - start[1],
                "versions": versions,
                "task_meta": meta,
            }
            _write(target, scores, info)
            made += 1
    return made


def check_alignment(
    peers=(
        "tsbad_timesnet",
        "tsbad_omnianomaly",
        "tsbad_cnn",
        "deepod_usad",
        "deepod_tcned",
        "pyod_lstmad",
    ),
) -> None:
    """Print where each windowed peer puts a spike: at or after it, never before.

    A sine series of 1, then 3 channels, trained with the ``--quick``
    settings; row 300 of the scored series gets +30. A score that rises before
    row 300 would look ahead. Prints the argmax and the first row whose score
    is above the median plus half the range.
    """
    import contextlib
    import io

    rng = np.random.default_rng(0)
    for d in (1, 3):
        t = np.arange(1200)
        X_train = np.sin(t[:, None] / 7 + np.arange(d)) + 0.05 * rng.normal(
            size=(1200, d)
        )
        X_eval = np.sin(t[:600, None] / 7 + np.arange(d)) + 0.05 * rng.normal(
            size=(600, d)
        )
        X_eval[300] += 30
        data = {"X_train": X_train, "X_eval": X_eval}
        for peer in peers:
            with contextlib.redirect_stdout(io.StringIO()):
                out = globals()[f"run_{peer}"](data, 0, dict(QUICK[peer]))(X_eval)
            high = np.median(out) + (out.max() - np.median(out)) / 2
            print(
                f"{d} channel(s) {peer:18s} argmax {int(np.argmax(out))}, first high "
                f"row {int(np.flatnonzero(out > high)[0])} (spike at 300)"
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", help="the work folder of alad benchmark")
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--quick", action="store_true", help="tiny settings (tests)")
    parser.add_argument("--force", action="store_true", help="rerun existing ones")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--tasks",
        default="*",
        help="task folders to run, a glob (e.g. 'gecco*'; default: all)",
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="cap every deep peer's epochs (CPU-short runs; recorded in settings)",
    )
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        help="the peers that take labels run these budgets only (default: all)",
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="PEER.KEY=VALUE",
        help="change one setting of one peer (e.g. deepod_devnet.d_model=64; "
        "recorded in settings); repeatable",
    )
    parser.add_argument(
        "--check-alignment",
        action="store_true",
        help="print where the windowed peers put a spike, then exit",
    )
    args = parser.parse_args(argv)
    if args.check_alignment:
        check_alignment()
        return 0
    if not args.work:
        parser.error("the following arguments are required: --work")
    try:
        changed = overrides(args.set)
    except ValueError as exc:
        parser.error(str(exc))
    work = Path(args.work)
    files = sorted((work / "tasks").glob(f"{args.tasks}/seed*.npz"))
    if not files:
        print(
            f"no task files under {work / 'tasks'}"
            + (f" match --tasks {args.tasks!r}" if args.tasks != "*" else ""),
            file=sys.stderr,
        )
        return 1
    if args.threads and any(p not in ("iforest", "extratrees") for p in args.peers):
        import torch

        torch.set_num_threads(args.threads)

    def log(text):
        print(text, file=sys.stderr, flush=True)

    made = sum(
        run_task(
            f,
            work,
            args.peers,
            args.quick,
            args.force,
            log,
            args.max_epochs,
            changed,
            args.budgets,
        )
        for f in files
    )
    log(f"{made} score file(s) written under {work / 'scores'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
