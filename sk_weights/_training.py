"""The epoch loop of the stochastic solvers, shared by every estimator.

:func:`train` is the fit loop; each part it calls can be read on its own:

- :class:`TrainingConfig`: the frozen settings of one run;
- :class:`EpochRunner`: one pass over the mini-batches (batch, dropout masks,
  loss and gradient, optimiser step, proximal L1 step);
- :class:`DivergenceGuard`: the checks that stop a run going astray, each of
  which raises :class:`~sk_weights.exceptions.DivergenceError` or returns;
- :class:`EarlyStopping`: the rule that says when to stop, and which weights
  to keep;
- the per-epoch record (the history) and, at the edge, printing and callbacks.

The loop works on a copy of the parameters, so a failed run leaves the
caller's arrays untouched.

The guard compares like with like: the data loss of a batch with the data loss
of the all-zero model, and the penalised objective of an epoch with the
penalised objective at the starting weights and at zero, so that a strong
penalty, whose objective starts high and falls, is never taken for divergence.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from sk_weights._activations import ACTIVATIONS
from sk_weights._datafits import as_datafit
from sk_weights._network import (
    BatchGradient,
    Workspace,
    dropout_mask,
    predict,
    weight_statistics,
)
from sk_weights.exceptions import DivergenceError


@dataclass(frozen=True)
class TrainingConfig:
    """The settings of one run of :func:`train`.

    Parameters
    ----------
    activation : str
        Hidden activation (a key of ``_activations.ACTIVATIONS``).
    loss : Datafit or str
        The loss (see ``_datafits``; a name is looked up there): it fixes
        the output activation and gives the gradient at the output.
    penalty : ElasticNetPenalty
        Penalty on the weight matrices.
    batch_size : int
        Samples per mini-batch (capped by the number of samples).
    max_epochs : int
        Maximum number of passes over the data.
    shuffle : bool, default=True
        Whether to visit the samples in a new random order each epoch.
    dropout_rates : tuple of float, default=()
        Drop probability of each layer that feeds a weight matrix (the input
        first). Empty or 0 drops nothing.
    fit_intercepts : bool, default=True
        Whether to learn the biases; if False they keep their starting values
        (their gradient is dropped before every step).
    tol, n_iter_no_change : float, int
        Stop when the monitored quantity has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    early_stopping : bool, default=True
        Whether the stopping rule may end the run and choose the weights kept
        (False for the single epoch of a ``partial_fit``).
    monitor_validation : bool, default=True
        False records the validation score and loss of every epoch but
        monitors the training loss and returns the last parameters, as
        without a validation score: for a held-out set too small to judge.
    verbose : bool, default=False
        Print one line per epoch.
    """

    activation: str
    loss: object  # a Datafit
    penalty: object
    batch_size: int
    max_epochs: int
    shuffle: bool = True
    dropout_rates: tuple = ()
    fit_intercepts: bool = True
    tol: float = 1e-4
    n_iter_no_change: int = 10
    early_stopping: bool = True
    monitor_validation: bool = True
    verbose: bool = False

    def __post_init__(self):
        # A loss given by its name is the registry's datafit of that name.
        object.__setattr__(self, "loss", as_datafit(self.loss))


@dataclass
class TrainingResult:
    """What a run of :func:`train` produced.

    ``stop_reason`` is ``"converged"`` (the training loss stopped improving),
    ``"early_stopping"`` (the validation score stopped improving, or the epoch
    callback stopped the run) or ``"max_iter"`` (the epochs ran out);
    ``best_epoch`` is the epoch whose weights ``theta`` holds when a
    validation score chose them, else None.
    """

    theta: np.ndarray
    n_epochs: int
    n_samples_seen: int
    stop_reason: str
    best_epoch: int = None
    history: list = field(default_factory=list)
    #: The network's outputs on X at ``theta``: the last check computed them,
    #: and the fit's records read them instead of a second pass over X.
    output: np.ndarray = None

    @property
    def converged(self):
        """Whether a stopping rule ended the run (not ``max_epochs``)."""
        return self.stop_reason != "max_iter"


#: The fitted attribute that keeps each field of :class:`TrainingRecord`.
RECORD_ATTRIBUTES = {
    "n_iter": "n_iter_",
    "t": "t_",
    "loss_curve": "loss_curve_",
    "best_loss": "best_loss_",
    "validation_scores": "validation_scores_",
    "best_validation_score": "best_validation_score_",
    "stop_reason": "stop_reason_",
    "best_epoch": "best_epoch_",
    "weight_norms_curve": "weight_norms_curve_",
    "zero_fraction_curve": "zero_fraction_curve_",
    "optimizer_state": "_optimizer_state",
    "solver": "solver_",
    "feature_std": "feature_std_",
}

#: The fields a family of estimators keeps or not (a network has no ``solver_``).
FAMILY_RECORDS = ("solver", "feature_std")

#: The fields a record may leave None, which leaves the attribute as it is: the
#: family's, and the optimiser state, which a full-batch solve does not touch
#: (a later partial_fit goes on with that of the last stochastic run).
OPTIONAL_RECORDS = ("optimizer_state", *FAMILY_RECORDS)


@dataclass(frozen=True)
class TrainingRecord:
    """The records of one training run, as the fitted attributes keep them.

    Both the epoch loop (:func:`record_run`) and the full-batch solvers
    (:meth:`from_full_batch`) describe their run with one; the estimator sets
    the attributes of :data:`RECORD_ATTRIBUTES` from :meth:`attributes`, and
    nothing else writes them.
    """

    n_iter: int
    t: int
    loss_curve: list
    best_loss: object
    validation_scores: object
    best_validation_score: object
    stop_reason: str
    best_epoch: object
    weight_norms_curve: np.ndarray
    zero_fraction_curve: np.ndarray
    optimizer_state: object = None
    solver: str = None
    feature_std: np.ndarray = None
    #: The sample-weighted mean of each feature, when the solver computed it
    #: (the fit records then need no pass over X for ``feature_mean_``).
    feature_mean: np.ndarray = None
    #: The trained model's outputs on X (after the output activation), when
    #: the solver computed them (the fit records then predict nothing anew).
    outputs: np.ndarray = None

    def attributes(self):
        """The fitted attributes this record sets, name -> value."""
        return {
            attribute: getattr(self, name)
            for name, attribute in RECORD_ATTRIBUTES.items()
            if name not in OPTIONAL_RECORDS or getattr(self, name) is not None
        }

    @classmethod
    def from_full_batch(cls, result, **family):
        """The record of a full-batch solve (a ``FullBatchResult`` or alike)."""
        return cls(
            n_iter=result.n_iter,
            t=0,
            loss_curve=result.loss_curve,
            best_loss=float(min(result.loss_curve)),
            validation_scores=None,
            best_validation_score=None,
            stop_reason="converged" if result.converged else "max_iter",
            best_epoch=None,
            weight_norms_curve=np.reshape(result.weight_norms, (-1, 1)),
            zero_fraction_curve=np.reshape(result.zero_fractions, (-1, 1)),
            **family,
        )


def record_run(result, previous=None, *, partial=False, held_out=False, **family):
    """The :class:`TrainingRecord` of a run of :func:`train`.

    Parameters
    ----------
    result : TrainingResult
        The run.
    previous : mapping, optional
        The fitted attributes of the run this one continues (a warm start or
        a later ``partial_fit``): its curves are extended. None starts anew.
    partial : bool, default=False
        The run was a ``partial_fit`` epoch: the epoch count is cumulative
        too, and, with no stopping rule, it stopped on ``"max_iter"``.
    held_out : bool, default=False
        The run held out a validation part (early stopping), whose scores
        judge it: ``best_loss`` is None, as in scikit-learn's networks, and
        ``best_validation_score`` tells the best.
    **family
        The optional records (see :data:`OPTIONAL_RECORDS`).
    """
    previous = previous if previous is not None else {}

    def earlier(name, default=None):
        return previous.get(RECORD_ATTRIBUTES[name], default)

    curves = {}
    for name, key in (
        ("weight_norms_curve", "weight_norms"),
        ("zero_fraction_curve", "zero_fractions"),
    ):
        rows = np.array([record[key] for record in result.history], np.float64)
        if earlier(name) is not None:
            rows = np.vstack([earlier(name), rows])
        curves[name] = rows
    loss_curve = list(earlier("loss_curve", [])) + [
        record["loss"] for record in result.history
    ]
    scores = [
        record["validation_score"]
        for record in result.history
        if "validation_score" in record
    ]
    previous_scores = earlier("validation_scores")
    validation_scores = (
        list(previous_scores or []) + scores if scores or previous_scores else None
    )
    n_previous = len(earlier("loss_curve", []))
    return TrainingRecord(
        n_iter=(earlier("n_iter", 0) if partial else 0) + result.n_epochs,
        t=int(result.n_samples_seen),
        loss_curve=loss_curve,
        best_loss=float(min(loss_curve)) if loss_curve and not held_out else None,
        validation_scores=validation_scores,
        best_validation_score=max(validation_scores) if validation_scores else None,
        # partial_fit runs one epoch and no stopping rule: it ran out.
        stop_reason="max_iter" if partial else result.stop_reason,
        best_epoch=None
        if result.best_epoch is None
        else n_previous + result.best_epoch,
        **curves,
        **family,
    )


#: A loss this many times that of the all-zero model (which predicts 0 for a
#: regression and uniform probabilities for a classification) means the
#: iterates are running away, even while every number is still finite.
EXPLOSION_FACTOR = 1e6

#: The least loss the explosion rule compares with: the all-zero model of a
#: target of no spread (all zero, or tiny) has a loss near 0, which a network
#: at its random start exceeds a million times without diverging.
EXPLOSION_FLOOR = 1.0

#: Training that ends with an objective this many times both its starting
#: objective and the all-zero model's has failed: the optimum is never worse
#: than either.
FAILURE_FACTOR = 2.0


def train(
    theta,
    layout,
    X,
    y,
    sample_weight,
    config,
    optimizer,
    rng,
    *,
    validation_score=None,
    epoch_callback=None,
    n_samples_seen=0,
    first_epoch=1,
):
    """Train ``theta`` by mini-batch proximal gradient descent.

    Parameters
    ----------
    theta : ndarray
        Initial parameters (not modified; the result holds a trained copy).
    layout : Layout
        Shapes of the network's layers.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Training inputs.
    y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
        Targets, one-hot for classification; or integer class indices, which
        are one-hot encoded batch by batch, so that no n_samples x n_classes
        matrix is ever made.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights of the samples.
    config : TrainingConfig
        The settings of the run.
    optimizer : SGDOptimizer or AdamOptimizer
        Updates ``theta`` from each mini-batch gradient; modified in place.
    rng : numpy.random.Generator
        Source of the shuffling and of the dropout masks.
    validation_score : callable, optional
        ``validation_score(theta)`` returns ``(score, loss)`` on held-out data:
        a score to maximise and the data loss. When given (and
        ``config.monitor_validation``), they are the monitored quantity and
        the best parameters seen are returned; otherwise the training loss is
        monitored (see :class:`EarlyStopping`).
    epoch_callback : callable, optional
        ``epoch_callback(record, theta)`` is called after each epoch with that
        epoch's history record; returning True stops training.
    n_samples_seen, first_epoch : int
        Carried over from previous calls (warm start / partial_fit).

    Returns
    -------
    TrainingResult
        Its ``history`` holds one dict per epoch: ``epoch``, ``loss`` (the
        penalised objective), ``learning_rate``, ``weight_norms`` and
        ``zero_fractions`` (per weight matrix, at the end of the epoch),
        ``seconds``, and with a validation score ``validation_score`` and
        ``validation_loss``.

    Raises
    ------
    DivergenceError
        As soon as the loss or a parameter is not finite, or the objective
        explodes; and at the end, when the trained weights are far worse than
        both the starting weights and the all-zero model.
    """
    theta = theta.copy()
    runner = EpochRunner(layout, X, y, sample_weight, config, theta.dtype)
    weights = theta[: layout.n_coefs]
    weight_matrices = layout.unpack(theta)[0]  # views, updated in place
    guard = DivergenceGuard(
        _zero_model_loss(config.loss, y, sample_weight, theta.dtype, layout),
        config.penalty.value(weights),
        optimizer,
        theta.dtype,
    )
    rule = EarlyStopping(
        config.tol,
        config.n_iter_no_change,
        on_validation=validation_score is not None and config.monitor_validation,
    )
    history = []
    stop_reason = "max_iter"
    epoch = first_epoch - 1
    for epoch in range(first_epoch, first_epoch + config.max_epochs):
        start_time = time.perf_counter()
        data_loss, n_samples_seen = runner.run(
            theta, optimizer, rng, guard, epoch, n_samples_seen
        )
        epoch_loss = data_loss + config.penalty.value(weights)
        guard.check_epoch(epoch, theta, epoch_loss)
        optimizer.on_epoch_end(n_samples_seen)
        record = _record(epoch, epoch_loss, optimizer, weight_matrices)
        if validation_score is not None:
            score, held_out_loss = (float(v) for v in validation_score(theta))
            record["validation_score"] = score
            record["validation_loss"] = held_out_loss
        rule.update(record, theta)
        record["seconds"] = time.perf_counter() - start_time
        history.append(record)
        if _report_epoch(record, theta, config.verbose, epoch_callback):
            stop_reason = "early_stopping"
            break
        if (
            config.early_stopping
            and rule.plateaued()
            and not optimizer.on_plateau(config.verbose)
        ):
            stop_reason = rule.stop_reason
            if config.verbose:
                print(rule.describe())
            break

    theta, kept_loss, best_epoch = rule.kept(theta, history, config.early_stopping)
    output = guard.check_final(epoch, theta, kept_loss, layout, X, config)
    return TrainingResult(
        theta=theta,
        n_epochs=len(history),
        n_samples_seen=n_samples_seen,
        stop_reason=stop_reason,
        best_epoch=best_epoch,
        history=history,
        output=output,
    )


class EpochRunner:
    """One pass over the mini-batches, in buffers allocated once.

    Every per-batch array lives in buffers allocated here: the working memory
    is O(batch_size x width) whatever the number of samples.
    """

    def __init__(self, layout, X, y, sample_weight, config, dtype):
        self.layout, self.X, self.y, self.config = layout, X, y, config
        n_samples = X.shape[0]
        self.batch_size = batch_size = min(config.batch_size, n_samples)
        self.rates = list(config.dropout_rates)
        self.dropping = any(rate > 0 for rate in self.rates)
        self.total_sample_weight = float(sample_weight.sum())
        # In the parameters' dtype, so that weighting the gradient does not upcast.
        self.sample_weight = np.asarray(sample_weight, dtype=dtype)
        self.grad = np.empty(layout.n_params, dtype)
        self.workspace = Workspace(layout, batch_size, dtype)
        self.x_buffer = (
            None if sp.issparse(X) else np.empty((batch_size, X.shape[1]), X.dtype)
        )
        n_outputs = layout.layer_sizes[-1]
        self.y_buffer = np.empty(
            (batch_size, n_outputs), dtype if y.ndim == 1 else y.dtype
        )
        self.sw_buffer = np.empty(batch_size, dtype)
        self.mask_buffers = _mask_buffers(X, layout, self.rates, batch_size, dtype)
        # Unit sample weights (none given) make every batch's normalised
        # weights 1/n: one array per batch size, not a gather and a sum per
        # batch.
        self.unit_weights = bool(np.all(self.sample_weight == 1))
        self._unit_shares = {}

    def run(self, theta, optimizer, rng, guard, epoch, n_samples_seen):
        """Take one step per mini-batch; return the mean data loss and the count.

        The data loss is each batch's loss at the weights it was computed at,
        weighted by the batch's share of the sample weights.
        """
        config, n_coefs = self.config, self.layout.n_coefs
        weights = theta[:n_coefs]
        batch_gradient = BatchGradient(
            theta,
            self.grad,
            self.layout,
            activation=config.activation,
            loss=config.loss,
            penalty=config.penalty,
        )
        grad, has_prox = self.grad, config.penalty.has_prox
        accumulated = 0.0
        for rows in self._batches(rng):
            sw_batch, sw_sum = self._batch_weights(rows)
            if sw_sum == 0:
                continue
            X_batch = _take_rows(self.X, rows, self.x_buffer)
            y_batch = _take_targets(self.y, rows, self.y_buffer)
            masks = (
                _dropout_masks(rng, X_batch, self.rates, self.mask_buffers)
                if self.dropping
                else None
            )
            batch_loss = batch_gradient(
                X_batch,
                y_batch,
                sw_batch,
                self.workspace.resize(X_batch.shape[0]),
                masks,
            )
            if not config.fit_intercepts:
                grad[n_coefs:] = 0
            guard.check_batch(epoch, batch_loss)
            # For plain SGD the textbook w <- w - learning_rate * grad; with
            # momentum or Adam, their own rule (see _optimizers).
            optimizer.step(theta, grad)
            if has_prox:
                # The L1 part: soft-thresholding by the step just taken (and
                # the projection onto w >= 0 for positive weights).
                config.penalty.prox(weights, optimizer.prox_step_size(n_coefs))
            accumulated += batch_loss * sw_sum
            n_samples_seen += X_batch.shape[0]
        return accumulated / self.total_sample_weight, n_samples_seen

    def _batch_weights(self, rows):
        """The batch's sample weights normalised to sum to one, and their sum."""
        if self.unit_weights:
            # The batches are slices with both ends, or arrays of row indices.
            n = rows.stop - rows.start if isinstance(rows, slice) else rows.size
            shares = self._unit_shares.get(n)
            if shares is None:
                # What the general case computes from n ones, made once.
                shares = np.ones(n, self.sample_weight.dtype)
                np.divide(shares, float(n), out=shares)
                # Shared by every batch of n rows: a write would corrupt them.
                shares.flags.writeable = False
                self._unit_shares[n] = shares
            return shares, float(n)
        sw_batch = _take_rows(self.sample_weight, rows, self.sw_buffer)
        sw_sum = float(sw_batch.sum())
        if sw_sum == 0:
            return sw_batch, sw_sum
        return np.divide(sw_batch, sw_sum, out=self.sw_buffer[: sw_batch.size]), sw_sum

    def _batches(self, rng):
        """Yield the rows of each mini-batch: slices, or a new random order.

        One batch of every sample needs no order: shuffling it would change
        only the rounding of its sums, at the cost of a copy per epoch.
        """
        n_samples = self.X.shape[0]
        shuffle = self.config.shuffle and n_samples > self.batch_size
        order = rng.permutation(n_samples) if shuffle else None
        for batch in gen_batches(n_samples, self.batch_size):
            yield batch if order is None else order[batch]


