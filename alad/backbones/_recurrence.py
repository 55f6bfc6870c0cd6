"""OmniAnomaly's two recurrences with hand-written backward passes through time.

A training step of :class:`~alad.backbones.OmniAnomalyBackbone` is dominated
by its sequential parts: the two GRUs and the posterior loop
``z_t <- (e_t, z_{t-1})``. With autograd each timestep leaves a dozen small
nodes (plus a ``cat`` for every ``chunk`` of the GRU gates) and a weight
gradient product per step. Here each recurrence is one autograd node:

- the forward pass writes each step's values into preallocated time-major
  buffers (a handful of kernels per step, no autograd recording);
- the backward pass computes every factor that does not depend on the
  incoming gradient for all timesteps at once, so the loop over time only
  carries the hidden-state gradient (three kernels a step for the GRU, five
  for the posterior), and the weight gradients are one matrix product over
  all timesteps after the loop.

The functions compute the same mathematical values as ``torch.nn.GRU`` (its
gate convention: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``) and as
the plain posterior loop; the floating-point order differs (the
weight gradients are summed over time in one product, the hidden update is
``torch.lerp``). ``tests/backbones/test_exact_speedups.py`` compares values,
gradients, a few training steps and scores with the plain references.

All tensors are time-major, ``(T, B, ...)``; the initial states are zero.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["gru_sequence", "posterior_sequence"]

_pool = threading.local()
_POOL_KEYS = 24  # shapes kept per thread (the least recently used go)
_POOL_PER_KEY = 4  # buffers kept per shape


def _unshared(buffer: Tensor) -> bool:
    """Whether nothing but the pool refers to ``buffer``'s storage."""
    # the pool's tensor and the temporary storage object: 2 references;
    # any live view, saved tensor or output adds one
    return torch._C._storage_Use_Count(buffer.untyped_storage()._cdata) <= 2


def _empty(shape: tuple[int, ...], like: Tensor) -> Tensor:
    """An uninitialised tensor, from a small per-thread pool where possible.

    Every training step fills several buffers of megabytes; fresh
    allocations of that size come back from the system as new pages, and
    their page faults cost more CPU time than the arithmetic done in them.
    A pooled buffer is handed out again only once nothing refers to its
    storage any more (no output, view or tensor saved for backward is
    alive), so reuse cannot change a value anyone can still read.
    """
    shape = tuple(shape)
    if like.device.type != "cpu" or not hasattr(torch._C, "_storage_Use_Count"):
        return like.new_empty(shape)
    pool = getattr(_pool, "buffers", None)
    if pool is None:
        pool = _pool.buffers = {}
    # inference-mode tensors cannot serve outside inference mode, nor others inside
    key = (shape, like.dtype, torch.is_inference_mode_enabled())
    buffers = pool.pop(key, [])
    pool[key] = buffers  # most recently used last
    for buffer in buffers:
        if _unshared(buffer):
            # a view: whoever holds it holds a reference to the storage
            return buffer.view(shape)
    buffer = like.new_empty(shape)
    if len(buffers) < _POOL_PER_KEY:
        buffers.append(buffer)
    while len(pool) > _POOL_KEYS:
        del pool[next(iter(pool))]
    return buffer.view(shape)


