"""Train, pool and evaluation splits of the papers' experimental protocols."""

__all__ = ["novelty_split", "one_vs_rest_split", "split_unlabeled"]

import numbers
from collections.abc import Iterable

import numpy as np
from sklearn.utils import Bunch, check_consistent_length, check_random_state


def _check_fraction(value: float, argument: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"{argument} must be a float in (0, 1); got "
            f"{type(value).__name__}: {value!r}"
        )
    if not 0 < value < 1:
        raise ValueError(f"{argument} must be a float in (0, 1); got {value!r}")
    return float(value)


def _floor_share(n: int, fraction: float) -> int:
    # Rounding first keeps e.g. 100 * 0.29 = 28.999999999999996 at 29.
    return int(round(n * fraction, 6))


def split_unlabeled(X, y, unlabeled_ratio: float = 0.2) -> Bunch:
    """Split a test series into an unlabelled pool and an evaluation part.

    The partition of the active-reconstruction paper (its Figure 3): the first
    `unlabeled_ratio` of the test series, in time order, is the unlabelled pool
    from which the active learner queries labels; the rest, with its labels, is
    kept for evaluation.

    Parameters
    ----------
    X : array-like of shape (n_timestamps, ...)
        The test series, rows in time order.
    y : array-like of shape (n_timestamps,)
        Its labels, 1 = anomaly. The pool's labels are returned for the
        simulated oracle; a learner must not read them otherwise.
    unlabeled_ratio : float, default=0.2
        The share of rows that go to the pool, in (0, 1); the paper tries 0.1
        to 0.4. The pool has ``floor(unlabeled_ratio * n_timestamps)`` rows.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_pool : ndarray of shape (split_index, ...)
            The first rows, a view of `X`.
        y_pool : ndarray of shape (split_index,)
            Their labels, a view of `y`.
        X_eval : ndarray of shape (n_timestamps - split_index, ...)
            The remaining rows, a view of `X`.
        y_eval : ndarray of shape (n_timestamps - split_index,)
            Their labels, a view of `y`.
        split_index : int
            The number of pool rows.

    Raises
    ------
    ValueError
        If `unlabeled_ratio` is not in (0, 1), either part would be empty, or
        `X` and `y` differ in length.

    Examples
    --------
    >>> import numpy as np
    >>> from alad.datasets import split_unlabeled
    >>> X, y = np.arange(10.0).reshape(-1, 1), np.array([0] * 8 + [1] * 2)
    >>> split = split_unlabeled(X, y, unlabeled_ratio=0.3)
    >>> split.split_index, split.X_pool.ravel().tolist(), split.y_eval.tolist()
    (3, [0.0, 1.0, 2.0], [0, 0, 0, 0, 0, 1, 1])
    """
    X, y = np.asarray(X), np.asarray(y)
    check_consistent_length(X, y)
    ratio = _check_fraction(unlabeled_ratio, "unlabeled_ratio")
    split_index = _floor_share(len(X), ratio)
    if not 0 < split_index < len(X):
        raise ValueError(
            f"unlabeled_ratio={ratio} of {len(X)} rows must leave at least one row "
            f"in the pool and one for evaluation; got a pool of {split_index} rows"
        )
    return Bunch(
        X_pool=X[:split_index],
        y_pool=y[:split_index],
        X_eval=X[split_index:],
        y_eval=y[split_index:],
        split_index=split_index,
    )


def novelty_split(X, y, *, train_fraction: float = 0.5, random_state=None) -> Bunch:
    """Split labelled samples into normal-only training and mixed test data.

    The protocol of Zong et al. 2018 (DAGMM), used by NAF-AL on the ODDS sets:
    train on a random `train_fraction` of the normal samples, test on the other
    normal samples and all the anomalies.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        The samples.
    y : array-like of shape (n_samples,)
        Their labels: 1 = anomaly, 0 = normal.
    train_fraction : float, default=0.5
        The share of normal samples drawn for training, in (0, 1); the training
        set has ``floor(train_fraction * n_normal)`` samples.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw of the training samples. Pass an int for a reproducible
        split.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes; samples keep their
        original order within each part.

        X_train : ndarray of shape (n_train, ...)
            Normal samples only.
        X_test : ndarray of shape (n_samples - n_train, ...)
            The other normal samples and all anomalies.
        y_test : ndarray of shape (n_samples - n_train,)
            Their labels.
        train_indices : ndarray of shape (n_train,)
            Rows of `X` in `X_train`.
        test_indices : ndarray of shape (n_samples - n_train,)
            Rows of `X` in `X_test`.

    Raises
    ------
    ValueError
        If `y` holds values other than 0 and 1, `train_fraction` is not in
        (0, 1), or either part would have no normal sample.

    References
    ----------
    .. [1] Zong, Song, Min, Cheng, Lumezanu, Cho, Chen, "Deep autoencoding
       Gaussian mixture model for unsupervised anomaly detection", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from alad.datasets import novelty_split
    >>> X, y = np.arange(10.0).reshape(-1, 1), np.array([0] * 8 + [1] * 2)
    >>> split = novelty_split(X, y, random_state=0)
    >>> split.X_train.shape, split.X_test.shape, split.y_test.tolist()
    ((4, 1), (6, 1), [0, 0, 0, 0, 1, 1])
    """
    X, y = np.asarray(X), np.asarray(y)
    check_consistent_length(X, y)
    fraction = _check_fraction(train_fraction, "train_fraction")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(
            f"y must hold 0 (normal) and 1 (anomaly) only; got {np.unique(y)[:10]}"
        )
    normal = np.flatnonzero(y == 0)
    n_train = _floor_share(len(normal), fraction)
    if not 0 < n_train < len(normal):
        raise ValueError(
            f"train_fraction={fraction} of {len(normal)} normal samples must leave "
            f"at least one for training and one for testing; got {n_train} for "
            "training"
        )
    drawn = check_random_state(random_state).permutation(normal)
    train_indices = np.sort(drawn[:n_train])
    test_indices = np.sort(np.concatenate([drawn[n_train:], np.flatnonzero(y == 1)]))
    return Bunch(
        X_train=X[train_indices],
        X_test=X[test_indices],
        y_test=y[test_indices],
        train_indices=train_indices,
        test_indices=test_indices,
    )


