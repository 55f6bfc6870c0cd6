"""ActiveReconstructionDetector: reconstruction backbones taught by labelled windows."""

from __future__ import annotations

import copy
import numbers

import numpy as np
import torch
from sklearn import get_config
from sklearn.utils.validation import check_array, validate_data
from torch import nn

from .._compat import Interval, StrOptions, _fit_context
from ..backbones import BACKBONES, make_backbone, timestep_abs_error
from ..base import BaseDetector
from ..channel_score import (
    ChannelQuantile,
    channel_abs_error,
    scaled_max_error,
    scaled_max_of,
    scores_reconstruction_error,
)
from ..exceptions import FeedbackDivergenceWarning, PoolExhaustedError
from ..label_head import (
    ReferenceRanks,
    RowForestFeatures,
    fit_window_classifier,
    held_out_probabilities,
    held_out_skill,
    out_of_bag_votes,
    reference_rank,
    window_features,
    window_probabilities,
    window_shape_features,
)
from ..query import QUERY_STRATEGIES, select_queries
from ..relabelling import first_unknown_copy, last_of_each, relabelled
from ..runtime import seeded
from ..score_smoothing import ScoreSmoother, detrend_scores, multiscale_widths
from ..thresholds import fingerprints
from ..training import (
    WindowDataset,
    backbone_net,
    feedback_round,
    iter_position_scores,
    pretrain,
)
from ..transaction import transactional
from ..validation import (
    check_input_shape,
    check_labels,
    check_scaled_range,
    standard_scaling,
    standardize,
)
from ..windows import (
    dominant_period,
    fold_position_scores,
    fold_window_values,
    grid_starts,
    scoring_starts,
    stride_for_windows,
    window_view,
)

__all__ = ["ActiveReconstructionDetector", "FeedbackDivergenceWarning"]

#: the window of ``window_size="auto"`` where no period decides it (the
#: paper's length on every data set)
AUTO_WINDOW = 50
#: stride="auto" on a univariate series: the step is shortened until the
#: training series gives at least this many windows (a short single signal
#: gives too few otherwise: 47 windows of 50 rows stepped by 25 on 1,200 rows)
MIN_TRAINING_WINDOWS = 500
#: feedback_min_anomalous="auto" on a multivariate series: the labelled
#: windows holding an anomaly before the backbone learns from the labels
AUTO_MIN_ANOMALOUS = 3

#: most clean training windows among the normal windows of the score head
HEAD_TRAINING_WINDOWS = 500
#: eval_batch_size="auto": windows per scoring batch on the CPU and elsewhere
CPU_EVAL_BATCH, ACCELERATOR_EVAL_BATCH = 64, 256
#: the training scores of a scaled channel score: the scoring windows'
#: per-channel errors are kept between the scale and the scores (one pass)
#: while they take at most this many times the training series' bytes, or
#: at most scikit-learn's ``working_memory``; beyond (overlapping windows at
#: a small stride hold each error up to ``window_size`` times) the windows
#: are scored a second time instead
KEPT_ERRORS_PER_SERIES = 4


