"""Where and with which random stream a detector trains: devices and seeds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["resolve_device", "seeded"]


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
            torch.random.default_generator.manual_seed(int(seed))
        yield
