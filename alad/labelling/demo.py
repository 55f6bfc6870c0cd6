"""``alad label --demo``: a labelling session on the embedded telemetry series."""

from __future__ import annotations

from pathlib import Path

__all__ = ["create_demo_session"]


def create_demo_session(
    path="alad_label_demo",
    *,
    random_state: int = 0,
    per_round: int = 8,
    budget: int = 80,
    detector_params: dict | None = None,
    data_params: dict | None = None,
    verbose: int = 1,
    print_fn=print,
):
    """Open the demo session in ``path``, creating it on first use.

    The detector (a Transformer, 10 epochs at most) is fitted on the
    normal training part of :func:`~alad.datasets.make_telemetry`; its test
    part, with subtle anomalies and benign noise bursts, is the pool. Running
    it again reopens the session where it was left.

    Parameters
    ----------
    path : str or Path, default="alad_label_demo"
    random_state : int, default=0
    per_round : int, default=8
        Windows queried per round.
    budget : int, default=80
        Windows the person labels at most.
    detector_params, data_params : dict or None
        Further parameters of the detector and of ``make_telemetry`` (smaller
        sizes for tests).
    verbose : int, default=1
        The fit's verbosity (1: a line per epoch with the seconds left, so
        the 20 s or so of the first run are not silent; 0: none). The
        session's detector is saved with ``verbose=0``: the page's rounds do
        not print tables into the terminal that serves it.
    print_fn : callable, default=print

    Returns
    -------
    session : LabellingSession
    """
    from ..datasets import make_telemetry
    from ..detectors import ActiveReconstructionDetector
    from .session import LabellingSession

    path = Path(path)
    if (path / "session.json").exists():
        session = LabellingSession.open(path)
        print_fn(
            f"reopened the demo session in {path}: {session.n_rounds} rounds, "
            f"{session.n_labelled} windows labelled"
        )
        return session
    if path.exists() and any(path.iterdir()):  # refused now, not after the fit
        raise FileExistsError(
            f"{path} holds files but no session.json, so it is no demo session; "
            "remove it or name another folder."
        )
    data = make_telemetry(random_state=random_state, **(data_params or {}))
    detector = ActiveReconstructionDetector(
        window_size=50,
        max_epochs=10,
        random_state=random_state,
        verbose=verbose,
    ).set_params(**(detector_params or {}))
    print_fn(
        f"make_telemetry: fitting a Transformer on {len(data.X_train)} normal "
        f"timesteps of {data.X_train.shape[1]} sensors "
        f"({detector.max_epochs} epochs at most) ..."
    )
    detector.fit(data.X_train)
    detector.set_params(verbose=0)  # what verbose changes is printing only
    session = LabellingSession.create(
        path,
        detector,
        data.X_test,
        per_round=per_round,
        budget=budget,
        channel_names=list(data.feature_names),
    )
    print_fn(
        f"created the demo session in {path}: a pool of {len(data.X_test)} timesteps "
        f"({session.n_windows} windows of {session.window_size}) holding "
        f"{len(data.anomaly_segments)} subtle anomalies (level shifts, damping, "
        f"decoupled or faster sensors) and {len(data.burst_segments)} bursts of "
        "benign fast oscillation, which the unsupervised model scores high: "
        "label the bursts normal."
    )
    return session