def _gru_forward(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor):
    """GRU over time-major ``x`` ``(T, B, C)``: outputs and the saved gates.

    Returns the outputs ``(T, B, H)``, the gates ``[r, z, n]`` ``(T, B,
    3H)`` and twice ``W_hn h_{t-1} + b_hn`` ``(T, B, H)``. Few and small
    buffers: CPU time here is sensitive to the page faults of large fresh
    allocations.
    """
    length, batch, channels = x.shape
    hidden = w_hh.shape[1]
    # the input parts of all gates at once; the hidden biases of r and z are
    # constant per step, so they join them here (b_hn stays inside r * (...))
    gi = _empty((length, batch, 3 * hidden), x)
    torch.addmm(
        b_ih,
        x.reshape(length * batch, channels),
        w_ih.t(),
        out=gi.view(length * batch, 3 * hidden),
    )
    rz = gi[:, :, : 2 * hidden]
    rz += b_hh[: 2 * hidden]  # becomes the gates r, z in the loop
    # tanh(a) = 2 sigmoid(2a) - 1, and sigmoid is several times faster than
    # tanh here; the factor 2 goes into the n parts (exact in floating point)
    gi[:, :, 2 * hidden :] *= 2.0
    w_rz_t = w_hh[: 2 * hidden].t()
    w_n_t = (2.0 * w_hh[2 * hidden :]).t()
    b_n = 2.0 * b_hh[2 * hidden :]
    out = _empty((length, batch, hidden), x)
    gh_n = _empty((length, batch, hidden), x)  # 2 (W_hn h_{t-1} + b_hn)
    h = x.new_zeros(batch, hidden)
    minus_one = x.new_full((batch, hidden), -1.0)
    for t in range(length):
        gi_t = gi[t]
        rz_t = gi_t[:, : 2 * hidden].addmm_(h, w_rz_t).sigmoid_()
        gh_n_t = torch.addmm(b_n, h, w_n_t, out=gh_n[t])
        n_t = gi_t[:, 2 * hidden :].addcmul_(rz_t[:, :hidden], gh_n_t).sigmoid_()
        n_t = torch.add(minus_one, n_t, alpha=2.0, out=n_t)
        # h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)
        h = torch.lerp(n_t, h, rz_t[:, hidden:], out=out[t])
    return out, gi, gh_n


