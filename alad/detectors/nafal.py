"""NAFALDetector: neural autoregressive flows with active augmentation (NAF-AL)."""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import time

import numpy as np
import torch
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils.validation import check_array, validate_data
from skorch.callbacks import GradientNormClipping

from .._compat import Interval, StrOptions, _fit_context
from ..augment import augmentation_quota, filter_augmented
from ..base import BaseDetector
from ..exceptions import FlowDivergenceWarning, PoolExhaustedError
from ..flows import NAFAD
from ..label_head import (
    fit_window_classifier,
    held_out_probabilities,
    held_out_skill,
    reference_rank,
)
from ..mixtures import CANDIDATES as MIXTURE_CANDIDATES
from ..mixtures import fit_base
from ..query import select_marginal, select_top_and_marginal
from ..relabelling import first_unknown_copy, last_of_each, relabelled
from ..runtime import seeded
from ..thresholds import fingerprints
from ..training import train_epochs, training_callbacks
from ..training.flow_nets import FlowNet, LikelihoodHingeLoss
from ..transaction import MAX_TRAINING_SCORE, transactional, weights_are_finite
from ..validation import (
    check_count,
    check_input_shape,
    check_labels,
    check_scaled_range,
    standard_scaling,
    standardize,
)

__all__ = ["FlowDivergenceWarning", "NAFALDetector"]

#: training samples replayed as normal to the label head (``score_head``)
HEAD_REPLAY = 500
#: flow rows (samples x transformations) per scoring batch by default
EVAL_FLOW_ROWS = 512


@dataclasses.dataclass(frozen=True)
class _FlowState:
    """What a training round of NAF-AL changes, built beside the fitted one.

    Rounds return a new state; :meth:`NAFALDetector._commit` binds it to the
    detector once the scores of the training data are verified, so a failed
    or interrupted call leaves the detector as it was.
    """

    net: FlowNet
    train_x: np.ndarray  # normal samples (standardised, flat)
    anomaly_x: np.ndarray  # labelled anomalies
    aug_views: np.ndarray  # augmented views (n_aug, m)
    aug_k: np.ndarray  # their transformation indices
    hinge_target: float | None
    n_augmented: int
    augmentation_history: tuple


