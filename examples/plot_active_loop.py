"""
=========================================
The active-learning loop on sensor data
=========================================

Train an :class:`~alad.ActiveReconstructionDetector` on a normal stretch of a
multivariate sensor series, then let it ask for labels: each round it picks a
few windows of an unlabelled stretch, a person labels them (here the labels of
the synthetic generator stand in for that person), and the detector learns from
them with :meth:`~alad.ActiveReconstructionDetector.partial_fit`.

The settings are tiny so that the example runs in seconds on a CPU. The
model is far smaller and trained far shorter than in the paper, and three
rounds of ten windows are few: the metrics below barely move, and may move
either way. The example shows how the loop is written, not what the method
gains; ``alad demo`` runs the same loop with the default, full-size backbone.
"""

# %%
# Data: a normal training part and a labelled test part
# -----------------------------------------------------
# :func:`~alad.datasets.make_telemetry` generates five correlated sensor
# channels. Its test part holds subtle anomalies (label 1) and bursts of
# benign noise (label 0) that never occur in the training part, so an
# unsupervised model scores the bursts high: false alarms, which labelled
# examples of bursts are meant to correct.
# :func:`~alad.datasets.split_unlabeled` makes the paper's split: the
# first 40 % of the test part is the unlabelled pool the detector may query,
# the rest is kept for evaluation and never queried.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone

from alad import ActiveReconstructionDetector
from alad.active import run_active_learning
from alad.datasets import make_telemetry, split_unlabeled
from alad.metrics import detection_report
from alad.plotting import plot_scores

data = make_telemetry(n_train=5000, n_test=4000, random_state=0)
split = split_unlabeled(data.X_test, data.y_test, unlabeled_ratio=0.4)
print("training part:", data.X_train.shape)
print("unlabelled pool:", split.X_pool.shape, "evaluation part:", split.X_eval.shape)

# %%
# Fit, unsupervised, on the normal training part
# ----------------------------------------------
# A one-layer Transformer with 16 features, windows of 25 timesteps, up to 20
# epochs. Each round will query ``top_k + n_bins * per_bin = 10`` windows,
# and the budget allows three rounds.
detector = ActiveReconstructionDetector(
    backbone="transformer",
    backbone_params={"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16},
    window_size=25,
    max_epochs=20,
    lr=3e-3,
    top_k=5,
    n_bins=5,
    per_bin=1,
    budget=30,
    random_state=0,
)
detector.fit(data.X_train)


def report(scores):
    """The papers' metrics on the evaluation part, as one line."""
    metrics = detection_report(split.y_eval, scores)
    return " ".join(f"{name}={value:.3f}" for name, value in metrics.items())


before = detector.decision_function(split.X_eval)
print("before:", report(before))

# %%
# Query, label, learn
# -------------------
# ``known`` holds the labels revealed so far, ``nan`` where nobody looked.
# For a 2-D series :meth:`~alad.ActiveReconstructionDetector.query` returns
# the *row* indices of whole windows, so ``X_pool[idx]`` stacks complete
# windows and ``y_pool[idx]`` their per-timestep labels.
known = np.full(len(split.X_pool), np.nan)
for round_ in range(1, 4):
    idx = detector.query(split.X_pool, y=known)
    known[idx] = split.y_pool[idx]  # the person labels these timesteps
    detector.partial_fit(split.X_pool[idx], known[idx])
    n_windows = len(idx) // detector.window_size
    print(
        f"round {round_}: {n_windows} windows labelled, "
        f"{int(np.nansum(known[idx]))} anomalous timesteps among them"
    )
    print("   ", report(detector.decision_function(split.X_eval)))

print("windows labelled in all:", detector.n_labelled_windows_)
after = detector.decision_function(split.X_eval)

# %%
# Scores before and after
# -----------------------
# True anomalies are shaded in pink; the three tall peaks are benign noise
# bursts. The dashed line is the threshold of the final model, the ``1 -
# contamination`` quantile of its scores on the training part, which
# :meth:`~alad.ActiveReconstructionDetector.partial_fit` recomputes after
# every round.
fig = plot_scores(
    {"before": before, "after 3 rounds": after},
    split.y_eval,
    X=split.X_eval,
    title="make_telemetry, evaluation part",
)
fig.axes[-1].axhline(detector.threshold_, ls="--", lw=1, color="#c0392b")

# %%
# The same loop with a simulated oracle
# -------------------------------------
# :func:`alad.active.run_active_learning` runs exactly this loop, with the
# true labels as the oracle, and records the metrics before the first round
# and after each one: what a benchmark needs. With the same parameters and
# ``random_state`` it gives the same figures as the loop above.
fresh = clone(detector).fit(data.X_train)  # same parameters, not fitted
result = run_active_learning(
    fresh,
    split.X_pool,
    split.y_pool,
    budget=30,
    X_eval=split.X_eval,
    y_eval=split.y_eval,
)
for entry in result.history:
    print(
        f"round {entry['round']}: {entry['n_labelled']:>2} windows, "
        f"PA%K AUC {entry['pa_k_auc']:.3f}, F1 {entry['f1']:.3f}, "
        f"F1_PA {entry['f1_pa']:.3f}"
    )

plt.show()