class _GRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh):
        out, gates, gh_n = _gru_forward(x, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(x, w_ih, w_hh, out, gates, gh_n)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, w_ih, w_hh, out, gates, gh_n = ctx.saved_tensors
        length, batch, hidden = out.shape
        r = gates[..., :hidden]
        z = gates[..., hidden : 2 * hidden]
        new = gates[..., 2 * hidden :]
        # d(pre-activations) = dh_t * factors that do not depend on dh_t,
        # computed for all timesteps at once: with d_new = (1 - z)(1 - n^2),
        # r-gate d_new gh_n r (1 - r), z-gate (h_{t-1} - n) z (1 - z),
        # hidden-side n-gate d_new r (the input side: d_new)
        d_new = torch.mul(new, new, out=_empty(new.shape, x))
        d_new.neg_().add_(1.0)
        one_minus = torch.sub(1.0, z, out=_empty(z.shape, x))
        d_new.mul_(one_minus)
        dgh = _empty((length, batch, 3, hidden), x)
        torch.mul(d_new, r, out=dgh[:, :, 2])
        torch.mul(dgh[:, :, 2], gh_n, out=dgh[:, :, 0])
        torch.sub(out[:-1], new[1:], out=dgh[1:, :, 1])
        torch.neg(new[0], out=dgh[0, :, 1])
        dgh[:, :, 1].mul_(z).mul_(one_minus)
        # gh_n is saved doubled: (1 - r) / 2 halves it back (exactly)
        dgh[:, :, 0].mul_(torch.mul(r, -0.5, out=one_minus).add_(0.5))
        dh = one_minus  # reused: the gradient of each h_t
        dh[length - 1] = grad_out[length - 1]
        for t in range(length - 1, -1, -1):
            dgh_t = dgh[t].mul_(dh[t].unsqueeze(1))
            if t == 0:
                break
            # dh_{t-1} = g_{t-1} + dh_t z_t + dgh_t W_hh
            torch.addcmul(grad_out[t - 1], dh[t], z[t], out=dh[t - 1]).addmm_(
                dgh_t.view(batch, 3 * hidden), w_hh
            )
        dgh = dgh.view(length * batch, 3 * hidden)
        dgi_n = d_new.mul_(dh).view(length * batch, hidden)  # input side of n
        dgh_rz = dgh[:, : 2 * hidden]
        # (A^T B)^T and (W^T A^T)^T: MKL is several times faster on these
        # shapes than on the direct products with a narrow side
        grad_x = grad_w_ih = grad_w_hh = grad_b_ih = grad_b_hh = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.addmm(
                w_ih[2 * hidden :].t() @ dgi_n.t(), w_ih[: 2 * hidden].t(), dgh_rz.t()
            )
            grad_x = grad_x.t().reshape(length, batch, -1)
        if ctx.needs_input_grad[1]:
            flat_x = x.reshape(length * batch, -1)
            grad_w_ih = torch.cat(((flat_x.t() @ dgh_rz).t(), (flat_x.t() @ dgi_n).t()))
        if ctx.needs_input_grad[2]:
            # h_0 = 0 adds nothing
            grad_w_hh = (out[:-1].reshape(-1, hidden).t() @ dgh[batch:]).t()
        if ctx.needs_input_grad[3]:
            grad_b_ih = torch.cat((dgh_rz.sum(dim=0), dgi_n.sum(dim=0)))
        if ctx.needs_input_grad[4]:
            grad_b_hh = dgh.sum(dim=0)
        return grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


def gru_sequence(x: Tensor, gru: torch.nn.GRU) -> Tensor:
    """Outputs ``(T, B, H)`` of a one-layer unidirectional GRU from a zero state.

    ``x`` is time-major ``(T, B, C)``. With gradients enabled this is one
    autograd node with a hand-written backward pass; without, the forward
    loop alone (a little faster than ATen's GRU, thanks to the sigmoid).
    """
    params = (gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
    if torch.is_grad_enabled() and (
        x.requires_grad or any(p.requires_grad for p in params)
    ):
        return _GRUSequence.apply(x, *params)
    return _gru_forward(x, *params)[0]


def _posterior_forward(from_e, w_z, heads_w, heads_b, noise, std_epsilon, need_std):
    """The posterior loop over time-major ``from_e`` ``(T, B, D)``.

    Returns ``samples`` ``(T, B, L)``, ``stds`` (or None), the post-ReLU
    hidden layers ``(T, B, D)`` and the pre-softplus heads ``(T, B, L)``.
    """
    length, batch, _ = from_e.shape
    latent = w_z.shape[1]
    w_z_t = w_z.t()
    samples = _empty((length, batch, latent), from_e)
    hidden = _empty(from_e.shape, from_e)
    z = from_e.new_zeros(batch, latent)
    if not need_std:
        mean_w, mean_b = heads_w[:latent].t(), heads_b[:latent]
        for t in range(length):
            h_t = torch.addmm(from_e[t], z, w_z_t, out=hidden[t]).relu_()
            z = torch.addmm(mean_b, h_t, mean_w, out=samples[t])
        return samples, None, hidden, None
    mean_w, mean_b = heads_w[:latent].t(), heads_b[:latent]
    std_w, std_b = heads_w[latent:].t(), heads_b[latent:]
    pre_std = _empty((length, batch, latent), from_e)
    stds = _empty((length, batch, latent), from_e)
    for t in range(length):
        h_t = torch.addmm(from_e[t], z, w_z_t, out=hidden[t]).relu_()
        # two products, so that softplus reads a contiguous block (several
        # times faster than on a column slice)
        s_t = torch.addmm(std_b, h_t, std_w, out=pre_std[t])
        std = torch._C._nn.softplus(s_t, 1.0, 20.0, out=stds[t]).add_(std_epsilon)
        z = torch.addmm(mean_b, h_t, mean_w, out=samples[t])
        if noise is not None:
            z.addcmul_(std, noise[t])
    return samples, stds, hidden, pre_std


class _PosteriorSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, from_e, w_z, heads_w, heads_b, noise, std_epsilon):
        samples, stds, hidden, pre_std = _posterior_forward(
            from_e, w_z, heads_w, heads_b, noise, std_epsilon, True
        )
        ctx.save_for_backward(w_z, heads_w, noise, samples, hidden, pre_std)
        return samples, stds

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_samples, grad_stds):
        w_z, heads_w, noise, samples, hidden, pre_std = ctx.saved_tensors
        length, batch, latent = samples.shape
        dense = hidden.shape[2]
        # softplus' = sigmoid below its threshold (20), 1 above
        slope = torch.where(pre_std > 20.0, 1.0, torch.sigmoid(pre_std))
        if grad_samples is None:
            grad_samples = torch.zeros_like(samples)
        if grad_stds is None:
            grad_stds = torch.zeros_like(samples)
        # d pre_std = (dz * noise + g_std) * slope = dz * noise_slope + g_std * slope
        std_from_g = grad_stds * slope
        noise_slope = None if noise is None else noise * slope
        mask = (hidden > 0).to(hidden.dtype)
        d_heads = _empty((length, batch, 2 * latent), samples)
        d_hidden = _empty(hidden.shape, hidden)
        carry = None
        for t in range(length - 1, -1, -1):
            d_heads_t = d_heads[t]
            if carry is None:
                dz = d_heads_t[:, :latent].copy_(grad_samples[t])
            else:
                dz = torch.add(grad_samples[t], carry, out=d_heads_t[:, :latent])
            if noise_slope is None:
                d_heads_t[:, latent:].copy_(std_from_g[t])
            else:
                torch.addcmul(
                    std_from_g[t], dz, noise_slope[t], out=d_heads_t[:, latent:]
                )
            d_hidden_t = torch.mm(d_heads_t, heads_w, out=d_hidden[t])
            d_hidden_t.mul_(mask[t])
            if t > 0:
                carry = d_hidden_t @ w_z
        d_hidden_flat = d_hidden.view(length * batch, dense)
        d_heads_flat = d_heads.view(length * batch, 2 * latent)
        z_prev = torch.cat((samples.new_zeros(1, batch, latent), samples[:-1]))
        # (B^T A)^T for A^T B: faster in MKL with a narrow side
        grad_w_z = (z_prev.view(length * batch, latent).t() @ d_hidden_flat).t()
        grad_heads_w = (hidden.view(length * batch, dense).t() @ d_heads_flat).t()
        grad_heads_b = d_heads_flat.sum(dim=0)
        return d_hidden, grad_w_z, grad_heads_w, grad_heads_b, None, None


