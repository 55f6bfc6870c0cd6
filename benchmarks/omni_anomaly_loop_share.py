"""What OmniAnomaly's per-timestep posterior loop costs, at the TSB-AD pair's sizes.

The ``omni_anomaly/tsb_ad`` pair of ``peer_throughput.py`` compares the
paper's model (the latent of each timestep depends on the previous one, a
loop over the 50 timesteps) with TSB-AD's GRU-VAE (no such link). This
script times, in one process and alternating, milliseconds per batch of 128
windows of 50 x 9 (GRUs of 32, dense 32, latent 8, no flow, one thread):

- ``loop``: :class:`~alad.backbones.OmniAnomalyBackbone` as it is;
- ``noloop``: the same layers with the ``z_{t-1} -> z_t`` link removed, the
  posterior computed for all timesteps at once (an ablation, not a model
  alad offers);
- ``grus``: the two GRUs alone, forward and backward, as the model runs
  them on CPU (:func:`alad.backbones._recurrence.gru_sequence`).

``train`` is objective, backward and Adam step; ``score`` is
``anomaly_score`` in evaluation mode without gradients. Medians of the
rounds. Random windows stand in for the data. A benchmark that prints a
table, not a test.

Usage::

    python benchmarks/omni_anomaly_loop_share.py [--rounds 5] [--batches 16]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.nn import functional as F

from alad.backbones import OmniAnomalyBackbone
from alad.backbones._recurrence import gru_sequence


def _noloop_posterior(self, x, with_log_q=True):
    """The posterior without the stochastic variable connection."""
    encoded = gru_sequence(x.transpose(0, 1), self.encoder_rnn).transpose(0, 1)
    hidden = F.relu(self.q_from_e(encoded))
    heads = (
        torch.cat((self.q_mean.weight, self.q_std.weight)),
        torch.cat((self.q_mean.bias, self.q_std.bias)),
    )
    mean, std = F.linear(hidden, *heads).split(self.latent_size, dim=-1)
    std = F.softplus(std) + self.std_epsilon
    noise = torch.randn_like(mean) if self.training else None
    z = mean if noise is None else mean + std * noise
    log_q = -torch.log(std).sum(dim=(1, 2))
    if noise is not None:
        log_q = log_q - 0.5 * (noise**2).sum(dim=(1, 2))
    z, log_det = self.flow(z)
    return z, log_q - log_det.sum(dim=-1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=16)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = OmniAnomalyBackbone(
        9, 50, hidden_size=32, dense_size=32, latent_size=8, n_flows=0
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    batches = [torch.randn(128, 50, 9) for _ in range(args.batches)]

    def train():
        model.train()
        for x in batches:
            optimizer.zero_grad()
            model.objective(x).backward()
            optimizer.step()

    def score():
        model.eval()
        with torch.no_grad():
            for x in batches:
                model.anomaly_score(x)

    def grus():
        model.train()
        for x in batches:
            e = gru_sequence(x.transpose(0, 1), model.encoder_rnn)
            d = gru_sequence(
                torch.randn(50, 128, 8, requires_grad=True), model.decoder_rnn
            )
            (e.sum() + d.sum()).backward()

    variants = {"loop": None, "noloop": _noloop_posterior}
    times: dict[tuple[str, str], list[float]] = {}
    train()  # warm-up
    for _ in range(args.rounds):
        for name, posterior in variants.items():
            if posterior is None:
                model.__dict__.pop("_posterior", None)
            else:
                model._posterior = posterior.__get__(model)
            for what, run in (("train", train), ("score", score)):
                start = time.process_time()
                run()
                ms = (time.process_time() - start) / len(batches) * 1000
                times.setdefault((name, what), []).append(ms)
        model.__dict__.pop("_posterior", None)
        start = time.process_time()
        grus()
        ms = (time.process_time() - start) / len(batches) * 1000
        times.setdefault(("grus", "train"), []).append(ms)
    print(f"{'variant':<8} {'what':<6} {'ms/batch (CPU)':>15}")
    for (name, what), values in times.items():
        print(f"{name:<8} {what:<6} {np.median(values):>15.2f}")


if __name__ == "__main__":
    main()
