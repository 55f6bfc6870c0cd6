"""Save and load a fitted detector without pickle: JSON parameters, NumPy arrays."""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__
from .._atomic import interrupts_deferred, sync_folder, synced
from ..score_smoothing import ScoreSmoother

__all__ = ["load_detector", "save_detector", "UnsafeModelError"]

FORMAT = "alad-safe-model/1"
_PARAMS, _STATE, _ARRAYS = "params.json", "state.json", "arrays.npz"
#: the files of a saved model
_MODEL_FILES = frozenset((_PARAMS, _STATE, _ARRAYS))
_NET_PREFIX = "net_.module_."
#: the fitted backbone's weights, when feedback has moved ``net_`` from it
_FITTED_PREFIX = "_fitted_net.module_."
#: fitted arrays, and arrays of strings read back as object arrays (the
#: column names of a DataFrame, ``feature_names_in_``)
_ATTR_PREFIX, _STRINGS_PREFIX = "attr.", "strings."
#: a :class:`~alad.score_smoothing.ScoreSmoother` in ``state.json`` (its
#: widths); its sorted training references are ``smoother.<name>.<i>`` arrays
_SMOOTHER_TAG, _SMOOTHER_PREFIX = "__score_smoother__", "smoother."
_RESERVED = ("__float__", "__tuple__", _SMOOTHER_TAG)


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
        if any(key in value for key in _RESERVED):
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
    """A fitted attribute's name: never a parameter, the net, a dunder, nor
    anything of the class (a method, a property, a class constant)."""
    from ..detectors import ActiveReconstructionDetector

    if (
        not name.isidentifier()
        or name.startswith("__")
        or name in ("net_", "_fitted_net")
        or name in ActiveReconstructionDetector._get_param_names()
        or hasattr(ActiveReconstructionDetector, name)
    ):
        raise ValueError(f"the model files name an unexpected attribute {name!r}.")
    return name


def _corrupt(path: Path, problem: str) -> ValueError:
    return ValueError(
        f"{path}: {problem}. The model folder is corrupt or incomplete (an "
        "interrupted copy, a full disk?); save the detector again."
    )


def _read_json(path: Path, keys: dict) -> dict:
    """The JSON object of ``path``, with ``keys`` (name -> type) present."""
    try:
        content = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _corrupt(path, f"not valid JSON ({exc})") from exc
    if not isinstance(content, dict):
        raise _corrupt(path, f"a JSON {type(content).__name__}, not an object")
    for key, kind in keys.items():
        if not isinstance(content.get(key), kind):
            raise _corrupt(path, f"no {key!r} entry of the expected type")
    return content


def _read_arrays(path: Path) -> dict:
    """Every array of the ``.npz`` file ``path``, read without pickle."""
    # NumPy's message for a file that is no archive suggests pickle: never a
    # way this format reads, so the errors are said in its own words
    unreadable = (OSError, EOFError, ValueError, zipfile.BadZipFile)
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except unreadable as exc:
        raise _corrupt(path, "not a NumPy .npz archive of arrays") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _corrupt(path, "a single array, not a .npz archive of arrays")
    with npz:
        try:
            return {key: npz[key] for key in npz.files}
        except unreadable as exc:
            raise _corrupt(path, f"an array cannot be read ({exc})") from exc


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
    dicts, the widths of a score smoother, the names of every fitted
    attribute written, and the skorch training history) and ``arrays.npz``
    (fitted arrays, arrays of strings such as a DataFrame's column names, a
    smoother's references and the backbone's ``state_dict``, read back with
    ``allow_pickle=False``).

    The three files are first written whole beside those of the model the
    folder may hold, under names of their own, and synced; then they are
    renamed into place one after the other, ``state.json`` last, with Ctrl-C
    held back until the three renames are done. A save interrupted while
    writing (Ctrl-C, a full disk) leaves the model that was there, and no
    temporary file. ``state.json`` records the sha256 of the other two, so
    even a crash of the machine between two renames leaves a folder that
    :func:`load_detector` refuses, never one that mixes two models.

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
    # parameters the model is built around, changed since the fit, would be
    # saved beside weights of another shape: refused as scoring refuses them
    detector._check_entry()
    import torch

    if isinstance(params["device"], torch.device):
        # a torch.device, which the detectors accept: saved as its name,
        # which they take alike ("cuda:1")
        params = {**params, "device": str(params["device"])}
    return _write_model(detector, params, Path(folder))


