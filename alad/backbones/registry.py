"""Backbones by name, and the construction of a backbone for given data."""

from __future__ import annotations

import copy
import warnings

from torch import nn

from .anomaly_transformer import AnomalyTransformerBackbone
from .base import ReconstructionBackbone, as_backbone
from .lstm_vae import LSTMVAEBackbone
from .omni_anomaly import OmniAnomalyBackbone
from .transformer import TransformerBackbone
from .usad import USADBackbone
from .vtt import VTTPATBackbone, VTTSATBackbone

__all__ = ["BACKBONES", "make_backbone"]

#: Built-in backbones, by the name ``ActiveReconstructionDetector(backbone=...)`` takes.
BACKBONES: dict[str, type[ReconstructionBackbone]] = {
    "transformer": TransformerBackbone,
    "lstm_vae": LSTMVAEBackbone,
    "usad": USADBackbone,
    "omni_anomaly": OmniAnomalyBackbone,
    "anomaly_transformer": AnomalyTransformerBackbone,
    "vtt_sat": VTTSATBackbone,
    "vtt_pat": VTTPATBackbone,
}


def make_backbone(
    backbone: str | nn.Module | type,
    n_channels: int,
    window_size: int,
    params: dict | None = None,
) -> ReconstructionBackbone:
    """Build the backbone a detector trains.

    Parameters
    ----------
    backbone : str, nn.Module subclass or nn.Module instance
        A name from :data:`BACKBONES`; a class, called as
        ``backbone(n_channels=..., window_size=..., **params)``; or an
        instance, deep-copied so that fitting never changes the user's object.
    n_channels, window_size : int
        Shape of the windows the backbone will see.
    params : dict or None
        Size parameters passed to the constructor.
    """
    params = dict(params or {})
    if isinstance(backbone, str):
        try:
            cls = BACKBONES[backbone]
        except KeyError:
            raise ValueError(
                f"backbone must be one of {sorted(BACKBONES)} or a torch.nn.Module; "
                f"got {backbone!r}."
            ) from None
        return _construct(cls, n_channels, window_size, params)
    if isinstance(backbone, type) and issubclass(backbone, nn.Module):
        return as_backbone(_construct(backbone, n_channels, window_size, params))
    if isinstance(backbone, nn.Module):
        if params:
            raise ValueError(
                "backbone_params cannot be applied to a backbone instance; pass its "
                "class instead, or build the instance with those parameters."
            )
        return as_backbone(copy.deepcopy(backbone))
    raise TypeError(
        "backbone must be a name, a torch.nn.Module subclass or instance; got "
        f"{type(backbone).__name__}."
    )


def _construct(cls: type, n_channels: int, window_size: int, params: dict) -> nn.Module:
    try:
        with warnings.catch_warnings():
            # torch's note on a zero width: refused below, in our words
            warnings.filterwarnings("ignore", "Initializing zero-element tensors")
            module = cls(n_channels=n_channels, window_size=window_size, **params)
    except (TypeError, ValueError, ZeroDivisionError, RuntimeError) as exc:
        # an unknown name (TypeError) or a size the layers cannot take (a
        # zero or negative width fails in the arithmetic of the constructor)
        raise ValueError(
            f"backbone_params {params} do not fit {cls.__name__}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    # a width of zero builds layers without weights, which torch allows
    # (with a warning) and which reconstruct nothing
    empty = [name for name, p in module.named_parameters() if p.numel() == 0]
    if empty:
        raise ValueError(
            f"backbone_params {params} give {cls.__name__} layers without "
            f"weights ({', '.join(empty[:3])}): every size must be positive."
        )
    return module
