"""
=========================================
A labelling session that lasts for weeks
=========================================

Keep the detector, the labels and the history of the rounds in a folder with
:class:`alad.labelling.LabellingSession`: answer the windows the detector asks
about (here the labels of the synthetic generator stand in for the person, and
one window is left "unsure"), submit the round, reopen the folder as on
another day and go on, then export the labels for Label Studio. ``alad label
SESSION_DIR`` does the same from a page in the browser.

The settings are tiny so that the example runs in seconds on a CPU.
"""

# %%
# A fitted detector and an unlabelled pool
# ----------------------------------------
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from alad import ActiveReconstructionDetector
from alad.datasets import make_telemetry
from alad.labelling import LabellingSession, export_labels

data = make_telemetry(n_train=3000, n_test=3000, random_state=0)
detector = ActiveReconstructionDetector(
    window_size=25,
    max_epochs=3,
    feedback_epochs=3,
    backbone_params={"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16},
    random_state=0,
).fit(data.X_train)

folder = Path(tempfile.mkdtemp()) / "session"
session = LabellingSession.create(
    folder, detector, data.X_test, per_round=8, budget=40, labeller="example"
)
print(f"{session.n_windows} windows of {session.window_size} rows in the pool")


# %%
# Three rounds, reopening the session in between
# ----------------------------------------------
# An anomalous window is labelled with the span of its anomalous rows, so
# the detector learns per-timestep labels; the first window of round one is
# "unsure": it never trains and is not asked again.
def answer(session, first_unsure=False):
    for i, window in enumerate(session.pending_query):
        start, stop = session.window_rows(window)
        truth = data.y_test[start:stop]
        if first_unsure and i == 0:
            session.label(window, "unsure")
        elif truth.any():
            rows = np.flatnonzero(truth) + start
            session.label(window, "anomaly", anomalous_range=(rows[0], rows[-1] + 1))
        else:
            session.label(window, "normal")


for round_ in range(3):
    session = LabellingSession.open(folder)  # as on another day
    answer(session, first_unsure=round_ == 0)
    entry = session.submit_round()
    print(
        f"round {entry['round']}: {entry['counts']}, threshold "
        f"{entry['threshold']:.3f}, next query {session.pending_query}"
    )

# %%
# What the folder holds
# ---------------------
# Open formats only: the labels with time, labeller and round in a CSV, the
# rounds in JSON, the model as JSON parameters and NumPy arrays (no pickle).
print(sorted(p.name for p in folder.iterdir()))
print((folder / "labels.csv").read_text().splitlines()[:3])

export_labels(session, folder.parent / "labels_label_studio.json", "label-studio")
tasks = json.loads((folder.parent / "labels_label_studio.json").read_text())
print(tasks[0]["annotations"][0]["result"][0]["value"])

# %%
# The budget curve, from ``history.json``
# ---------------------------------------
history = json.loads((folder / "history.json").read_text())
labelled = [0] + [h["n_labelled_total"] for h in history]
found = [0] + [h["n_anomaly_windows_total"] for h in history]
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(labelled, found, marker="o")
ax.set_xlabel("windows labelled")
ax.set_ylabel("anomalous windows found")
ax.set_title("Budget curve of the session")
fig.tight_layout()
plt.show()
