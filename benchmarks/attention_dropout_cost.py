"""What attention dropout costs the Transformer backbone's training steps on a CPU.

The default Transformer (``d_model=128``, 8 heads, windows of 50) trains with
dropout 0.1, also inside attention. On the CPU, PyTorch's
``scaled_dot_product_attention`` with ``dropout_p > 0`` draws a Bernoulli mask
over every attention weight, which its kernel without dropout does not. This
times one attention call (forward, and forward plus backward) with and
without dropout at the batch sizes of a feedback step (8 windows) and of a
larger batch (64), alternating the two variants in rounds, and prints the
median of each and their ratio; then the same for a Bernoulli draw alone.

    python benchmarks/attention_dropout_cost.py [--rounds 7] [--threads 1]

A lead for the speed issue (docs, *Speed*): changing how dropout is drawn
changes every random stream of training, so it is not an exact speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from alad.experiments.machine import cpu_model


def _timed(fn, repeats: int) -> float:
    """Milliseconds per call of ``fn``, over ``repeats`` calls after a warm-up."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{cpu_model()}, torch {torch.__version__}, {args.threads} thread(s)")
    for batch in (8, 64):
        q = torch.randn(batch, 8, 50, 16, requires_grad=True)

        def forward(p, q=q):
            return F.scaled_dot_product_attention(q, q, q, dropout_p=p)

        def both(p, q=q):
            forward(p).sum().backward()

        for name, fn in (("forward", forward), ("forward+backward", both)):
            times = {0.0: [], 0.1: []}
            for r in range(args.rounds):
                for p in (0.0, 0.1) if r % 2 == 0 else (0.1, 0.0):
                    times[p].append(_timed(lambda fn=fn, p=p: fn(p), args.repeats))
            plain, dropped = (statistics.median(times[p]) for p in (0.0, 0.1))
            print(
                f"batch {batch:2d} x 8 heads x 50 x 16, {name:16s}: "
                f"{plain:6.3f} ms without dropout, {dropped:6.3f} ms with 0.1 "
                f"({dropped / plain:.1f}x)"
            )
        weights = torch.rand(batch, 8, 50, 50)
        draw = statistics.median(
            _timed(lambda w=weights: torch.empty_like(w).bernoulli_(0.9), args.repeats)
            for _ in range(args.rounds)
        )
        print(f"  the Bernoulli mask of {weights.numel():,} weights: {draw:.3f} ms")


if __name__ == "__main__":
    main()
