"""Where and with which random stream a detector trains: devices and seeds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["full_precision", "resolve_device", "seeded"]


def resolve_device(device: str | torch.device) -> str:
    """Turn a ``device`` parameter into the device string a fit runs on.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available,
        else CPU).

    Returns
    -------
    device : str
        A concrete device such as ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If CUDA is asked for but not available, or the string is not a device.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'auto', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu' or device='auto'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} names GPU {parsed.index} but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif parsed.type != "cpu":
        raise ValueError(
            f"device must be 'cpu', 'auto', 'cuda' or 'cuda:N', got {device!r}."
        )
    return str(parsed)


@contextlib.contextmanager
def seeded(seed: int, device: str = "cpu") -> Iterator[None]:
    """Seed torch inside the block and restore the global RNG state afterwards.

    Users' own torch code must not see its random stream change because an
    estimator was fitted (sklearn's MLP and zuko's tests follow the same rule).
    """
    devices = []
    if device.startswith("cuda") and torch.cuda.is_available():
        # torch.manual_seed seeds every GPU, so every GPU's state is kept
        devices = list(range(torch.cuda.device_count()))
    with torch.random.fork_rng(devices=devices):
        if devices:
            torch.manual_seed(seed)
        else:
            # the CPU's stream only: torch.manual_seed would also seed every
            # GPU of the machine, whose states a CPU fit does not keep
            torch.random.default_generator.manual_seed(seed)
        yield


def _precision_settings() -> list:
    """The float32 precision settings of CUDA's kernels (PyTorch >= 2.9's
    ``fp32_precision``), as objects with that attribute."""
    backends = torch.backends
    found = [
        getattr(getattr(backends, parent, None), child, None)
        for parent, child in (("cudnn", "conv"), ("cudnn", "rnn"), ("cuda", "matmul"))
    ]
    return [s for s in found if s is not None and hasattr(s, "fp32_precision")]


@contextlib.contextmanager
def full_precision(device: str) -> Iterator[None]:
    """Score in float32 proper on a GPU: no TensorFloat-32 inside the block.

    PyTorch lets cuDNN's convolutions and recurrent layers use TF32 on GPUs
    that have it (a 10-bit mantissa), which moves scores by up to about 1e-2
    relative: a model saved on a GPU would not score the same on a laptop,
    and a labelling session's check of its model files would fail. The
    user's settings are restored afterwards; on the CPU nothing changes.
    """
    if torch.device(device).type != "cuda":
        yield
        return
    settings = _precision_settings()
    if not settings:  # PyTorch before 2.9: the older switches
        with torch.backends.cudnn.flags(
            enabled=torch.backends.cudnn.enabled,
            benchmark=torch.backends.cudnn.benchmark,
            deterministic=torch.backends.cudnn.deterministic,
            allow_tf32=False,
        ):
            matmul = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = False
            try:
                yield
            finally:
                torch.backends.cuda.matmul.allow_tf32 = matmul
        return
    before = [s.fp32_precision for s in settings]
    try:
        for s in settings:
            s.fp32_precision = "ieee"
        yield
    finally:
        for s, value in zip(settings, before):
            s.fp32_precision = value