def posterior_sequence(
    from_e: Tensor,
    w_z: Tensor,
    heads_w: Tensor,
    heads_b: Tensor,
    noise: Tensor | None,
    std_epsilon: float,
    need_std: bool = True,
) -> tuple[Tensor, Tensor | None]:
    """OmniAnomaly's posterior ``z_t = mean_t + std_t * noise_t`` over time.

    ``h_t = ReLU(from_e_t + W_z z_{t-1})``, ``[mean_t, s_t] = heads_w h_t +
    heads_b``, ``std_t = softplus(s_t) + std_epsilon``, from ``z_0 = 0``;
    ``noise`` ``(T, B, L)`` or None (``z_t = mean_t``). Returns the samples
    and the standard deviations ``(T, B, L)`` (None when ``need_std`` is
    false, which skips them in the loop). With gradients enabled this is
    one autograd node with a hand-written backward pass.
    """
    params = (from_e, w_z, heads_w, heads_b)
    if torch.is_grad_enabled() and any(p.requires_grad for p in params):
        if noise is not None and noise.requires_grad:
            raise ValueError("noise must not require gradients")
        return _PosteriorSequence.apply(
            from_e, w_z, heads_w, heads_b, noise, std_epsilon
        )
    samples, stds, _, _ = _posterior_forward(
        from_e, w_z, heads_w, heads_b, noise, std_epsilon, need_std or noise is not None
    )
    return samples, stds