def _write_model(detector, params: dict, folder: Path) -> dict:
    """The three files of :func:`save_detector` in ``folder``; the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays, state, written = {}, {}, []
    for name, value in vars(detector).items():
        if name in params or name in ("net_", "_fitted_net", "_head", "_head_forest"):
            continue  # nets are stored as weights; the head is fitted again on load
        if isinstance(value, ScoreSmoother):
            state[name] = {_SMOOTHER_TAG: list(value.widths)}
            for i, reference in enumerate(getattr(value, "references_", [])):
                arrays[f"{_SMOOTHER_PREFIX}{name}.{i}"] = reference
        elif isinstance(value, np.ndarray) and value.dtype == object:
            if not all(isinstance(v, str) for v in value.flat):
                raise UnsafeModelError(
                    f"detector.{name} is an array of Python objects other than "
                    "strings, which the safe model format cannot store."
                )
            arrays[_STRINGS_PREFIX + name] = value.astype(str)
        elif isinstance(value, np.ndarray):
            arrays[_ATTR_PREFIX + name] = value
        else:
            state[name] = _encode(value, f"detector.{name}")
        written.append(name)
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
            "alad_version": __version__,
            "class": "alad.ActiveReconstructionDetector",
            "params": _encode(params, "params"),
        },
        _STATE: {
            "attributes": state,
            # every fitted attribute written: load_detector checks them all
            "attribute_names": sorted(written),
            "net_history": history,
            "fitted_net": fitted_kind,
        },
    }
    # the three files are written beside the model there, under names of
    # their own, then renamed into place together (Ctrl-C held back between
    # the renames): an interrupted save leaves the model that was there
    token = uuid.uuid4().hex[:12]
    temps = {name: folder / f".{name}.{token}.tmp" for name in _MODEL_FILES}
    try:
        _write_synced(temps[_ARRAYS], lambda fh: np.savez(fh, **arrays))
        _write_synced(temps[_PARAMS], _json_bytes(payload[_PARAMS]))
        # state.json names the files it was written with
        payload[_STATE]["sha256"] = {n: _sha256(temps[n]) for n in (_PARAMS, _ARRAYS)}
        _write_synced(temps[_STATE], _json_bytes(payload[_STATE]))
        manifest = {
            "format": FORMAT,
            "sha256": {n: _sha256(temps[n]) for n in (_PARAMS, _STATE, _ARRAYS)},
        }
        with interrupts_deferred():
            _renamed_together(temps, folder, token)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    sync_folder(folder)
    return manifest


def _renamed_together(temps: dict, folder: Path, token: str) -> None:
    """Rename ``temps`` (file name -> written file) into ``folder``, all or
    none: the files there before are moved aside first and, if a rename
    fails (a disk error), put back, so that the folder never mixes two
    saves."""
    moved = []  # (name, where the file there before went, or None)
    try:
        for name in (_ARRAYS, _PARAMS, _STATE):  # state.json last
            target, aside = folder / name, folder / f".{name}.{token}.old"
            if target.exists():
                os.replace(target, aside)
            else:
                aside = None
            moved.append((name, aside))
            os.replace(temps[name], target)
    except BaseException:
        for name, aside in reversed(moved):
            if aside is None:
                (folder / name).unlink(missing_ok=True)
            else:
                os.replace(aside, folder / name)
        raise
    for _, aside in moved:
        if aside is not None:
            aside.unlink(missing_ok=True)


def _json_bytes(content):
    """A writer of ``content`` as indented JSON (no NaN: refused)."""
    text = json.dumps(content, indent=1, allow_nan=False).encode()
    return lambda fh: fh.write(text)


def _write_synced(path: Path, write) -> None:
    """A new file ``path`` written by ``write(fh)`` and synced to the disk."""
    with open(path, "xb") as fh:
        write(fh)
        synced(fh)


def _is_newer(version, than: str) -> bool:
    """Whether release ``version`` ("1.2.0") comes after ``than``; False when
    either is not a plain dotted release."""
    try:
        return tuple(map(int, str(version).split("."))) > tuple(
            map(int, than.split("."))
        )
    except ValueError:
        return False


def _device_here(device: str) -> str:
    """Where a model saved on ``device`` goes on this machine: the CPU where
    there is no CUDA, the first GPU where the one it names is not here."""
    import torch

    if device == "cpu":
        return device
    if not torch.cuda.is_available():
        return "cpu"  # trained on a GPU, read where there is none
    index = torch.device(device).index
    if index is not None and index >= torch.cuda.device_count():
        return "cuda"
    return device


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

    Raises
    ------
    FileNotFoundError
        A file of the folder is missing.
    ValueError
        A file is damaged (not JSON, not a ``.npz`` archive, truncated), a
        fitted attribute is missing, the weights do not fit the backbone,
        the parameters are refused, a file names an attribute a fit does
        not make, or a file differs from ``expected_sha256``.
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
    meta = _read_json(folder / _PARAMS, {"params": dict})
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{folder / _PARAMS} has format {meta.get('format')!r}; "
            f"expected {FORMAT!r}."
        )
    state = _read_json(folder / _STATE, {"attributes": dict, "net_history": list})
    arrays = _read_arrays(folder / _ARRAYS)
    # files saved before the hashes were recorded are not checked
    recorded = state.get("sha256", {})
    for name in (_PARAMS, _ARRAYS):
        if name in recorded and _sha256(folder / name) != recorded[name]:
            raise _corrupt(
                folder / name,
                f"not the file that {_STATE} was saved with (a save into this "
                "folder was interrupted, or the file was replaced)",
            )
    params = _decode(meta["params"])
    # saved before a parameter existed: the value that keeps its behaviour
    for name, value in ActiveReconstructionDetector._params_added_later.items():
        params.setdefault(name, value)
    try:
        detector = ActiveReconstructionDetector(**params)
        detector._validate_params()
    except (TypeError, ValueError) as exc:
        saved_by = meta.get("alad_version")
        if _is_newer(saved_by, __version__):
            # a newer alad's parameters, not a damaged file
            raise ValueError(
                f"{folder / _PARAMS} was saved by alad {saved_by}, whose parameters "
                f"this alad {__version__} refuses ({exc}); load it with alad "
                f"{saved_by} or later."
            ) from exc
        raise _corrupt(folder / _PARAMS, f"parameters refused ({exc})") from exc
    names = state.get("attribute_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _corrupt(folder / _STATE, "attribute_names is not a list of names")
    for name, value in state["attributes"].items():
        try:
            value = _decode(value)
        except (TypeError, ValueError) as exc:  # a tag around the wrong value
            raise _corrupt(folder / _STATE, f"{name} cannot be read ({exc})") from exc
        if isinstance(value, dict) and set(value) == {_SMOOTHER_TAG}:
            value = _smoother(value[_SMOOTHER_TAG], name, arrays, folder / _ARRAYS)
        setattr(detector, _attribute_name(name), value)
    module_state, fitted_state = {}, {}
    for key, value in arrays.items():
        if key.startswith(_ATTR_PREFIX):
            setattr(detector, _attribute_name(key[len(_ATTR_PREFIX) :]), value)
        elif key.startswith(_STRINGS_PREFIX):
            name = _attribute_name(key[len(_STRINGS_PREFIX) :])
            setattr(detector, name, value.astype(object))
        elif key.startswith(_NET_PREFIX):
            module_state[key[len(_NET_PREFIX) :]] = torch.from_numpy(value)
        elif key.startswith(_FITTED_PREFIX):
            fitted_state[key[len(_FITTED_PREFIX) :]] = torch.from_numpy(value)
    # files saved before the list was written are not checked
    missing = [n for n in names if not hasattr(detector, n)]
    if missing:
        raise _corrupt(folder, f"fitted attributes missing: {', '.join(missing)}")
    detector.device_ = _device_here(detector.device_)
    history = _decode(state["net_history"])
    # the fitted backbone; absent from files saved before: the neutral value below
    fitted_kind = state.get("fitted_net", "absent")
    try:
        detector._restore_net(module_state, history)
        if fitted_kind == "net_":
            detector._fitted_net = detector.net_
        elif fitted_kind == "weights":
            detector._fitted_net = detector._restored_net(fitted_state, history)
        elif fitted_kind is None:
            detector._fitted_net = None
    except (RuntimeError, KeyError) as exc:  # torch: missing or misshapen weights
        raise _corrupt(
            folder / _ARRAYS, f"the backbone's weights do not fit it ({exc})"
        ) from exc
    for name, neutral in detector._state_added_later.items():
        if not hasattr(detector, name):  # saved before that state existed
            setattr(detector, name, neutral(detector))
    detector._head = None
    detector._refit_head()  # a classifier is code-free data only as its inputs
    return detector


def _smoother(widths, name: str, arrays: dict, path: Path) -> ScoreSmoother:
    """The :class:`ScoreSmoother` saved as ``widths`` and its reference arrays."""
    smoother = ScoreSmoother(tuple(widths))
    prefix = f"{_SMOOTHER_PREFIX}{name}."
    n = len(smoother.widths) if len(smoother.widths) > 1 else 0
    references = [arrays.get(f"{prefix}{i}") for i in range(n)]
    if any(r is None for r in references):
        raise _corrupt(path, f"the score smoother's references of {name} are missing")
    smoother.references_ = references
    return smoother