def one_vs_rest_split(bunch: Bunch, normal_classes: str | Iterable[str]) -> Bunch:
    """Turn a classification data set into an anomaly detection task.

    The protocol of NAF-AL on the UEA sets (after Qiu et al. 2021): training
    data are the TRAIN-split series of the normal classes, test data are all
    TEST-split series, anomalous when their class is not a normal class.
    One-vs-rest takes one normal class; m-vs-rest takes several (NAF-AL uses
    all classes but one).

    Parameters
    ----------
    bunch : :class:`~sklearn.utils.Bunch`
        A data set with ``X_train``, ``y_train``, ``X_test``, ``y_test`` and
        ``classes``, as returned by :func:`load_uea`.
    normal_classes : str or iterable of str
        The class label, or labels, taken as normal. At least one class must be
        left out.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train : ndarray of shape (n_train, ...)
            The training series of the normal classes.
        X_test : ndarray of shape (n_test, ...)
            All test series.
        y_test : ndarray of shape (n_test,), dtype int64
            1 where the class is not a normal class, else 0.
        normal_classes : tuple of str
            The normal classes, without repeats.
        lengths_train, lengths_test : ndarray of shape (n_train,), (n_test,)
            The real series lengths, when `bunch` has ``lengths_train`` and
            ``lengths_test``.

    Raises
    ------
    TypeError
        If `bunch` lacks a field, or a normal class is not a str.
    ValueError
        If a normal class is not in ``bunch.classes``, or no class is left
        over as anomalous.

    References
    ----------
    .. [1] Qiu, Pfrommer, Kloft, Mandt, Rudolph, "Neural transformation learning
       for deep anomaly detection beyond images", ICML 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from alad.datasets import one_vs_rest_split
    >>> toy = Bunch(
    ...     X_train=np.zeros((4, 5, 2)), y_train=np.array(["a", "b", "a", "c"]),
    ...     X_test=np.zeros((3, 5, 2)), y_test=np.array(["c", "a", "b"]),
    ...     classes=np.array(["a", "b", "c"]),
    ... )
    >>> split = one_vs_rest_split(toy, "a")
    >>> split.X_train.shape, split.y_test.tolist()
    ((2, 5, 2), [1, 0, 1])
    """
    missing = [
        field
        for field in ("X_train", "y_train", "X_test", "y_test", "classes")
        if field not in bunch
    ]
    if missing:
        raise TypeError(
            "bunch must be a data set with X_train, y_train, X_test, y_test and "
            f"classes, such as load_uea returns; it lacks {missing}"
        )
    if isinstance(normal_classes, str):
        normal_classes = (normal_classes,)
    normal = tuple(dict.fromkeys(normal_classes))
    classes = [str(label) for label in bunch.classes]
    for label in normal:
        if not isinstance(label, str):
            raise TypeError(
                f"normal_classes must hold str labels such as {classes[0]!r}; got "
                f"{type(label).__name__}: {label!r}"
            )
        if label not in classes:
            raise ValueError(
                f"normal_classes must be among the classes {classes}; got {label!r}"
            )
    if not normal or len(normal) == len(classes):
        raise ValueError(
            f"normal_classes must name at least one and at most {len(classes) - 1} "
            f"of the {len(classes)} classes; got {list(normal)}"
        )
    train_mask = np.isin(bunch.y_train, normal)
    split = Bunch(
        X_train=bunch.X_train[train_mask],
        X_test=bunch.X_test,
        y_test=(~np.isin(bunch.y_test, normal)).astype(np.int64),
        normal_classes=normal,
    )
    if "lengths_train" in bunch and "lengths_test" in bunch:
        split.lengths_train = bunch.lengths_train[train_mask]
        split.lengths_test = bunch.lengths_test
    return split