class DivergenceGuard:
    """The checks that catch a run going astray; each raises or returns.

    Parameters
    ----------
    zero_loss : float
        Data loss of the all-zero model (raw output 0 everywhere).
    start_penalty : float
        Penalty at the starting weights.
    optimizer : SGDOptimizer or AdamOptimizer
        Its learning rate goes into the messages, its state into a check.
    dtype : numpy dtype
        dtype of the parameters.
    """

    def __init__(self, zero_loss, start_penalty, optimizer, dtype):
        self.zero_loss, self.start_penalty = zero_loss, start_penalty
        self.optimizer, self.dtype = optimizer, dtype
        self.loss_limit = EXPLOSION_FACTOR * max(zero_loss, EXPLOSION_FLOOR)
        # The objective at the starting weights: the first batch's loss
        # estimates the data part. The all-zero model's objective is its loss.
        self.start_objective = None
        self.objective_limit = None

    def check_batch(self, epoch, batch_loss):
        """Raise if a batch's loss is not finite or has exploded."""
        if not math.isfinite(batch_loss):
            self._raise(epoch, "the loss is no longer finite")
        if self.start_objective is None:
            self.start_objective = batch_loss + self.start_penalty
            self.objective_limit = EXPLOSION_FACTOR * self._reference()
        if batch_loss > self.loss_limit:
            self._raise(epoch, _explosion(batch_loss, self.zero_loss))

    def check_epoch(self, epoch, theta, epoch_loss):
        """Raise if a weight, the optimiser's state or the objective went astray."""
        if not np.isfinite(theta).all():
            self._raise(epoch, "the weights are no longer finite")
        if not self.optimizer.state_is_finite():
            raise DivergenceError(_overflow_message(epoch, self.dtype))
        if not epoch_loss <= self.objective_limit:
            self._raise(
                epoch, _explosion(epoch_loss, self.zero_loss, self.start_objective)
            )

    def check_final(self, epoch, theta, kept_loss, layout, X, config):
        """Raise if the weights kept overflow the outputs or ended far worse.

        Returns the network's outputs on X, which the check computes.
        """
        # The weights after the last step have not been evaluated yet, and
        # outputs can overflow (in float32 first) while every weight is finite:
        # one forward pass over the data makes sure they predict finite values.
        coefs, intercepts = layout.unpack(theta)
        output = predict(
            coefs,
            intercepts,
            X,
            config.activation,
            config.loss.output_activation,
        )
        if not np.isfinite(output).all():
            self._raise(epoch, "the trained weights overflow the network's outputs")
        if (
            self.start_objective is not None
            and kept_loss > FAILURE_FACTOR * self._reference()
        ):
            # Bounded losses (the clipped log loss) cannot explode: a run whose
            # objective ends far worse than both its start and the all-zero
            # model's has failed. Objectives on both sides, penalty included.
            self._raise(
                epoch,
                f"the trained weights have an objective of {kept_loss:.3g}, over "
                f"{FAILURE_FACTOR:g} times both the objective at the starting "
                f"weights ({self.start_objective:.3g}) and that of a model with "
                f"all weights at zero ({self.zero_loss:.3g})",
            )
        return output

    def _reference(self):
        """The larger of the starting and the all-zero objective (above 0)."""
        return max(self.zero_loss, self.start_objective, np.finfo(self.dtype).eps)

    def _raise(self, epoch, what):
        raise DivergenceError(
            divergence_message(epoch, what, self.optimizer.learning_rate)
        )


