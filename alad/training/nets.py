"""skorch nets: pretraining by a backbone's own objective, and minimax feedback."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from .callbacks import LoggedNet
from .losses import (
    ANCHOR,
    anomaly_objective,
    draw_timestep_mask,
    masked_timestep_mse,
    phase_weights,
)

__all__ = ["BackboneNet", "FeedbackNet", "ForeachOptimizerMixin"]

#: optimisers whose ``foreach`` implementation alad's nets turn on
_FOREACH = (torch.optim.Adam, torch.optim.AdamW)


class ForeachOptimizerMixin:
    """Mixin of skorch nets: Adam and AdamW with ``foreach=True``.

    The same update, bit for bit, as their per-tensor loop (torch's default
    on the CPU), with one call per operation for all tensors instead of a
    Python loop over them (torch takes it by default on CUDA). The
    optimiser's own arguments win (``optimizer__foreach=False``).
    """

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if self.optimizer in _FOREACH and "foreach" not in kwargs:
            kwargs["foreach"] = True
        return args, kwargs


def _mixes_rows(module) -> bool:
    """Whether ``module`` couples the windows of a batch in training (batch norm)."""
    return any(
        isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules()
    )


def _rows_read(x_in, x, weights, subset: bool):
    """The windows of a batch that a phase's loss reads, with their weights.

    A window whose weights are all zero adds nothing to the phase's loss nor
    to its gradients, so when no layer couples the windows of a batch it
    need not be reconstructed at all: the maximise phase usually reads the
    one or two anomalous windows of a batch of eight (the rest are normals
    and replayed anchors), the minimise phase every window but those
    labelled anomalous throughout. Same loss, same gradients, fewer rows.
    """
    if subset:
        keep = weights.sum(dim=1) > 0
        if not bool(keep.all()):
            return x_in[keep], x[keep], weights[keep]
    return x_in, x, weights


def _named(module, parameters) -> list:
    """``(name, parameter)`` pairs of ``module`` for the given parameters."""
    wanted = {id(p) for p in parameters}
    return [(n, p) for n, p in module.named_parameters() if id(p) in wanted]


class BackboneNet(ForeachOptimizerMixin, LoggedNet, NeuralNet):
    """Unsupervised training of a backbone by its own objective.

    One optimiser per objective phase of the backbone (one for most models,
    two for USAD's adversarial pair); each phase recomputes its loss after the
    previous phase's step, as the original two-optimiser loops do. Early
    stopping watches the backbone's ``validation_loss`` on the held-out split.
    Between each phase's backward pass and its step, callbacks are notified
    ``on_grad_computed`` with that phase's parameters, as skorch's own
    ``train_step`` does, so skorch's ``GradientNormClipping`` clips them.
    Adam and AdamW run with ``foreach=True`` (:class:`ForeachOptimizerMixin`).

    Parameters
    ----------
    module : ReconstructionBackbone class or instance
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def _phase_optimizer_name(self, phase: int) -> str:
        return "optimizer_" if phase == 0 else f"optimizer{phase}_"

    def initialize_optimizer(self, *args, **kwargs):
        module = self.module_
        for phase in range(module.n_objective_phases):
            named = _named(module, module.phase_parameters(phase))
            opt_args, opt_kwargs = self.get_params_for_optimizer("optimizer", named)
            setattr(
                self,
                self._phase_optimizer_name(phase),
                self.optimizer(*opt_args, **opt_kwargs),
            )
        return self

    def _phase_named(self, phase: int, optimizer) -> list:
        """The phase's ``(name, parameter)`` pairs, found once per optimiser.

        Kept with the optimiser they were found for, so that a new optimiser
        (initialisation, unpickling) finds them again; not pickled.
        """
        cache = self.__dict__.setdefault("_phase_named_cache", {})
        found = cache.get(phase)
        if found is None or found[0] is not optimizer:
            named = _named(self.module_, self.module_.phase_parameters(phase))
            cache[phase] = found = (optimizer, named)
        return found[1]

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_phase_named_cache", None)
        return state

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        x = to_tensor(unpack_data(batch)[0], device=self.device)
        epoch = len(self.history)  # 1-based: the current epoch's row exists already
        total = torch.zeros((), device=x.device)
        n_phases = self.module_.n_objective_phases
        for phase in range(n_phases):
            optimizer = getattr(self, self._phase_optimizer_name(phase))
            named = self._phase_named(phase, optimizer)
            optimizer.zero_grad()
            loss = self.module_.objective(x, phase=phase, epoch=epoch)
            if n_phases == 1:
                loss.backward()
            else:
                # only the gradients this phase's optimiser uses: autograd then
                # skips the weight gradients of the other parameters (USAD's
                # decoder 2 in phase 0, decoder 1 in phase 1); the update is
                # the same, the others' gradients were discarded anyway
                loss.backward(inputs=[p for _, p in named if p.requires_grad])
            self.notify(
                "on_grad_computed",
                named_parameters=named,
                X=x,
                y=None,
            )
            optimizer.step()
            total = total + loss.detach()
        return {"loss": total, "y_pred": None}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        x = to_tensor(unpack_data(batch)[0], device=self.device)
        with torch.no_grad():
            loss = self.module_.validation_loss(x, epoch=len(self.history))
        return {"loss": loss, "y_pred": None}


class FeedbackNet(ForeachOptimizerMixin, LoggedNet, NeuralNet):
    """Active-learning feedback: masked reconstruction with a minimax loss.

    Each batch holds labelled windows and their per-timestep labels (1 =
    anomaly, 0 = normal, ``nan`` = unknown). A fixed ratio of timesteps per
    window is masked (set to zero, the channel mean after standardisation);
    the loss is taken on masked timesteps only (Eqs. 2-3 of Han et al.):

    - ``loss="minimax"``: two backward passes per iteration, first minimising
      the error on normal timesteps, then maximising it on anomalous ones; a
      batch without anomalies skips the maximise phase.
    - ``loss="weighted"``: one backward pass on ``L_normal + anomaly_weight *
      L_anomaly`` (the "-Minimax Loss" ablation of Figure 8).

    ``anomaly_margin`` bounds the maximise phase (see
    :func:`~alad.training.losses.anomaly_objective`); None keeps Eq. 3 as is.

    With ``mask_ratio=0`` nothing is masked and the loss covers every timestep
    (the "-Window Masking" ablation).

    The module is the already trained backbone, passed as an instance, so
    feedback continues from the current weights. Adam runs with
    ``foreach=True`` (:class:`ForeachOptimizerMixin`).
    """

    def __init__(
        self,
        module,
        *args,
        mask_ratio=0.15,
        loss="minimax",
        anomaly_weight=1.0,
        anomaly_margin=None,
        visible_weight=0.0,
        mask_seed=0,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.mask_ratio = mask_ratio
        self.visible_weight = visible_weight
        self.loss = loss
        self.anomaly_weight = anomaly_weight
        self.anomaly_margin = anomaly_margin
        self.mask_seed = mask_seed

    def initialize(self):
        super().initialize()
        self.mask_generator_ = torch.Generator().manual_seed(self.mask_seed)
        self.subset_rows_ = not _mixes_rows(self.module_)
        return self

    def _phase(self, loss, x):
        self.optimizer_.zero_grad()
        loss.backward()
        self.notify(
            "on_grad_computed",
            named_parameters=list(self.module_.named_parameters()),
            X=x,
            y=None,
        )
        self.optimizer_.step()

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        x, labels = unpack_data(batch)
        x = to_tensor(x, device=self.device)
        labels = to_tensor(labels, device=self.device)
        mask = draw_timestep_mask(
            x.shape[0], x.shape[1], self.mask_ratio, self.mask_generator_
        ).to(x.device)
        # replayed training windows (anchors) are reconstructed unmasked
        mask = mask & (labels != ANCHOR)
        if self.mask_ratio > 0:
            x_in = x.masked_fill(mask.unsqueeze(-1), 0.0)
        else:  # no masking: reconstruct raw windows, loss on every timestep
            x_in, mask = x, torch.ones_like(mask)
        normal = phase_weights(mask, labels, 0, self.visible_weight)
        anomalous = phase_weights(mask, labels, 1, self.visible_weight)
        reported = torch.zeros((), device=x.device)

        if self.loss == "weighted":
            x_hat = self.module_(x_in)
            loss = torch.zeros((), device=x.device)
            if normal.sum() > 0:
                loss = loss + masked_timestep_mse(x_hat, x, normal)
            if anomalous.sum() > 0:
                loss = loss + self.anomaly_weight * anomaly_objective(
                    x_hat, x, anomalous, self.anomaly_margin
                )
            if loss.requires_grad:
                self._phase(loss, x)
            return {"loss": loss.detach(), "y_pred": None}

        if normal.sum() > 0:  # minimise phase (Eq. 2)
            rows_in, rows, weights = _rows_read(x_in, x, normal, self.subset_rows_)
            loss_normal = masked_timestep_mse(self.module_(rows_in), rows, weights)
            self._phase(loss_normal, x)
            reported = reported + loss_normal.detach()
        if anomalous.sum() > 0:  # maximise phase (Eq. 3), skipped without anomalies
            rows_in, rows, weights = _rows_read(x_in, x, anomalous, self.subset_rows_)
            loss_anomaly = anomaly_objective(
                self.module_(rows_in), rows, weights, self.anomaly_margin
            )
            self._phase(loss_anomaly, x)
            reported = reported + loss_anomaly.detach()
        return {"loss": reported, "y_pred": None}
