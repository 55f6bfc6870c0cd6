"""The main job: the active-learning loop on the embedded telemetry series."""

from __future__ import annotations

import time
from pathlib import Path

from sklearn.utils import Bunch

from ._atomic import save_figure
from .active import run_active_learning
from .datasets import make_telemetry, split_unlabeled
from .detectors import ActiveReconstructionDetector

__all__ = ["run_demo"]

_METRICS = ("f1_pa", "f1", "pa_k_auc")


def _row(entry: dict, left: float | None = None) -> str:
    return (
        f"{entry['round']:>5} {entry['n_labelled']:>9} "
        f"{entry['n_anomalous_labelled']:>9} "
        + " ".join(f"{entry[m]:>8.4f}" for m in _METRICS)
        + f" {entry['seconds']:>7.1f}"
        + ("" if left is None else f" {left:>7.0f}")
    )


def run_demo(
    *,
    out_dir: str | Path = "alad_output",
    rounds: int = 4,
    per_round: int = 10,
    random_state: int = 0,
    device: str = "cpu",
    verbose: int = 0,
    detector_params: dict | None = None,
    data_params: dict | None = None,
    print_fn=print,
) -> dict:
    """Fit, then query / label / learn for a few rounds on ``make_telemetry``.

    The generator's labels stand in for the person who labels the windows
    the detector asks about. F1_PA, F1 and PA%K AUC on the held-out part of
    the test series are printed before the first round and after each one,
    and a PNG of the anomaly scores before and after active learning, with
    the true anomalies shaded, is written to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path, default="alad_output"
        Folder for ``demo_scores.png`` and ``demo_budget.png``.
    rounds : int, default=4
        Query rounds.
    per_round : int, default=10
        Windows labelled per round.
    random_state : int, default=0
    device : str, default="cpu"
    verbose : int, default=0
        Passed to the detector (1: epoch table, 2: progress bars too).
    detector_params : dict or None, default=None
        Further :class:`~alad.ActiveReconstructionDetector` parameters
        (e.g. smaller sizes for a quick run).
    data_params : dict or None, default=None
        Further :func:`~alad.datasets.make_telemetry` parameters.
    print_fn : callable, default=print

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``history`` (one dict per evaluation), ``figures`` (paths written;
        empty without matplotlib) and ``seconds``.
    """
    start = time.perf_counter()
    data = make_telemetry(random_state=random_state, **(data_params or {}))
    split = split_unlabeled(data.X_test, data.y_test, unlabeled_ratio=0.4)
    print_fn(
        f"make_telemetry: train {data.X_train.shape}, unlabelled pool "
        f"{split.X_pool.shape}, evaluation {split.X_eval.shape}, "
        f"{100 * split.y_eval.mean():.1f}% anomalous timesteps in evaluation"
    )
    detector = ActiveReconstructionDetector(
        backbone="transformer",
        window_size=50,
        top_k=per_round // 2,
        n_bins=per_round - per_round // 2,
        per_bin=1,
        budget=rounds * per_round,
        device=device,
        random_state=random_state,
        verbose=verbose,
    ).set_params(**(detector_params or {}))
    params = detector.get_params()
    stopping = (
        "no early stopping"
        if params["patience"] is None
        else f"early stopping after {params['patience']} without improvement"
    )
    print_fn(
        "fitting the Transformer backbone on the normal training part (at most "
        f"{params['max_epochs']} epochs, {stopping}) ..."
    )
    detector.fit(data.X_train)
    print_fn(
        f"pretrained for {len(detector.net_.history)} epochs in "
        f"{time.perf_counter() - start:.1f} s"
    )
    before = detector.decision_function(split.X_eval)

    header = (
        f"{'round':>5} {'labelled':>9} {'anomalous':>9} "
        + " ".join(f"{m:>8}" for m in _METRICS)
        + f" {'seconds':>7} {'left':>7}"
    )
    print_fn(
        f"active learning: {rounds} rounds of {per_round} windows, each followed by "
        f"{params['feedback_epochs']} feedback epochs; windows labelled, anomalous "
        "timesteps among them, metrics on evaluation, seconds of the round and "
        "an estimate of the seconds left:"
    )
    print_fn(header)

    def show(entry):
        # the time left: the mean round so far times the rounds to go
        done = entry["round"]
        spent = sum(h["seconds"] for h in history[1:]) + entry["seconds"]
        left = spent / done * (rounds - done) if done else None
        history.append(entry)
        print_fn(_row(entry, left))

    history: list[dict] = []
    result = run_active_learning(
        detector,
        split.X_pool,
        split.y_pool,
        budget=rounds * per_round,
        X_eval=split.X_eval,
        y_eval=split.y_eval,
        on_round=show,
    )
    after = detector.decision_function(split.X_eval)
    first, last = result.history[0], result.history[-1]
    print_fn(
        "PA%K AUC "
        f"{first['pa_k_auc']:.4f} -> {last['pa_k_auc']:.4f} with "
        f"{last['n_labelled']} labelled windows"
    )
    figures = _save_figures(
        Path(out_dir), split, before, after, detector.threshold_, result.history
    )
    for path in figures:
        print_fn(f"wrote {path}")
    return Bunch(
        history=result.history, figures=figures, seconds=time.perf_counter() - start
    )


def _save_figures(out_dir, split, before, after, threshold, history) -> list[Path]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []
    from .plotting import closing_new_figures, plot_budget_curve, plot_scores

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "demo_scores.png", out_dir / "demo_budget.png"]
    with closing_new_figures():
        scores = plot_scores(
            {"before active learning": before, "after active learning": after},
            split.y_eval,
            X=split.X_eval,
            title="make_telemetry, evaluation part: true anomalies shaded",
        )
        # the threshold of the final model belongs to the lower panel only
        scores.axes[-1].axhline(threshold, ls="--", lw=1, color="#c0392b")
        budget = plot_budget_curve(history, title="Metrics against labelled windows")
        for figure, path in zip((scores, budget), paths):
            save_figure(figure, path, dpi=110)
    return paths