class ActiveReconstructionDetector(BaseDetector):
    """Reconstruction-based time-series anomaly detection with active learning.

    The method of Han, Kang, Park and Kang, "Detecting the Undetectable:
    Enhancing Unsupervised Time Series Anomaly Detection via Active Learning":

    1. :meth:`fit` trains a reconstruction backbone, unsupervised, on windows
       of a series taken as normal (Stage 1).
    2. :meth:`query` picks windows of an unlabelled series for a person to
       label: the ``top_k`` windows with the highest mean anomaly score plus
       ``per_bin`` random windows from each of ``n_bins`` score intervals
       (Algorithm 1, Stage 2).
    3. :meth:`partial_fit` learns from the labelled windows: a fixed ratio of
       timesteps per window is masked and reconstructed, minimising the error
       on normal timesteps and then maximising it on anomalous ones
       (Eqs. 2-3, Stage 3). Training continues from the current weights;
       on a multivariate series it waits until three labelled windows hold
       an anomaly (``feedback_min_anomalous``).

    The per-timestep anomaly score (:meth:`decision_function`) starts from
    the backbone's reconstruction errors. By default each timestep scores by
    its most surprising channel (``channel_score="max_scaled"``), a window
    classifier trained on the labels joins the score (``score_head``), a
    univariate series' scores are scanned over widths up to the window
    (``score_smoothing``) and a series' scores are taken less their moving
    median (``score_detrend``). The paper's score, Eq. 4 for the
    Transformer (the mean absolute reconstruction error over channels), is
    ``channel_score="mean", score_head="none", score_smoothing=None,
    score_detrend=None``.

    Parameters
    ----------
    backbone : str, torch.nn.Module subclass or instance, default="transformer"
        A name from ``alad.backbones.BACKBONES``; or a module class, built as
        ``backbone(n_channels=..., window_size=..., **backbone_params)``; or
        a module instance, deep-copied at fit. A module must map windows
        ``(batch, window_size, n_channels)`` to reconstructions of the same
        shape; see :class:`~alad.backbones.ReconstructionBackbone` for the
        optional objective and score hooks.
    backbone_params : dict or None, default=None
        Size parameters of the backbone (for the Transformer: ``d_model``,
        ``n_heads``, ``n_layers``, ``d_ff``, ``dropout``); None uses its
        defaults.
    window_size : int or "auto", default=50
        Window length ``L`` (the paper uses 50 on every dataset). ``"auto"``
        (resolved at fit, ``window_size_``): on a univariate series with a
        clear cycle, one period (:func:`~alad.windows.dominant_period` of the
        training series: the highest autocorrelation peak between lags 3 and
        400, once the autocorrelation has turned negative, if it reaches
        0.5), and ``stride="auto"`` then steps by an eighth of it (shorter
        on a short series, as below); on windows given as a 3-D array, their
        length; otherwise 50. On the validation halves of four periodic
        univariate series (docs, *Label efficiency*, "A window of one
        period") it is ahead on the mean at every budget (PA%K AUC 0.538
        against 0.502 without labels, 0.734 against 0.692 at 50 windows) but
        loses UCR 001 once labels come, at 2 to 8 times the fit's time (on
        a short series, whose step is shortened, more: InternalBleeding16
        200 to 293 s against 37 to 40 s): an option, not yet the default.
    stride : int, "auto" or None, default="auto"
        Step between the training and scoring windows. None means
        ``window_size`` (non-overlapping, as in the paper). ``"auto"``: half
        the window (``window_size // 2``) on a univariate series (an eighth
        of a window that ``window_size="auto"`` took from a period),
        shortened where the training series would give fewer than 500
        windows (:data:`MIN_TRAINING_WINDOWS`,
        :func:`~alad.windows.stride_for_windows`: a step of 2 on 1,200
        rows); ``window_size`` on a multivariate one. Windows that overlap
        by half paid on the validation halves of 18 univariate series (UCR
        001 and 17 MSL telemetry channels; PA%K AUC 0.613 -> 0.652 without a
        label, 0.650 -> 0.729 at 10 labelled windows, 0.700 -> 0.725 at 50),
        at about twice the fit, but not on multivariate ones (0.704 -> 0.670
        at 50 windows; ``benchmarks/label_variants.py``, docs *Label
        efficiency*). The shorter step of a short series paid on the same
        channels and two aeon series (six seeds: PA%K AUC 0.579 -> 0.606
        without a label, 0.586 -> 0.622 at 10 windows, 0.638 -> 0.646 at
        50), at fits of up to about 1,000 windows (MSL's channels 17 to 73
        s, about 7 before). With overlapping windows, each timestep's score
        is the mean over the windows covering it.
    score_stride : int or None, default=None
        Step between the scoring windows (:meth:`decision_function` and
        ``decision_scores_``), if it should differ from ``stride``; None uses
        ``stride``. A smaller step averages each timestep's score over more
        windows, at ``window_size / score_stride`` times the scoring cost:
        with windows of 50, a step of 10 raised the mean PA%K AUC from 0.477
        to 0.492 and ROC AUC from 0.717 to 0.739 without labels on validation
        halves of the label benchmark (``benchmarks/scoring_stride.py``).
        Fixed at fit. With ``channel_score="max_scaled"``, ``fit`` keeps
        the training windows' per-channel errors (``window_size /
        score_stride`` times the series' size) from reading each channel's
        scale to scoring only while they fit in four times the series or
        scikit-learn's ``working_memory`` (``sklearn.set_config``); beyond,
        it scores the windows a second time, to the same scores.
    score_smoothing : "auto", "multiscale", "window", int or None, default="auto"
        How a series' per-timestep scores (2-D ``X``; after the head joins
        them) are smoothed over time (:mod:`alad.score_smoothing`), which
        raises an anomaly that lasts and lowers a lone noisy timestep.
        ``"multiscale"``: each timestep's score averaged over 1, a quarter,
        half and a whole window of timesteps around it, each ranked among
        the training scores averaged alike, the largest rank kept (a scan
        over anomaly lengths: a short anomaly stands out at the short
        widths, a long faint one at the long widths). ``"window"`` or an
        int: the mean over the window or over that many timesteps (which
        drowns anomalies shorter than it). ``"auto"``: ``"multiscale"`` on
        a univariate series, None on a multivariate one. None: not smoothed
        (the paper's score). Chosen on validation halves of the label
        benchmark's tasks (``benchmarks/label_variants.py``; docs *Label
        efficiency*): on univariate series the scan paid at every budget
        and kept InternalBleeding16's anomaly of 12 rows, which the mean
        over the window lost; on multivariate ones the mean lost, and the
        scan was ahead on the mean but behind pair by pair (at 50 windows
        the higher PA%K AUC on 12 of 38 halves; GECCO behind at every
        budget): not yet their default. A timestep's
        score reads up to half a window after it: on a live stream, scores
        settle that late. Stacks of windows (3-D ``X``) are not smoothed.
        Fixed at fit.
    score_detrend : int or None, default=5000
        Take the backbone's per-timestep scores of a series (training and
        scored alike) less their centred moving median over this many
        timesteps (:func:`~alad.score_smoothing.detrend_scores`): for a
        series that drifts slowly away from its training range (seasons,
        ageing sensors), whose normal timesteps the backbone reconstructs
        worse and worse until they outscore the earlier anomalies. An
        anomaly much shorter than the span keeps its height; one longer than
        half of it is partly taken away with the drift. A series shorter
        than the span, a stack of windows and the labelled windows have no
        trend of their own to read: their scores are measured against the
        training scores' median instead (a constant, which changes no
        ranking). So score a drifting series in pieces of at least the span.
        :meth:`query` (and the pool's replay) still ranks the backbone's own
        score: the windows a drift lifts are asked about too, and their
        labels teach the model and the head what the drift looks like; the
        detector learns from its labels exactly as without the detrending.
        On GECCO's evaluation parts (a year of water quality whose
        temperature drifts; 3 seeds, no label) 5,000 timesteps raised PA%K
        AUC from 0.36 to 0.58 and ROC AUC from 0.71 to 0.94; MSL's and UCR
        001's moved by less than 0.01 (``benchmarks/score_detrend.py``). With
        labels, on GECCO's validation halves (9 seeds), PA%K AUC 0.607 ->
        0.634 at 50 windows (queries on the detrended score: 0.606); UCR
        001's and the aeon series' within 0.015, MSL's entities (shorter than
        the span) the same to the last digit: the default since (chosen on
        the validation halves of ``benchmarks/label_variants.py``; the span
        among 1,000, 2,000, 5,000 and 10,000 without labels, where 5,000 and
        10,000 were within 0.01 on every data set; docs, *Label
        efficiency*). None: not detrended (the paper's score, pinned by the
        han protocol). Fixed at fit.
    anomaly_score : {"intrinsic", "reconstruction"}, default="intrinsic"
        The per-timestep anomaly score of :meth:`decision_function` and of the
        queries. ``"intrinsic"``: the backbone's own (``anomaly_score``: the
        reconstruction probability of the variational models, USAD's two
        errors, the Anomaly Transformer's association-weighted error).
        ``"reconstruction"``: Eq. 4 of Han et al. for every backbone, the mean
        over channels of ``|x - x_hat|`` with ``x_hat = backbone(x)``. The two
        are the same for the Transformer (VTT's own score is the squared
        error, as its reference code). See the Anomaly
        Transformer's section of the backbones page: the paper's figures for
        it are consistent with Eq. 4 after feedback. Fixed at fit: the
        training scores, the threshold and the channels' scale are those of
        the score fitted.
    channel_score : {"max_scaled", "mean"}, default="max_scaled"
        How a reconstruction error becomes one score per timestep, wherever
        the score is the reconstruction error (``anomaly_score=
        "reconstruction"``, or a backbone without a score of its own, such
        as the Transformer; the others keep their own score). ``"mean"``:
        Eq. 4, the mean over channels. ``"max_scaled"``: each channel's
        error over its 99.9th percentile on the training data, the largest
        over channels (:mod:`alad.channel_score`), so that one channel's
        departure is not averaged away by quiet ones. Chosen on validation
        halves of the label benchmark's tasks: without labels, mean PA%K
        AUC 0.503 -> 0.590, ROC AUC 0.758 -> 0.823, VUS-PR 0.280 -> 0.422
        (``benchmarks/channel_score.py``). Fixed at fit.
    mask_ratio : float, default=0.15
        Share of timesteps masked per window during feedback; 0 switches
        masking off (the loss then covers every timestep of the raw window).
    top_k : int, default=5
        ``k``: windows with the highest scores queried per round.
    n_bins : int, default=5
        ``G``: number of score intervals of interval random sampling.
    per_bin : int, default=1
        ``g``: windows drawn at random from each interval per round.
    query_strategy : {"hybrid", "top_k", "interval", "random"}, default="hybrid"
        ``"hybrid"`` is top-k plus interval sampling; the others replace one or
        both parts by uniform random sampling of the same size (the ablation
        of the paper's Figure 8), see ``alad.query.QUERY_STRATEGIES``.
    feedback_loss : {"minimax", "weighted"}, default="minimax"
        Two phases per iteration (minimise on normal, then maximise on
        anomalous timesteps), or one weighted sum (ablation).
    anomaly_weight : float, default=1.0
        Weight of the anomalous term for ``feedback_loss="weighted"``.
    anomaly_margin : float or None, default=4.0
        Bounds the maximise phase: a hinge that raises the squared error of
        anomalous timesteps up to this value (in standardised units: 4 is an
        error of two channel standard deviations) and no further. None is
        Eq. 3 as written, unbounded (see the Notes).
    visible_weight : float, default=1.0
        Weight, in the feedback loss, of the labelled timesteps that are
        *not* masked, relative to 1 for masked ones. 0 is Eqs. 2-3 as
        written: the loss covers masked timesteps only (see the Notes).
    normal_replay : float, default=8.0
        Each feedback round also reconstructs, unmasked, this many randomly
        drawn normal training windows per labelled window, in the minimise
        phase. 0 trains on the labelled windows only, as in the paper (see
        the Notes).
    normal_replay_per : {"trained", "new"}, default="trained"
        What ``normal_replay`` counts: every labelled window the round
        trains on (``"trained"``: with ``feedback_replay`` all windows
        labelled so far, so rounds grow longer) or only the windows labelled
        in this call (``"new"``: the replay of a round stays the same size).
    feedback_epochs : int, default=10
        Epochs over the labelled windows per :meth:`partial_fit` call.
    feedback_replay : bool, default=True
        Train each feedback round on every window labelled so far (True) or
        only on the windows of this call (False).
    feedback_steps : int or None, default=120
        The most optimiser steps of a feedback round. A round trains
        ``feedback_epochs`` passes over its windows (labelled and replayed)
        while they take no more steps; beyond, it makes about this many,
        batches drawn from its windows in shuffled passes, so that later
        rounds cost no more than the first however many windows are labelled
        (120 is what the first default round of 10 windows takes). None
        always trains whole passes: rounds grow with the labels (the
        schedule of earlier versions; see the Notes).
    feedback_min_anomalous : int or "auto", default="auto"
        The backbone learns from the labels only once at least this many
        labelled windows hold an anomalous timestep; a round before that
        trains no backbone and costs no feedback steps (its labels still
        train the score head once one is anomalous, and count). 0 trains the
        backbone in every round, as the paper does. ``"auto"``: 3 on a
        multivariate series, 0 on a univariate one. Chosen on validation
        halves (documentation, *Label efficiency*): on GECCO, rounds that
        trained the backbone on one or two labelled anomalies among the
        normal windows the query asked about lowered the PA%K AUC from 0.707
        to 0.613 at 10 windows, and waiting for three kept it at 0.711 (0.729
        and 0.701 at 25 and 50, against 0.638 and 0.634), level on MSL's 27
        entities; on univariate series the first labels' feedback paid
        (UCR 001, MSL's channels), so it starts at once there.
    feedback_start : {"current", "fitted", "auto"}, default="current"
        Where a round that trains the backbone starts from. ``"current"``:
        the backbone as the rounds before left it, as the paper does, so
        every round's feedback steps add to those before. ``"fitted"``: the
        backbone as :meth:`fit` left it, trained on every window labelled so
        far (with ``feedback_replay``): the model is then the fitted one
        tuned on the labels, whatever the order they came in, and its
        distance from the fitted one does not grow with the rounds.
        ``"auto"``: ``"fitted"`` on a multivariate series, ``"current"`` on a
        univariate one, what the validation halves point to (documentation,
        *Label efficiency*, "Where a round starts": past 25 windows
        ``"fitted"`` lifts GECCO, is level on MSL, and loses on univariate
        series, where the rounds' feedback adds up). Either way the detector
        keeps the fitted backbone beside the current one, so that this can
        be changed between rounds (twice the backbone in memory and in saved
        files once a round has trained it).
    pool_replay : float, default=0.5
        Share of the replayed normal windows drawn from the pool last passed
        to :meth:`query` instead of the training data: among the pool's
        windows nobody labelled, those scored below the pool's median (where
        the scores say "normal" and no label says otherwise). It teaches the
        model the normal behaviour of the data it will score when that has
        drifted from the training data. The detector keeps a standardised
        copy of those windows (half the pool at most). 0 replays training
        windows only.
    score_head : {"window_classifier", "none"}, default="window_classifier"
        Whether the labels also train the score, not only the backbone.
        ``"window_classifier"``: once a labelled window holds an anomalous
        timestep, each :meth:`partial_fit` trains extremely randomised trees
        (:mod:`alad.label_head`) to tell the labelled anomalous windows from
        normal ones (the other labelled windows, the pool's quiet windows
        kept for ``pool_replay`` and 500 clean training windows) on six
        statistics of each channel over the window. The score is then the
        rank of the backbone's score among its training scores (the share at
        or below it, growing past 1 beyond the largest) plus ``head_weight``
        times the trees' probability, averaged over the scoring windows
        covering each timestep. Until an anomalous window is labelled the
        score is the backbone's own. :meth:`query` reads, for the pool's quiet
        windows the trees learnt as normal (to which they say 0), what trees
        grown without them say instead (out of bag,
        :func:`alad.label_head.out_of_bag_votes`), so that a subtle anomaly
        among them is not pushed down by its own replay. ``"none"``: the
        backbone's score only, as in the paper. Takes effect at the next
        :meth:`partial_fit`.
    head_features : {"window", "window+errors", "window+shape", "window+forest"}, \
default="window"
        The head's features of a window: six statistics of each channel
        (:func:`alad.label_head.window_features`), and with
        ``"window+errors"`` also the mean and maximum over the window of each
        channel's reconstruction error (scaled as ``channel_score`` scales
        it), so that the labels can weigh the channels. Measured on the
        validation halves (``benchmarks/label_variants.py``, variant
        ``steps120+pool+skill+channels+errors``) and worse: PA%K AUC 0.581 /
        0.620 / 0.618 at 10 / 25 / 50 windows against 0.602 / 0.672 / 0.668
        with the window statistics alone, so it is not the default.
        ``"window+shape"``: the statistics and each channel's profile, the
        means of ten stretches of the window less its mean
        (:func:`alad.label_head.window_shape_features`). Measured on the
        univariate validation halves (variant ``defaults, stride 25, head
        shape``) and worse at every budget: PA%K AUC 0.725 / 0.711 / 0.719
        at 10 / 25 / 50 windows against 0.729 / 0.713 / 0.725, ROC AUC 0.768
        against 0.791 at 50, so it is not the default either.
        ``"window+forest"``: the statistics and how rare the window's rows
        are to an isolation forest of the training rows, without labels
        (:class:`alad.label_head.RowForestFeatures`: the largest and the mean
        of the rows' scores; fitted at the first round that reads it, one
        per fit). Measured on the
        validation halves (variants ``defaults, head forest`` and
        ``defaults, stride 25, head forest``): ahead at 10 windows, behind at
        25 and 50 (PA%K AUC 0.657 against 0.680 at 50 on the multivariate
        tasks, 0.710 against 0.725 on the univariate ones), so not the
        default. Takes effect at the next :meth:`partial_fit` (the head
        fitted before keeps the features it learnt from).
    head_weight : float, "skill" or "measured_skill", default="skill"
        Weight of the head's probability against the backbone's rank, both
        between 0 and 1 on the training data. ``"skill"``: let the labels
        decide, round by round: the head's skill on the labelled windows it
        has not seen (:func:`alad.label_head.held_out_skill`: each labelled
        window scored by trees that did not learn from it, see
        ``head_skill``; ``2 * AUC - 1`` over anomalous against normal
        labelled windows, floored at 0).
        A head that does not carry over to unseen windows weighs 0 and the
        score stays the backbone's; with fewer than two anomalous windows
        labelled the skill cannot be measured and the weight is 1.
        ``"measured_skill"``: the same, except that a head whose skill cannot
        be measured weighs 0, so one labelled anomalous window leaves the
        score the backbone's. Measured on the validation halves
        (``benchmarks/label_variants.py``, variant ``defaults, head when
        measured``) and worse at every budget: PA%K AUC 0.582 / 0.647 /
        0.663 at 10 / 25 / 50 windows against 0.592 / 0.673 / 0.680, VUS-PR
        0.529 against 0.595 at 50, so not the default. A number is a fixed
        weight (1.0 was the default before "skill"); 0 fits no head. Takes
        effect at the next :meth:`partial_fit`.
    head_skill : {"out_of_bag", "folds"}, default="out_of_bag"
        How ``head_weight="skill"`` holds the labelled windows out
        (:func:`alad.label_head.held_out_skill`): ``"out_of_bag"``, one
        forest of trees grown on bootstrap samples, each labelled window
        scored by the trees that did not draw it; ``"folds"``, one forest per
        fold of the labelled windows (five at most; the default before, and
        what detectors saved before this parameter load with). Level on the
        validation halves of ``benchmarks/label_variants.py`` (PA%K AUC
        0.665 against 0.668 at 50 windows, 0.671 against 0.672 at 25) at a
        fifth of the forests: a labelling round on GECCO is about a second
        shorter.
    scale_with_labels : bool, default=False
        With ``channel_score="max_scaled"``, whether each round's channel
        scale also reads the timesteps labelled normal: the 99.9th percentile
        of each channel's error over the training data and those timesteps
        together. The windows a person labels normal are mostly the
        detector's own false alarms; where a channel errs on them (a level the
        training data never had), its scale grows and the channel weighs less
        everywhere. Measured on the validation halves
        (``benchmarks/label_variants.py``, variant ``defaults, labelled
        scale``): PA%K AUC 0.590 / 0.664 / 0.665 at 10 / 25 / 50 windows
        against 0.592 / 0.673 / 0.680 without (GECCO 0.655 against 0.701 at
        50; the test halves, not used to choose, 0.786 against 0.778), so it
        is not the default. Takes effect at the next :meth:`partial_fit`.
    budget : int or None, default=None
        Most windows that may be labelled through :meth:`partial_fit`;
        :meth:`query` returns at most what is left, and raises once it is spent.
    lr : float, default=1e-3
        Adam learning rate of the unsupervised pretraining. The paper states
        1e-2; with it the Transformer does not train (its validation loss stays
        at the level of predicting the channel means, see the Notes).
    feedback_lr : float, default=1e-4
        Adam learning rate of the feedback rounds. Each round trains on a few
        dozen windows only; at the pretraining rate the model drifts away from
        the normal data it learnt (see the Notes).
    batch_size : int, default=8
        Windows per training batch (the paper's 8).
    feedback_batch_size : int or None, default=None
        Windows per batch of a feedback round; None uses ``batch_size``. A
        round takes at most ``feedback_steps`` optimiser steps whatever the
        batch, so a larger batch sees more windows in as many steps or fewer.
    eval_batch_size : int or "auto", default="auto"
        Windows per batch when scoring. ``"auto"``: 64 on the CPU, where
        smaller batches stay in the processor's cache (one thread, two runs:
        the Transformer scores 1.23-1.38 times and the VTTs 1.26-1.46 times
        as fast as at 256, USAD's small network 0.89-0.96 times, the others
        1.01-1.05 times; ``benchmarks/eval_batch.py``), 256 on a GPU. Before
        ``"auto"`` the default was 256.
    max_epochs : int, default=50
        Most pretraining epochs.
    patience : int or None, default=10
        Early stopping: pretraining stops when the validation loss has not
        improved for ``patience`` epochs and the best weights are restored
        (the paper's patience of 10). None disables it.
    validation_fraction : float, default=0.2
        Share of training windows held out, chronologically from the end, for
        early stopping; 0 monitors the training loss instead, as does a share
        that rounds to no window or to every window (a series of few
        windows, or a share near 1).
    standardize : bool, default=True
        Scale each channel to zero mean and unit variance with the training
        statistics (also makes masking with zeros mean "the channel mean").
    max_grad_norm : float or None, default=1.0
        Gradient-norm clipping in feedback, where the maximise phase could
        otherwise grow without bound; None disables it. Clipping is skorch's
        ``GradientNormClipping``, which every alad net drives between
        backward pass and step; pretraining is left unclipped, as in the
        paper and the backbones' reference code, so this parameter never
        changes the pretrained model.
    contamination : float, default=0.1
        Share of training timesteps (or windows) above ``threshold_``.
    thresholding : {"contamination", "f1", "false_alarm"}, default="contamination"
        How ``threshold_`` is chosen. ``"contamination"``: the ``1 -
        contamination`` quantile of the training scores (PyOD's rule).
        ``"f1"``: once the timesteps of the labelled windows hold both
        classes, the threshold with the best F1 on them; ``"false_alarm"``:
        once they hold normals, the
        ``1 - false_alarm_rate`` quantile of their scores. Until the labels
        allow it, the contamination rule applies (``threshold_source_`` says
        which did). The head memorises its training windows, so the head's
        part of a labelled window's score is what classifiers that did not
        see it say (held out by folds; a single labelled anomaly, which
        cannot be held out, is not read). Applied at every :meth:`fit` and
        :meth:`partial_fit`, or at once by :meth:`update_threshold`.
    false_alarm_rate : float, default=0.01
        Share of labelled normal windows (or timesteps) above ``threshold_`` for
        ``thresholding="false_alarm"``. After a fit on a stack of windows,
        each labelled window counts once, by its score. After a fit on a
        series, each labelled timestep counts, scored within its window as a
        series of its own: a long series scored with overlapping windows
        (``score_stride`` below the window) or smoothed has smoother scores,
        so its share of normal timesteps above ``threshold_`` is usually
        below this rate.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``; resolved at fit
        into ``device_``. Outputs are CPU float64 numpy arrays either way.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, masks and random queries; the
        same value gives identical scores on CPU with the same number of
        torch threads (another count rounds float32 sums in another
        order: differences near 1e-6). The global torch random
        state is left untouched.
    verbose : int, default=0
        0 silent; 1 prints skorch's table of epochs; 2 adds progress bars.

    Attributes
    ----------
    net_ : alad.training.BackboneNet
        The skorch net holding the trained backbone (``net_.module_``) and the
        pretraining history (``net_.history``).
    decision_scores_ : ndarray of float64
        Scores of the training data under the current model: one per timestep
        for a 2-D training series (smoothed as :meth:`decision_function`'s),
        one per window for 3-D windows. Recomputed
        after each :meth:`partial_fit`, so that ``threshold_`` and ``labels_``
        always describe the current model.
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_`` with the
        default ``thresholding="contamination"``; another rule's threshold
        once labels allow it (``threshold_source_`` says which).
    threshold_source_ : {"contamination", "f1", "false_alarm"}
        The rule that set ``threshold_`` (see ``thresholding``).
    labels_ : ndarray of int64
        ``decision_scores_ > threshold_``.
    n_features_in_ : int
        Number of channels.
    device_ : str
        The device the model lives on.
    window_size_ : int
        The window length (``window_size`` resolved).
    stride_ : int
        The stride of the training windows (and of scoring, unless
        ``score_stride`` says otherwise).
    score_stride_ : int
        The stride of the scoring windows.
    channel_scale_ : ndarray of shape (n_channels,) or None
        Each channel's 99.9th percentile of reconstruction error on the
        training data under the current model (``channel_score=
        "max_scaled"``), refreshed by every :meth:`partial_fit`; None where
        the score is not scaled by channel.
    n_feedback_rounds_ : int
        Completed :meth:`partial_fit` rounds.
    n_labelled_windows_ : int
        Windows labelled through :meth:`partial_fit` so far.
    feedback_history_ : list of dict
        Per round: windows, anomalous timesteps, whether the backbone
        trained (``backbone_trained``, see ``feedback_min_anomalous``), its
        mean loss per epoch (empty when it did not), whether the round was
        rolled back, and the score head's weight after
        it (``head_weight``: 0 while no head is fitted, the measured skill
        with ``head_weight="skill"``).

    See Also
    --------
    alad.metrics.pa_k_auc : the paper's headline metric.

    Notes
    -----
    **Scores of every timestep.** Windows are scored every ``score_stride_``
    timesteps (``score_stride``; the training ``stride`` by default); when
    the series does not end on a window boundary, one more window is
    aligned with the end of the series, so the tail shorter than a window is
    scored too. Where windows overlap, a timestep's score is the mean of its
    scores in each window; a univariate series' scores are then smoothed over
    time (``score_smoothing``), and a series at least ``score_detrend``
    timesteps long is taken less its moving median (a shorter one less the
    training scores' level; ``score_detrend``). A series shorter than
    ``window_size`` is refused.

    **Queries.** :meth:`query` considers the non-overlapping windows
    ``[0, L), [L, 2L), ...`` of a 2-D series (the tail shorter than a window is
    not offered) and returns the row indices of the chosen windows, window
    after window in time order, so ``X[idx]`` stacks complete windows that can
    be labelled and passed to :meth:`partial_fit`. A window with any labelled
    row (``y`` not ``nan``) is never offered again.

    **Threshold after feedback.** :meth:`partial_fit` rescores the training
    data kept from :meth:`fit` and recomputes ``threshold_``; this keeps one
    float32 copy of the (standardised) training data in the estimator.

    **Feedback: where the defaults differ from Eqs. 2-3, and why.** Taken
    literally, the feedback trains on a few dozen labelled windows, computes
    the loss on masked timesteps only, and maximises the error of anomalous
    ones without bound. Measured on the embedded ``make_telemetry`` series
    (seed 0, 4 rounds of 10 windows), three things go wrong, and three
    defaults mend them (``benchmarks/feedback_design.py`` prints the figures):

    - The loss on masked timesteps only leaves the reconstruction of the
      *unmasked* input, which the score is computed from, unconstrained: one
      round with every label normal raised the mean score of normal
      timesteps from 0.044 to 0.283 (to 0.088 with ``visible_weight=1``,
      which counts the visible labelled timesteps too).
    - A few dozen windows make the model forget the normal data it was
      pretrained on. ``normal_replay=8`` adds eight random training windows
      per labelled window to each round, reconstructed unmasked in the
      minimise phase (rehearsal, as in continual learning).
    - The unbounded maximise phase grows the error of every timestep, normal
      ones included: with the literal objective the PA%K AUC fell from 0.66
      to 0.37 over the four rounds, and on GECCO it rose from 0.38 to 0.56
      after two rounds, then fell to 0.32. ``anomaly_margin=4`` stops the
      push once an anomalous timestep's squared error reaches 4.

    With the defaults the same four rounds raise the PA%K AUC from 0.66 to
    0.71. ``visible_weight=0, normal_replay=0, anomaly_margin=None`` is the
    literal objective, kept for the reproduction.

    **Rounds of bounded cost, and normal windows of the pool.** Two later
    defaults, chosen on validation halves of the label benchmark's splits
    (``benchmarks/label_variants.py``; figures in the documentation's *Label
    efficiency* page). ``feedback_steps=120`` caps a round at the steps of
    the first default round, so that a round costs the same at 100 labelled
    windows as at 10 (about 5 s on GECCO instead of growing past 20 s).
    ``pool_replay=0.5`` draws half of the replayed normal windows from the
    pool's unlabelled windows that the detector scores below the pool's
    median, so that feedback also teaches the normal behaviour of the data
    being labelled, which may have drifted from the training data. The
    schedule of earlier versions is ``feedback_steps=None, pool_replay=0``;
    ``alad benchmark --protocol han`` keeps it, so that Table 2 regenerates.

    **The labels also train the score.** With the default
    ``score_head="window_classifier"`` a classifier of windows, trained on
    the labels, joins the backbone's score once an anomalous window is
    labelled (see ``score_head``). On the same validation halves, at 50
    windows, it raised the mean PA%K AUC from 0.574 to 0.658, ROC AUC from
    0.767 to 0.844 and VUS-PR from 0.366 to 0.581, at the same round time
    (``benchmarks/label_variants.py``; the combination was chosen with
    ``benchmarks/label_head.py``). Weighing the head by its held-out skill
    on the labelled windows (``head_weight="skill"``) kept those gains on
    the same validation halves and removed the loss on the embedded
    synthetic series, whose anomalies are of kinds a classifier of a few
    labelled ones does not recognise (``alad demo``, measured then: PA%K AUC
    0.660 -> 0.690 after 40 windows, against 0.588 at a fixed weight of 1;
    with today's defaults 0.670 -> 0.667: the labels neither pay nor cost
    there).
    ``score_head="none"`` is the paper's score, which the han protocol
    keeps.

    References
    ----------
    .. [1] S. H. Han, H. Kang, J. Park, P. Kang. Detecting the Undetectable:
       Enhancing Unsupervised Time Series Anomaly Detection via Active
       Learning. arXiv:2607.00720, 2026.

    Examples
    --------
    >>> import numpy as np
    >>> from alad import ActiveReconstructionDetector
    >>> from alad.datasets import make_telemetry
    >>> data = make_telemetry(n_train=2000, n_test=2000, random_state=0)
    >>> det = ActiveReconstructionDetector(
    ...     window_size=20, max_epochs=2, backbone_params={"d_model": 16, "d_ff": 16,
    ...     "n_heads": 2, "n_layers": 1}, random_state=0).fit(data.X_train)
    >>> det.decision_function(data.X_test).shape
    (2000,)
    >>> idx = det.query(data.X_test)
    >>> det = det.partial_fit(data.X_test[idx], data.y_test[idx])
    >>> det.n_labelled_windows_
    10
    """

    _parameter_constraints: dict = {
        **BaseDetector._parameter_constraints,
        "backbone": [StrOptions(set(BACKBONES)), nn.Module, type],
        "backbone_params": [dict, None],
        "window_size": [
            Interval(numbers.Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "stride": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "score_stride": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "score_smoothing": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto", "multiscale", "window"}),
            None,
        ],
        "score_detrend": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "mask_ratio": [Interval(numbers.Real, 0.0, 1.0, closed="left")],
        "top_k": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
        "per_bin": [Interval(numbers.Integral, 0, None, closed="left")],
        "query_strategy": [StrOptions(set(QUERY_STRATEGIES))],
        "anomaly_score": [StrOptions({"intrinsic", "reconstruction"})],
        "channel_score": [StrOptions({"max_scaled", "mean"})],
        "feedback_loss": [StrOptions({"minimax", "weighted"})],
        "anomaly_weight": [Interval(numbers.Real, 0.0, None, closed="left")],
        "anomaly_margin": [Interval(numbers.Real, 0.0, None, closed="neither"), None],
        "visible_weight": [Interval(numbers.Real, 0.0, None, closed="left")],
        "normal_replay": [Interval(numbers.Real, 0.0, None, closed="left")],
        "normal_replay_per": [StrOptions({"trained", "new"})],
        "feedback_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "feedback_replay": ["boolean"],
        "feedback_steps": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "feedback_min_anomalous": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "feedback_start": [StrOptions({"current", "fitted", "auto"})],
        "pool_replay": [Interval(numbers.Real, 0.0, 1.0, closed="both")],
        "score_head": [StrOptions({"none", "window_classifier"})],
        "head_features": [
            StrOptions({"window", "window+errors", "window+shape", "window+forest"})
        ],
        "head_weight": [
            Interval(numbers.Real, 0.0, None, closed="left"),
            StrOptions({"skill", "measured_skill"}),
        ],
        "head_skill": [StrOptions({"out_of_bag", "folds"})],
        "scale_with_labels": ["boolean"],
        "budget": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "lr": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "feedback_lr": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "feedback_batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            None,
        ],
        "eval_batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(numbers.Real, 0.0, 1.0, closed="left")],
        "standardize": ["boolean"],
        "max_grad_norm": [Interval(numbers.Real, 0.0, None, closed="neither"), None],
    }

    def __init__(
        self,
        backbone="transformer",
        *,
        backbone_params=None,
        window_size=50,
        stride="auto",
        score_stride=None,
        score_smoothing="auto",
        score_detrend=5000,
        anomaly_score="intrinsic",
        channel_score="max_scaled",
        mask_ratio=0.15,
        top_k=5,
        n_bins=5,
        per_bin=1,
        query_strategy="hybrid",
        feedback_loss="minimax",
        anomaly_weight=1.0,
        anomaly_margin=4.0,
        visible_weight=1.0,
        normal_replay=8.0,
        normal_replay_per="trained",
        feedback_epochs=10,
        feedback_replay=True,
        feedback_steps=120,
        feedback_min_anomalous="auto",
        feedback_start="current",
        pool_replay=0.5,
        score_head="window_classifier",
        head_features="window",
        head_weight="skill",
        head_skill="out_of_bag",
        scale_with_labels=False,
        budget=None,
        lr=1e-3,
        feedback_lr=1e-4,
        batch_size=8,
        feedback_batch_size=None,
        eval_batch_size="auto",
        max_epochs=50,
        patience=10,
        validation_fraction=0.2,
        standardize=True,
        max_grad_norm=1.0,
        contamination=0.1,
        thresholding="contamination",
        false_alarm_rate=0.01,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.backbone_params = backbone_params
        self.window_size = window_size
        self.stride = stride
        self.score_stride = score_stride
        self.score_smoothing = score_smoothing
        self.score_detrend = score_detrend
        self.anomaly_score = anomaly_score
        self.channel_score = channel_score
        self.mask_ratio = mask_ratio
        self.top_k = top_k
        self.n_bins = n_bins
        self.per_bin = per_bin
        self.query_strategy = query_strategy
        self.feedback_loss = feedback_loss
        self.anomaly_weight = anomaly_weight
        self.anomaly_margin = anomaly_margin
        self.visible_weight = visible_weight
        self.normal_replay = normal_replay
        self.normal_replay_per = normal_replay_per
        self.feedback_epochs = feedback_epochs
        self.feedback_replay = feedback_replay
        self.feedback_steps = feedback_steps
        self.feedback_min_anomalous = feedback_min_anomalous
        self.feedback_start = feedback_start
        self.pool_replay = pool_replay
        self.score_head = score_head
        self.head_features = head_features
        self.head_weight = head_weight
        self.head_skill = head_skill
        self.scale_with_labels = scale_with_labels
        self.budget = budget
        self.lr = lr
        self.feedback_lr = feedback_lr
        self.batch_size = batch_size
        self.feedback_batch_size = feedback_batch_size
        self.eval_batch_size = eval_batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.max_grad_norm = max_grad_norm
        self.contamination = contamination
        self.thresholding = thresholding
        self.false_alarm_rate = false_alarm_rate
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- input handling ----------------------------------------------------
    def _validate_X(self, X, *, reset: bool) -> np.ndarray:
        """Validate a 2-D series or a 3-D stack of windows; return float array.

        After fit (``reset=False``) the values are also checked against the
        range the float32 model can score; at fit, :meth:`fit` checks them
        against the statistics it computes.
        """
        dims = len(check_input_shape(X))
        if dims == 3:
            X = check_array(
                X, allow_nd=True, dtype=(np.float64, np.float32), input_name="X"
            )
            expected = self.window_size if reset else self.window_size_
            if expected != "auto" and X.shape[1] != expected:
                raise ValueError(
                    "X of 3 dimensions must be windows of shape (n_windows, "
                    f"window_size={expected}, n_channels); got {X.shape}."
                )
            if reset:
                self.n_features_in_ = X.shape[2]
                # 3-D arrays carry no column names: drop those of an earlier
                # fit on a DataFrame, as validate_data does for 2-D input
                self.__dict__.pop("feature_names_in_", None)
            elif X.shape[2] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[2]} channels, but {type(self).__name__} was "
                    f"fitted with {self.n_features_in_} channels."
                )
        elif dims == 2:
            X = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32))
            if not reset:  # at fit, checked once the window is resolved
                self._check_holds_a_window(X, self.window_size_)
        else:
            raise ValueError(
                "X must be a 2-D series (n_timesteps, n_channels) or 3-D windows "
                f"(n_windows, window_size, n_channels); got {dims} dimension(s). "
                "Reshape your data: a univariate series with X.reshape(-1, 1)."
            )
        if not reset:
            check_scaled_range(X, self.scaler_mean_, self.scaler_scale_)
        return X

    @staticmethod
    def _check_holds_a_window(X, window: int) -> None:
        if X.ndim == 2 and X.shape[0] < window:
            raise ValueError(
                f"X has n_samples = {X.shape[0]} timesteps, fewer than "
                f"window_size={window}; a series must hold at least one window."
            )

    def _standardized(self, X: np.ndarray) -> np.ndarray:
        return standardize(X, self.scaler_mean_, self.scaler_scale_)

    # -- scoring -----------------------------------------------------------
    def _eval_batch(self) -> int:
        """Windows per scoring batch (``eval_batch_size``, "auto" resolved)."""
        if self.eval_batch_size != "auto":
            return self.eval_batch_size
        return CPU_EVAL_BATCH if self.device_ == "cpu" else ACCELERATOR_EVAL_BATCH

    def _window_batches(self, X, starts, *, standardized: bool):
        """Float32 batches of windows, standardised batch by batch (no full copy)."""
        size = self._eval_batch()
        if X.ndim == 3:
            for first in range(0, len(starts), size):
                batch = X[starts[first : first + size]]
                yield (
                    batch.astype(np.float32)
                    if standardized
                    else self._standardized(batch)
                )
            return
        view = window_view(X, self.window_size_)
        for first in range(0, len(starts), size):
            batch = view[starts[first : first + size]]
            yield (
                np.ascontiguousarray(batch, dtype=np.float32)
                if standardized
                else self._standardized(batch)
            )

    def _position_scores(
        self, X, starts, *, standardized: bool, module=None, scale=None
    ):
        """Per-position scores of the windows at ``starts``, batch by batch.

        ``module`` and its channel ``scale`` (:meth:`_training_scores`)
        default to the fitted ones.
        """
        batches = self._window_batches(X, starts, standardized=standardized)
        if module is None:
            module, scale = self.net_.module_, self.channel_scale_
        score = None  # the backbone's own anomaly_score
        if scale is not None:
            score = scaled_max_error(module, scale)
        elif self.anomaly_score == "reconstruction":

            def score(x):
                return timestep_abs_error(x, module(x))

        return iter_position_scores(module, batches, self.device_, score)

    def _score(self, X, *, standardized: bool = False) -> np.ndarray:
        """The detector's per-timestep (2-D) or per-window (3-D) scores.

        The backbone's score; once :meth:`partial_fit` has fitted a head
        (``score_head``), the rank of the backbone's score among its training
        scores plus the ``head_weight`` of that round times the head's
        probability. A series' scores are then smoothed
        (``score_smoothing``).
        """
        if X.ndim == 3:
            return self._window_score(X, standardized=standardized)
        if self._head is None:
            scores = self._backbone_score(X, standardized=standardized)
        else:
            backbone = self._backbone_score(X, standardized=standardized)
            ranks = reference_rank(self._head_reference, backbone)
            head = self._head_scores(X, self._head, standardized=standardized)
            scores = ranks + self._head_weight * head
        return self._smoothed(scores)

    def _window_score(self, X, *, standardized: bool, head=None) -> np.ndarray:
        """:meth:`_score` of a stack of windows: one score per window.

        ``head``: the head's probability of each window, when not the
        committed head's (held-out probabilities of labelled windows).
        """
        if self._head is None:
            return self._backbone_score(X, standardized=standardized)
        # rank each position, as a series' timesteps are
        starts = np.arange(len(X))
        chunks = self._at_training_level(
            self._position_scores(X, starts, standardized=standardized)
        )
        ranks = self._ranked_window_means(chunks, self._head_reference)
        if head is None:
            head = self._head_scores(X, self._head, standardized=standardized)
        return ranks + self._head_weight * head

    def _smoothing_widths(self, window: int, n_channels: int) -> tuple[int, ...]:
        """``score_smoothing`` resolved for windows of ``window`` timesteps of
        ``n_channels`` channels: the widths of a :class:`ScoreSmoother`, ()
        for none."""
        smoothing = self.score_smoothing
        if smoothing == "auto":
            # chosen on validation halves: the scan paid on univariate series
            # at every budget; on multivariate ones it was ahead on the mean
            # but won 12 of 38 validation pairs at 50 windows (docs, *Label
            # efficiency*)
            smoothing = "multiscale" if n_channels == 1 else None
        if smoothing == "multiscale":
            return multiscale_widths(window)
        if smoothing == "window":
            return (window,)
        if smoothing is None or smoothing == 1:
            return ()
        return (smoothing,)

    def _min_anomalous_windows(self, n_channels: int) -> int:
        """``feedback_min_anomalous`` resolved for a series of ``n_channels``."""
        if self.feedback_min_anomalous == "auto":
            return AUTO_MIN_ANOMALOUS if n_channels > 1 else 0
        return self.feedback_min_anomalous

    def _anomalous_window_count(self, targets=None) -> int:
        """Labelled windows (``targets``, by default those learnt from so far)
        that hold an anomalous timestep."""
        targets = self._labelled_targets if targets is None else targets
        return int((np.nan_to_num(targets) > 0).any(axis=1).sum())

    def _smoothed(self, scores: np.ndarray, axis: int = -1) -> np.ndarray:
        """A series' per-timestep ``scores`` smoothed (``score_smoothing``)."""
        if self._smoother is None:
            return scores
        return self._smoother.transform(scores, axis)

    def _set_training_scores(self, scores: np.ndarray) -> None:
        """Commit the training scores, a series' smoothed as :meth:`_score`'s;
        the smoother learns its references from them first."""
        smoother = None
        if self._train_data.ndim == 2:
            widths = self._smoothing_widths(self.window_size_, self.n_features_in_)
            if widths:
                smoother = ScoreSmoother(widths).fit(scores)
                scores = smoother.transform(scores)
        self._smoother = smoother
        super()._set_training_scores(scores)

    def _backbone_score(self, X, *, standardized: bool = False) -> np.ndarray:
        """The fitted backbone's per-timestep (2-D) or per-window (3-D) scores."""
        return self._detrended(self._plain_score(X, standardized=standardized), X)

    def _plain_score(self, X, *, standardized: bool = False) -> np.ndarray:
        """:meth:`_backbone_score` before ``score_detrend``."""
        starts = self._scoring_starts(X)
        chunks = self._position_scores(X, starts, standardized=standardized)
        return self._fold(chunks, starts, X)

    def _resolved_geometry(self, X) -> tuple[int, int]:
        """Window length and training step for ``X``: ``window_size`` and
        ``stride`` resolved.

        ``window_size="auto"``: the length of the windows given (3-D ``X``);
        on a univariate series with a clear cycle, its period
        (:func:`~alad.windows.dominant_period` of the training series), so
        that a window holds one whole cycle; otherwise :data:`AUTO_WINDOW`.
        """
        univariate = X.ndim == 2 and X.shape[1] == 1
        window, periodic = self.window_size, False
        if window == "auto":
            period = dominant_period(X[:, 0]) if univariate else None
            periodic = period is not None
            if X.ndim == 3:
                window = X.shape[1]
                if window < 2:  # as window_size itself: a window is a stretch
                    raise ValueError(
                        'window_size="auto" takes the length of the windows '
                        f"given, and X's windows hold {window} timestep; a "
                        "window needs at least 2."
                    )
            else:
                window = period if periodic else AUTO_WINDOW
        if self.stride is None:
            return window, window
        if self.stride != "auto":
            return window, self.stride
        if not univariate:
            return window, window
        # a window of one whole cycle stepped by half of it shows the backbone
        # each phase of the cycle at two offsets only; an eighth shows eight
        # (UCR 001's validation half without labels, seed 0: PA%K AUC 0.32
        # stepped by half, 0.55 by an eighth; docs, *Label efficiency*)
        stride = max(1, window // (8 if periodic else 2))
        return window, stride_for_windows(len(X), window, stride, MIN_TRAINING_WINDOWS)

    def _check_score_unit(self, X) -> None:
        """``threshold_`` is a quantile of the scores of the fit's layout: a
        series' per-timestep scores, or a stack's per-window scores, which
        are on another scale (a window's mean, not smoothed over widths)."""
        dims = len(check_input_shape(X))
        if dims == self._train_data.ndim:
            return
        layouts = {2: "a series (2-D)", 3: "a stack of windows (3-D)"}
        raise ValueError(
            f"X is {layouts[dims]}, but the detector was fitted on "
            f"{layouts[self._train_data.ndim]}: "
            "threshold_ and the probabilities are in the unit of those scores. "
            "Pass X in the layout of the fit, or read decision_function(X)."
        )

    def _scoring_starts(self, X) -> np.ndarray:
        if X.ndim == 3:
            return np.arange(len(X))
        return scoring_starts(len(X), self.window_size_, self.score_stride_)

    def _fold(self, chunks, starts, X) -> np.ndarray:
        """Per-timestep (2-D ``X``) or per-window (3-D) scores of position scores."""
        if X.ndim == 3:
            return np.concatenate([c.mean(axis=1) for c in chunks])
        return fold_position_scores(chunks, starts, len(X), self.window_size_)

    # -- score_detrend ------------------------------------------------------
    def _detrends(self) -> bool:
        """Whether ``score_detrend`` applies: set, and fitted on a series."""
        return self.score_detrend is not None and self._train_data.ndim == 2

    def _has_context(self, X) -> bool:
        """Whether ``X`` is a series long enough to read its own trend."""
        return X.ndim == 2 and len(X) >= self.score_detrend

    def _detrended(self, scores: np.ndarray, X, level=None) -> np.ndarray:
        """The backbone's per-timestep (2-D ``X``) or per-window (3-D) scores
        less their trend: a long enough series' own moving median, otherwise
        the training scores' ``level`` (default: the committed one)."""
        if not self._detrends():
            return scores
        if self._has_context(X):
            return detrend_scores(scores, self.score_detrend)
        return scores - (self._score_level if level is None else level)

    def _at_training_level(self, chunks):
        """Position scores of a stack of windows (chunks) less the training
        scores' level: windows have no trend of their own to read."""
        if not self._detrends():
            return chunks
        return [np.concatenate(list(chunks)) - self._score_level]

    def _detrended_training(self, raw: np.ndarray):
        """The training scores less their trend, and the level that series
        too short to read their own trend (and windows) are measured against:
        the median of the training scores (None when not detrending)."""
        if not self._detrends():
            return raw, None
        level = float(np.median(raw))
        return self._detrended(raw, self._train_data, level), level

    def _training_scores(self, module, labelled=None):
        """``module``'s channel scale (None: not scaled) and training scores
        (not detrended: :meth:`_detrended_training` takes their trend).

        Training rounds pass the candidate module they verify before
        committing it. With ``channel_score="max_scaled"`` the training
        data's channel errors give the scale, and the scores come from the
        same errors, computed as :meth:`_position_scores` does: kept from
        the pass that gave the scale while they are small
        (:data:`KEPT_ERRORS_PER_SERIES`), otherwise from a second pass.
        ``labelled``: (windows, targets) whose timesteps labelled normal
        also give the scale (``scale_with_labels``).
        """
        X = self._train_data
        starts = self._scoring_starts(X)
        if not self._scales_channels(module):
            chunks = self._position_scores(
                X, starts, standardized=True, module=module, scale=None
            )
            return None, self._fold(chunks, starts, X)
        labelled_errors = self._labelled_normal_errors(module, labelled)
        n_errors = len(starts) * self.window_size_  # of each channel
        quantile = ChannelQuantile(
            n_errors + sum(len(e) for e in labelled_errors), X.shape[-1]
        )
        keep = n_errors * X.shape[-1] * 4 <= max(
            KEPT_ERRORS_PER_SERIES * X.size * 4,
            get_config()["working_memory"] * 2**20,
        )
        kept = []
        batches = self._window_batches(X, starts, standardized=True)
        for errors in iter_position_scores(
            module, batches, self.device_, lambda x: channel_abs_error(x, module(x))
        ):
            errors = errors.astype(np.float32)  # the float32 values they were
            quantile.add(errors)
            if keep:
                kept.append(errors)
        for errors in labelled_errors:
            quantile.add(errors)
        scale = quantile.scale()
        if keep:
            chunks = (scaled_max_of(e, scale) for e in kept)
        else:  # the same float32 operations (scaled_max_of), windows again
            chunks = self._position_scores(
                X, starts, standardized=True, module=module, scale=scale
            )
        return scale, self._fold(chunks, starts, X)

    def _feedback_start(self, n_channels: int) -> str:
        """``feedback_start`` resolved for a series of ``n_channels``."""
        if self.feedback_start == "auto":
            return "fitted" if n_channels > 1 else "current"
        return self.feedback_start

    def _feedback_start_net(self):
        """The net a round that trains the backbone starts from
        (``feedback_start``). A model pickled before the fitted backbone was
        kept, and trained by feedback since, starts from the current one."""
        fitted = self._feedback_start(self.n_features_in_) == "fitted"
        if fitted and self._fitted_net is not None:
            return self._fitted_net
        return self.net_

    def _kept_training_scores(self):
        """The committed channel scale and plain training scores (those of
        :meth:`_training_scores`), for a round that trains no backbone: they
        are the backbone's alone, and were verified when committed. None
        where they must be computed again: labels scale the channels
        (``scale_with_labels``), ``anomaly_score`` changed since (a model
        pickled before it was fixed at fit), or a model pickled before they
        were kept."""
        if (
            self.scale_with_labels
            or self._plain_training is None
            or self._plain_training_kind != self.anomaly_score
        ):
            return None
        return self.channel_scale_, self._plain_training

    def _labelled_normal_errors(self, module, labelled) -> list:
        """``module``'s channel errors ``(n, C)`` at the timesteps labelled normal."""
        if labelled is None or not len(labelled[0]):
            return []
        windows, targets = labelled
        size = self._eval_batch()
        errors = np.concatenate(
            list(
                iter_position_scores(
                    module,
                    (windows[i : i + size] for i in range(0, len(windows), size)),
                    self.device_,
                    lambda x: channel_abs_error(x, module(x)),
                )
            )
        ).astype(np.float32)
        return [errors[targets == 0]]

    def _scales_channels(self, module) -> bool:
        """Whether ``channel_score`` applies to ``module``'s score."""
        return self.channel_score == "max_scaled" and (
            self.anomaly_score == "reconstruction"
            or scores_reconstruction_error(module)
        )

    # -- fit ---------------------------------------------------------------
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, known_anomalies=None):
        """Train the backbone, unsupervised, on ``X`` taken as normal.

        The call completes, or leaves the detector exactly as it was (a
        refused or interrupted refit keeps the previous model; a failed first
        fit leaves it unfitted).

        Parameters
        ----------
        X : array-like, 2-D or 3-D
            A series ``(n_timesteps, n_channels)`` taken as normal, or a stack
            of windows ``(n_windows, window_size, n_channels)``.
        y : ignored
            Present for API consistency (labels are learnt from in
            :meth:`partial_fit`).
        known_anomalies : array-like of bool or None, default=None
            Rows of ``X`` known to be anomalous (for 3-D ``X``: one flag per
            window or per timestep). Training windows holding one are left out,
            so the backbone learns normal behaviour only; ``decision_scores_``
            still covers all of ``X``.

        Returns
        -------
        self : ActiveReconstructionDetector

        Raises
        ------
        FloatingPointError
            If pretraining diverged (lower ``lr``); the detector is left as
            it was.
        KeyboardInterrupt
            On Ctrl-C during training, after the detector is left as it was.
        """
        # 1. validate everything before training
        X = self._validate_X(X, reset=True)
        window, stride = self._resolved_geometry(X)
        self._check_holds_a_window(X, window)
        score_stride = stride if self.score_stride is None else self.score_stride
        for name, value in (("stride", stride), ("score_stride", score_stride)):
            if value > window:
                raise ValueError(
                    f"{name} must be at most window_size={window}, got "
                    f"{value}; larger strides would leave timesteps without a score."
                )
        # bound now, as the window helpers below read it (fit is transactional:
        # a failure restores the earlier value)
        self.window_size_ = window
        mean, scale = standard_scaling(X, self.standardize)
        check_scaled_range(X, mean, scale)
        if known_anomalies is not None:
            known_anomalies = np.asarray(known_anomalies)
            if known_anomalies.dtype != bool:
                raise TypeError(
                    "known_anomalies must be a boolean array (True = known anomaly); "
                    f"got dtype {known_anomalies.dtype}."
                )
        if X.ndim == 3:
            starts = np.arange(len(X))
        else:
            starts = grid_starts(len(X), self.window_size_, stride)
        if known_anomalies is None:  # no (windows, window) table of nan
            clean = np.ones(starts.size, dtype=bool)
        else:
            known = (
                self._window_labels_3d(X, known_anomalies, name="known_anomalies")
                if X.ndim == 3
                else self._window_labels_2d(
                    X, known_anomalies, starts, name="known_anomalies"
                )
            )
            clean = ~(known == 1).any(axis=1)
        if not clean.any():
            raise ValueError(
                "Every training window holds a known anomaly (known_anomalies); there "
                "is no normal window left to train on."
            )
        device, seed = self._new_fit()

        # 2. train the backbone (Stage 1) beside the fitted model, if any
        self.scaler_mean_, self.scaler_scale_ = mean, scale
        self.stride_, self.device_, self._seed = stride, device, seed
        self.score_stride_ = score_stride
        self._train_data = self._standardized(X)
        self._clean_starts = starts[clean]
        if X.ndim == 3:
            dataset = WindowDataset(self._train_data[clean], self.window_size_)
        else:
            dataset = WindowDataset(
                self._train_data, self.window_size_, self._clean_starts
            )
        with seeded(seed, device):
            module = make_backbone(
                self.backbone, X.shape[-1], self.window_size_, self.backbone_params
            )
            with seeded(seed, device):  # the check must not move the stream
                self._check_backbone_output(module.to(device), dataset[0][0])
            net = pretrain(
                module,
                dataset,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                patience=self.patience,
                validation_fraction=self.validation_fraction,
                seed=seed,
                device=device,
                verbose=self.verbose,
            )

        # 3. verify, then commit
        # the backbone's own scores are checked: a diverged net's detrended
        # ones would be inf - inf
        scale, raw = self._training_scores(net.module_)
        if not self._is_sound(net.module_, raw):
            raise FloatingPointError(
                "Pretraining diverged: the backbone's weights or the scores of the "
                "training data are not finite (or beyond 1e10); lower lr or check "
                "the input scale. The detector is left as it was."
            )
        scores, level = self._detrended_training(raw)
        self.net_ = self._fitted_net = net
        self.channel_scale_, self._score_level = scale, level
        self._plain_training, self._plain_training_kind = raw, self.anomaly_score
        self.n_feedback_rounds_ = 0
        self.n_labelled_windows_ = 0
        self.feedback_history_ = []
        self._labelled_windows = np.empty(
            (0, self.window_size_, X.shape[-1]), np.float32
        )
        self._labelled_targets = np.empty((0, self.window_size_), np.float32)
        self._told = np.empty(0, dtype="S16")
        self._pool_normal = self._labelled_windows[:0]
        self._pool_normal_prints = self._told
        self._head, self._head_reference = None, np.empty(0)
        self._query_reference = None
        self._head_pool, self._head_weight = self._pool_normal, 0.0
        self._head_pool_prints, self._head_pool_votes = self._told, np.empty(0)
        self._head_features, self._head_forest = self.head_features, None
        self._bind_fit_params()
        self._set_training_scores(scores)
        return self

    @staticmethod
    def _check_backbone_output(module: nn.Module, window) -> None:
        """Refuse a backbone without weights to train, or whose reconstruction
        of a window has another shape."""
        weights = next(module.parameters(), None)
        if weights is None:
            named = getattr(module, "module", module)  # a module given, wrapped
            raise ValueError(
                f"backbone {type(named).__name__} has no parameters: alad trains "
                "the backbone to reconstruct normal windows, so it needs weights "
                "(torch.nn.Parameter or layers such as nn.Linear)."
            )
        x = window.unsqueeze(0).to(weights.device)
        module.eval()
        try:
            out = module(x)
        except Exception as exc:
            raise ValueError(
                f"backbone failed on a window of shape {tuple(x.shape)} "
                f"(batch, window_size, n_channels): {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            module.train()
        if not isinstance(out, torch.Tensor):
            raise ValueError(
                "backbone must return the reconstruction as one tensor of the "
                f"window's shape {tuple(x.shape)} (batch, window_size, n_channels); "
                f"it returned {type(out).__name__}. A module that returns more "
                "(a VAE's distribution parameters) needs a wrapper that returns "
                "the reconstruction alone."
            )
        if tuple(out.shape) != tuple(x.shape):
            raise ValueError(
                "backbone must map windows to reconstructions of the same shape: "
                f"input {tuple(x.shape)}, output {tuple(out.shape)} "
                "(batch, window_size, n_channels)."
            )

    def _restore_net(self, module_state: dict, history: list) -> None:
        """Set ``net_`` to the fitted net holding saved weights and history.

        For model files read without pickle (:mod:`alad.labelling`): after
        fit only the backbone's weights and the pretraining history are read,
        so the net is built as :meth:`fit` builds it, initialised, and given
        them. The fitted attributes (``n_features_in_``, ``device_``,
        ``_seed``, ...) must be set already.
        """
        self.net_ = self._restored_net(module_state, history)

    def _restored_net(self, module_state: dict, history: list):
        """A net built as :meth:`fit` builds it, holding saved weights and
        history (see :meth:`_restore_net`). The weights drawn to build it
        are overwritten, and drawn under ``seeded`` so that loading a model
        leaves torch's global random stream as it was."""
        with seeded(self._seed, self.device_):
            module = make_backbone(
                self.backbone,
                self.n_features_in_,
                self.window_size_,
                self.backbone_params,
            )
            net = backbone_net(
                module,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                patience=self.patience,
                split=None,
                seed=self._seed,
                device=self.device_,
                verbose=self.verbose,
            ).initialize()
        net.module_.load_state_dict(module_state)
        net.module_.eval()
        for row in history:
            net.history.append(row)
        return net

    # -- scoring API -------------------------------------------------------
    def decision_function(self, X):
        """Anomaly score of each timestep (2-D ``X``) or window (3-D ``X``).

        Parameters
        ----------
        X : array-like, 2-D or 3-D
            A series ``(n_timesteps, n_channels)``, or a stack of windows
            ``(n_windows, window_size, n_channels)``.

        Returns
        -------
        scores : ndarray of float64 of shape (n_timesteps,) or (n_windows,)
            Higher = more anomalous. For windows, the mean over the window.
        """
        self._check_entry()
        X = self._validate_X(X, reset=False)
        return self._score(X)

    # -- active learning ---------------------------------------------------
    _budget_unit = "windows"
    # score_stride, score_smoothing, score_detrend, channel_score:
    # decision_scores_ and threshold_ are scored with them; backbone and
    # backbone_params: a saved model's module is rebuilt from them
    _fit_bound_params = (
        "backbone",
        "backbone_params",
        "window_size",
        "score_stride",
        "score_smoothing",
        "score_detrend",
        "channel_score",
        "anomaly_score",
    )

    @staticmethod
    def _same_fit_param(name: str, now, fitted) -> bool:
        # no backbone_params and empty ones build the same module
        if name == "backbone_params":
            return dict(now or {}) == dict(fitted or {})
        return BaseDetector._same_fit_param(name, now, fitted)

    # earlier detectors trained whole passes, replayed training windows only
    # and scored with the backbone alone
    _params_added_later = {
        "score_smoothing": None,
        "channel_score": "mean",
        "feedback_steps": None,
        "pool_replay": 0.0,
        "score_head": "none",
        "head_skill": "folds",
        "feedback_batch_size": None,
        "score_detrend": None,
        "feedback_min_anomalous": 0,
    }

    _state_added_later = {
        **BaseDetector._state_added_later,
        # the pool side of the normal replay (pool_replay) came later
        "_pool_normal": lambda det: det._labelled_windows[:0],
        "_pool_normal_prints": lambda det: np.empty(0, dtype="S16"),
        "score_stride_": lambda det: det.stride_,
        # window_size="auto" came later: the window was the parameter
        "window_size_": lambda det: det.window_size,
        # the smoothed score (score_smoothing) came later: not smoothed
        "_smoother": lambda det: None,
        # the channel-scaled score (channel_score) came later
        "channel_scale_": lambda det: None,
        # the label-trained head (score_head) came later
        "_head": lambda det: None,
        "_head_reference": lambda det: np.empty(0),
        "_head_weight": lambda det: 0.0,
        "_head_pool": lambda det: det._labelled_windows[:0],
        # what trees that did not see them say of the head's pool windows
        # (came later: none known, a query reads the head's own)
        "_head_pool_prints": lambda det: np.empty(0, dtype="S16"),
        "_head_pool_votes": lambda det: np.empty(0),
        # the features a committed head reads, bound with it (came later)
        "_head_features": lambda det: getattr(det, "head_features", "window"),
        "_head_forest": lambda det: None,
        # score_detrend came later (not detrending: the level is not read)
        "_score_level": lambda det: None,
        # ... and its query reading the plain score (unreleased before it)
        "_query_reference": lambda det: det._plain_reference(det._head_reference),
        # the plain training scores kept for rounds that train no backbone
        # (came later: None, such a round scores the training data again)
        "_plain_training": lambda det: None,
        "_plain_training_kind": lambda det: None,
        # the fitted backbone (feedback_start, came later): the current one
        # while no round has trained it, otherwise no longer known
        "_fitted_net": lambda det: (
            None
            if any(e.get("n_train_windows") for e in det.feedback_history_)
            else det.net_
        ),
    }

    _feedback_params = frozenset(
        {
            "top_k",
            "n_bins",
            "per_bin",
            "budget",
            "query_strategy",
            "mask_ratio",
            "feedback_loss",
            "anomaly_weight",
            "anomaly_margin",
            "visible_weight",
            "normal_replay",
            "normal_replay_per",
            "feedback_epochs",
            "feedback_replay",
            "feedback_steps",
            "feedback_min_anomalous",
            "feedback_start",
            "feedback_batch_size",
            "pool_replay",
            "score_head",
            "head_features",
            "head_weight",
            "head_skill",
            "scale_with_labels",
            "feedback_lr",
            "max_grad_norm",
            "thresholding",
            "false_alarm_rate",
        }
    )

    def _n_labelled(self) -> int:
        return self.n_labelled_windows_

    def _labelled_scores(self):
        """Per-timestep scores and labels of the labelled windows, or None.

        The head's part of a window's score is its held-out probability
        (:meth:`_held_out_label_probabilities`): the head memorised the
        labelled windows, so their in-sample scores would put a threshold
        chosen on them in a gap that memorisation made. A window the head
        cannot score out of sample is left out.
        """
        if not len(self._labelled_windows):
            return None
        windows, targets = self._labelled_windows, self._labelled_targets
        head = None if self._head is None else self._held_out_label_probabilities()
        if self._train_data.ndim == 3:
            # a stack of windows is scored one score per window, so the
            # threshold is chosen among the scores it is compared with
            known = ~np.isnan(targets).all(axis=1)
            if head is not None:
                known &= ~np.isnan(head)
                head = head[known]
            if not known.any():
                return None
            scores = self._window_score(windows[known], standardized=True, head=head)
            return scores, np.nanmax(targets[known], axis=1)
        if head is not None:  # before the smoother, which reads no nan
            read = ~np.isnan(head)
            windows, targets, head = windows[read], targets[read], head[read]
            if not len(windows):
                return None
        starts = np.arange(len(windows))
        chunks = self._position_scores(windows, starts, standardized=True)
        scores = np.concatenate(list(self._at_training_level(chunks)))
        if head is not None:
            scores = reference_rank(self._head_reference, scores)
            scores = scores + self._head_weight * head[:, None]
        # as a series' scores, within each window
        scores = self._smoothed(scores, axis=1).ravel()
        labels = targets.ravel()
        known = ~np.isnan(labels)
        return scores[known], labels[known]

    def _held_out_label_probabilities(self) -> np.ndarray:
        """The committed head's probability of each labelled window, from
        classifiers that did not see it (:func:`alad.label_head.held_out_probabilities`
        on the head's own training windows and features); ``nan`` for a window
        that cannot be held out (a single anomalous one)."""
        windows, targets = self._labelled_windows, self._labelled_targets
        anomalous, normal, replay, _ = self._head_windows(
            windows, targets, self._head_pool, self.n_labelled_windows_
        )
        held_out = held_out_probabilities(
            anomalous,
            normal,
            replay,
            random_state=self._head_seed(self.n_labelled_windows_),
            features=self._head_feature_map(),
        )
        probabilities = np.full(len(windows), np.nan)
        if held_out is not None:
            is_anomalous = np.nan_to_num(targets).max(axis=1) > 0
            probabilities[is_anomalous], probabilities[~is_anomalous] = held_out
        return probabilities

    def _budget_units(self, X, idx) -> int:
        """Windows in ``idx``: rows of whole windows of a 2-D ``X``, else windows."""
        if np.ndim(X) == 2:
            return len(idx) // self.window_size_
        return len(idx)

    def _default_n_queries(self) -> int:
        n = self.top_k + self.n_bins * self.per_bin
        if n < 1:
            raise ValueError(
                "top_k + n_bins * per_bin must be at least 1 (the windows a round "
                f"queries); got top_k={self.top_k}, n_bins={self.n_bins}, "
                f"per_bin={self.per_bin}."
            )
        return n

    # transactional: a query keeps the pool's quiet windows (pool_replay), and
    # a Ctrl-C even after that binding leaves the detector as it was
    @transactional
    def query(self, X, y=None, n_queries=None):
        """Choose windows of ``X`` to be labelled (Algorithm 1).

        Parameters
        ----------
        X : array-like, 2-D or 3-D
            The unlabelled pool: a series ``(n_timesteps, n_channels)``, or a
            stack of windows ``(n_windows, window_size, n_channels)``.
        y : array-like or None, default=None
            Labels known so far, ``np.nan`` where unlabelled: one per row of a
            2-D ``X``; one per window or ``(n_windows, window_size)`` for 3-D.
            Windows with any known label are not queried again, nor are
            windows this detector has learnt from in :meth:`partial_fit`
            (recognised by their values), even when ``y`` is omitted. Of
            windows equal in every value (a stuck sensor's flat stretch),
            only the first is asked about, and none once one is labelled:
            the detector learns one label for them and charges one.
            With ``pool_replay > 0`` the detector keeps a standardised copy
            of the unlabelled windows of ``X`` scored below the median, the
            pool side of the next :meth:`partial_fit`'s normal replay; that
            is all a query changes.
        n_queries : int or None, default=None
            Number of windows; default ``top_k + n_bins * per_bin``, capped by
            the remaining ``budget``.

        Returns
        -------
        idx : ndarray of int64
            For 2-D ``X``: row indices of whole windows, window after window,
            so ``X[idx]`` stacks complete windows. For 3-D ``X``: window indices.
        """
        self._check_entry()
        X = self._validate_X(X, reset=False)
        n_queries = self._n_queries(n_queries, y)
        if X.ndim == 3:
            starts = np.arange(len(X))
            known = self._window_labels_3d(X, y)
        else:
            starts = grid_starts(len(X), self.window_size_, self.window_size_)
            known = self._window_labels_2d(X, y, starts)
        unlabelled = np.isnan(known).all(axis=1)
        # the windows at starts, a view (grid starts step by a window)
        windows = (
            X
            if X.ndim == 3
            else window_view(X, self.window_size_)[:: self.window_size_]
        )
        # each window's digest, once, where read: what was told, copies, the
        # head's pool windows, the quiet windows kept for the replay
        prints = fingerprints(windows)
        if len(self._told) and unlabelled.any():
            # windows this detector has learnt from are never asked again
            unlabelled &= ~np.isin(prints, self._told)
        # one of equal windows; the replay below still reads every copy
        offer = first_unknown_copy(prints, unlabelled)
        if not offer.any():
            raise PoolExhaustedError(
                "Every window of X is already labelled: y has no nan window left "
                "that this detector has not learnt from in partial_fit (nor "
                "equal to one); there is nothing left to query."
            )
        # the backbone's own score, not detrended (score_detrend): the windows
        # a drift lifts are asked about too, and their labels teach the
        # model and the head the drift (docs, *Label efficiency*)
        chunks = self._position_scores(X, starts, standardized=False)
        if self._head is None:
            window_scores = np.concatenate([c.mean(axis=1) for c in chunks])
        else:  # the score the user sees, less the detrending
            reference = self._head_reference
            if self._query_reference is not None:
                reference = self._query_reference
            probabilities = self._head_probabilities(
                X, starts, self._head, standardized=False
            )
            window_scores = self._ranked_window_means(
                chunks, reference
            ) + self._head_weight * self._unmemorised(prints, probabilities)
        rng = np.random.default_rng([self._seed, self.n_feedback_rounds_, 1])
        chosen = np.sort(
            select_queries(
                window_scores,
                offer,
                strategy=self.query_strategy,
                top_k=self.top_k,
                n_bins=self.n_bins,
                per_bin=self.per_bin,
                n_queries=n_queries,
                rng=rng,
            )
        )
        if X.ndim == 3:
            rows = chosen
        else:
            rows = (starts[chosen, None] + np.arange(self.window_size_)).ravel()
        if self.pool_replay > 0:  # the only change a query makes
            self._remember_pool_normal(windows, prints, window_scores, unlabelled)
        return rows

    def _unmemorised(self, prints, probabilities) -> np.ndarray:
        """The head's ``probabilities`` of windows whose digests are
        ``prints``, those of the pool windows it learnt as normal replaced by
        what trees that did not see them said (``_head_pool_votes``).

        The head says 0 of every window it learnt as normal: a subtle anomaly
        among the quiet windows that the last query kept would otherwise be
        pushed down in this one by its own replay.
        """
        known = np.isfinite(self._head_pool_votes)
        if not known.any():
            return probabilities
        learnt = self._head_pool_prints[known]
        held_out = self._head_pool_votes[known]
        order = np.argsort(learnt)
        at = np.searchsorted(learnt, prints, sorter=order)
        at = order[np.minimum(at, len(order) - 1)]
        found = learnt[at] == prints
        out = probabilities.copy()
        out[found] = held_out[at[found]]
        return out

    def _remember_pool_normal(self, windows, prints, window_scores, unlabelled):
        """Keep the pool's unlabelled ``windows`` (digests ``prints``) scored
        below its median, standardised.

        They are the pool side of the normal replay (``pool_replay``); only
        this copy is kept, not the pool.
        """
        quiet = unlabelled & (window_scores < np.median(window_scores))
        # both made before either is bound: a failure or Ctrl-C while
        # standardising must not pair the new pool's prints with the old
        # pool's windows (partial_fit indexes one by the other)
        pool = self._standardized(np.ascontiguousarray(windows[quiet]))
        self._pool_normal_prints, self._pool_normal = prints[quiet], pool

    def _window_labels_2d(self, X, y, starts, *, name="y") -> np.ndarray:
        """Labels ``(n_windows, window_size)`` of the windows at ``starts``.

        All ``nan`` when ``y`` is None.
        """
        if y is None:
            return np.full((starts.size, self.window_size_), np.nan)
        y = check_labels(y, name=name)
        if y.shape != (len(X),):
            raise ValueError(
                f"{name} must have one entry per row of X, shape ({len(X)},); "
                f"got {y.shape}."
            )
        return window_view(y[:, None], self.window_size_)[starts, :, 0]

    def _window_labels_3d(self, X, y, *, name="y") -> np.ndarray:
        """Labels ``(n_windows, window_size)`` of windows ``X`` (nan if none)."""
        if y is None:
            return np.full(X.shape[:2], np.nan)
        y = check_labels(y, name=name)
        if y.shape == (len(X),):
            return np.repeat(y[:, None], self.window_size_, axis=1)
        if y.shape == X.shape[:2]:
            return y
        raise ValueError(
            f"{name} must have shape ({len(X)},) or {X.shape[:2]} for windows X; "
            f"got {y.shape}."
        )

    def _labelled_windows_from(self, X, y):
        """Windows with at least one label, and their per-timestep labels.

        2-D ``X`` is cut into the windows ``[0, L), [L, 2L), ...`` that
        :meth:`query` offers: the rows ``X_pool[idx]`` of queried windows, or
        the whole pool with ``nan`` for unlabelled rows. Windows without any
        label are left out (they neither train nor count for the budget).
        """
        y = check_labels(y)
        if X.ndim == 3:
            windows, labels = X, self._window_labels_3d(X, y)
        else:
            W = self.window_size_
            if y.shape != (len(X),):
                raise ValueError(
                    f"y must have one label per row of X, shape ({len(X)},); "
                    f"got {y.shape}."
                )
            n = len(X) // W * W
            if n < len(X) and not np.isnan(y[n:]).all():
                raise ValueError(
                    f"X must stack whole windows: its {len(X)} rows are not a "
                    f"multiple of window_size={W}, and the last {len(X) - n}, which "
                    "fill no window, are labelled. Pass X_pool[idx] with idx from "
                    "query(), or the whole pool with nan for unlabelled rows."
                )
            windows = X[:n].reshape(-1, W, X.shape[1])
            labels = y[:n].reshape(-1, W)
        labelled = ~np.isnan(labels).all(axis=1)
        return windows[labelled], labels[labelled]

    @transactional
    def partial_fit(self, X, y, classes=None):
        """Learn from labelled windows with masked minimax feedback (Stage 3).

        The round trains a copy of the model; the copy replaces the model
        only if its weights and the scores of the training data are finite
        (see :data:`alad.transaction.MAX_TRAINING_SCORE`). A diverged round is
        rolled back with a :class:`~alad.DivergenceWarning` and
        recorded in ``feedback_history_``; its labels are not charged to the
        budget. An exception or Ctrl-C leaves the detector exactly as it was.

        Parameters
        ----------
        X : array-like, 2-D or 3-D
            Labelled windows, typically ``X_pool[query(X_pool)]``: their rows
            ``(n_windows * window_size, n_channels)``, or the windows
            ``(n_windows, window_size, n_channels)``.
        y : array-like
            Labels 1 (anomaly), 0 (normal) or ``np.nan`` (unknown, ignored):
            one per row of 2-D ``X``; per window or per timestep for 3-D ``X``.
            Only windows with at least one label are learnt from and count
            for the budget, so the whole pool with ``nan`` for unlabelled
            rows works as well as the queried rows. A window learnt from
            before (the same values) is learnt from once: its labels here
            replace the earlier ones in its place among the labelled
            windows, and it is not charged to the budget again, so passing
            the whole pool with every label so far, round after round, or
            correcting a label, is safe; passing every label so far in the
            order first given trains exactly as passing the new windows
            alone. The order of the new windows is the order the rounds draw
            them in: another order (the pool's instead of the query's) gives
            another model, equally good, not the same bits.
        classes : ignored
            Accepted for compatibility with active-learning wrappers
            (scikit-activeml) that pass it.

        Returns
        -------
        self : ActiveReconstructionDetector
        """
        # 1. validate
        self._check_entry()
        X = self._validate_X(X, reset=False)
        windows, labels = self._labelled_windows_from(X, y)
        if not len(windows):
            raise ValueError("y holds no label (all nan); nothing to learn from.")
        # a window labelled again (a correction, or the whole pool passed with
        # every label so far) takes its new label in its place, charged once
        prints = fingerprints(windows)
        distinct = last_of_each(prints)
        windows, labels, prints = windows[distinct], labels[distinct], prints[distinct]
        new_windows = self._standardized(windows)
        new_labels = labels.astype(np.float32)
        labelled_windows, labelled_targets, n_first = relabelled(
            self._labelled_windows,
            self._labelled_targets,
            new_windows,
            new_labels,
            prints,
            self._told,
        )
        self._check_within_budget(n_first)

        # 2. the labelled windows of this round (and of earlier ones: replay)
        if self.feedback_replay:
            train_windows, train_labels = labelled_windows, labelled_targets
        else:
            train_windows, train_labels = new_windows, new_labels

        # 3. train a copy of the net, once enough labelled windows are anomalous
        # (feedback_min_anomalous; before that the backbone stays as it is)
        train_backbone = self._anomalous_window_count(
            labelled_targets
        ) >= self._min_anomalous_windows(self.n_features_in_)
        net, losses, n_replayed = self.net_, [], 0
        if train_backbone:
            per = len(new_windows if self.normal_replay_per == "new" else train_windows)
            replay = self._normal_replay(int(round(self.normal_replay * per)), windows)
            n_replayed = len(replay)
            net = copy.deepcopy(self._feedback_start_net())
            round_seed = self._round_seed(self.n_feedback_rounds_, 2)
            with seeded(round_seed, self.device_):
                losses = feedback_round(
                    net.module_,
                    train_windows,
                    train_labels,
                    replay,
                    mask_ratio=self.mask_ratio,
                    loss=self.feedback_loss,
                    anomaly_weight=self.anomaly_weight,
                    anomaly_margin=self.anomaly_margin,
                    visible_weight=self.visible_weight,
                    lr=self.feedback_lr,
                    epochs=self.feedback_epochs,
                    steps=self.feedback_steps,
                    batch_size=self.feedback_batch_size or self.batch_size,
                    max_grad_norm=self.max_grad_norm,
                    seed=round_seed,
                    device=self.device_,
                    verbose=self.verbose,
                )

        # 4. verify, then commit or roll back (a round that trained no
        # backbone keeps the committed training scores where it may)
        kept = None if train_backbone else self._kept_training_scores()
        if kept is None:
            scale, raw = self._training_scores(
                net.module_,
                (labelled_windows, labelled_targets)
                if self.scale_with_labels
                else None,
            )
            sound = self._is_sound(net.module_, raw)
        else:
            (scale, raw), sound = kept, True
        entry = {
            "round": self.n_feedback_rounds_ + 1,
            "n_windows": len(windows),
            "n_train_windows": len(train_windows) + n_replayed if train_backbone else 0,
            "backbone_trained": train_backbone,
            "n_anomalous_timesteps": int(np.nansum(labels)),
            "train_loss": losses,
            "rolled_back": not sound,
            "head_weight": self._head_weight,  # a rolled-back round keeps it
        }
        if not sound:
            self._warn_diverged(
                f"Feedback round {self.n_feedback_rounds_ + 1}", "feedback_lr"
            )
        else:
            scores, level = self._detrended_training(raw)
            told = np.union1d(self._told, prints)
            n_labelled = self.n_labelled_windows_ + n_first
            head, head_pool, reference, weight, scores, forest = self._round_head(
                net.module_,
                scale,
                scores,
                labelled_windows,
                labelled_targets,
                told,
                n_labelled,
            )
            self.net_, self.channel_scale_, self._score_level = net, scale, level
            self._plain_training, self._plain_training_kind = raw, self.anomaly_score
            self._labelled_windows, self._labelled_targets = (
                labelled_windows,
                labelled_targets,
            )
            self._told = told
            self.n_labelled_windows_ = n_labelled
            self.n_feedback_rounds_ += 1
            self._head = head
            self._head_pool, self._head_pool_prints, self._head_pool_votes = head_pool
            self._head_reference = reference
            self._query_reference = self._plain_reference(reference, raw)
            self._head_weight = weight
            self._head_features, self._head_forest = self.head_features, forest
            entry["head_weight"] = weight
            self._set_training_scores(scores)
        self.feedback_history_ = [*self.feedback_history_, entry]
        return self

    # -- the label-trained window classifier (score_head) ---------------------
    def _round_head(self, module, scale, scores, windows, targets, told, n_labelled):
        """The head a round commits, with its weight and the training scores.

        ``scores`` are the backbone's training scores under the round's
        ``module`` and its channel ``scale``; ``windows``, ``targets``,
        ``told`` and ``n_labelled`` the labelled state after the round.
        Returns the head (None: no head); the pool windows it learnt from,
        their fingerprints and what trees that did not see them say of them
        (their :func:`alad.label_head.out_of_bag_votes`, read by
        :meth:`query`); its reference, its weight, the scores and the row
        forest its features read (None unless
        ``head_features="window+forest"``).
        """
        no_pool = self._pool_normal[:0], self._told[:0], np.empty(0)
        no_head = None, no_pool, np.empty(0), 0.0, scores, None
        if self.score_head == "none" or self.head_weight == 0:
            return no_head
        fresh = ~np.isin(self._pool_normal_prints, told)
        pool, pool_prints = self._pool_normal[fresh], self._pool_normal_prints[fresh]
        sets = self._head_windows(windows, targets, pool, n_labelled)
        if sets is None:
            return no_head
        forest = self._row_forest() if self.head_features == "window+forest" else None
        features = self._head_feature_map(
            module, scale, kind=self.head_features, forest=forest
        )
        anomalous, normal, replay, _ = sets
        # one bootstrap forest gives the pool windows' out-of-bag votes and,
        # estimated out of bag, the head's skill
        votes = None
        if len(pool):
            votes = out_of_bag_votes(
                anomalous,
                normal,
                replay,
                random_state=self._head_seed(n_labelled),
                features=features,
            )
        weight = self.head_weight
        if weight in ("skill", "measured_skill"):
            skill = held_out_skill(
                anomalous,
                normal,
                replay,
                random_state=self._head_seed(n_labelled),
                features=features,
                estimate=self.head_skill,
                votes=votes,
            )
            # unmeasurable (fewer than two anomalous windows): full weight,
            # or none with "measured_skill"
            if skill is None:
                skill = 1.0 if weight == "skill" else 0.0
            weight = skill
            if weight == 0:  # the labels say the head does not carry over
                return no_head
        head = _head_classifier(*sets, features)
        held_out = np.empty(0)
        if votes is not None:  # the replay's first windows are the pool's
            held_out = votes[len(anomalous) + len(normal) :][: len(pool)]
        reference, ranks = self._training_ranks(module, scale, scores)
        head_scores = self._head_scores(
            self._train_data, head, standardized=True, features=features
        )
        head_pool = pool, pool_prints, held_out
        return head, head_pool, reference, weight, ranks + weight * head_scores, forest

    def _row_forest(self) -> RowForestFeatures:
        """The isolation forest of the training rows ``"window+forest"`` reads.

        Fitted once per fit (a function of the training data and the fit's
        seed, so that a model read from a file fits the same one again).
        """
        if self._head_forest is not None:
            return self._head_forest
        rows = self._train_data.reshape(-1, self._train_data.shape[-1])
        seed = int(np.random.default_rng([self._seed, 7]).integers(2**31 - 1))
        return RowForestFeatures(rows, random_state=seed)

    def _head_seed(self, n_labelled: int) -> int:
        """The held-out skill's seed, of the fit's seed and the labelled count."""
        rng = np.random.default_rng([self._seed, n_labelled, 6])
        return int(rng.integers(2**31 - 1))

    def _head_windows(self, windows, targets, pool, n_labelled):
        """The head's training windows (anomalous, labelled normal, replayed normal)
        and its classifier's seed.

        Anomalous: the labelled windows with an anomalous timestep. Normal:
        the other labelled windows; replayed: ``pool`` (the pool's quiet
        windows nobody labelled, as for ``pool_replay``) and up to
        ``HEAD_TRAINING_WINDOWS`` clean training windows. None without an
        anomalous window.
        """
        anomalous = np.nan_to_num(targets).max(axis=1) > 0
        if not anomalous.any():
            return None
        rng = np.random.default_rng([self._seed, n_labelled, 5])
        n = min(HEAD_TRAINING_WINDOWS, self._clean_starts.size)
        picked = np.sort(rng.choice(self._clean_starts, size=n, replace=False))
        if self._train_data.ndim == 3:
            training = self._train_data[picked]
        else:
            training = window_view(self._train_data, self.window_size_)[picked]
        replay = np.concatenate([pool, training])
        seed = int(rng.integers(2**31 - 1))  # the classifier's
        return windows[anomalous], windows[~anomalous], replay, seed

    def _fit_head(self, windows, targets, pool, n_labelled):
        """The window classifier of labelled ``windows``, or None without anomalies.

        Trained on :meth:`_head_windows`. A function of its arguments and the
        fit's seed only, so that a model read from a file fits the same head
        again.
        """
        sets = self._head_windows(windows, targets, pool, n_labelled)
        if sets is None:
            return None
        return _head_classifier(*sets, self._head_feature_map())

    def _training_ranks(self, module, scale, scores):
        """The head's reference (sorted training scores) and the training ranks.

        ``scores`` are the backbone's training scores under ``module`` and
        its channel ``scale``. The
        reference holds a series' per-timestep scores; for training windows,
        the score of every position, as windows are ranked position by
        position (:meth:`_score`).
        """
        if self._train_data.ndim == 2:
            reference = np.sort(scores)
            return reference, reference_rank(reference, scores)
        starts = np.arange(len(self._train_data))
        positions = np.concatenate(
            list(
                self._position_scores(
                    self._train_data,
                    starts,
                    standardized=True,
                    module=module,
                    scale=scale,
                )
            )
        )
        reference = np.sort(positions.ravel())
        return reference, reference_rank(reference, positions).mean(axis=1)

    def _ranked_window_means(self, chunks, reference) -> np.ndarray:
        """Per window, the mean rank of its positions' backbone scores among
        ``reference`` (sorted training scores)."""
        ranks = ReferenceRanks(reference)  # the reference read once, not per chunk
        return np.concatenate([ranks(c).mean(axis=1) for c in chunks])

    def _plain_reference(self, head_reference, raw=None):
        """The query's reference when detrending with a head: the training
        scores ``raw`` (default: the committed model's), sorted, not
        detrended. None otherwise: the head's reference is the query's."""
        if not (self._detrends() and len(head_reference)):
            return None
        if raw is None:
            raw = self._plain_score(self._train_data, standardized=True)
        return np.sort(raw)

    def _refit_head(self) -> None:
        """Fit the committed head again from the state (models read from files)."""
        if len(self._head_reference):
            if self._head_features == "window+forest":
                self._head_forest = self._row_forest()
            self._head = self._fit_head(
                self._labelled_windows,
                self._labelled_targets,
                self._head_pool,
                self.n_labelled_windows_,
            )

    def _head_feature_map(self, module=None, scale=None, kind=None, forest=None):
        """The head's features of a batch of standardised windows.

        ``"window"``: :func:`~alad.label_head.window_features`.
        ``"window+shape"``: those statistics and
        :func:`~alad.label_head.window_shape_features`.
        ``"window+forest"``: :class:`~alad.label_head.RowForestFeatures` of
        ``forest`` (default: the committed head's).
        ``"window+errors"``: the statistics, and the mean and maximum over the
        window of each channel's reconstruction error under ``module`` (over
        its channel ``scale`` where the score scales channels), so that the
        labels can weigh the channels. ``module`` and ``scale`` default to the
        fitted ones, ``kind`` to the features of the committed head (a
        ``head_features`` set since takes effect at the next round, as the
        head it describes does).
        """
        kind = self._head_features if kind is None else kind
        if kind == "window":
            return window_features
        if kind == "window+shape":
            return _window_and_shape_features
        if kind == "window+forest":
            return self._head_forest if forest is None else forest
        if module is None:
            module, scale = self.net_.module_, self.channel_scale_

        def features(windows):
            size = self._eval_batch()
            batches = (windows[i : i + size] for i in range(0, len(windows), size))
            errors = np.concatenate(
                [
                    e.astype(np.float32)
                    for e in iter_position_scores(
                        module,
                        (np.ascontiguousarray(b, dtype=np.float32) for b in batches),
                        self.device_,
                        lambda x: channel_abs_error(x, module(x)),
                    )
                ]
            )
            if scale is not None:
                errors = errors / scale.astype(np.float32)
            return np.concatenate(
                [window_features(windows), errors.mean(axis=1), errors.max(axis=1)],
                axis=1,
            )

        return features

    def _head_probabilities(
        self, X, starts, head, *, standardized: bool, features=None
    ):
        """``head``'s anomaly probability of the windows of ``X`` at ``starts``.

        ``features``: the head's feature map (default: the fitted model's).
        """
        batches = self._window_batches(X, starts, standardized=standardized)
        features = self._head_feature_map() if features is None else features
        return window_probabilities(head, batches, features=features)

    def _head_scores(self, X, head, *, standardized: bool, features=None) -> np.ndarray:
        """``head``'s anomaly probability per timestep (2-D ``X``) or window (3-D).

        A timestep's is the mean over the scoring windows covering it, as
        for the backbone's score. ``features`` as :meth:`_head_probabilities`.
        """
        starts = self._scoring_starts(X)
        probabilities = self._head_probabilities(
            X, starts, head, standardized=standardized, features=features
        )
        if X.ndim == 3:
            return probabilities
        return fold_window_values(probabilities, starts, len(X), self.window_size_)

    def _normal_replay(self, n: int, labelled: np.ndarray) -> np.ndarray:
        """``n`` normal windows to rehearse: from the pool and from training.

        Pool windows labelled in this round (``labelled``) are left out: their
        labels say what they are.
        """
        pool = self._pool_normal
        if self.pool_replay > 0 and len(pool):
            told = np.union1d(self._told, fingerprints(labelled))
            pool = pool[~np.isin(self._pool_normal_prints, told)]
        n_pool = min(int(round(self.pool_replay * n)), len(pool))
        from_training = self._normal_training_windows(n - n_pool)
        if not n_pool:
            return from_training
        rng = np.random.default_rng([self._seed, self.n_feedback_rounds_, 4])
        picked = pool[np.sort(rng.choice(len(pool), size=n_pool, replace=False))]
        return np.concatenate([from_training, picked])

    def _normal_training_windows(self, n: int) -> np.ndarray:
        """``n`` random clean training windows (standardised), for normal replay."""
        if n == 0:
            return np.empty((0, *self._labelled_windows.shape[1:]), np.float32)
        rng = np.random.default_rng([self._seed, self.n_feedback_rounds_, 3])
        picked = rng.choice(
            self._clean_starts, size=min(n, self._clean_starts.size), replace=False
        )
        if self._train_data.ndim == 3:
            return self._train_data[picked]
        return np.ascontiguousarray(
            window_view(self._train_data, self.window_size_)[picked]
        )


def _window_and_shape_features(windows: np.ndarray) -> np.ndarray:
    """``head_features="window+shape"``: the six statistics and the profile."""
    return np.concatenate(
        [window_features(windows), window_shape_features(windows)], axis=1
    )


def _head_classifier(anomalous, normal, replay, seed, features):
    """The window classifier of the head's training windows (:meth:`_head_windows`)."""
    return fit_window_classifier(
        anomalous,
        np.concatenate([normal, replay]),
        random_state=seed,
        features=features,
    )
