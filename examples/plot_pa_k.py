"""
==========================================
Point adjustment inflates F1; PA%K doesn't
==========================================

Point adjustment (PA) counts a whole anomaly segment as detected as soon as
one of its points is. Kim et al. (AAAI 2022) showed that this lets even
random scores reach a high F1. PA%K adjusts a segment only when at least K %
of its points are detected; the area under F1 against K, from K = 0 (PA) to
K = 100 (no adjustment), summarises the curve.

This example scores three hand-made score series on one label series.
"""

# %%
# A label series and three score series
# -------------------------------------
# 2,000 timesteps with three anomaly segments (8 % of the points).
#
# - ``random``: uniform noise, it knows nothing.
# - ``one spike``: small noise plus one high score a few steps into each
#   segment, and nothing else in the segment.
# - ``whole segment``: noisy, but raised over every anomalous timestep.
import matplotlib.pyplot as plt
import numpy as np

from alad.metrics import detection_report, pa_k_auc, pa_k_curve, point_adjust
from alad.plotting import plot_pa_k_curve, plot_scores

rng = np.random.default_rng(0)
n = 2000
segments = [(300, 360), (900, 940), (1500, 1560)]
y_true = np.zeros(n, dtype=np.int64)
for start, stop in segments:
    y_true[start:stop] = 1

random_scores = rng.uniform(size=n)
spike_scores = 0.1 * rng.normal(size=n)
for start, _ in segments:
    spike_scores[start + 7] = 2.0
segment_scores = 0.5 * rng.normal(size=n)
for start, stop in segments:
    segment_scores[start:stop] += 0.8

scores = {
    "random": random_scores,
    "one spike": spike_scores,
    "whole segment": segment_scores,
}
fig = plot_scores(scores, y_true, title="Anomaly segments shaded")

# %%
# The metrics
# -----------
# ``f1`` is the point-wise F1 at the best threshold, ``f1_pa`` the same after
# point adjustment, ``pa_k_auc`` the area under the PA%K curve. The random
# scores reach a high ``f1_pa`` and the single spikes a perfect one: one lucky
# point per segment is enough. Their PA%K AUC stays far below that of the
# scores raised over whole segments.
print(f"{'':>14} {'f1':>6} {'f1_pa':>6} {'pa_k_auc':>8} {'roc_auc':>7}")
for name, s in scores.items():
    r = detection_report(y_true, s)
    print(
        f"{name:>14} {r['f1']:6.3f} {r['f1_pa']:6.3f} "
        f"{r['pa_k_auc']:8.3f} {r['roc_auc']:7.3f}"
    )

# %%
# What the adjustment does to one prediction
# ------------------------------------------
# Threshold the spike scores at 1: three points are predicted, one per
# segment. PA marks the three segments entirely (160 points); PA%K with
# K = 20 requires 20 % of each segment and adjusts none of them.
y_pred = (spike_scores >= 1.0).astype(np.int64)
print("predicted points:", int(y_pred.sum()))
print("after PA:        ", int(point_adjust(y_true, y_pred).sum()))
print("after PA%20:     ", int(point_adjust(y_true, y_pred, k=20).sum()))

# %%
# The PA%K curves
# ---------------
# For each K the threshold is chosen anew, to maximise the F1 after PA%K
# adjustment. K = 0 is the PA F1 and K = 100 the point-wise F1. The legend
# gives each curve's area, :func:`~alad.metrics.pa_k_auc`.
fig = plot_pa_k_curve(y_true, scores, title="Best F1 after PA%K adjustment")

ks, f1 = pa_k_curve(y_true, spike_scores, ks=[0, 1, 2, 5, 10, 50, 100])
print("one spike, F1 at K =", dict(zip(ks.tolist(), f1.round(3).tolist())))
print("one spike, PA%K AUC:", round(pa_k_auc(y_true, spike_scores), 3))

plt.show()
