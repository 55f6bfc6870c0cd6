"""Peak memory of NAFALDetector's scoring on cardio, at the defaults.

One ``NAFALDetector()`` (the defaults, ``random_state=0``) is fitted on
cardio's training part (``novelty_split``, seed 0) and pickled; then each
case runs in a fresh process: load the model, score 10 samples (lazy imports,
allocator caches), read the resident set, restart the kernel's peak
(``alad.experiments.machine.reset_peak_rss``), score the 1,831 samples of
cardio (training and test parts) with ``eval_batch_size`` set to the case, and
print the peak resident set above the level before scoring
(``peak_rss_mb``), the CPU seconds, and whether the scores equal the
default's.

Usage, from the repository root::

    export ALAD_DATA_HOME=../shared/datasets OMP_NUM_THREADS=1
    python benchmarks/naf_score_memory.py \
        --out benchmarks/results/naf_score_memory.json
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: None is the default (512 flow rows: 16 samples at 32 transformations); 128
#: samples (4,096 rows) was the default before
CASES = (None, 128, 64, 32, 8)


def child(model_path: str, batch: str) -> None:
    import torch

    from alad.datasets import load_odds
    from alad.experiments.machine import current_rss_mb, peak_rss_mb, reset_peak_rss

    torch.set_num_threads(1)
    det = pickle.loads(Path(model_path).read_bytes())
    det.set_params(eval_batch_size=None if batch == "None" else int(batch))
    X = load_odds("cardio").X
    det.decision_function(X[:10])
    before = current_rss_mb()
    reset = reset_peak_rss()
    start = time.process_time()
    scores = det.decision_function(X)
    cpu = time.process_time() - start
    peak = peak_rss_mb()
    np.save(Path(model_path).with_suffix(f".{batch}.npy"), scores)
    print(
        json.dumps(
            {
                "eval_batch_size": None if batch == "None" else int(batch),
                "flow_rows_per_batch": det._eval_batch_size() * det.n_transforms,
                "peak_above_mb": peak - before,
                "rss_before_mb": before,
                "peak_reset": reset,
                "score_cpu_s": cpu,
                "data_mb": X.nbytes / 2**20,
                "n_samples": len(X),
            }
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    import torch

    from alad import NAFALDetector
    from alad.datasets import load_odds, novelty_split
    from alad.experiments.machine import machine

    torch.set_num_threads(1)
    data = load_odds("cardio")
    split = novelty_split(data.X, data.y, random_state=0)
    start = time.process_time()
    det = NAFALDetector(random_state=0).fit(split.X_train)
    fit_s = time.process_time() - start
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp, "naf.pkl")
        model.write_bytes(pickle.dumps(det))
        for batch in CASES:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(model), str(batch)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        reference = np.load(model.with_suffix(".None.npy"))
        for row in rows:
            scores = np.load(model.with_suffix(f".{row['eval_batch_size']}.npy"))
            row["max_abs_diff_to_default"] = float(np.abs(scores - reference).max())
    result = {"machine": machine(), "fit_cpu_s": fit_s, "cases": rows}
    print(
        f"cardio, {rows[0]['n_samples']} samples ({rows[0]['data_mb']:.2f} MB), "
        f"{result['machine']}"
    )
    print(
        "eval_batch_size | flow rows per batch | peak above, MB | score CPU s | "
        "max |diff|"
    )
    for r in rows:
        print(
            f"{r['eval_batch_size']!s:>15} | {r['flow_rows_per_batch']:>19} | "
            f"{r['peak_above_mb']:>14.1f} | {r['score_cpu_s']:>11.2f} | "
            f"{r['max_abs_diff_to_default']:.1e}"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