class EarlyStopping:
    """When to stop, and which weights to keep.

    The monitored quantity is the training objective, or with
    ``on_validation`` the held-out ``(score, loss)``: an epoch improves when
    its score beats the best by ``tol``, or equals the best with a loss lower
    by ``tol``. On a small held-out set a score such as accuracy moves in
    coarse steps and stays level for many epochs while the model still
    improves, which the loss shows. With ``on_validation`` the best epoch's
    parameters are kept.
    """

    def __init__(self, tol, n_iter_no_change, on_validation):
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.on_validation = on_validation
        self.stop_reason = "early_stopping" if on_validation else "converged"
        self.best_loss = np.inf
        self.best_validation = (-np.inf, np.inf)  # (score, loss) of the best epoch
        self.best_theta = self.best_epoch = self.best_theta_loss = None
        self.no_improvement = 0

    def update(self, record, theta):
        """Take in an epoch's record (and keep ``theta`` if it is the best)."""
        epoch_loss = record["loss"]
        if self.on_validation:
            held_out = (record["validation_score"], record["validation_loss"])
            improved = _improves(*held_out, self.best_validation, self.tol)
            if _improves(*held_out, self.best_validation, 0.0):
                self.best_validation = held_out
                self.best_theta, self.best_theta_loss = theta.copy(), epoch_loss
                self.best_epoch = record["epoch"]
        else:
            improved = epoch_loss < self.best_loss - self.tol
        self.best_loss = min(self.best_loss, epoch_loss)
        self.no_improvement = 0 if improved else self.no_improvement + 1

    def plateaued(self):
        """Whether ``n_iter_no_change`` epochs passed without improvement.

        Counting starts afresh, for a schedule that lowers its learning rate
        and goes on.
        """
        if self.no_improvement < self.n_iter_no_change:
            return False
        self.no_improvement = 0
        return True

    def describe(self):
        """Say why the run stops (a verbose line)."""
        monitored = "validation score" if self.on_validation else "loss"
        return (
            f"The {monitored} did not improve by more than tol={self.tol} "
            f"for {self.n_iter_no_change} consecutive epochs. Stopping."
        )

    def kept(self, theta, history, applies):
        """Return the parameters kept, their objective and the best epoch.

        The best epoch's parameters when a validation score chose them and
        the rule ``applies``, else the last ones (and no best epoch).
        """
        if self.best_theta is not None and applies:
            return self.best_theta, self.best_theta_loss, self.best_epoch
        return theta, history[-1]["loss"] if history else 0.0, None


