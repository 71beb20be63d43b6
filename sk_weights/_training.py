"""The epoch loop of the stochastic solvers, shared by every estimator.

:func:`train` runs mini-batch gradient descent on a flat parameter vector:
batching and shuffling, inverted-dropout masks, the optimiser step and the
proximal L1 step, per-epoch history, stopping on the training loss or on a
held-out validation score, and the divergence guard. It works on a copy of the
parameters, so a failed run leaves the caller's arrays untouched.

The guard compares like with like: the data loss of a batch with the data loss
of the all-zero model, and the penalised objective of an epoch with the
penalised objective at the starting weights and at zero, so that a strong
penalty, whose objective starts high and falls, is never taken for divergence.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from sk_weights._activations import ACTIVATIONS
from sk_weights._losses import LOSSES, OUTPUT_ACTIVATIONS
from sk_weights._network import (
    Workspace,
    dropout_mask,
    forward,
    loss_and_gradient,
    weight_statistics,
)
from sk_weights.exceptions import DivergenceError


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

    @property
    def converged(self):
        """Whether a stopping rule ended the run (not ``max_epochs``)."""
        return self.stop_reason != "max_iter"


#: A loss this many times that of the all-zero model (which predicts 0 for a
#: regression and uniform probabilities for a classification) means the
#: iterates are running away, even while every number is still finite.
EXPLOSION_FACTOR = 1e6

#: Training that ends with an objective this many times both its starting
#: objective and the all-zero model's has failed: the optimum is never worse
#: than either.
FAILURE_FACTOR = 2.0


def divergence_message(epoch, what, learning_rate):
    """Explain a divergence: where it happened, the likely cause and the cure."""
    return (
        f"Training diverged at epoch {epoch}: {what}. "
        f"The learning rate ({learning_rate:.3g}) is likely too large for this "
        "data, or the features are not scaled. Lower learning_rate_init, or "
        "standardise X (e.g. with sklearn.preprocessing.StandardScaler). The "
        "estimator keeps the weights it had before this call."
    )


def _batches(n_samples, batch_size, rng, shuffle):
    """Yield index arrays (or slices) covering ``range(n_samples)`` once."""
    if shuffle:
        order = rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n_samples, batch_size):
            yield slice(start, min(start + batch_size, n_samples))


def _take_rows(X, rows, buffer):
    """Return ``X[rows]``, gathered into ``buffer`` when X is dense."""
    if isinstance(rows, slice) or sp.issparse(X):
        return X[rows]
    # mode="clip" skips the bounds check, for which NumPy gathers into a
    # temporary and copies it over: the rows come from a permutation.
    return np.take(X, rows, axis=0, out=buffer[: len(rows)], mode="clip")


def train(
    theta,
    layout,
    X,
    y,
    sample_weight,
    *,
    activation,
    loss,
    penalty,
    optimizer,
    batch_size,
    max_epochs,
    rng,
    shuffle=True,
    dropout_rates=None,
    tol=1e-4,
    n_iter_no_change=10,
    validation_score=None,
    monitor_validation=True,
    stop_early=True,
    n_samples_seen=0,
    first_epoch=1,
    verbose=False,
    epoch_callback=None,
    fit_intercepts=True,
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
    activation, loss : str
        Hidden activation and loss (see ``_activations`` and ``_losses``).
    penalty : ElasticNetPenalty
        Penalty on the weight matrices.
    optimizer : SGDOptimizer or AdamOptimizer
        Updates ``theta`` from each mini-batch gradient; modified in place.
    batch_size : int
        Samples per mini-batch.
    max_epochs : int
        Maximum number of passes over the data.
    rng : numpy.random.Generator
        Source of the shuffling and of the dropout masks.
    shuffle : bool, default=True
        Whether to visit the samples in a new random order each epoch.
    dropout_rates : sequence of float, optional
        Drop probability of each layer that feeds a weight matrix (the input
        first). None or 0 drops nothing.
    tol, n_iter_no_change : float, int
        Stop when the monitored quantity has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs.
    validation_score : callable, optional
        ``validation_score(theta)`` returns ``(score, loss)`` on held-out data:
        a score to maximise and the data loss. When given, they are the
        monitored quantity and the best parameters seen are returned; otherwise
        the training loss is monitored. An epoch improves when its score beats
        the best by ``tol``, or equals the best with a loss lower by ``tol``:
        on a small held-out set a score such as accuracy moves in coarse steps
        and stays level for many epochs while the model still improves, which
        the loss shows.
    monitor_validation : bool, default=True
        False records the validation score and loss of every epoch but
        monitors the training loss and returns the last parameters, as
        without a validation score: for a held-out set too small to judge.
    stop_early : bool, default=True
        Whether to stop when the monitored quantity stops improving (False for
        a single ``partial_fit`` pass).
    n_samples_seen, first_epoch
        Carried over from previous calls (warm start / partial_fit).
    verbose : bool, default=False
        Print one line per epoch.
    epoch_callback : callable, optional
        ``epoch_callback(record, theta)`` is called after each epoch with that
        epoch's history record; returning True stops training.
    fit_intercepts : bool, default=True
        Whether to learn the biases; if False they keep their starting values
        (their gradient is dropped before every step).

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
    n_samples = X.shape[0]
    batch_size = min(batch_size, n_samples)
    rates = list(dropout_rates or [])
    dropping = any(rate > 0 for rate in rates)
    dtype = theta.dtype
    grad = np.empty_like(theta)
    # Every per-batch array lives in buffers allocated here, once: the working
    # memory is O(batch_size x width) whatever the number of samples.
    workspace = Workspace(layout, batch_size, dtype)
    x_buffer = None if sp.issparse(X) else np.empty((batch_size, X.shape[1]), X.dtype)
    n_outputs = layout.layer_sizes[-1]
    y_buffer = np.empty((batch_size, n_outputs), dtype if y.ndim == 1 else y.dtype)
    weight_buffer = np.empty(batch_size, dtype)
    mask_buffers = _mask_buffers(X, layout, rates, batch_size, dtype)
    total_weight = float(sample_weight.sum())
    n_coefs = layout.n_coefs
    weights = theta[:n_coefs]
    weight_matrices = layout.unpack(theta)[0]  # views, updated in place

    zero_loss = _zero_model_loss(
        loss, y, sample_weight / total_weight, dtype, n_outputs
    )
    # In the parameters' dtype, so that weighting the gradient does not upcast.
    sample_weight = np.asarray(sample_weight, dtype=dtype)
    loss_limit = EXPLOSION_FACTOR * max(zero_loss, np.finfo(dtype).eps)
    start_penalty = penalty.value(weights)
    # The objective at the starting weights: the first batch's loss estimates
    # the data part. The all-zero model's objective is its loss alone.
    start_objective = None
    objective_limit = None
    history = []
    best_loss = np.inf
    best_validation = (-np.inf, np.inf)  # (score, loss) of the best epoch
    best_theta = best_epoch = None
    no_improvement = 0
    stop_reason = "max_iter"
    epoch = first_epoch - 1
    for epoch in range(first_epoch, first_epoch + max_epochs):
        start_time = time.perf_counter()
        accumulated = 0.0
        for rows in _batches(n_samples, batch_size, rng, shuffle):
            batch_weight = _take_rows(sample_weight, rows, weight_buffer)
            weight_sum = float(batch_weight.sum())
            if weight_sum == 0:
                continue
            batch_weight = np.divide(
                batch_weight, weight_sum, out=weight_buffer[: batch_weight.size]
            )
            X_batch = _take_rows(X, rows, x_buffer)
            y_batch = _take_targets(y, rows, y_buffer)
            masks = (
                _dropout_masks(rng, X_batch, rates, mask_buffers) if dropping else None
            )
            batch_loss, _ = loss_and_gradient(
                theta,
                layout,
                X_batch,
                y_batch,
                batch_weight,
                activation=activation,
                loss=loss,
                penalty=penalty,
                workspace=workspace.resize(X_batch.shape[0]),
                dropout_masks=masks,
                grad=grad,
            )
            if not fit_intercepts:
                grad[n_coefs:] = 0
            if not np.isfinite(batch_loss):
                raise DivergenceError(
                    divergence_message(
                        epoch, "the loss is no longer finite", optimizer.learning_rate
                    )
                )
            if start_objective is None:
                start_objective = batch_loss + start_penalty
                objective_limit = EXPLOSION_FACTOR * max(
                    zero_loss, start_objective, np.finfo(dtype).eps
                )
            if batch_loss > loss_limit:
                raise DivergenceError(
                    divergence_message(
                        epoch,
                        _explosion(batch_loss, zero_loss),
                        optimizer.learning_rate,
                    )
                )
            optimizer.step(theta, grad)
            if penalty.l1:
                penalty.prox(weights, optimizer.prox_step_size(n_coefs))
            accumulated += batch_loss * weight_sum
            n_samples_seen += X_batch.shape[0]

        if not np.isfinite(theta).all():
            raise DivergenceError(
                divergence_message(
                    epoch, "the weights are no longer finite", optimizer.learning_rate
                )
            )
        if not optimizer.state_is_finite():
            raise DivergenceError(_overflow_message(epoch, dtype))
        epoch_loss = accumulated / total_weight + penalty.value(weights)
        if not epoch_loss <= objective_limit:
            raise DivergenceError(
                divergence_message(
                    epoch,
                    _explosion(epoch_loss, zero_loss, start_objective),
                    optimizer.learning_rate,
                )
            )
        optimizer.on_epoch_end(n_samples_seen)
        norms, zero_fractions = weight_statistics(weight_matrices)
        record = {
            "epoch": epoch,
            "loss": epoch_loss,
            "learning_rate": optimizer.learning_rate,
            "weight_norms": norms,
            "zero_fractions": zero_fractions,
        }

        if validation_score is not None:
            score, held_out_loss = (float(v) for v in validation_score(theta))
            record["validation_score"] = score
            record["validation_loss"] = held_out_loss
        if validation_score is not None and monitor_validation:
            improved = _improves(score, held_out_loss, best_validation, tol)
            if _improves(score, held_out_loss, best_validation, 0.0):
                best_validation = (score, held_out_loss)
                best_theta, best_theta_loss = theta.copy(), epoch_loss
                best_epoch = epoch
        else:
            improved = epoch_loss < best_loss - tol
        best_loss = min(best_loss, epoch_loss)
        no_improvement = 0 if improved else no_improvement + 1
        record["seconds"] = time.perf_counter() - start_time
        history.append(record)
        if verbose:
            print(_progress_line(record))
        if epoch_callback is not None and epoch_callback(record, theta):
            stop_reason = "early_stopping"
            break

        if stop_early and no_improvement >= n_iter_no_change:
            no_improvement = 0
            if not optimizer.on_plateau(verbose):
                on_validation = validation_score is not None and monitor_validation
                stop_reason = "early_stopping" if on_validation else "converged"
                if verbose:
                    monitored = "validation score" if on_validation else "loss"
                    print(
                        f"The {monitored} did not improve by more than tol={tol} "
                        f"for {n_iter_no_change} consecutive epochs. Stopping."
                    )
                break

    kept_loss = history[-1]["loss"] if history else 0.0
    if best_theta is not None and stop_early:
        theta, kept_loss = best_theta, best_theta_loss
    else:
        best_epoch = None
    # The weights after the last step have not been evaluated yet, and
    # outputs can overflow (in float32 first) while every weight is finite:
    # one forward pass over the data makes sure they predict finite values.
    if not _outputs_are_finite(theta, layout, X, activation, loss, workspace):
        raise DivergenceError(
            divergence_message(
                epoch,
                "the trained weights overflow the network's outputs",
                optimizer.learning_rate,
            )
        )
    if start_objective is not None and kept_loss > FAILURE_FACTOR * max(
        zero_loss, start_objective, np.finfo(dtype).eps
    ):
        # Bounded losses (the clipped log loss) cannot explode: a run whose
        # objective ends far worse than both its start and the all-zero
        # model's has failed. Objectives on both sides, penalty included.
        raise DivergenceError(
            divergence_message(
                epoch,
                f"the trained weights have an objective of {kept_loss:.3g}, over "
                f"{FAILURE_FACTOR:g} times both the objective at the starting "
                f"weights ({start_objective:.3g}) and that of a model with all "
                f"weights at zero ({zero_loss:.3g})",
                optimizer.learning_rate,
            )
        )
    return TrainingResult(
        theta=theta,
        n_epochs=len(history),
        n_samples_seen=n_samples_seen,
        stop_reason=stop_reason,
        best_epoch=best_epoch,
        history=history,
    )


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


def _outputs_are_finite(theta, layout, X, activation, loss, workspace):
    """Whether the network at ``theta`` gives finite outputs on every row of X."""
    coefs, intercepts = layout.unpack(theta)
    output_activation = OUTPUT_ACTIVATIONS[loss]
    for start in range(0, X.shape[0], workspace.n_samples):
        rows = slice(start, start + workspace.n_samples)
        X_rows = X[rows]
        output = forward(
            coefs,
            intercepts,
            X_rows,
            activation,
            output_activation,
            workspace.resize(X_rows.shape[0]),
        )
        if not np.isfinite(output).all():
            return False
    return True


def _zero_model_loss(loss, y, sample_weight, dtype, n_outputs):
    """Loss of the network whose raw output is 0 for every sample."""
    raw = np.zeros((1, n_outputs), dtype=dtype)
    output = ACTIVATIONS[OUTPUT_ACTIVATIONS[loss]](raw)
    if y.ndim == 1:
        # Class indices: every sample of a class has the same loss, so the
        # loss is that of one sample per class, weighted by the class's total.
        class_weight = np.bincount(y, weights=sample_weight, minlength=n_outputs)
        y = np.eye(n_outputs, dtype=dtype)
        sample_weight = class_weight
    return LOSSES[loss](y, np.broadcast_to(output, y.shape), sample_weight)


def _explosion(value, zero_loss, start_objective=None):
    """Describe a loss (or, given ``start_objective``, an objective) that exploded."""
    if start_objective is None:
        return (
            f"the loss reached {value:.3g}, over {EXPLOSION_FACTOR:.0e} times the "
            f"{zero_loss:.3g} of a model with all weights at zero"
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