class NAFALDetector(BaseDetector):
    r"""Self-supervised anomaly detection by neural autoregressive flows (NAF-AL).

    The method of Zhang et al., "Self-Supervised Anomaly Detection via Neural
    Autoregressive Flows with Active Learning":

    1. Each sample ``x`` is mapped by ``n_transforms`` fixed random affine
       transformations ``T_k(x) = A_k x + b_k`` (Eq. 1) into views of size
       ``transform_dim``.
    2. A feature extractor ``f_theta`` (leaky-ReLU layers and a 1-d
       convolution) maps each view to features, whose density a neural
       autoregressive flow (zuko's ``NAF``, conditioned on ``k``) models.
       Both are trained by maximum likelihood on normal data (Eq. 6).
    3. The anomaly score is the mean negative log-likelihood over the
       transformations (Eq. 7); higher is more anomalous.
    4. Active augmentation (Algorithm 1): for ``n_iterations`` rounds, views
       are drawn from the flow; those less likely than the ``alpha`` share of
       the training views and within the chi-square Mahalanobis radius of the
       training features (Eqs. 9-11) join the normal training data, and
       training continues. ``n_iterations=0`` gives NAF-AD.

    For people in the loop, :meth:`query` picks pool samples to label (by
    default half of them the highest scores, the rest nearest the threshold,
    the marginal strategy of Eq. 9) and :meth:`partial_fit` learns from their
    labels: by default through a classifier of the labelled samples that
    joins the score (``score_head``), the labelled normals joining the
    training data; with ``feedback_epochs > 0`` the flow also trains on
    them (its likelihood and a hinge on the anomalies).

    Parameters
    ----------
    n_transforms : int, default=32
        ``K``, the number of random affine transformations (the paper: 256
        for small data sets, 64 for large ones). 32, 64 and 256 moved no
        validation figure consistently in the ablation of ``docs/nafal.rst``,
        and scoring costs ``K`` views per sample.
    transform_dim : int, default=8
        Size of each view and of its features (the extractor's 8 hidden nodes
        in the paper); capped at the number of input features, so that views
        are not confined to a subspace.
    n_layers : int, default=1
        Fully-connected hidden layers of the extractor (the paper: 1).
    negative_slope : float, default=0.2
        Leaky-ReLU slope of the extractor.
    extractor : {"auto", "dense", "conv"}, default="auto"
        The feature extractor. ``"auto"``: ``"conv"`` for 3-D series when
        ``n_iterations=0``, else ``"dense"`` (``extractor_`` says which).
        ``"dense"``: each view is an affine map of the
        whole input (a series flattened) and the extractor square
        fully-connected layers with a kernel-1 convolution on top (the paper
        as written). ``"conv"``, for 3-D series only: each view mixes the
        channels at every timestep (``T_k(x)_t = A_k x_t + b_k``), and the
        extractor is ``n_layers`` 1-d convolutions over time (kernel 5, 32
        channels) and one to ``transform_dim`` channels, averaged over time
        (the paper's "1-d convolution on top" read along time). It has no
        inverse, so it needs ``n_iterations=0`` (no active augmentation) and
        ``extractor_volume`` does not apply (the features are batch-normalised
        instead, so they cannot collapse in scale).
    conv_segments : int, default=4
        With ``extractor="conv"``: equal stretches of time over which the
        convolutional features are averaged separately (then mapped linearly
        to ``transform_dim`` features). 1 averages over the whole series,
        which makes the features blind to where a pattern lies; more keep
        its rough position.
    extractor_volume : {"fixed", "logdet", "free"}, default="fixed"
        How the extractor's volume enters maximum likelihood (see the Notes).
        ``"fixed"``: weight matrices rescaled to ``|det| = 1`` and the
        leaky-ReLU log-determinant added, so Eq. 6 is the exact likelihood of
        the views and the features cannot shrink. ``"logdet"``: free weights,
        full log-determinant added (exact likelihood, but the feature scale
        drifts). ``"free"``: the paper's literal objective, the likelihood of
        the features alone, which maximum likelihood raises without bound by
        shrinking them (an ablation).
    scaling : {"standard", "robust", "quantile"}, default="standard"
        How each feature (each channel of a series, over all its timepoints)
        is scaled before the views are made, with statistics of the training
        data. ``"standard"``: minus the mean, over the standard deviation.
        ``"robust"``: minus the median, over the interquartile range / 1.349
        (the standard deviation where that range is 0), which weighs a
        heavy-tailed feature more in every view. ``"quantile"``: scikit-learn's
        ``QuantileTransformer`` to a standard normal (at most 1,000
        quantiles); values beyond the training range are clipped to its ends
        (about 5.2). Measured on the validation halves of the ablation of
        ``docs/nafal.rst``, neither alternative is ahead of ``"standard"``
        on every data set: ``"robust"`` lifts the F1 of arrhythmia and
        thyroid by 2-3 points and lowers cardio's by 8 and Epilepsy's ROC
        AUC by 5; ``"quantile"`` lifts cardio by 3 and lowers thyroid by 26.
    flow_transforms : int, default=4
        Flow blocks of the NAF (the paper: 4).
    flow_hidden_features : int, default=128
        Width of the two hidden layers of each block's conditioner (the
        paper: 128).
    flow_signal : int, default=16
        Signal size of the NAF's monotonic networks.
    flow_passes : int or None, default=2
        Sequential passes per block when sampling: 2 is a coupling-like
        split of the features (fast sampling), None is fully autoregressive
        (``transform_dim / 2`` times slower sampling).
    context_features : int, default=8
        Size of the learned embedding of the transformation index that
        conditions the flow.
    base_components : int, "auto" or "bic", default="auto"
        The flow's base distribution. 0: the standard normal (the paper's
        NAF). ``C > 0``: for each view a mixture of ``C`` full-covariance
        Gaussians (:class:`~alad.flows.MixtureBase`), fitted by EM to the
        flow's latents of the training data before training (at most one
        component per ``2 * transform_dim`` samples), then trained with the
        flow: data of several clusters need no longer be folded into one
        Gaussian by a short training run. ``"bic"``: the count of least BIC
        among 1, 2, 3, 5 and 10, and the standard normal when it is 1.
        ``"auto"``: ``"bic"`` with the dense extractor, i.e. on tabular data
        (a mixture only where the data are clustered: small sets of one
        cluster lose with one), 2 with the convolutional one, i.e. on series
        (which gain with them, though BIC on a few dozen series rarely asks
        for a mixture); chosen on the validation halves of ``docs/nafal.rst``
        (the flow's base). Fewer than ``2 * transform_dim`` samples keep the
        standard normal. ``base_components_`` says what was used.
    n_iterations : int, default=0
        Rounds of active augmentation (the paper's ``N_max = 5``); 0 is NAF-AD,
        the default: the rounds added no more than training as long in the
        measurements of ``docs/nafal.rst`` (Tables 1-3) and cost a draw from
        the flow per training sample and round.
    alpha : float, default=0.9
        Augmentation keeps drawn views whose log-likelihood is below the
        ``1 - alpha`` quantile of the training views' (whose score exceeds the
        ``alpha`` quantile): about ``1 - alpha`` of them.
    mahalanobis_level : float, default=0.95
        Drawn views whose features lie beyond the ``chi2.ppf(level, d)``
        squared Mahalanobis radius of the training features of the same
        transformation are rejected as outliers (the paper's chi-square 0.05).
    max_augment_ratio : float, default=0.5
        Augmentation stops once it added ``max_augment_ratio`` times as many
        views as there are training samples.
    n_samples : int or None, default=None
        Views drawn per round; None draws as many as there are training
        samples (the paper).
    max_epochs : int or None, default=None
        Epochs of the initial training; None trains about ``max_steps``
        optimiser steps, rounded to whole epochs (at least one), whatever
        the size of the training set.
    max_steps : int, default=200
        Length of the initial training in optimiser steps when ``max_epochs``
        is None.
    augment_epochs : int or None, default=None
        Epochs of training after each augmentation round; None trains about
        ``max_steps / 5`` steps.
    train_views : int or None, default=8
        Views per sample and batch in training, drawn at random from the
        ``n_transforms`` (an unbiased estimate of Eq. 7 that makes an epoch
        ``n_transforms / train_views`` times cheaper); None uses all.
    lr : float, default=1e-3
        Adam learning rate (the paper's).
    batch_size : int, default=64
        Samples per training batch.
    eval_batch_size : int or None, default=None
        Samples per batch when scoring (each gives ``n_transforms`` views);
        None takes about 512 views per batch, ``max(1, 512 //
        n_transforms)`` samples: the peak memory of scoring grows with the
        views of a batch (about 32 KB each), so on cardio at the defaults
        scoring adds about 12 MB above the model instead of 133 MB at 4,096
        views, as fast and with the same scores up to float32 rounding
        (about 1e-6: a sample's score can differ in its last digits with
        the samples batched beside it; ``benchmarks/naf_score_memory.py``).
        Once a head takes part (after labels), a score is a rank among the
        training scores, and a training sample ties with its own: that
        rounding can move it by one rank step (``1 / n`` training samples)
        and, at the threshold, flip its label.
    max_grad_norm : float or None, default=10.0
        Gradient-norm clipping; None disables it.
    feedback_epochs : int, default=0
        Epochs the flow trains per :meth:`partial_fit` call, on the normal
        data, the labelled normals and a hinge on the labelled anomalies. 0
        (the default) trains no flow in a round: the labels reach the score
        through the head (``score_head``) alone and the labelled normals join
        the training data of later training (:meth:`augment`), so a round
        costs the head's fit and one scoring of the training data. Chosen on
        validation parts in ``benchmarks/naf_labels.py``: level with 5 epochs
        of flow feedback (the default before) on AP, above it on ROC AUC, at
        about a quarter of a round's CPU time (``docs/nafal.rst``).
    anomaly_weight : float, default=1.0
        Weight of the hinge term on known anomalies in :meth:`partial_fit`.
    anomaly_margin : float, default=1.0
        The hinge pushes a known anomaly's flow score above ``threshold_ +
        anomaly_margin * std(decision_scores_)``, both of the flow's scores
        (once a head joins the score, of the flow's own training scores).
    score_head : {"classifier", "none"}, default="classifier"
        Whether the labels also train the score, not only the flow.
        ``"classifier"``: once a labelled sample is anomalous, each
        :meth:`partial_fit` (and :meth:`augment`) fits extremely randomised
        trees that tell the labelled anomalies from normal samples (the
        labelled normals and up to 500 training samples) on the standardised
        inputs (series flattened); the score is then the rank of the flow's
        score among its training scores (the share at or below it, growing
        past 1 beyond the largest; :func:`alad.label_head.reference_rank`)
        plus ``head_weight`` times the trees' probability of the anomalous
        class. Until an anomaly is labelled the score is the flow's own.
        ``"none"``: the flow's score only (the feedback of earlier versions,
        and of ``docs/nafal.rst``'s feedback study).
    head_weight : float or "skill", default=1.0
        Weight of the trees' probability against the flow's rank, both
        between 0 and 1 on the training data; 0 fits no head. ``"skill"``:
        let the labels decide, at every round: the trees' skill on the
        labelled samples they have not seen
        (:func:`alad.label_head.held_out_skill`: trees trained without a fold
        of the labelled samples, plus the replayed training samples, score
        that fold; ``2 * AUC - 1`` over the labelled anomalies against the
        labelled normals, floored at 0). A head that does not carry over to
        unseen samples weighs 0 and the score stays the flow's; with fewer
        than two anomalies or no normal sample labelled the skill cannot be
        measured and the weight is 1. ``feedback_history_`` records the
        weight of each round. ``"skill"`` is the time-series detector's
        default, not this one's: on the validation parts of
        ``benchmarks/naf_labels.py`` it was just below the fixed weight
        (mean AP 89.67 against 89.74), as a few labels rarely measure a skill
        below 1 (``docs/nafal.rst``, *Labels that pay*).
    head_features : {"inputs", "inputs+rank"}, default="inputs"
        What the head's trees see: the standardised inputs, or those and the
        rank of the flow's score (so that the trees can also split on it).
    query_strategy : {"hybrid", "top", "margin"}, default="hybrid"
        Which pool samples :meth:`query` offers. ``"top"``: the highest
        scores first (the likeliest anomalies, which the head learns from).
        ``"hybrid"``: half of them (rounded up) by ``"top"``, the rest by
        ``"margin"`` among the others. ``"margin"``: those nearest
        ``threshold_`` (Eq. 9 applied to real samples; earlier versions).
        The defaults ``score_head="classifier", query_strategy="hybrid"``
        were chosen on validation parts in
        ``benchmarks/naf_labels.py`` (``docs/nafal.rst``, *Labels that pay*);
        ``score_head="none", query_strategy="margin"`` is the feedback of
        earlier versions.
    budget : int or None, default=None
        Most samples that may be labelled through :meth:`partial_fit`.
    contamination : float, default=0.1
        Share of training samples above ``threshold_``.
    thresholding : {"contamination", "f1", "false_alarm"}, default="contamination"
        How ``threshold_`` is chosen. ``"contamination"``: the ``1 -
        contamination`` quantile of the training scores (PyOD's rule).
        ``"f1"``: once the labelled samples hold both classes, the threshold with
        the best F1 on them; ``"false_alarm"``: once they hold normals, the
        ``1 - false_alarm_rate`` quantile of their scores. Until the labels
        allow it, the contamination rule applies (``threshold_source_`` says
        which did). The head memorises its training samples, so the head's
        part of a labelled sample's score is what classifiers that did not
        see it say (held out by folds; a single labelled anomaly, which
        cannot be held out, is not read). Applied at every :meth:`fit` and
        :meth:`partial_fit`, or at once by :meth:`update_threshold`.
    false_alarm_rate : float, default=0.01
        Share of labelled normal samples (or timesteps) above ``threshold_`` for
        ``thresholding="false_alarm"``.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``; resolved at fit
        into ``device_``. Outputs are CPU float64 numpy arrays either way.
    random_state : int, RandomState instance or None, default=None
        Seeds the transformations, weights, batches and draws; the same value
        gives identical scores on CPU with the same number of torch threads
        (another count rounds float32 sums in another order: differences near
        1e-6). The global torch random state is left untouched.
    verbose : int, default=0
        0 silent; 1 prints skorch's table of epochs; 2 adds progress bars.

    Attributes
    ----------
    net_ : alad.training.flow_nets.FlowNet
        The skorch net; ``net_.module_`` is the :class:`alad.flows.NAFAD`.
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training data of :meth:`fit` under the current model.
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_`` with the
        default ``thresholding="contamination"``; another rule's threshold
        once labels allow it (``threshold_source_`` says which).
    threshold_source_ : {"contamination", "f1", "false_alarm"}
        The rule that set ``threshold_`` (see ``thresholding``).
    labels_ : ndarray of int64
        ``decision_scores_ > threshold_``.
    n_features_in_ : int
        Features of 2-D input; channels of 3-D input.
    input_shape_ : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(n_timepoints, n_channels)``.
    extractor_ : {"dense", "conv"}
        The extractor in use (``extractor="auto"`` resolved).
    transform_dim_ : int
        The view size in use.
    base_components_ : int
        Gaussians per view in the flow's base (``base_components="auto"``
        resolved); 0 is the standard normal.
    device_ : str
        The device the model lives on.
    n_train_ : int
        Normal samples :meth:`fit` trained on.
    n_augmented_ : int
        Views added by active augmentation.
    augmentation_history_ : list of dict
        Per round: views drawn, passing the likelihood filter, then the
        Mahalanobis filter, added, and the seconds spent sampling, filtering
        and training.
    n_labelled_ : int
        Samples labelled through :meth:`partial_fit`.
    n_feedback_rounds_ : int
        Completed :meth:`partial_fit` rounds (a rolled-back round does not
        count; ``feedback_history_`` lists them all).
    feedback_history_ : list of dict
        Per :meth:`partial_fit` round: normals and anomalies added, the hinge
        target, losses, whether the round was rolled back, and the head's
        weight after it (``head_weight``: 0 while no head is fitted, the
        measured skill with ``head_weight="skill"``).

    See Also
    --------
    alad.augment.filter_augmented : The filters of the augmentation rounds.
    alad.flows.NAFAD : The torch model.

    Notes
    -----
    **Inputs.** 2-D ``(n_samples, n_features)`` is standardised per feature;
    3-D whole series ``(n_series, n_timepoints, n_channels)`` per channel
    (over all series and timepoints, which keeps the shape of each series),
    then flattened to ``n_timepoints * n_channels`` values (``scaling``
    chooses the statistics: mean and standard deviation by default). Each sample or
    series gets one score. Series must share one length (resample them, e.g.
    ``load_uea(name, length=...)``).

    **Defaults and the paper's setting.** The defaults were chosen on
    validation halves of the ODDS and UEA protocols
    (``benchmarks/naf_ablation.py``, ``docs/nafal.rst``): 32 transformations,
    about 200 optimiser steps of 64 samples x 8 views, no augmentation
    rounds, for series the convolutional extractor over 4 stretches of
    time, and as the flow's base a mixture of Gaussians per view (BIC's
    count on tabular data, 2 on series). They
    fit cardio's 1,655 normal samples in about 20 CPU seconds
    (one thread of the 2-core AMD EPYC of ``docs/nafal.rst``; the former
    defaults, 256 transformations and 5 augmentation rounds, about 181).
    The method as the paper writes it is ``NAFALDetector(n_transforms=256,
    extractor="dense", n_iterations=5, train_views=None, flow_passes=None,
    extractor_volume="free", base_components=0)`` (its training length is not
    given).

    **Collapse.** With a trainable extractor, Eq. 6 as written is the
    likelihood of the features, not of the data: scaling all features by
    ``c`` adds ``-d log c`` to it, so maximum likelihood shrinks them without
    bound (measured in ``docs/nafal.rst``). Here the extractor is square and
    invertible, its weight matrices are used with ``|det| = 1`` and the
    leaky-ReLU log-determinant enters the likelihood
    (``extractor_volume="fixed"``): the objective is the exact log-density of
    the views ``T_k(x)``, and the features keep the volume of the views, so
    they can neither collapse nor drift in scale.

    **Augmented views** are drawn in feature space, as in the paper, and
    mapped back through the extractor's exact inverse; each is stored with
    its transformation index and counts as one training sample, so later
    training sees it through the current extractor.

    **Feedback.** :meth:`partial_fit` adds ``y == 0`` samples to the normal
    training data. With ``feedback_epochs > 0`` the flow then trains on
    them, and a ``y == 1`` sample enters a hinge term that raises its
    score until it exceeds the threshold by ``anomaly_margin`` standard
    deviations of the training scores, and no further; by default
    (``feedback_epochs=0``) the flow is left as it is. With
    ``score_head="classifier"`` (the default) the labelled samples also train
    extremely randomised trees whose probability of the anomalous class is
    added to the rank of the flow's score: on the validation parts of
    ``benchmarks/naf_labels.py`` this is what made the labels pay (the hinge
    alone moved no figure). ``score_head="none", query_strategy="margin"``
    is the feedback of earlier versions.

    References
    ----------
    .. [1] J. Zhang, K. Saleeby, T. Feldhausen, S. Bi, A. Plotkowski,
       D. Womble. Self-Supervised Anomaly Detection via Neural Autoregressive
       Flows with Active Learning. NeurIPS 2021 Workshop on Deep Generative
       Models and Downstream Applications.
    .. [2] C.-W. Huang, D. Krueger, A. Lacoste, A. Courville. Neural
       Autoregressive Flows. ICML 2018.
    .. [3] L. Bergman, Y. Hoshen. Classification-Based Anomaly Detection for
       General Data. ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from alad.detectors.nafal import NAFALDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 4))
    >>> det = NAFALDetector(n_transforms=4, transform_dim=2, flow_transforms=1,
    ...                     flow_hidden_features=8, max_epochs=1, augment_epochs=1,
    ...                     n_iterations=1, random_state=0).fit(X)
    >>> det.decision_function(X[:3]).shape
    (3,)
    >>> idx = det.query(X + 3, n_queries=2)
    >>> det = det.partial_fit((X + 3)[idx], [0, 1])
    >>> det.n_labelled_
    2
    """

    _parameter_constraints: dict = {
        **BaseDetector._parameter_constraints,
        "n_transforms": [Interval(numbers.Integral, 1, None, closed="left")],
        "transform_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 0, None, closed="left")],
        "negative_slope": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "extractor_volume": [StrOptions({"fixed", "logdet", "free"})],
        "scaling": [StrOptions({"standard", "robust", "quantile"})],
        "extractor": [StrOptions({"auto", "dense", "conv"})],
        "conv_segments": [Interval(numbers.Integral, 1, None, closed="left")],
        "flow_transforms": [Interval(numbers.Integral, 1, None, closed="left")],
        "flow_hidden_features": [Interval(numbers.Integral, 1, None, closed="left")],
        "flow_signal": [Interval(numbers.Integral, 1, None, closed="left")],
        "flow_passes": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "context_features": [Interval(numbers.Integral, 1, None, closed="left")],
        "base_components": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"auto", "bic"}),
        ],
        "n_iterations": [Interval(numbers.Integral, 0, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0.0, 1.0, closed="neither")],
        "mahalanobis_level": [Interval(numbers.Real, 0.0, 1.0, closed="neither")],
        "max_augment_ratio": [Interval(numbers.Real, 0.0, None, closed="left")],
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "augment_epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "train_views": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "lr": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "eval_batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_grad_norm": [Interval(numbers.Real, 0.0, None, closed="neither"), None],
        "feedback_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "anomaly_weight": [Interval(numbers.Real, 0.0, None, closed="left")],
        "anomaly_margin": [Interval(numbers.Real, None, None, closed="neither")],
        "budget": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "score_head": [StrOptions({"classifier", "none"})],
        "head_weight": [
            Interval(numbers.Real, 0.0, None, closed="left"),
            StrOptions({"skill"}),
        ],
        "query_strategy": [StrOptions({"hybrid", "margin", "top"})],
        "head_features": [StrOptions({"inputs", "inputs+rank"})],
    }

    def __init__(
        self,
        n_transforms=32,
        *,
        transform_dim=8,
        n_layers=1,
        negative_slope=0.2,
        extractor="auto",
        conv_segments=4,
        extractor_volume="fixed",
        scaling="standard",
        flow_transforms=4,
        flow_hidden_features=128,
        flow_signal=16,
        flow_passes=2,
        context_features=8,
        base_components="auto",
        n_iterations=0,
        alpha=0.9,
        mahalanobis_level=0.95,
        max_augment_ratio=0.5,
        n_samples=None,
        max_epochs=None,
        max_steps=200,
        augment_epochs=None,
        train_views=8,
        lr=1e-3,
        batch_size=64,
        eval_batch_size=None,
        max_grad_norm=10.0,
        feedback_epochs=0,
        anomaly_weight=1.0,
        anomaly_margin=1.0,
        score_head="classifier",
        head_weight=1.0,
        head_features="inputs",
        query_strategy="hybrid",
        budget=None,
        contamination=0.1,
        thresholding="contamination",
        false_alarm_rate=0.01,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.n_transforms = n_transforms
        self.transform_dim = transform_dim
        self.n_layers = n_layers
        self.negative_slope = negative_slope
        self.extractor = extractor
        self.conv_segments = conv_segments
        self.extractor_volume = extractor_volume
        self.scaling = scaling
        self.flow_transforms = flow_transforms
        self.flow_hidden_features = flow_hidden_features
        self.flow_signal = flow_signal
        self.flow_passes = flow_passes
        self.context_features = context_features
        self.base_components = base_components
        self.n_iterations = n_iterations
        self.alpha = alpha
        self.mahalanobis_level = mahalanobis_level
        self.max_augment_ratio = max_augment_ratio
        self.n_samples = n_samples
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.augment_epochs = augment_epochs
        self.train_views = train_views
        self.lr = lr
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.max_grad_norm = max_grad_norm
        self.feedback_epochs = feedback_epochs
        self.anomaly_weight = anomaly_weight
        self.anomaly_margin = anomaly_margin
        self.score_head = score_head
        self.head_weight = head_weight
        self.head_features = head_features
        self.query_strategy = query_strategy
        self.budget = budget
        self.contamination = contamination
        self.thresholding = thresholding
        self.false_alarm_rate = false_alarm_rate
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- input handling ----------------------------------------------------
    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        """Validate 2-D samples or 3-D series; return a float array.

        After fit (``reset=False``) the values are also checked against the
        range the float32 model can score; at fit, :meth:`fit` checks them
        against the statistics it computes.
        """
        # sparse input is refused by validate_data with sklearn's message
        dims = len(check_input_shape(X))
        if dims == 3:
            X = check_array(
                X, allow_nd=True, dtype=(np.float64, np.float32), input_name="X"
            )
            if reset:
                self.n_features_in_ = X.shape[2]
                # 3-D arrays carry no column names: drop those of an earlier
                # fit on a DataFrame, as validate_data does for 2-D input
                self.__dict__.pop("feature_names_in_", None)
                self.input_shape_ = tuple(X.shape[1:])
            elif tuple(X.shape[1:]) != self.input_shape_:
                raise ValueError(
                    f"X has samples of shape {tuple(X.shape[1:])}, but "
                    f"{type(self).__name__} was fitted with samples of shape "
                    f"{self.input_shape_}."
                )
        elif dims == 2:
            if not reset and len(self.input_shape_) != 1:
                raise ValueError(
                    f"{type(self).__name__} was fitted on 3-D series of shape "
                    f"{self.input_shape_}; X must be 3-D too, got 2-D X."
                )
            X = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32))
            if reset:
                self.input_shape_ = (X.shape[1],)
        else:
            raise ValueError(
                "X must be 2-D samples (n_samples, n_features) or 3-D series "
                f"(n_series, n_timepoints, n_channels); got {dims} dimension(s). "
                "Reshape your data: X.reshape(-1, 1) for a single feature, "
                "X.reshape(1, -1) for a single sample."
            )
        if not reset:
            check_scaled_range(X, self.scaler_mean_, self.scaler_scale_)
        return X

    def _standardized(self, X: np.ndarray) -> np.ndarray:
        """Scale (per feature or channel, see ``scaling``), flatten to float32."""
        if self._quantile is not None:
            channels = X.reshape(-1, X.shape[-1])
            Z = self._quantile.transform(channels).astype(np.float32)
            return Z.reshape(len(X), -1)
        Z = standardize(X, self.scaler_mean_, self.scaler_scale_)
        return Z.reshape(len(Z), -1)

    def _fit_scaling(self, X: np.ndarray, seed: int):
        """``(mean, scale, quantile transformer or None)`` of ``scaling``.

        ``mean`` and ``scale`` are the centre and scale used to check the
        range of inputs (:func:`~alad.validation.check_scaled_range`), and
        to scale them unless ``scaling="quantile"``.
        """
        mean, scale = standard_scaling(X)
        if self.scaling == "robust":
            mean, scale = _robust_scaling(X, scale)
        quantile = None
        if self.scaling == "quantile":
            channels = X.reshape(-1, X.shape[-1])
            quantile = QuantileTransformer(
                n_quantiles=min(1000, len(channels)),
                output_distribution="normal",
                random_state=seed,
            ).fit(channels)
        return mean, scale, quantile

    # -- model pieces ------------------------------------------------------
    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=self.device_)

    def _eval_batch_size(self) -> int:
        """Samples per scoring batch: ``eval_batch_size``, or ~512 views.

        A batch's flow rows (samples x ``n_transforms``) set the peak memory
        of scoring, about 32 KB per row with the default flow (zuko's NAF
        keeps the graph of its monotonic networks to take their derivative):
        512 rows add about 12 MB on cardio and score as fast as 4,096
        (``benchmarks/naf_score_memory.py``).
        """
        if self.eval_batch_size is not None:
            return self.eval_batch_size
        return max(1, EVAL_FLOW_ROWS // self.n_transforms)

    def _score_flat(self, flat: np.ndarray, module: NAFAD | None = None) -> np.ndarray:
        """Eq. 7 for standardised flat samples, as float64."""
        module = self.net_.module_ if module is None else module
        module.eval()
        scores = np.empty(len(flat), dtype=np.float64)
        with torch.no_grad():
            step = self._eval_batch_size()
            for start in range(0, len(flat), step):
                chunk = self._to_tensor(flat[start : start + step])
                scores[start : start + len(chunk)] = (
                    module.score(chunk).to("cpu", torch.float64).numpy()
                )
        return scores

    def _score(self, flat: np.ndarray) -> np.ndarray:
        """The detector's score of standardised flat samples: the flow's, or
        its rank plus the head's probability once a head is fitted."""
        scores = self._score_flat(flat)
        if self._head is None:
            return scores
        ranks = reference_rank(self._head_reference, scores)
        with_rank = self._head_features == "inputs+rank"
        probability = self._head_probability(
            self._head, flat, ranks if with_rank else None
        )
        return ranks + self._head_weight * probability

    @staticmethod
    def _head_inputs(flat: np.ndarray, ranks: np.ndarray | None) -> np.ndarray:
        """The head's features: the samples, and the flow's rank when given."""
        if ranks is None:
            return flat
        return np.concatenate([flat, ranks[:, None].astype(flat.dtype)], axis=1)

    @classmethod
    def _head_probability(
        cls, head, flat: np.ndarray, ranks: np.ndarray | None = None
    ) -> np.ndarray:
        """The head's probability of the anomalous class, in bounded batches."""
        out = np.empty(len(flat), dtype=np.float64)
        for start in range(0, len(flat), 4096):
            part = slice(start, start + 4096)
            features = cls._head_inputs(
                flat[part], None if ranks is None else ranks[part]
            )
            out[part] = head.predict_proba(features)[:, 1]
        return out

    def _head_sets(self, train_x, anomaly_x, module, reference, kind):
        """The head's training features: labelled anomalies, labelled normals
        and replayed training samples, and the classifier's seed.

        Replayed: up to ``HEAD_REPLAY`` training samples, drawn from the fit's
        seed and the number of labelled samples only (a function of the
        state). With features of ``kind`` ``"inputs+rank"`` each sample's
        flow rank under ``module`` among ``reference`` joins its inputs.
        """
        labelled_normal = train_x[len(self._fit_x) :]
        n_anomalous, n_normal = len(anomaly_x), len(labelled_normal)
        rng = np.random.default_rng([self._seed, n_anomalous + n_normal, 7])
        n = min(HEAD_REPLAY, len(self._fit_x))
        replay = self._fit_x[np.sort(rng.choice(len(self._fit_x), n, replace=False))]
        features = np.concatenate([anomaly_x, labelled_normal, replay])
        if kind == "inputs+rank":
            flow = self._score_flat(features, module)
            features = self._head_inputs(features, reference_rank(reference, flow))
        end = n_anomalous + n_normal
        seed = int(rng.integers(2**31 - 1))
        return features[:n_anomalous], features[n_anomalous:end], features[end:], seed

    def _held_out_seed(self, n_labelled: int) -> int:
        """The seed of the head's held-out estimates (skill, threshold)."""
        rng = np.random.default_rng([self._seed, n_labelled, 8])
        return int(rng.integers(2**31 - 1))

    def _fit_head(self, state: _FlowState, reference: np.ndarray):
        """The classifier of ``state``'s labelled samples and its weight, or None.

        Trained on :meth:`_head_sets`. The weight is ``head_weight``, or with
        ``"skill"`` the trees' held-out skill on the labelled samples
        (:func:`alad.label_head.held_out_skill` on the same features, the
        replayed samples always in training): 1 when it cannot be measured,
        and no head (None) when it is 0.
        """
        if self.score_head == "none" or self.head_weight == 0:
            return None
        if not len(state.anomaly_x):
            return None
        anomalous, normal, replay, seed = self._head_sets(
            state.train_x,
            state.anomaly_x,
            state.net.module_,
            reference,
            self.head_features,
        )
        weight = self.head_weight
        if weight == "skill":
            skill = held_out_skill(
                anomalous,
                normal,
                replay,
                random_state=self._held_out_seed(len(anomalous) + len(normal)),
                features=np.asarray,
            )
            # unmeasurable (fewer than two anomalies or no labelled normal):
            # full weight; no skill: the labels say the head does not carry over
            weight = 1.0 if skill is None else skill
            if weight == 0:
                return None
        classifier = fit_window_classifier(
            anomalous,
            np.concatenate([normal, replay]),
            random_state=seed,
            features=np.asarray,
        )
        return classifier, float(weight)

    def _held_out_label_probabilities(self) -> np.ndarray:
        """The committed head's probability of each labelled sample (normals,
        then anomalies), from classifiers that did not see it
        (:func:`alad.label_head.held_out_probabilities`); ``nan`` for a sample
        that cannot be held out (a single anomaly)."""
        anomalous, normal, replay, _ = self._head_sets(
            self._train_x,
            self._anomaly_x,
            self.net_.module_,
            self._head_reference,
            self._head_features,  # the committed head's, whatever set_params said since
        )
        held_out = held_out_probabilities(
            anomalous,
            normal,
            replay,
            random_state=self._held_out_seed(len(anomalous) + len(normal)),
            features=np.asarray,
        )
        if held_out is None:
            return np.full(len(normal) + len(anomalous), np.nan)
        p_anomalous, p_normal = held_out
        return np.r_[p_normal, p_anomalous]

    def _training_data(self, state: _FlowState) -> tuple[dict, np.ndarray]:
        """Rows of every training sample: normals, anomalies, augmented views.

        Samples enter as themselves (the model makes their views); an
        augmented view enters as one row whose mask selects the
        transformation it was drawn for. ``y`` is ``nan`` for normal rows and
        the hinge target for known anomalies (see
        :class:`~alad.training.flow_nets.LikelihoodHingeLoss`).
        """
        K, m = self.n_transforms, self.transform_dim_
        real = np.concatenate([state.train_x, state.anomaly_x])
        n_real, n_aug = len(real), len(state.aug_views)
        mask = np.zeros((n_real + n_aug, K), dtype=bool)
        mask[:n_real] = True
        mask[n_real + np.arange(n_aug), state.aug_k] = True
        target = np.nan if state.hinge_target is None else state.hinge_target
        X = {
            "x": np.concatenate([real, np.zeros((n_aug, real.shape[1]), np.float32)]),
            "mask": mask,
            "view": np.concatenate(
                [np.zeros((n_real, m), np.float32), state.aug_views]
            ),
            "is_view": np.arange(n_real + n_aug) >= n_real,
        }
        y = np.concatenate(
            [
                np.full(len(state.train_x), np.nan, np.float32),
                np.full(len(state.anomaly_x), target, np.float32),
                np.full(n_aug, np.nan, np.float32),
            ]
        )
        return X, y

    def _epochs(self, epochs: int | None, steps: int) -> int:
        """``epochs``, or the whole epochs that give about ``steps`` steps."""
        if epochs is not None:
            return epochs
        batches = math.ceil(len(self._fit_x) / self.batch_size)
        return max(1, round(steps / batches))

    # -- the transactional round -------------------------------------------
    def _state(self) -> _FlowState:
        return _FlowState(
            net=self.net_,
            train_x=self._train_x,
            anomaly_x=self._anomaly_x,
            aug_views=self._aug_views,
            aug_k=self._aug_k,
            hinge_target=self._hinge_target,
            n_augmented=self.n_augmented_,
            augmentation_history=tuple(self.augmentation_history_),
        )

    def _train_round(
        self, state: _FlowState, epochs: int, seed: int
    ) -> tuple[_FlowState, list[float], bool]:
        """Train a copy of the net on ``state``'s data for ``epochs``.

        Returns the state with the trained copy when its weights and losses
        are finite and bounded, else ``state`` itself (the round is rolled
        back); the scores of the training data are checked at commit.
        """
        if epochs == 0:  # the labels go to the head only (feedback_epochs=0)
            return state, [], True
        X, y = self._training_data(state)
        net = self._with_current_settings(copy.deepcopy(state.net))
        with seeded(seed, self.device_):
            losses = train_epochs(net, X, y, epochs=epochs)
        sound = weights_are_finite(net.module_) and all(
            abs(v) <= MAX_TRAINING_SCORE for v in losses
        )
        if not sound:
            return state, losses, False
        return dataclasses.replace(state, net=net), losses, True

    def _with_current_settings(self, net: FlowNet) -> FlowNet:
        """``net`` (a copy) set to train as the detector's parameters say now.

        The net is built at :meth:`fit`; ``set_params`` between rounds (a
        lower ``lr`` after a diverged round, another ``anomaly_weight``) must
        reach the rounds that follow. Set in place, so that Adam's moments
        and the view generator carry on as they would unchanged.
        """
        net.batch_size = self.batch_size
        net.train_views = self.train_views
        net.lr = self.lr
        for group in net.optimizer_.param_groups:
            group["lr"] = self.lr
        net.criterion__anomaly_weight = self.anomaly_weight
        net.criterion_.anomaly_weight = self.anomaly_weight
        clip = dict(net.callbacks_).get("clip")
        if clip is not None:
            clip.gradient_clip_value = self.max_grad_norm
        elif self.max_grad_norm is not None:
            net.callbacks_.append(
                ("clip", GradientNormClipping(self.max_grad_norm).initialize())
            )
        return net

    def _commit(self, state: _FlowState) -> bool:
        """Score the training data under ``state``; bind it if sound.

        Returns False, binding nothing, when the scores are not finite or
        beyond :data:`~alad.transaction.MAX_TRAINING_SCORE`.
        """
        kept = getattr(self, "_fit_flow_scores", None)
        if kept is not None and state.net is getattr(self, "net_", None):
            # a round that trained no flow (feedback_epochs=0): its scores of
            # the training data are those bound with it, no need to rescore
            scores = kept
        else:
            scores = self._score_flat(self._fit_x, state.net.module_)
        if not self._is_sound(state.net.module_, scores):
            return False
        flow_scores = scores
        reference = np.sort(scores)
        fitted = self._fit_head(state, reference)
        if fitted is None:
            self._head, self._head_reference, self._head_weight = None, None, 0.0
            self._head_features = "inputs"
        else:
            head, weight = fitted
            ranks = reference_rank(reference, scores)
            with_rank = self.head_features == "inputs+rank"
            scores = ranks + weight * self._head_probability(
                head, self._fit_x, ranks if with_rank else None
            )
            self._head, self._head_reference = head, reference
            self._head_weight = weight
            self._head_features = self.head_features
        self.net_, self._fit_flow_scores = state.net, flow_scores
        self._train_x, self._anomaly_x = state.train_x, state.anomaly_x
        self._aug_views, self._aug_k = state.aug_views, state.aug_k
        self._hinge_target = state.hinge_target
        self.n_augmented_ = state.n_augmented
        self.augmentation_history_ = list(state.augmentation_history)
        self._set_training_scores(scores)
        return True

    # -- fit ---------------------------------------------------------------
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on ``X`` taken as normal, then run the augmentation rounds.

        The call completes, or leaves the detector exactly as it was (a
        refused or interrupted refit keeps the previous model; a failed first
        fit leaves it unfitted).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_series, n_timepoints, n_channels)
            Normal training data.
        y : ignored
            Not used, present for API consistency (PyOD's unsupervised
            ``fit``); labels are learnt from through :meth:`partial_fit`.

        Returns
        -------
        self : NAFALDetector

        Raises
        ------
        FloatingPointError
            If training diverged (lower ``lr``); the detector is left as it was.
        KeyboardInterrupt
            On Ctrl-C during training, after the detector is left as it was.
        """
        X = self._validate_X(X, reset=True)
        extractor = self.extractor
        if extractor == "auto":
            series = len(self.input_shape_) == 2 and self.n_iterations == 0
            extractor = "conv" if series else "dense"
        if extractor == "conv" and len(self.input_shape_) != 2:
            raise ValueError(
                "extractor='conv' convolves over time and needs 3-D series "
                "(n_series, n_timepoints, n_channels); got 2-D X. Use "
                "extractor='dense' for tabular data."
            )
        if extractor == "conv" and self.n_iterations > 0:
            raise ValueError(
                "extractor='conv' has no inverse, so active augmentation cannot "
                f"map drawn features back to views; n_iterations must be 0, got "
                f"{self.n_iterations}. Use extractor='dense' for NAF-AL."
            )
        device, seed = self._new_fit()
        mean, scale, quantile = self._fit_scaling(X, seed)
        check_scaled_range(X, mean, scale)
        self.scaler_mean_, self.scaler_scale_ = mean, scale
        self._quantile = quantile
        self.device_, self._seed = device, seed
        self.extractor_ = extractor
        self._fit_x = self._standardized(X)
        conv = extractor == "conv"
        self.transform_dim_ = (
            self.transform_dim
            if conv
            else min(self.transform_dim, self._fit_x.shape[1])
        )

        components, select = self._base_plan(conv)
        with seeded(seed, device):
            module = NAFAD(
                self._fit_x.shape[1],
                self.n_transforms,
                self.transform_dim_,
                torch.Generator().manual_seed(seed),
                n_layers=self.n_layers,
                negative_slope=self.negative_slope,
                context_features=self.context_features,
                volume_term=self.extractor_volume != "free",
                normalize_volume=self.extractor_volume == "fixed",
                flow_params={
                    "transforms": self.flow_transforms,
                    "hidden_features": self.flow_hidden_features,
                    "signal": self.flow_signal,
                    "passes": self.flow_passes,
                },
                extractor=extractor,
                series_shape=self.input_shape_ if conv else None,
                conv_segments=self.conv_segments,
                base_components=components,
            )
            module.transforms.standardize_(torch.from_numpy(self._fit_x))
            self.base_components_ = fit_base(
                module, torch.from_numpy(self._base_sample(seed)), seed, select=select
            )
        net = FlowNet(
            module,
            criterion=LikelihoodHingeLoss,
            criterion__anomaly_weight=self.anomaly_weight,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self._epochs(self.max_epochs, self.max_steps),
            batch_size=self.batch_size,
            train_split=None,
            callbacks=training_callbacks(
                patience=None,
                monitor="train_loss",
                verbose=self.verbose,
                max_grad_norm=self.max_grad_norm,
            ),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            device=device,
            verbose=self.verbose,
            train_views=self.train_views,
            view_seed=seed,
        )
        net.initialize()
        state = _FlowState(
            net=net,
            train_x=self._fit_x,
            anomaly_x=self._fit_x[:0],
            aug_views=np.empty((0, self.transform_dim_), np.float32),
            aug_k=np.empty(0, np.int64),
            hinge_target=None,
            n_augmented=0,
            augmentation_history=(),
        )
        state, _, sound = self._train_round(
            state, self._epochs(self.max_epochs, self.max_steps), self._round_seed(0)
        )
        if sound:
            state = self._augment(state, self.n_iterations)
        if not (sound and self._commit(state)):
            raise FloatingPointError(
                "Training diverged: the flow's weights, losses or the scores of the "
                "training data are not finite (or beyond 1e10); lower lr or "
                "max_grad_norm. The detector is left as it was."
            )
        self.n_train_ = len(self._fit_x)
        self.n_labelled_ = 0
        self.n_feedback_rounds_ = 0
        self._told = np.empty(0, dtype="S16")
        self._bind_fit_params()
        self.feedback_history_ = []
        return self

    #: training samples the mixture base is fitted to, at most (EM on more
    #: buys little and costs a pass of the model over them)
    _base_fit_samples = 4096

    #: ``base_components="auto"`` on series: Gaussians per view (capped by
    #: the number of series), chosen on the ablation's validation halves
    _series_components = 2

    def _base_plan(self, conv: bool) -> tuple[int, bool]:
        """Components of the module's base, and whether BIC picks how many
        of them to use (``base_components`` resolved)."""
        if self.base_components == "bic" or (
            self.base_components == "auto" and not conv
        ):
            return max(MIXTURE_CANDIDATES), True
        if self.base_components == "auto":
            return self._series_components, False
        return self.base_components, False

    def _base_sample(self, seed: int) -> np.ndarray:
        """The training samples the mixture base is fitted to."""
        n = len(self._fit_x)
        if n <= self._base_fit_samples:
            return self._fit_x
        rng = np.random.default_rng([seed, 11])
        return self._fit_x[
            np.sort(rng.choice(n, self._base_fit_samples, replace=False))
        ]

    # -- active augmentation (Algorithm 1) ---------------------------------
    @transactional
    def augment(self, n_iterations=None):
        """Run (more) rounds of active augmentation on the fitted detector.

        :meth:`fit` runs ``n_iterations`` rounds already; calling
        ``fit`` with ``n_iterations=0`` and then ``augment(r)`` gives the same
        model as ``fit`` with ``n_iterations=r`` (useful to score NAF-AD and
        NAF-AL from one training run), with the same extractor: on series,
        ``extractor="auto"`` takes the convolutional one when
        ``n_iterations=0``, which cannot augment (fit with
        ``extractor="dense"`` to augment later). A round that diverges is rolled back
        with a :class:`~alad.DivergenceWarning`; an exception or
        Ctrl-C leaves the detector exactly as it was.

        Parameters
        ----------
        n_iterations : int or None, default=None
            Rounds to run; None uses ``self.n_iterations``. Rounds stop early
            once ``max_augment_ratio`` is reached.

        Returns
        -------
        self : NAFALDetector
        """
        self._check_entry()
        n = check_count(n_iterations, "n_iterations", minimum=0, allow_none=True)
        if self.extractor_ == "conv" and (self.n_iterations if n is None else n) > 0:
            chosen = (
                "extractor='auto' chose 'conv' for series at fit (n_iterations=0)"
                if self.extractor == "auto"
                else "extractor='conv'"
            )
            raise ValueError(
                f"{chosen}, which has no inverse, so active augmentation cannot "
                "map drawn features back to views. Refit with extractor='dense' "
                "to augment."
            )
        state = self._augment(self._state(), self.n_iterations if n is None else n)
        if not self._commit(state):
            self._warn_diverged("Active augmentation", "lr or max_grad_norm")
        return self

    def _augment(self, state: _FlowState, n_iterations: int) -> _FlowState:
        for _ in range(n_iterations):
            quota = augmentation_quota(
                len(self._fit_x), state.n_augmented, self.max_augment_ratio
            )
            if quota <= 0:
                break
            state = self._augment_round(state, quota)
        return state

    def _augment_round(self, state: _FlowState, quota: int) -> _FlowState:
        round_index = len(state.augmentation_history) + 1
        K = self.n_transforms
        rng = np.random.default_rng([self._seed, round_index, 3])
        n_draw = self.n_samples or len(state.train_x)
        k = rng.permutation(np.arange(n_draw) % K)
        module = state.net.module_
        module.eval()

        start = time.perf_counter()
        drawn = []
        with seeded(self._round_seed(round_index, 4), self.device_):
            # draws in chunks of 1,024 views (eval_batch_size * 8 when set)
            step = 8 * self.eval_batch_size if self.eval_batch_size else 1024
            for s in range(0, n_draw, step):
                drawn.append(
                    module.sample(torch.as_tensor(k[s : s + step], device=self.device_))
                )
        views, features, log_prob = (torch.cat(part) for part in zip(*drawn))
        views = views.cpu().numpy()  # float32, as the training rows
        features, log_prob = _numpy(features), _numpy(log_prob)
        t_sample = time.perf_counter() - start

        start = time.perf_counter()
        finite = np.isfinite(log_prob) & np.isfinite(views).all(1)
        # reference: one random view of each training sample, and the features
        # of every training view for the per-transformation Gaussians
        ref_k = rng.integers(K, size=len(state.train_x))
        reference = []
        with torch.no_grad():
            for s in range(0, len(state.train_x), 1024):
                reference.append(
                    module.reference(
                        self._to_tensor(state.train_x[s : s + 1024]),
                        torch.as_tensor(ref_k[s : s + 1024], device=self.device_),
                    )
                )
        ref_log_prob, ref_features = (_numpy(torch.cat(p)) for p in zip(*reference))
        ref_features = ref_features.reshape(-1, ref_features.shape[-1])
        ref_groups = np.tile(np.arange(K), len(state.train_x))
        kept, info = filter_augmented(
            log_prob[finite],
            features[finite],
            ref_log_prob,
            ref_features,
            alpha=self.alpha,
            level=self.mahalanobis_level,
            quota=quota,
            groups=k[finite],
            reference_groups=ref_groups,
            n_groups=K,
        )
        kept = np.flatnonzero(finite)[kept]
        t_filter = time.perf_counter() - start

        start = time.perf_counter()
        losses, rolled_back, new_state = [], False, state
        if kept.size:
            grown = dataclasses.replace(
                state,
                aug_views=np.concatenate([state.aug_views, views[kept]]),
                aug_k=np.concatenate([state.aug_k, k[kept]]),
                n_augmented=state.n_augmented + int(kept.size),
            )
            trained, losses, sound = self._train_round(
                grown,
                self._epochs(self.augment_epochs, max(1, self.max_steps // 5)),
                self._round_seed(round_index, 5),
            )
            rolled_back = not sound
            if rolled_back:
                self._warn_diverged(
                    f"Augmentation round {round_index}", "lr or max_grad_norm"
                )
            else:
                new_state = trained
        info.update(
            round=round_index,
            n_non_finite=int((~finite).sum()),
            n_added=0 if rolled_back else int(kept.size),
            train_loss=losses,
            rolled_back=rolled_back,
            seconds_sampling=t_sample,
            seconds_filtering=t_filter,
            seconds_training=time.perf_counter() - start,
        )
        return dataclasses.replace(
            new_state, augmentation_history=(*state.augmentation_history, info)
        )

    # -- scoring API -------------------------------------------------------
    def decision_function(self, X):
        """Anomaly score of each sample or series (Eq. 7).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_series, n_timepoints, n_channels)

        Returns
        -------
        scores : ndarray of float64 of shape (n_samples,)
            Mean negative log-likelihood over the transformations; higher is
            more anomalous.
        """
        self._check_entry()
        X = self._validate_X(X, reset=False)
        return self._score(self._standardized(X))

    # -- active learning ---------------------------------------------------
    _fit_bound_params = ("n_transforms", "extractor", "scaling", "base_components")

    #: a detector pickled before ``extractor`` existed used the dense one
    #: ... and one pickled before the label head kept the flow's score and
    #: the marginal query (and, should it take a head, the fixed weight 1.0
    #: of the first heads, not the measured skill)
    _params_added_later = {
        "extractor": "dense",
        "score_head": "none",
        "query_strategy": "margin",
        "head_weight": 1.0,
        # ... and one pickled before the mixture base had the standard normal
        "base_components": 0,
    }

    _state_added_later = {
        **BaseDetector._state_added_later,
        # the mixture base came later: the standard normal
        "base_components_": lambda det: 0,
        # the extractor was always the dense one before ``extractor`` existed
        "extractor_": lambda det: "dense",
        # the hinge target lived in the criterion before it travelled in y
        "_hinge_target": lambda det: getattr(det.net_.criterion_, "target", None),
        # scaling came later: standard scaling, no quantile transformer
        "_quantile": lambda det: None,
        # the label head (score_head) came later: none fitted
        "_head": lambda det: None,
        "_head_reference": lambda det: None,
        "_head_weight": lambda det: 0.0,
        "_head_features": lambda det: "inputs",
        # the flow's scores of the training data were not kept: rescore once
        "_fit_flow_scores": lambda det: None,
        # the rounds were counted later: those committed
        "n_feedback_rounds_": lambda det: sum(
            not entry.get("rolled_back", False) for entry in det.feedback_history_
        ),
    }

    _feedback_params = frozenset(
        {
            "budget",
            "feedback_epochs",
            "anomaly_weight",
            "anomaly_margin",
            "score_head",
            "head_weight",
            "head_features",
            "query_strategy",
            "thresholding",
            "false_alarm_rate",
        }
    )

    def _n_labelled(self) -> int:
        return self.n_labelled_

    def _labelled_scores(self):
        """Scores and labels of the labelled samples, or None.

        The head's part of a sample's score is its held-out probability
        (:meth:`_held_out_label_probabilities`): the head memorised the
        labelled samples, so their in-sample scores would put a threshold
        chosen on them in a gap that memorisation made. A sample the head
        cannot score out of sample is left out.
        """
        normal = self._train_x[len(self._fit_x) :]
        if not (len(normal) or len(self._anomaly_x)):
            return None
        labelled = np.concatenate([normal, self._anomaly_x])
        labels = np.r_[np.zeros(len(normal)), np.ones(len(self._anomaly_x))]
        if self._head is None:
            return self._score(labelled), labels
        ranks = reference_rank(self._head_reference, self._score_flat(labelled))
        scores = ranks + self._head_weight * self._held_out_label_probabilities()
        known = ~np.isnan(scores)
        return scores[known], labels[known]

    def _default_n_queries(self) -> int:
        return 10

    def query(self, X, y=None, n_queries=None):
        """Choose pool samples to label, by ``query_strategy``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_series, n_timepoints, n_channels)
            The pool.
        y : array-like of shape (n_samples,) or None, default=None
            Labels known so far, ``np.nan`` where unlabelled; labelled
            samples are not offered again, nor are samples this detector has
            learnt from in :meth:`partial_fit` (recognised by their values),
            even when ``y`` is omitted. Of samples equal in every value,
            only the first is offered, and none once one is labelled: the
            detector learns one label for them and charges one.
        n_queries : int or None, default=None
            Number of samples; default 10, capped by the remaining ``budget``
            and the unlabelled samples left.

        Returns
        -------
        idx : ndarray of int64
            Indices into ``X``. ``"top"``: highest score first.
            ``"margin"``: nearest the threshold first, the smallest
            ``|S(x) - threshold_| / max |S - threshold_|``
            (:func:`alad.query.select_marginal`). ``"hybrid"``: the highest
            ``ceil(n / 2)`` scores, then the rest by ``"margin"``.

        Raises
        ------
        PoolExhaustedError
            If every sample of ``X`` is labelled.
        """
        self._check_entry()
        X = self._validate_X(X, reset=False)
        n_queries = self._n_queries(n_queries, y)
        unlabelled = np.ones(len(X), dtype=bool)
        if y is not None:
            y = check_labels(y)
            if y.shape != (len(X),):
                raise ValueError(
                    f"y must have one label per sample of X, shape ({len(X)},); "
                    f"got {y.shape}."
                )
            unlabelled = np.isnan(y)
        prints = fingerprints(X)
        if len(self._told) and unlabelled.any():
            # samples this detector has learnt from are never asked again
            unlabelled &= ~np.isin(prints, self._told)
        unlabelled = first_unknown_copy(prints, unlabelled)
        if not unlabelled.any():
            raise PoolExhaustedError(
                "Every sample of X is already labelled: y has no nan sample left "
                "that this detector has not learnt from in partial_fit; there is "
                "nothing left to query."
            )
        candidates = np.flatnonzero(unlabelled)
        scores = self._score(self._standardized(X[candidates]))
        order = self._query_order(scores, n_queries)
        return candidates[order].astype(np.int64)

    def _query_order(self, scores: np.ndarray, n: int) -> np.ndarray:
        """Positions in ``scores`` to offer, by ``query_strategy``."""
        top = np.argsort(-scores, kind="stable")
        if self.query_strategy == "top":
            return top[:n]
        if self.query_strategy == "margin":
            return select_marginal(scores, self.threshold_, n)
        return select_top_and_marginal(scores, self.threshold_, n)

    def _anomaly_target(self) -> float:
        """The flow score a known anomaly is pushed above in :meth:`partial_fit`.

        ``threshold_ + anomaly_margin * std(decision_scores_)`` while the
        score is the flow's. Once a head is fitted those two are in the head's
        unit (a rank plus a probability, about 0 to 2) while the hinge reads
        the flow's score (a negative log-likelihood), so the target is taken
        from the flow's own scores of the training data, thresholded by
        ``contamination`` as ``threshold_`` is without labels.
        """
        if self._head is None:
            return self.threshold_ + self.anomaly_margin * float(
                np.std(self.decision_scores_)
            )
        flow = self._fit_flow_scores
        threshold = float(np.percentile(flow, 100 * (1 - self.contamination)))
        return threshold + self.anomaly_margin * float(np.std(flow))

    @transactional
    def partial_fit(self, X, y, classes=None):
        """Learn from labelled samples: the label head, and the flow if asked.

        ``y == 0`` samples join the normal training data; with
        ``feedback_epochs > 0``, ``y == 1`` samples enter a hinge term that
        raises their flow score above ``threshold_ + anomaly_margin *
        std(decision_scores_)`` (once a head is fitted, the same taken from
        the flow's own scores of the training data), and a copy of the model,
        continuing from the current weights, trains that many
        epochs on all training data (normal samples, augmented views and every
        labelled sample so far) and replaces the model if its weights and the
        scores of the training data are finite; with 0 (the default) the flow
        is left as it is. With ``score_head="classifier"`` and at least one
        labelled anomaly so far, the head is fitted again on every labelled
        sample and the score becomes the flow's rank plus its probability;
        ``decision_scores_``/``threshold_`` are recomputed in that unit. A
        diverged round is rolled back with a
        :class:`~alad.DivergenceWarning` and its labels are not
        charged to the budget; an exception or Ctrl-C leaves the detector
        exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_series, n_timepoints, n_channels)
            Labelled samples, typically ``X_pool[query(X_pool)]``.
        y : array-like of shape (n_samples,)
            1 (anomaly), 0 (normal) or ``np.nan`` (unknown, ignored): only
            labelled samples are learnt from and count for the budget, so the
            whole pool with ``nan`` for unlabelled samples works too. A
            sample learnt from before (the same values) is learnt from once:
            its label here replaces the earlier one in its place among the
            labelled samples, and it is not charged to the budget again, so
            passing every label so far, in the order first given, trains as
            passing the new samples alone. The order of the new samples is
            the order the rounds draw them in: another order gives another
            model, equally good, not the same bits.
        classes : ignored
            Accepted for compatibility with active-learning wrappers.

        Returns
        -------
        self : NAFALDetector
        """
        self._check_entry()
        X = self._validate_X(X, reset=False)
        y = check_labels(y)
        if y.shape != (len(X),):
            raise ValueError(
                f"y must have one label per sample of X, shape ({len(X)},); got "
                f"{y.shape}."
            )
        known = ~np.isnan(y)
        if not known.any():
            raise ValueError("y holds no label (all nan); nothing to learn from.")
        # a sample labelled again replaces its earlier label, charged once
        samples, labels = X[known], y[known]
        prints = fingerprints(samples)
        distinct = last_of_each(prints)
        samples, labels, prints = samples[distinct], labels[distinct], prints[distinct]
        flat = self._standardized(samples)
        fitted, normal = np.split(self._train_x, [len(self._fit_x)])
        rows, targets, n_first = relabelled(
            np.concatenate([normal, self._anomaly_x]),
            np.repeat([0.0, 1.0], [len(normal), len(self._anomaly_x)]),
            flat,
            labels,
            prints,
            self._told,
        )
        self._check_within_budget(n_first)
        target = self._anomaly_target()
        state = dataclasses.replace(
            self._state(),
            train_x=np.concatenate([fitted, rows[targets == 0]]),
            anomaly_x=rows[targets == 1],
            hinge_target=target,
        )
        # numbered by the committed rounds, as the time-series detector does: a
        # round tried again after a rollback is the same round, with its seed
        round_index = self.n_feedback_rounds_ + 1
        state, losses, sound = self._train_round(
            state, self.feedback_epochs, self._round_seed(round_index, 6)
        )
        committed = sound and self._commit(state)
        if not committed:
            self._warn_diverged(f"Feedback round {round_index}", "lr or max_grad_norm")
        else:
            self.n_labelled_ += n_first
            self.n_feedback_rounds_ += 1
            self._told = np.union1d(self._told, prints)
        self.feedback_history_ = [
            *self.feedback_history_,
            {
                "round": round_index,
                "n_normal": int((labels == 0).sum()),
                "n_anomalous": int((labels == 1).sum()),
                "hinge_target": target,
                "train_loss": losses,
                "rolled_back": not committed,
                # 0 without a head; a rolled-back round keeps the previous one
                "head_weight": self._head_weight,
            },
        ]
        return self


def _robust_scaling(X: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel median and interquartile range / 1.349 of ``X`` (last axis).

    Where the range is 0 (a feature constant on half of the data or more)
    the standard deviation ``std`` is the scale instead, as it is for a
    normal distribution's interquartile range / 1.349.
    """
    flat = X.reshape(-1, X.shape[-1])
    low, median, high = np.percentile(flat, [25, 50, 75], axis=0)
    iqr = (high - low) / 1.349
    scale = np.where((iqr > 1e-12 * np.abs(median)) & (iqr > 0), iqr, std)
    return median.astype(np.float64), scale.astype(np.float64)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float tensor on any device as a float64 CPU array."""
    return tensor.to("cpu", torch.float64).numpy()