def divergence_message(epoch, what, learning_rate):
    """Explain a divergence: where it happened, the likely cause and the cure."""
    return (
        f"Training diverged at epoch {epoch}: {what}. "
        f"The learning rate ({learning_rate:.3g}) is likely too large for this "
        "data, or the features are not scaled. Lower learning_rate_init, or "
        "standardise X (e.g. with sklearn.preprocessing.StandardScaler). The "
        "estimator keeps the weights it had before this call."
    )


def _record(epoch, epoch_loss, optimizer, weight_matrices):
    """The history record of an epoch (validation and time are added after)."""
    norms, zero_fractions = weight_statistics(weight_matrices)
    return {
        "epoch": epoch,
        "loss": epoch_loss,
        "learning_rate": optimizer.learning_rate,
        "weight_norms": norms,
        "zero_fractions": zero_fractions,
    }


def _report_epoch(record, theta, verbose, epoch_callback):
    """Print the epoch's line and call the callback; return True to stop."""
    if verbose:
        print(_progress_line(record))
    return epoch_callback is not None and bool(epoch_callback(record, theta))


def gen_batches(n, batch_size):
    """Yield slices of ``batch_size`` covering ``range(n)``, the last one shorter.

    What ``sklearn.utils.gen_batches`` does; written out because the numerical
    core does not import scikit-learn.
    """
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def _take_rows(X, rows, buffer):
    """Return ``X[rows]``, gathered into ``buffer`` when X is dense."""
    if isinstance(rows, slice) or not isinstance(X, np.ndarray):
        return X[rows]  # a view, or sparse rows
    # mode="clip" skips the bounds check, for which NumPy gathers into a
    # temporary and copies it over: the rows come from a permutation.
    return X.take(rows, axis=0, out=buffer[: len(rows)], mode="clip")


