"""CPU seconds of NAFALDetector's labelling round (``query`` + ``partial_fit``).

The README loop on an ODDS set (default cardio: train on half its normal
samples, the test part is the pool), 10 labels a round from the oracle,
three ways from the same fitted model, in one process, alternating which
runs first:

- ``default``: ``NAFALDetector()`` (``feedback_epochs=0``: the head alone;
  the flow's scores of the training data are kept from the fit, so a round
  scores the pool in ``query`` and fits the head);
- ``default, rescoring``: the same, but the training data rescored at the
  end of every round (what the round did before the scores were kept; the
  scores come out identical);
- ``flow feedback``: ``feedback_epochs=5``, the default before 2026-12-04.

    export ALAD_DATA_HOME=../shared/datasets OMP_NUM_THREADS=1
    python benchmarks/naf_round.py [--dataset cardio] [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from alad import NAFALDetector  # noqa: E402
from alad.datasets import load_odds, novelty_split  # noqa: E402
from alad.experiments.machine import cpu_model  # noqa: E402


class _Rescoring(NAFALDetector):
    """NAFALDetector that forgets the flow's training scores before every
    commit, so each round rescores the training data."""

    def _commit(self, state):
        self._fit_flow_scores = None
        return super()._commit(state)


def rounds(det, X_pool, y_pool, n_rounds, n_queries=10):
    """CPU seconds of each round of the README loop, and the final scores."""
    known = np.full(len(X_pool), np.nan)
    seconds = []
    for _ in range(n_rounds):
        start = time.process_time()
        idx = det.query(X_pool, y=known, n_queries=n_queries)
        known[idx] = y_pool[idx]
        det.partial_fit(X_pool[idx], y_pool[idx])
        seconds.append(time.process_time() - start)
    return seconds, det.decision_scores_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cardio")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = load_odds(args.dataset)
    split = novelty_split(data.X, data.y, random_state=0)
    start = time.process_time()
    fitted = NAFALDetector(random_state=0).fit(split.X_train)
    print(
        f"{args.dataset}: fit {time.process_time() - start:.1f} CPU s "
        f"({len(split.X_train)} training, {len(split.X_test)} pool samples); "
        f"{cpu_model()}, one thread"
    )

    def arm(name):
        det = copy.deepcopy(fitted)
        if name == "default, rescoring":
            det.__class__ = _Rescoring
        elif name == "flow feedback":
            det.set_params(feedback_epochs=5)
        return rounds(det, split.X_test, split.y_test, args.rounds)

    names = ("default", "default, rescoring", "flow feedback")
    seconds, scores = {}, {}
    for order in (names, names[::-1]):
        for name in order:
            s, scores[name] = arm(name)
            seconds.setdefault(name, []).extend(s)
            print(f"  {name:<20} rounds (CPU s): " + ", ".join(f"{x:.2f}" for x in s))
    for name in names:
        print(f"{name:<20} mean {np.mean(seconds[name]):.2f} CPU s a round")
    same = np.allclose(scores["default"], scores["default, rescoring"])
    print(f"default and default, rescoring give the same scores: {same}")


if __name__ == "__main__":
    main()
