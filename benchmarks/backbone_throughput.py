"""Training time per epoch and scoring throughput of every built-in backbone.

Times each backbone of ``alad.backbones.BACKBONES`` at its default sizes on
GECCO-sized data: 1,385 windows of 50 timesteps x 9 channels (the 69,260
training rows of GECCO cut into non-overlapping windows), trained with batches
of 8 (Adam, one optimiser per objective phase, as ``BackboneNet`` does) and
scored with batches of 256 in evaluation mode. Random standard-normal windows
stand in for the data: the cost does not depend on the values.

One epoch is extrapolated from ``--train-batches`` timed batches (after one
warm-up batch); ``--train-batches 0`` times the whole epoch. Besides wall-clock
seconds the table gives the process's CPU seconds per epoch (all threads
together): on a shared machine the wall clock grows with the load of other
processes while CPU seconds do not, so ``cpu s / threads`` estimates the wall
clock of an idle machine. This is a benchmark that prints a table, not a test.

Usage::

    python benchmarks/backbone_throughput.py
    python benchmarks/backbone_throughput.py --backbones usad vtt_sat --threads 2
    python benchmarks/backbone_throughput.py --backbones vtt_sat vtt_pat \
        --params '{"dim_head": 128}'   # the VTT reference's per-head width
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from alad.backbones import BACKBONES, make_backbone

N_WINDOWS, WINDOW, CHANNELS = 1385, 50, 9


def _train_step(model, optimizers, x, epoch):
    for phase, optimizer in enumerate(optimizers):
        optimizer.zero_grad()
        loss = model.objective(x, phase=phase, epoch=epoch)
        loss.backward()
        optimizer.step()


def _sync(device) -> None:
    """Wait for the device's queued work, so that the clock reads finished work."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_backbone(
    name,
    *,
    train_batches,
    batch_size,
    eval_batch_size,
    params=None,
    seed=0,
    device="cpu",
):
    """Return parameters, wall and CPU seconds per epoch, scored windows per second."""
    torch.manual_seed(seed)
    model = make_backbone(name, CHANNELS, WINDOW, params).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    optimizers = [
        torch.optim.Adam(list(model.phase_parameters(p)), lr=1e-4)
        for p in range(model.n_objective_phases)
    ]
    data = torch.randn(N_WINDOWS, WINDOW, CHANNELS).to(device)
    n_batches = -(-N_WINDOWS // batch_size)
    timed = n_batches if train_batches <= 0 else min(train_batches, n_batches)

    model.train()
    _train_step(model, optimizers, data[:batch_size], epoch=2)  # warm-up
    _sync(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(timed):
        batch = data[i * batch_size : (i + 1) * batch_size]
        _train_step(model, optimizers, batch, epoch=2)
    _sync(device)
    epoch_seconds = (time.perf_counter() - start) * n_batches / timed
    epoch_cpu_seconds = (time.process_time() - cpu_start) * n_batches / timed

    model.eval()
    with torch.no_grad():
        model.anomaly_score(data[:eval_batch_size])  # warm-up
        _sync(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        for first in range(0, N_WINDOWS, eval_batch_size):
            model.anomaly_score(data[first : first + eval_batch_size])
        _sync(device)
        score_seconds = time.perf_counter() - start
        score_cpu_seconds = time.process_time() - cpu_start
    return (
        n_params,
        epoch_seconds,
        epoch_cpu_seconds,
        N_WINDOWS / score_seconds,
        N_WINDOWS / score_cpu_seconds,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="*", default=sorted(BACKBONES))
    parser.add_argument("--train-batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--eval-batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--params",
        type=json.loads,
        default=None,
        help="JSON dict of size parameters applied to every selected backbone",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    print(
        f"{N_WINDOWS} windows of {WINDOW}x{CHANNELS}, train batch {args.batch_size}, "
        f"score batch {args.eval_batch_size}, torch {torch.__version__}, "
        f"device {args.device}, "
        f"{torch.get_num_threads()} threads, params {args.params}, load average "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    header = (
        f"{'backbone':<20} {'parameters':>11} {'s/epoch':>8} {'cpu s/epoch':>11} "
        f"{'windows/s':>10} {'windows/cpu s':>13}"
    )
    print(header)
    print("-" * len(header))
    for name in args.backbones:
        n_params, wall, cpu, rate, cpu_rate = time_backbone(
            name,
            train_batches=args.train_batches,
            batch_size=args.batch_size,
            eval_batch_size=args.eval_batch_size,
            params=args.params,
            device=args.device,
        )
        print(
            f"{name:<20} {n_params:>11,} {wall:>8.1f} {cpu:>11.1f} {rate:>10.0f} "
            f"{cpu_rate:>13.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