def _improves(score, loss, best, tol):
    """Whether held-out ``(score, loss)`` beats ``best`` by ``tol``.

    The score comes first; at an equal score a lower loss breaks the tie.
    """
    best_score, best_loss = best
    return score > best_score + tol or (score >= best_score and loss < best_loss - tol)


def _overflow_message(epoch, dtype):
    """Explain an overflow of the optimiser's state: the data, not the rate."""
    cure = "scale X, e.g. with sklearn.preprocessing.StandardScaler"
    if dtype != np.float64:
        cure += ", or pass it as float64"
    return (
        f"Training failed at epoch {epoch}: the squares of the gradients overflow "
        f"{np.dtype(dtype).name}, so the optimiser can no longer take steps. The "
        f"features are too large for {np.dtype(dtype).name} arithmetic: {cure}. "
        "The estimator keeps the weights it had before this call."
    )


def _take_targets(y, rows, buffer):
    """Return the targets of ``rows``: class indices become one-hot rows."""
    if y.ndim == 2:
        return _take_rows(y, rows, buffer)
    labels = y[rows]
    one_hot = buffer[: labels.size]
    one_hot.fill(0)
    one_hot[np.arange(labels.size), labels] = 1
    return one_hot


def _zero_model_loss(loss, y, sample_weight, dtype, layout):
    """Loss of the network whose raw output is 0 for every sample."""
    n_outputs = layout.layer_sizes[-1]
    sample_weight = sample_weight / float(sample_weight.sum())
    raw = np.zeros((1, n_outputs), dtype=dtype)
    output = ACTIVATIONS[loss.output_activation](raw)
    if y.ndim == 1:
        # Class indices: every sample of a class has the same loss, so the
        # loss is that of one sample per class, weighted by the class's total.
        class_weight = np.bincount(y, weights=sample_weight, minlength=n_outputs)
        y = np.eye(n_outputs, dtype=dtype)
        sample_weight = class_weight
    return loss.loss(y, np.broadcast_to(output, y.shape), sample_weight)


