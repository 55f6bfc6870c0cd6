"""Save and load a fitted detector without pickle: JSON parameters, NumPy arrays."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

__all__ = ["load_detector", "save_detector", "UnsafeModelError"]

FORMAT = "alad-safe-model/1"
_PARAMS, _STATE, _ARRAYS = "params.json", "state.json", "arrays.npz"
_NET_PREFIX = "net_.module_."
#: the fitted backbone's weights, when feedback has moved ``net_`` from it
_FITTED_PREFIX = "_fitted_net.module_."


class UnsafeModelError(ValueError):
    """The detector holds state that the safe format cannot store."""


def _encode(value, where: str):
    """JSON-able form of ``value``; tags what JSON cannot say exactly."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if "__float__" in value or "__tuple__" in value:
            raise UnsafeModelError(f"{where} uses a reserved key.")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise UnsafeModelError(
        f"{where} is a {type(value).__name__}, which the safe model format (JSON "
        "and NumPy arrays) cannot store."
    )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    return value


def _attribute_name(name: str) -> str:
    """A fitted attribute's name, never a parameter, the net or a dunder."""
    from ..detectors import ActiveReconstructionDetector

    if (
        not name.isidentifier()
        or name.startswith("__")
        or name in ("net_", "_fitted_net")
        or name in ActiveReconstructionDetector._get_param_names()
    ):
        raise ValueError(f"the model files name an unexpected attribute {name!r}.")
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_detector(detector, folder) -> dict:
    """Write a fitted :class:`~alad.ActiveReconstructionDetector` to ``folder``.

    Three files, none of which runs code when read: ``params.json`` (the
    class and ``get_params()``), ``state.json`` (fitted scalars, lists and
    dicts, and the skorch training history) and ``arrays.npz`` (fitted arrays
    and the backbone's ``state_dict``, read back with ``allow_pickle=False``).

    Parameters
    ----------
    detector : ActiveReconstructionDetector
        Fitted, with a backbone given by name (a module class or instance is
        code, not data, and is refused).
    folder : str or Path

    Returns
    -------
    manifest : dict
        ``format`` and the sha256 of each file written.
    """
    from ..detectors import ActiveReconstructionDetector

    if not isinstance(detector, ActiveReconstructionDetector):
        raise TypeError(
            "detector must be a fitted ActiveReconstructionDetector; got "
            f"{type(detector).__name__}."
        )
    if not hasattr(detector, "net_"):
        raise ValueError("detector must be fitted (call fit) before it is saved.")
    params = detector.get_params(deep=False)
    if not isinstance(params["backbone"], str):
        raise UnsafeModelError(
            "backbone must be a name from alad.backbones.BACKBONES to be saved in "
            f"the safe format; got {params['backbone']!r}. A module is code, which "
            "only pickle or joblib can store (and loading them runs code)."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, state = {}, {}
    for name, value in vars(detector).items():
        if name in params or name in ("net_", "_fitted_net", "_head", "_head_forest"):
            continue  # nets are stored as weights; the head is fitted again on load
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise UnsafeModelError(f"detector.{name} is an object array.")
            arrays[f"attr.{name}"] = value
        else:
            state[name] = _encode(value, f"detector.{name}")
    for key, tensor in detector.net_.module_.state_dict().items():
        arrays[_NET_PREFIX + key] = tensor.detach().cpu().numpy()
    # the fitted backbone (feedback_start): net_ itself until feedback moves
    # it, then weights of its own; None where no longer known
    fitted = detector._fitted_net
    fitted_kind = None if fitted is None else "net_"
    if fitted is not None and fitted is not detector.net_:
        fitted_kind = "weights"
        for key, tensor in fitted.module_.state_dict().items():
            arrays[_FITTED_PREFIX + key] = tensor.detach().cpu().numpy()
    history = _encode(list(detector.net_.history), "detector.net_.history")
    payload = {
        _PARAMS: {
            "format": FORMAT,
            "class": "alad.ActiveReconstructionDetector",
            "params": _encode(params, "params"),
        },
        _STATE: {
            "attributes": state,
            "net_history": history,
            "fitted_net": fitted_kind,
        },
    }
    for name, content in payload.items():
        (folder / name).write_text(json.dumps(content, indent=1, allow_nan=False))
    np.savez(folder / _ARRAYS, **arrays)
    return {
        "format": FORMAT,
        "sha256": {n: _sha256(folder / n) for n in (_PARAMS, _STATE, _ARRAYS)},
    }


def load_detector(folder, *, expected_sha256: dict | None = None):
    """Read a detector written by :func:`save_detector`.

    Parameters
    ----------
    folder : str or Path
    expected_sha256 : dict or None, default=None
        File name -> sha256, as returned by :func:`save_detector`; a file
        whose hash differs is refused.

    Returns
    -------
    detector : ActiveReconstructionDetector
        Scores, queries and learns exactly as the saved one.
    """
    import torch

    from ..detectors import ActiveReconstructionDetector

    folder = Path(folder)
    for name, digest in (expected_sha256 or {}).items():
        if _sha256(folder / name) != digest:
            raise ValueError(
                f"{folder / name} does not match the sha256 recorded when it was "
                "saved; the model files were changed."
            )
    meta = json.loads((folder / _PARAMS).read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{folder / _PARAMS} has format {meta.get('format')!r}; "
            f"expected {FORMAT!r}."
        )
    state = json.loads((folder / _STATE).read_text())
    params = _decode(meta["params"])
    # saved before a parameter existed: the value that keeps its behaviour
    for name, value in ActiveReconstructionDetector._params_added_later.items():
        params.setdefault(name, value)
    detector = ActiveReconstructionDetector(**params)
    with np.load(folder / _ARRAYS, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    for name, value in state["attributes"].items():
        setattr(detector, _attribute_name(name), _decode(value))
    module_state, fitted_state = {}, {}
    for key, value in arrays.items():
        if key.startswith("attr."):
            setattr(detector, _attribute_name(key[len("attr.") :]), value)
        elif key.startswith(_NET_PREFIX):
            module_state[key[len(_NET_PREFIX) :]] = torch.from_numpy(value)
        elif key.startswith(_FITTED_PREFIX):
            fitted_state[key[len(_FITTED_PREFIX) :]] = torch.from_numpy(value)
    if detector.device_ != "cpu" and not torch.cuda.is_available():
        detector.device_ = "cpu"  # trained on a GPU, read where there is none
    history = _decode(state["net_history"])
    detector._restore_net(module_state, history)
    # the fitted backbone; absent from files saved before: the neutral value below
    fitted_kind = state.get("fitted_net", "absent")
    if fitted_kind == "net_":
        detector._fitted_net = detector.net_
    elif fitted_kind == "weights":
        detector._fitted_net = detector._restored_net(fitted_state, history)
    elif fitted_kind is None:
        detector._fitted_net = None
    for name, neutral in detector._state_added_later.items():
        if not hasattr(detector, name):  # saved before that state existed
            setattr(detector, name, neutral(detector))
    detector._head = None
    detector._refit_head()  # a classifier is code-free data only as its inputs
    return detector
