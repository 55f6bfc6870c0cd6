"""Peak memory and CPU seconds of ``fit`` when scoring windows overlap.

With the scaled channel score (the default), ``fit`` reads each channel's
high quantile of the training windows' reconstruction errors before it can
turn them into scores. At ``score_stride=1`` the scoring windows hold each
error ``window_size`` times: kept between the two steps, the errors of a
series of ``n`` rows and ``C`` channels take ``n * window_size * C * 4``
bytes. The detector keeps them only while they take at most four times the
series or scikit-learn's ``working_memory``, and otherwise scores the
windows a second time. This script fits a tiny Transformer on a synthetic
periodic series and prints the fit's CPU seconds, its peak resident memory
above the process's before it, and a digest of the training scores (two
versions, or two ``working_memory`` settings, must print the same)::

    python benchmarks/fit_memory.py --rows 200000 --channels 8
    python benchmarks/fit_memory.py --rows 200000 --channels 8 --working-memory 64

One torch thread; the model is tiny on purpose: the figures are the
scoring's own. Run two code versions side by side (``git worktree``,
``PYTHONPATH``) to compare them.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sklearn  # noqa: E402
import torch  # noqa: E402
from head_cost import digest, measure, periodic, tiny_params  # noqa: E402

from alad import ActiveReconstructionDetector  # noqa: E402
from alad.experiments.machine import cpu_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--score-stride", type=int, default=1)
    parser.add_argument(
        "--working-memory",
        type=int,
        default=None,
        help="scikit-learn's working_memory in MiB (default: its own, 1024)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.working_memory is not None:
        sklearn.set_config(working_memory=args.working_memory)
    params = tiny_params(args.score_stride, score_head="none")
    # a first small fit loads what torch loads lazily, outside the figures
    ActiveReconstructionDetector(**params).fit(periodic(2_000, args.channels, 0))
    X = periodic(args.rows, args.channels, 1)
    mib = X.astype("float32").nbytes / 2**20
    print(
        f"{cpu_model()}; torch {torch.__version__}, one thread; series "
        f"{args.rows} x {args.channels} ({mib:.1f} MiB as float32), "
        f"score_stride {args.score_stride}, working_memory "
        f"{sklearn.get_config()['working_memory']} MiB"
    )
    det = measure("fit", lambda: ActiveReconstructionDetector(**params).fit(X), mib)
    print(
        f"training scores digest {digest(det.decision_scores_)}, "
        f"threshold_ {det.threshold_!r}"
    )


if __name__ == "__main__":
    main()