def _explosion(value, zero_loss, start_objective=None):
    """Describe a loss (or, given ``start_objective``, an objective) that exploded."""
    if start_objective is None:
        compared = (
            f"the {zero_loss:.3g} of a model with all weights at zero"
            if zero_loss >= EXPLOSION_FLOOR
            else f"{EXPLOSION_FLOOR:g} (a model with all weights at zero has "
            f"{zero_loss:.3g})"
        )
        return (
            f"the loss reached {value:.3g}, over {EXPLOSION_FACTOR:.0e} times "
            + compared
        )
    return (
        f"the objective reached {value:.3g}, over {EXPLOSION_FACTOR:.0e} times "
        f"both its {start_objective:.3g} at the starting weights and the "
        f"{zero_loss:.3g} of a model with all weights at zero"
    )


def _mask_buffers(X, layout, rates, batch_size, dtype):
    """One dropout-mask buffer per layer that drops units, None for the others."""
    return [
        np.empty((batch_size, layout.layer_sizes[i]), dtype)
        if rate > 0 and not (i == 0 and sp.issparse(X))
        else None
        for i, rate in enumerate(rates)
    ]


def _dropout_masks(rng, X_batch, rates, buffers):
    """Draw one inverted-dropout mask per layer that feeds a weight matrix."""
    n = X_batch.shape[0]
    masks = []
    for rate, buffer in zip(rates, buffers):
        if rate <= 0:
            masks.append(None)
        elif buffer is None:
            # Sparse input: one draw per stored value, whose number varies.
            masks.append(dropout_mask(rng, (X_batch.nnz,), rate, X_batch.dtype))
        else:
            masks.append(dropout_mask(rng, None, rate, buffer.dtype, out=buffer[:n]))
    return masks


def _progress_line(record):
    """Format one epoch's record as a verbose progress line."""
    line = f"Epoch {record['epoch']:4d}: loss {record['loss']:.6g}"
    if "validation_score" in record:
        line += f", validation score {record['validation_score']:.6g}"
    return line + f", {record['seconds']:.3f} s"
