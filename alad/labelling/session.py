"""A labelling session on disk: detector, pool reference, labels, rounds and history."""

from __future__ import annotations

import contextlib
import copy
import csv
import getpass
import hashlib
import io
import json
import locale
import os
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._atomic import interrupts_deferred, replacing
from ._model_store import load_detector, save_detector

__all__ = ["LABELS", "LabellingSession", "load_pool"]

FORMAT = "alad-labelling-session/1"
LABELS = ("anomaly", "normal", "unsure")
#: What ``session.json`` must hold (``model_dir`` and ``n_rounds`` came later).
_META_KEYS = (
    "pool",
    "window_size",
    "n_windows",
    "budget",
    "per_round",
    "channel_names",
    "labeller",
    "pending_query",
    "model",
)
#: The encoding of labels.csv, recorded in session.json (``log_encoding``):
#: the same on every machine, whatever a labeller's name holds
_LOG_ENCODING = "utf-8"
#: ... and of a session whose session.json does not say: open's default (the
#: locale's, cp1252 on many Windows machines), which wrote it then
_LEGACY_LOG_ENCODING = locale.getpreferredencoding(False)
#: The files of a session folder besides its subfolders (scores/, model-NNN/).
_OWN_FILES = ("session.json", "labels.csv", "history.json", "pool.npy", ".lock")
_LOG_FIELDS = (
    "time",
    "labeller",
    "round",
    "window",
    "start",
    "stop",
    "label",
    "range_start",
    "range_stop",
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:  # written atomically: not by alad
        raise ValueError(f"{path} is not valid JSON ({exc}).") from exc


def _end_whole_lines(path: Path) -> None:
    """Drop an unterminated last line: a label row half-written when a process
    died (rows are appended). The next row then starts a line of its own."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        f.truncate(f.read().rfind(b"\n") + 1)


def _write_atomic(path: Path, text: str) -> None:
    with replacing(path) as f:
        f.write(text)


def _default_labeller() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "unknown"


#: the session folders this process holds (writer_lock): each folder's file
#: lock and how many blocks hold it. The command line holds its folder while
#: its session writes, the page's server while it serves, and a round's
#: thread while it writes through the same session; they may end in any
#: order (Ctrl+C ends the server's block while a round's thread still writes)
_HELD: dict[Path, list] = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def writer_lock(path):
    """Hold a session folder for the one process that writes it.

    Two processes writing one session (a second ``alad label`` on it, an
    ``--import`` or a script while the page runs) would each keep their own
    labels and commit models over each other's. The lock is
    ``SESSION/.lock``, taken without waiting (``flock`` on POSIX,
    ``msvcrt.locking`` on Windows) and released when the last block of this
    process that holds it ends (in whatever order its blocks end, in
    whatever thread) or the process dies; the file holds the pid. Within one
    process the blocks nest: a folder this process holds is held again at
    once.

    Raises
    ------
    OSError
        Another process holds the folder.
    """
    key = Path(path).resolve()
    with _HELD_GUARD:  # taking the file lock does not wait: hold the guard
        if key not in _HELD:
            lock = contextlib.ExitStack()
            lock.enter_context(_process_lock(path))
            _HELD[key] = [lock, 0]
        _HELD[key][1] += 1
    try:
        yield
    finally:
        with _HELD_GUARD:
            entry = _HELD[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _HELD[key]
                entry[0].close()


@contextlib.contextmanager
def _process_lock(path):
    """The file lock of :func:`writer_lock`, taken once per process."""
    lock = open(Path(path) / ".lock", "a+")  # noqa: SIM115 - held for the block
    try:
        try:
            if os.name == "nt":
                import msvcrt

                # a byte far past the pid: Windows' locks are mandatory,
                # and the pid must stay readable to the process refused
                lock.seek(1 << 30)
                msvcrt.locking(lock.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                lock.seek(0)
                holder = lock.read(32).strip() or "?"
            except OSError:
                holder = "?"
            raise OSError(
                f"{path} is in use by another process (pid {holder}): a second "
                "writer of one session (alad label, or a script labelling it) "
                "would write over the first's labels and models; stop it first."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield
    finally:
        lock.close()  # releases the lock


def load_pool(path) -> tuple[np.ndarray, list[str] | None]:
    """Read an unlabelled pool: ``.npy`` (2-D) or ``.csv`` (header of channel names).

    Returns
    -------
    X : ndarray of shape (n_timesteps, n_channels)
    channel_names : list of str or None
    """
    path = Path(path)
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        names = None
    elif path.suffix == ".csv":
        # utf-8-sig: a byte-order mark (Excel's UTF-8) is not a first value
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f))
        try:
            [float(v) for v in header]
            names, skip = None, 0
        except ValueError:
            names, skip = [h.strip() for h in header], 1
        X = np.loadtxt(
            path, delimiter=",", skiprows=skip, ndmin=2, encoding="utf-8-sig"
        )
    else:
        raise ValueError(
            f"pool must be a .npy or .csv file; got {path.name!r} (suffix "
            f"{path.suffix!r})."
        )
    if X.ndim != 2:
        raise ValueError(
            f"pool must hold a 2-D series (n_timesteps, n_channels); {path} has "
            f"shape {X.shape}."
        )
    return np.asarray(X, dtype=np.float64), names


class LabellingSession:
    """A labelling session kept in a folder, to be reopened days later.

    The folder holds everything in open formats:

    - ``session.json``: the pool reference (path, sha256, shape; a copy
      ``pool.npy`` only when asked for), window size, budget, windows per
      round, the pending query, and the sha256 of the model files;
    - ``labels.csv``: every label given, one row per event, with its time,
      labeller and round (``unset`` rows withdraw a label);
    - ``history.json``: one entry per submitted round: the windows queried
      and labelled, the threshold and the metrics on labelled windows;
    - ``scores/round_NNN.npy``: the pool's scores after each round (0: before
      any label);
    - ``model-NNN/``: the detector after round NNN as JSON parameters and
      NumPy arrays (no pickle, see :func:`~alad.labelling.save_detector`).

    ``session.json`` is written last in each round: a crash while saving
    leaves the session as it was after the previous round, with the round's
    labels still to submit.

    Labels are per window of the non-overlapping grid that
    :meth:`~alad.ActiveReconstructionDetector.query` uses (window ``j`` holds
    pool rows ``[j * window_size, (j + 1) * window_size)``): ``"anomaly"``
    (optionally with the anomalous sub-range of rows), ``"normal"`` or
    ``"unsure"``. Unsure windows never reach ``partial_fit`` and are not
    queried again unless :meth:`requery_unsure` is called.

    Use :meth:`create` or :meth:`open`, not the constructor.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from alad import ActiveReconstructionDetector
    >>> from alad.datasets import make_telemetry
    >>> from alad.labelling import LabellingSession
    >>> data = make_telemetry(n_train=1000, n_test=1000, random_state=0)
    >>> det = ActiveReconstructionDetector(window_size=20, max_epochs=1,
    ...     backbone_params={"d_model": 8, "d_ff": 8, "n_heads": 2, "n_layers": 1},
    ...     feedback_epochs=1, random_state=0).fit(data.X_train)
    >>> folder = tempfile.mkdtemp()
    >>> s = LabellingSession.create(folder + "/s", det, data.X_test, per_round=4)
    >>> windows = s.pending_query
    >>> len(windows)
    4
    >>> s.label(windows[0], "anomaly")
    >>> s.label(windows[1], "unsure")
    >>> entry = s.submit_round()
    >>> entry["n_trained_windows"], LabellingSession.open(folder + "/s").n_rounds
    (1, 1)
    """

    def __init__(self, path, detector, pool, meta, records, history):
        self.path = Path(path)
        self.detector = detector
        self.pool = pool
        self._meta = meta
        self._records = records  # window -> latest label record (dict)
        self.history = history
        self._lock = threading.RLock()
        self._pool_file = None  # the pool's file when referenced, not copied
        self._disk = _disk_state(self.path)  # the files as this object read them
        self._pool_moved = False  # opened with the pool at a new place

    # -- creation and reopening ---------------------------------------------
    @classmethod
    def create(
        cls,
        path,
        detector,
        pool,
        *,
        copy_pool: bool = False,
        budget: int | None = None,
        per_round: int | None = None,
        channel_names=None,
        labeller: str | None = None,
        overwrite: bool = False,
    ) -> LabellingSession:
        """Start a session from a fitted detector and an unlabelled pool.

        Parameters
        ----------
        path : str or Path
            The session folder; must not exist (or be empty) unless ``overwrite``.
        detector : ActiveReconstructionDetector
            Fitted. A backbone given by name (the safe model format stores
            no code).
        pool : str, Path or ndarray of shape (n_timesteps, n_channels)
            A ``.npy`` or ``.csv`` file, referenced by path and sha256 (copied
            into the session with ``copy_pool=True``); an array is always
            copied, as ``pool.npy``.
        copy_pool : bool, default=False
        budget : int or None, default=None
            Most windows the person labels (unsure ones included); None: the
            detector's ``budget`` (None there too: as many as the pool holds).
        per_round : int or None, default=None
            Windows queried per round; None: the detector's
            ``top_k + n_bins * per_bin``.
        channel_names : list of str or None, default=None
            Shown on the page; default the CSV header or ``channel_0, ...``.
        labeller : str or None, default=None
            Default labeller name recorded with each label; default the
            login name.
        overwrite : bool, default=False
            Replace an existing session in ``path``.

        The session is made in a hidden folder beside ``path`` and renamed
        into place when whole: an interrupted create leaves no folder (with
        ``overwrite``, the old session as it was).
        """
        path = Path(path)
        if path.exists() and any(path.iterdir()) and not overwrite:
            raise FileExistsError(
                f"path {str(path)!r} already holds files; open it with "
                "LabellingSession.open or pass overwrite=True."
            )
        # built in a folder beside it and renamed into place once whole: an
        # interrupted create (Ctrl+C while scoring) must not leave a folder
        # that open refuses (no session.json) and create refuses (not empty)
        # resolved: through a symlink, the folder it names is the one replaced
        final = path.resolve()
        if overwrite and (final / "session.json").exists():
            # a session another process writes (its page) is not replaced
            # under it: refused while held (checked, then let go at once, so
            # that the folder can be removed on Windows too)
            with writer_lock(final):
                pass
        building = final.with_name(f".{final.name}.creating")
        if building.exists():  # left by a create that was killed
            shutil.rmtree(building)
        building.mkdir(parents=True)
        try:
            session = cls._build(
                building,
                detector,
                pool,
                copy_pool,
                budget,
                per_round,
                channel_names,
                labeller,
            )
            aside = None
            if final.exists():
                if overwrite:
                    # the old session goes aside, not away, until the new one
                    # is in its place: a failure in between puts it back
                    aside = final.with_name(f".{final.name}.replaced")
                    if aside.exists():  # left by a create that was killed
                        shutil.rmtree(aside)
                else:
                    final.rmdir()  # empty, checked above
            with interrupts_deferred():
                if aside is not None:
                    os.replace(final, aside)
                try:
                    os.replace(building, final)
                except BaseException:
                    if aside is not None:
                        os.replace(aside, final)
                    raise
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        if aside is not None:  # an interrupted removal leaves a hidden folder
            shutil.rmtree(aside, ignore_errors=True)
        # absolute: a relative path may have named a folder replaced here
        # (create(".") in an empty working directory), which it then no
        # longer reaches
        session.path = final
        session._disk = _disk_state(session.path)
        return session

    @classmethod
    def _build(
        cls,
        path,
        detector,
        pool,
        copy_pool,
        budget,
        per_round,
        channel_names,
        labeller,
    ) -> LabellingSession:
        """The files of a new session in ``path``, an empty folder."""
        if isinstance(pool, (str, os.PathLike)):
            source = Path(pool).resolve()
            X, names = load_pool(source)
            if copy_pool:
                np.save(path / "pool.npy", X)
                pool_ref = {"path": "pool.npy", "copied": True}
            else:
                pool_ref = {"path": str(source), "copied": False}
        else:
            X, names = np.asarray(pool, dtype=np.float64), None
            if X.ndim != 2:
                raise ValueError(
                    "pool must be a 2-D series (n_timesteps, n_channels); got shape "
                    f"{X.shape}."
                )
            np.save(path / "pool.npy", X)
            pool_ref = {"path": "pool.npy", "copied": True}
        stored = path / pool_ref["path"]
        pool_ref.update(sha256=_sha256(stored), shape=list(X.shape))
        window_size = int(detector.window_size_)
        n_windows = len(X) // window_size
        if n_windows == 0:
            raise ValueError(
                f"pool has {len(X)} timesteps, fewer than window_size={window_size}."
            )
        if per_round is None:
            per_round = detector.top_k + detector.n_bins * detector.per_bin
        if budget is None:
            budget = detector.budget
        if channel_names is None:
            channel_names = names or [f"channel_{i}" for i in range(X.shape[1])]
        if len(channel_names) != X.shape[1]:
            raise ValueError(
                f"channel_names must name the {X.shape[1]} channels of the pool; got "
                f"{len(channel_names)} names."
            )
        meta = {
            "format": FORMAT,
            "created": _now(),
            "updated": _now(),
            "pool": pool_ref,
            "window_size": window_size,
            "n_windows": n_windows,
            "budget": None if budget is None else int(budget),
            "per_round": int(per_round),
            "channel_names": [str(c) for c in channel_names],
            "labeller": labeller or _default_labeller(),
            "pending_query": [],
            "log_encoding": _LOG_ENCODING,
            "n_rounds": 0,
            "model_dir": None,
            "model": None,
        }
        session = cls(path, detector, X, meta, {}, [])
        if not pool_ref["copied"]:
            session._pool_file = stored
        (path / "scores").mkdir(exist_ok=True)
        with open(path / "labels.csv", "w", newline="", encoding=_LOG_ENCODING) as f:
            csv.writer(f).writerow(_LOG_FIELDS)
        session._save_scores(0, detector.decision_function(X))
        session._meta["pending_query"] = session._next_query()
        session._commit()
        return session

    @classmethod
    def open(cls, path, *, pool=None, verify: bool = True) -> LabellingSession:
        """Reopen a session folder.

        Parameters
        ----------
        path : str or Path
        pool : str, Path or None, default=None
            Where the pool file is now, if it moved; its sha256 must be the
            one recorded.
        verify : bool, default=True
            Rescore the pool and check that the scores are those saved after
            the last round.
        """
        path = Path(path)
        meta_file = path / "session.json"
        if not meta_file.exists():
            raise FileNotFoundError(f"{path} holds no session.json; not a session.")
        # before anything is read: a write by another process from here on
        # makes this object's first write refuse (_writing)
        disk = _disk_state(path)
        meta = _read_json(meta_file)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise ValueError(f"{meta_file} has format {found!r}; expected {FORMAT!r}.")
        missing = [k for k in _META_KEYS if k not in meta]
        missing += [
            f"{k}.{key}"
            for k, keys in (("pool", ("path", "sha256")), ("model", ("sha256",)))
            if k in meta
            for key in keys
            if not isinstance(meta[k], dict) or key not in meta[k]
        ]
        if missing:
            raise ValueError(
                f"{meta_file} lacks {', '.join(missing)}; the session folder is "
                "damaged."
            )
        pool_path = Path(pool) if pool is not None else path / meta["pool"]["path"]
        if not pool_path.exists():
            raise FileNotFoundError(
                f"the pool {str(pool_path)!r} is missing; if it moved, pass "
                "pool=NEW_PATH (alad label --pool NEW_PATH): the session then "
                "records the new place with its next label."
            )
        digest = _sha256(pool_path)
        if digest != meta["pool"]["sha256"]:
            raise ValueError(
                f"the pool {str(pool_path)!r} has sha256 {digest}, but the session "
                f"was created on sha256 {meta['pool']['sha256']}: the data changed, "
                "so the labels and queries no longer describe it."
            )
        X, _ = load_pool(pool_path)
        # sessions written before model-NNN folders kept one folder "model"
        meta.setdefault("model_dir", "model")
        history = _read_json(path / "history.json")
        meta.setdefault("n_rounds", len(history))
        detector = load_detector(
            path / meta["model_dir"], expected_sha256=meta["model"]["sha256"]
        )
        # rounds past the last commit (a crash while saving) are not part of it
        history = history[: meta["n_rounds"]]
        records = {}
        log = (path / "labels.csv").read_bytes()
        if not log.endswith(b"\n"):  # a row half-written: never confirmed
            log = log[: log.rfind(b"\n") + 1]
        encoding = meta.get("log_encoding", _LEGACY_LOG_ENCODING)
        reader = csv.DictReader(io.StringIO(log.decode(encoding), newline=""))
        for row in reader:
            try:
                record = _parse_row(row)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path / 'labels.csv'}, line {reader.line_num}: not a label "
                    f"row ({exc}); the log was edited or damaged."
                ) from exc
            if record["label"] == "unset":
                records.pop(record["window"], None)
            else:
                records[record["window"]] = record
        moved = pool is not None and not meta["pool"].get("copied", False)
        if moved:
            # the pool moved (same sha256): the first write records its
            # place (_writing), so that it need not be given again
            meta["pool"] = {**meta["pool"], "path": str(pool_path.resolve())}
        session = cls(path, detector, X, meta, records, history)
        session._disk = disk
        session._pool_moved = moved
        session._pool_file = pool_path.resolve()
        if verify:
            saved = np.load(session._scores_file(len(history)), allow_pickle=False)
            now = detector.decision_function(X)
            scale = float(np.max(np.abs(saved), initial=1.0))
            # on the device it was scored on, a model scores to float32's
            # rounding; on another (saved on a GPU, opened on a laptop) the
            # kernels differ (a GPU's convolutions may run in TF32), and a
            # score read as a rank among the training scores may move by a
            # few ranks: the check then allows 5 % of the scores' scale. A
            # model that does not match the session is farther off.
            same_device = meta.get("scored_on", "cpu") == _device_type(detector.device_)
            rtol, atol = (1e-4, 1e-6) if same_device else (0.0, 0.05)
            if not np.allclose(saved, now, rtol=rtol, atol=atol * scale):
                raise ValueError(
                    "the reopened detector does not give the scores saved after "
                    f"round {len(history)}; the model files do not match the session."
                )
        return session

    # -- what the session holds ---------------------------------------------
    @property
    def window_size(self) -> int:
        return self._meta["window_size"]

    @property
    def n_windows(self) -> int:
        return self._meta["n_windows"]

    @property
    def channel_names(self) -> list[str]:
        return list(self._meta["channel_names"])

    @property
    def budget(self) -> int | None:
        return self._meta["budget"]

    @property
    def per_round(self) -> int:
        return self._meta["per_round"]

    @property
    def n_rounds(self) -> int:
        """Submitted rounds."""
        return len(self.history)

    @property
    def current_round(self) -> int:
        """The round that labels given now belong to."""
        return len(self.history) + 1

    @property
    def pending_query(self) -> list[int]:
        """Windows the detector asks about in the current round."""
        return list(self._meta["pending_query"])

    @property
    def n_labelled(self) -> int:
        """Windows with a label (anomaly, normal or unsure), submitted or not."""
        return len(self._records)

    @property
    def budget_left(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.n_labelled)

    def window_rows(self, window: int) -> tuple[int, int]:
        """``(start, stop)`` pool rows of a window."""
        window = self._check_window(window)
        return window * self.window_size, (window + 1) * self.window_size

    def labels(self) -> list[dict]:
        """The current label of each labelled window, in window order."""
        return [dict(self._records[w]) for w in sorted(self._records)]

    def staged(self) -> list[dict]:
        """Labels of the current round, not yet submitted."""
        return [r for r in self.labels() if r["round"] == self.current_round]

    def timestep_labels(self) -> np.ndarray:
        """Per-row labels of the pool: 1 anomaly, 0 normal, nan unlabelled or unsure.

        An anomaly window with a sub-range is 1 inside the range, 0 elsewhere.
        """
        y = np.full(len(self.pool), np.nan)
        for record in self._records.values():
            start, stop = record["start"], record["stop"]
            if record["label"] == "normal":
                y[start:stop] = 0.0
            elif record["label"] == "anomaly":
                if record["range"] is None:
                    y[start:stop] = 1.0
                else:
                    y[start:stop] = 0.0
                    y[record["range"][0] : record["range"][1]] = 1.0
        return y

    def unsure_mask(self) -> np.ndarray:
        """Rows of windows labelled unsure."""
        mask = np.zeros(len(self.pool), dtype=bool)
        for record in self._records.values():
            if record["label"] == "unsure":
                mask[record["start"] : record["stop"]] = True
        return mask

    def known(self) -> np.ndarray:
        """The ``y`` given to ``query``: labels, unsure rows marked 0, nan elsewhere.

        ``query`` never offers a window holding a non-nan row; marking unsure
        rows keeps them from being asked again. The 0 never trains.
        """
        y = self.timestep_labels()
        y[self.unsure_mask()] = 0.0
        return y

    def scores(self, round: int | None = None) -> np.ndarray:
        """Pool scores after ``round`` (default: the last submitted)."""
        round = self.n_rounds if round is None else round
        return np.load(self._scores_file(round), allow_pickle=False)

    # -- labelling -----------------------------------------------------------
    def label(
        self,
        window: int,
        label: str,
        *,
        anomalous_range=None,
        labeller: str | None = None,
    ) -> None:
        """Label a window for the current round (replaces a label not yet submitted).

        Parameters
        ----------
        window : int
            Index of the window, ``0 <= window < n_windows``.
        label : {"anomaly", "normal", "unsure"}
        anomalous_range : (int, int) or None, default=None
            For ``"anomaly"``: pool rows ``[start, stop)`` inside the window
            that are anomalous; the window's other rows are then normal.
            None: the whole window.
        labeller : str or None, default=None
            Default: the session's labeller.
        """
        with self._lock, self._writing():
            window = self._check_window(window)
            if label not in LABELS:
                raise ValueError(f"label must be one of {LABELS}; got {label!r}.")
            previous = self._records.get(window)
            if previous is not None and previous["round"] < self.current_round:
                raise ValueError(
                    f"window {window} was labelled {previous['label']!r} in round "
                    f"{previous['round']}, already submitted; labels of submitted "
                    "rounds are kept as they trained the detector."
                )
            if previous is None and self.budget_left == 0:
                raise ValueError(
                    f"the budget of {self.budget} windows is spent; no more labels."
                )
            start, stop = self.window_rows(window)
            rng = None
            if anomalous_range is not None:
                if label != "anomaly":
                    raise ValueError(
                        f"anomalous_range is for label 'anomaly' only; got {label!r}."
                    )
                a, b = _row_range(anomalous_range)
                if not start <= a < b <= stop:
                    raise ValueError(
                        f"anomalous_range must satisfy {start} <= start < stop <= "
                        f"{stop} (the rows of window {window}); got ({a}, {b})."
                    )
                rng = None if (a, b) == (start, stop) else [a, b]
            record = {
                "time": _now(),
                "labeller": labeller or self._meta["labeller"],
                "round": self.current_round,
                "window": window,
                "start": start,
                "stop": stop,
                "label": label,
                "range": rng,
            }
            self._append_log(record)
            self._records[window] = record

    def unset(self, window: int, *, labeller: str | None = None) -> None:
        """Withdraw a label of the current round, not yet submitted."""
        with self._lock, self._writing():
            window = self._check_window(window)
            previous = self._records.get(window)
            if previous is None:
                return
            if previous["round"] < self.current_round:
                raise ValueError(
                    f"window {window} belongs to submitted round {previous['round']}."
                )
            self._withdraw(window, labeller)

    def requery_unsure(self, *, labeller: str | None = None) -> list[int]:
        """Make the submitted unsure windows queryable again; returns them.

        Withdraws their labels (``unset`` rows in ``labels.csv``, recorded
        under ``labeller``, default the session's) and, when no label of the
        current round is staged, recomputes the pending query. Unsure labels
        of the current round, not yet submitted, are left as they are.
        """
        with self._lock, self._writing():
            windows = [
                w
                for w, r in self._records.items()
                if r["label"] == "unsure" and r["round"] < self.current_round
            ]
            for window in windows:
                self._withdraw(window, labeller)
            if windows and not self.staged():
                # asked of a copy: a query changes the detector (the pool's
                # quiet windows it replays), which only a round saves, so the
                # detector stays the one on the disk
                query = self._next_query(copy.deepcopy(self.detector))
                self._save_meta({**self._meta, "pending_query": query})
            return sorted(windows)

    def submit_round(self, progress=None) -> dict:
        """Learn from the labels of the current round, then query the next windows.

        Anomaly and normal windows go to ``partial_fit`` (per-timestep labels:
        a sub-range is 1 inside, 0 elsewhere in its window); unsure windows
        do not. The pool is rescored, metrics on the labelled windows are
        computed when they hold both classes, and everything is saved.

        Parameters
        ----------
        progress : callable or None, default=None
            Called as ``progress(stage, fraction)`` with stages
            ``"training"``, ``"scoring"``, ``"querying"``, ``"saving"`` and
            ``"done"``; fraction from 0 to 1.

        Returns
        -------
        entry : dict
            The round's entry in :attr:`history`.
        """

        def step(stage, fraction):
            if progress is not None:
                progress(stage, fraction)

        with self._lock, self._writing():
            started = time.perf_counter()
            staged = self.staged()
            if not staged:
                raise ValueError(
                    f"round {self.current_round} has no label; label windows first."
                )
            y_all = self.timestep_labels()
            trained = sorted(r["window"] for r in staged if r["label"] != "unsure")
            saved_meta = json.loads(json.dumps(self._meta))
            try:
                step("training", 0.0)
                if trained:
                    rows = np.concatenate(
                        [np.arange(*self.window_rows(w)) for w in trained]
                    )
                    self.detector.partial_fit(self.pool[rows], y_all[rows])
                step("scoring", 0.5)
                scores = self.detector.decision_function(self.pool)
                entry = self._entry(staged, trained, y_all, scores)
                self._save_scores(entry["round"], scores)
                self.history.append(entry)
                step("querying", 0.7)
                self._meta["pending_query"] = self._next_query()
                step("saving", 0.9)
                entry["seconds"] = round(time.perf_counter() - started, 3)
                previous = self._commit()
            except BaseException:
                if self._meta["n_rounds"] != saved_meta["n_rounds"]:
                    # session.json names the new round (interrupted after its
                    # rename, syncing the folder): committed, memory with it
                    raise
                # the disk still holds the last committed round: go back to it
                del self.history[saved_meta["n_rounds"] :]
                self._meta = saved_meta
                self.detector = load_detector(
                    self.path / saved_meta["model_dir"],
                    expected_sha256=saved_meta["model"]["sha256"],
                )
                raise
            # committed: what follows never rolls back (session.json names the
            # new model); an interrupted clean-up leaves an unused folder
            self._remove_model(previous)
            step("done", 1.0)
            return entry

    def _entry(self, staged, trained, y_all, scores) -> dict:
        counts = {k: sum(r["label"] == k for r in staged) for k in LABELS}
        return {
            "round": self.current_round,
            "submitted": _now(),
            "labellers": sorted({r["labeller"] for r in staged}),
            "queried": self.pending_query,
            "labelled": {
                k: sorted(r["window"] for r in staged if r["label"] == k)
                for k in LABELS
            },
            "counts": counts,
            "n_trained_windows": len(trained),
            "n_labelled_total": self.n_labelled,
            "n_anomaly_windows_total": sum(
                r["label"] == "anomaly" for r in self._records.values()
            ),
            "threshold": float(self.detector.threshold_),
            "metrics": _metrics(y_all, scores, self.detector.threshold_),
            "detector_rounds": int(self.detector.n_feedback_rounds_),
        }

    # -- internals -----------------------------------------------------------
    @contextlib.contextmanager
    def _writing(self):
        """Hold the folder (:func:`writer_lock`) for a write, and write only
        over the files this object read: a session labelled meanwhile by
        another process (the page, a script) or another object would
        otherwise lose that process's labels and rounds to this one's."""
        with writer_lock(self.path):
            if _disk_state(self.path) != self._disk:
                raise RuntimeError(
                    f"the session in {self.path} was written after this object "
                    "read it (by another process, or another LabellingSession "
                    "of it); open it again (LabellingSession.open) to see and "
                    "keep those labels."
                )
            try:
                if self._pool_moved:
                    self._save_meta()
                    self._pool_moved = False
                yield
            finally:  # what this object wrote, whether or not it all went well
                self._disk = _disk_state(self.path)

    def _reads(self, path) -> bool:
        """Whether ``path`` is a file the session reads: one of its own (any in
        a subfolder), or the pool. Writing there would destroy the session."""
        target = Path(path).resolve()
        folder = self.path.resolve()
        if self._pool_file is not None and target == Path(self._pool_file).resolve():
            return True
        if folder not in target.parents:
            return False
        return target.parent != folder or target.name in _OWN_FILES

    def _check_window(self, window) -> int:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
            raise TypeError(f"window must be an integer; got {window!r}.")
        if not 0 <= window < self.n_windows:
            raise ValueError(
                f"window must be in [0, {self.n_windows}) for this pool; got {window}."
            )
        return int(window)

    def _withdraw(self, window, labeller):
        record = dict(self._records[window])
        record.update(
            time=_now(),
            labeller=labeller or self._meta["labeller"],
            round=self.current_round,
            label="unset",
            range=None,
        )
        # the log first, as label() does: memory follows the disk
        self._append_log(record)
        del self._records[window]

    def _next_query(self, detector=None) -> list[int]:
        """The windows ``detector`` (default: the session's) asks about next."""
        from .. import PoolExhaustedError

        detector = self.detector if detector is None else detector
        n = self.per_round
        if self.budget is not None:
            n = min(n, self.budget - self.n_labelled)
        if detector.budget is not None:  # the detector's own, in windows trained
            n = min(n, detector.budget - detector.n_labelled_windows_)
        if n <= 0:
            return []
        try:
            rows = detector.query(self.pool, y=self.known(), n_queries=n)
        except PoolExhaustedError:
            return []
        rows = np.asarray(rows)
        L = self.window_size
        if rows.size % L or np.any(rows.reshape(-1, L)[:, 0] % L):
            raise RuntimeError(
                "query returned rows that are not whole windows of the grid "
                f"[0, {L}), [{L}, {2 * L}), ...; the session cannot map them."
            )
        return [int(v) for v in rows.reshape(-1, L)[:, 0] // L]

    def _append_log(self, record):
        rng = record["range"] or (None, None)
        _end_whole_lines(self.path / "labels.csv")
        encoding = self._meta.get("log_encoding", _LEGACY_LOG_ENCODING)
        with open(self.path / "labels.csv", "a", newline="", encoding=encoding) as f:
            csv.writer(f).writerow(
                [
                    record["time"],
                    record["labeller"],
                    record["round"],
                    record["window"],
                    record["start"],
                    record["stop"],
                    record["label"],
                    "" if rng[0] is None else rng[0],
                    "" if rng[1] is None else rng[1],
                ]
            )

    def _scores_file(self, round: int) -> Path:
        return self.path / "scores" / f"round_{round:03d}.npy"

    def _save_scores(self, round: int, scores: np.ndarray) -> None:
        with replacing(self._scores_file(round), "wb") as f:
            np.save(f, np.asarray(scores, dtype=np.float64))

    def _commit(self) -> str | None:
        """Write the model and history, then ``session.json``: the commit point.

        The model of each commit goes to a new folder named in
        ``session.json``; ``history.json`` may run one round ahead of
        ``session.json`` after a crash, and :meth:`open` reads only the rounds
        ``session.json`` counts. Nothing half-written is ever read.

        Returns the folder of the model committed before, which the caller
        removes (:meth:`_remove_model`) once nothing can roll it back.
        """
        n_rounds = len(self.history)
        previous = self._meta.get("model_dir")
        model_dir = f"model-{n_rounds:03d}"
        if model_dir == previous:
            # never overwrite the folder session.json names (it is the model
            # to go back to until the new session.json is written)
            raise RuntimeError(
                f"round {n_rounds} is already committed in {previous}; "
                "reopen the session."
            )
        tmp = self.path / (model_dir + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        manifest = save_detector(self.detector, tmp)
        if (self.path / model_dir).exists():
            shutil.rmtree(self.path / model_dir)
        os.replace(tmp, self.path / model_dir)
        _write_atomic(
            self.path / "history.json", json.dumps(self.history, indent=1) + "\n"
        )
        meta = {**self._meta, "model": manifest, "model_dir": model_dir}
        # the device the round's scores were computed on (see open's check)
        meta["scored_on"] = _device_type(self.detector.device_)
        self._save_meta({**meta, "n_rounds": n_rounds})
        return previous

    def _remove_model(self, model_dir: str | None) -> None:
        """Remove a model folder that ``session.json`` no longer names."""
        if model_dir and model_dir != self._meta.get("model_dir"):
            shutil.rmtree(self.path / model_dir, ignore_errors=True)

    def _save_meta(self, meta: dict | None = None) -> None:
        """Write ``meta`` (default: the current one) to ``session.json``, then
        make it the current one: memory follows the disk only once written."""
        meta = dict(self._meta if meta is None else meta, updated=_now())
        path, text = self.path / "session.json", json.dumps(meta, indent=1) + "\n"
        try:
            _write_atomic(path, text)
        except BaseException:
            # interrupted after the rename (while syncing the folder): the
            # disk holds meta, and so must memory
            if _holds(path, text):
                self._meta = meta
            raise
        self._meta = meta


def _disk_state(folder: Path) -> tuple:
    """What changes when a session's files are written: ``session.json``
    (replaced whole: another inode) and ``labels.csv`` (appended to)."""

    def mark(name):
        try:
            st = os.stat(Path(folder) / name)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    return mark("session.json"), mark("labels.csv")


def _holds(path: Path, text: str) -> bool:
    """Whether the file ``path`` reads ``text`` (False where it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def _device_type(device: str) -> str:
    """``"cpu"`` or ``"cuda"``: the kind of device, whatever its index."""
    return str(device).split(":", 1)[0]


def _parse_row(row: dict) -> dict:
    if row["label"] not in (*LABELS, "unset"):
        raise ValueError(f"label {row['label']!r}")
    a, b = row["range_start"], row["range_stop"]
    return {
        "time": row["time"],
        "labeller": row["labeller"],
        "round": int(row["round"]),
        "window": int(row["window"]),
        "start": int(row["start"]),
        "stop": int(row["stop"]),
        "label": row["label"],
        "range": None if a == "" else [int(a), int(b)],
    }


def _metrics(y, scores, threshold) -> dict | None:
    """Metrics on the labelled rows (unsure excluded) when both classes are there."""
    from ..metrics import average_precision, best_f1, roc_auc

    labelled = ~np.isnan(y)
    y_true, y_score = y[labelled].astype(int), scores[labelled]
    if y_true.size == 0 or y_true.min() == y_true.max():
        return None
    f1, best_threshold = best_f1(y_true, y_score, return_threshold=True)
    predicted = y_score > threshold
    tp = int(np.sum(predicted & (y_true == 1)))
    precision = tp / max(1, int(predicted.sum()))
    recall = tp / int(y_true.sum())
    return {
        "n_rows": int(y_true.size),
        "roc_auc": float(roc_auc(y_true, y_score)),
        "average_precision": float(average_precision(y_true, y_score)),
        "best_f1": float(f1),
        "best_f1_threshold": float(best_threshold),
        "f1_at_threshold": 0.0
        if tp == 0
        else float(2 * precision * recall / (precision + recall)),
    }


def _row_range(anomalous_range) -> tuple[int, int]:
    """``(start, stop)`` of an anomalous range: two integers, as given."""
    values = list(anomalous_range) if isinstance(anomalous_range, (list, tuple)) else []
    if len(values) != 2 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values
    ):
        raise TypeError(
            f"anomalous_range must be two integer pool rows (start, stop); got "
            f"{anomalous_range!r}."
        )
    return int(values[0]), int(values[1])
