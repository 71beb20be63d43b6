"""Full-batch training of a network by L-BFGS-B (scipy's quasi-Newton method).

:func:`minimize_lbfgs` minimises the training objective of §2, the weighted
mean loss plus the elastic-net penalty, over the whole data at once, with the
network's own forward and backward passes (:func:`~sk_weights._network.
loss_and_gradient`) on the flat parameter vector.

The L1 part is not differentiable at zero, and a quasi-Newton method that
steps across it leaves weights of 1e-9 where the optimum has zeros. So with
an L1 part each weight is split into two non-negative halves,
``w = w_plus - w_minus`` with ``w_plus, w_minus >= 0``, and ``|w|`` becomes
the linear ``w_plus + w_minus`` (the two are never both positive at the
optimum). The problem is then smooth with bounds, which L-BFGS-B handles by
projection: a weight whose two halves sit on their bound 0 is exactly zero.
The biases are never penalised and never split.

Nothing here knows about scikit-learn estimators: arrays in, arrays out.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from sk_weights._datafits import as_datafit
from sk_weights._network import (
    Workspace,
    loss_and_gradient,
    predict,
    weight_statistics,
)
from sk_weights.exceptions import DivergenceError


@dataclass(frozen=True)
class QuasiNewtonConfig:
    """The settings of one run of :func:`minimize_lbfgs`.

    Parameters
    ----------
    activation : str
        Hidden activation (see ``_activations``).
    loss : Datafit or str
        The loss (see ``_datafits``; a name is looked up there): it fixes the
        output activation.
    penalty : ElasticNetPenalty
        Penalty on the weight matrices.
    max_iter : int
        Maximum number of L-BFGS iterations.
    max_fun : int
        Maximum number of evaluations of the objective (and its gradient);
        the line searches make an iteration cost one or more.
    tol : float
        The run has converged when the largest entry of the projected
        gradient is at most ``tol`` (scipy's ``gtol``).
    ftol : float or None, default=None
        The run has also converged when an iteration lowers the objective by
        at most ``ftol`` times its magnitude; None keeps scipy's default
        (about 2.2e-9), as scikit-learn's networks do.
    verbose : bool, default=False
        Print one line per iteration.
    """

    activation: str
    loss: str
    penalty: object
    max_iter: int
    max_fun: int
    tol: float
    ftol: float = None
    verbose: bool = False

    def __post_init__(self):
        # A loss given by its name is the registry's datafit of that name.
        object.__setattr__(self, "loss", as_datafit(self.loss))


@dataclass
class QuasiNewtonResult:
    """What a run of :func:`minimize_lbfgs` produced.

    ``stop_reason`` is ``"converged"`` (the projected gradient or the
    relative decrease of the objective fell below scipy's tolerances),
    ``"max_iter"`` (``max_iter`` iterations ran out), ``"max_fun"``
    (``max_fun`` evaluations ran out), ``"line_search"`` (the line search
    found no decrease: the objective is flat to the precision of its
    arithmetic) or ``"callback"`` (the iteration callback stopped the run).
    ``history`` holds one record per iteration, as the epoch loop's (one
    record of the returned point when no iteration was taken).
    """

    theta: np.ndarray
    n_iter: int
    n_fun: int
    stop_reason: str
    message: str
    history: list = field(default_factory=list)

    @property
    def converged(self):
        """Whether the optimality conditions (or the callback) ended the run."""
        return self.stop_reason in ("converged", "callback")


class _Stopped(Exception):
    """Raised by the iteration callback to end the run (any scipy version)."""


class SplitObjective:
    """The objective and its gradient on the variables L-BFGS-B sees.

    Without an L1 part the variables are ``theta`` itself. With one they are
    ``[w_plus, w_minus, biases]``, of length ``n_params + n_coefs``, and the
    objective adds ``l1 * sum(w_plus + w_minus)``. The network is evaluated
    in the dtype of ``X`` (float32 stays float32); L-BFGS-B works in float64.
    """

    def __init__(self, layout, X, y, sample_weight, config, dtype):
        self.layout, self.X, self.y, self.config = layout, X, y, config
        self.dtype = dtype
        self.split = bool(config.penalty.l1)
        self.sample_weight = np.asarray(
            sample_weight / np.sum(sample_weight, dtype=np.float64), dtype=dtype
        )
        self.workspace = Workspace(layout, X.shape[0], dtype)
        self.theta = np.empty(layout.n_params, dtype)
        self.grad = np.empty(layout.n_params, dtype)
        self.n_fun = 0
        self.last = None  # (variables, objective) of the latest evaluation

    def to_variables(self, theta):
        """The variables of ``theta``: itself, or its weights split in two halves."""
        theta = np.asarray(theta, dtype=np.float64)
        if not self.split:
            return theta.copy()
        n_coefs = self.layout.n_coefs
        weights = theta[:n_coefs]
        return np.concatenate(
            [np.maximum(weights, 0), np.maximum(-weights, 0), theta[n_coefs:]]
        )

    def to_theta(self, z, out=None):
        """The parameter vector of the variables ``z`` (in the network's dtype)."""
        if out is None:
            out = np.empty(self.layout.n_params, self.dtype)
        if not self.split:
            out[...] = z
            return out
        n_coefs = self.layout.n_coefs
        # w = w_plus - w_minus: exactly 0 where both halves sit on their bound.
        np.subtract(z[:n_coefs], z[n_coefs : 2 * n_coefs], out=out[:n_coefs])
        out[n_coefs:] = z[2 * n_coefs :]
        return out

    def bounds(self):
        """L-BFGS-B's bounds: none, or ``[0, inf)`` on both weight halves."""
        if not self.split:
            return None
        n_coefs, n_params = self.layout.n_coefs, self.layout.n_params
        lower = np.concatenate(
            [np.zeros(2 * n_coefs), np.full(n_params - n_coefs, -np.inf)]
        )
        return scipy.optimize.Bounds(lower, np.full(lower.size, np.inf))

    def __call__(self, z):
        """Return the objective at the variables ``z`` and its gradient (float64)."""
        self.n_fun += 1
        theta = self.to_theta(z, out=self.theta)
        penalty, n_coefs = self.config.penalty, self.layout.n_coefs
        data_loss, grad = loss_and_gradient(
            theta,
            self.layout,
            self.X,
            self.y,
            self.sample_weight,
            activation=self.config.activation,
            loss=self.config.loss,
            penalty=penalty,
            workspace=self.workspace,
            grad=self.grad,
        )
        weights = theta[:n_coefs]
        if self.split:
            # The L1 part is linear in the halves: l1 * sum(w_plus + w_minus),
            # which is l1 * sum|w| when the two are not both positive.
            l1_part = penalty.l1 * float(z[: 2 * n_coefs].sum())
            value = (
                l1_part
                + penalty.value(weights)
                - penalty.l1 * float(np.abs(weights).sum())
            )
        else:
            value = penalty.value(weights)
        value += float(data_loss)
        # The penalty's L2 gradient is already in grad.
        grad = grad.astype(np.float64)
        if self.split:
            # d/dw_plus = g + l1 and d/dw_minus = -g + l1, with g the gradient
            # of the smooth part at w = w_plus - w_minus.
            weight_grad = grad[:n_coefs]
            grad = np.concatenate(
                [weight_grad + penalty.l1, penalty.l1 - weight_grad, grad[n_coefs:]]
            )
        if not np.isfinite(value):
            # L-BFGS-B backs off from an infinite value (its line search
            # shortens the step); NaN it cannot compare, so it becomes inf.
            value = np.inf
        self.last = (z.copy(), value, float(data_loss))
        return value, grad

    def evaluated_at(self, z):
        """The objective and the data loss at ``z`` (the latest evaluation's)."""
        if self.last is None or not np.array_equal(self.last[0], z):
            self.n_fun -= 1  # a record, not a step of the solver: not counted
            self(z)
        return self.last[1:]


def minimize_lbfgs(
    theta,
    layout,
    X,
    y,
    sample_weight,
    config,
    *,
    iteration_callback=None,
):
    """Minimise the penalised objective over ``theta`` by L-BFGS-B, full batch.

    Parameters
    ----------
    theta : ndarray
        Initial parameters (not modified); its dtype is that of the result.
    layout : Layout
        Shapes of the network's layers.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Training inputs, in the dtype of ``theta``.
    y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
        Targets, one-hot for classification; or integer class indices.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights of the samples (normalised here).
    config : QuasiNewtonConfig
        The settings of the run.
    iteration_callback : callable, optional
        ``iteration_callback(record, theta)`` is called after each iteration
        with its history record; returning True stops the run.

    Returns
    -------
    QuasiNewtonResult
        Its ``history`` holds one dict per iteration: ``epoch`` (the
        iteration, counted from 1), ``loss`` (the penalised objective),
        ``weight_norms`` and ``zero_fractions`` (per weight matrix) and
        ``seconds``.

    Raises
    ------
    DivergenceError
        When the trained weights or the network's outputs are not finite.
    """
    dtype = theta.dtype
    if y.ndim == 1:
        # Class indices: the full batch is one-hot encoded once.
        y = np.eye(layout.layer_sizes[-1], dtype=dtype)[y]
    objective = SplitObjective(layout, X, y, sample_weight, config, dtype)
    history = []
    best = {"z": objective.to_variables(theta), "value": np.inf}
    start_time = [time.perf_counter()]

    def record_at(z, epoch):
        """The history record of the point ``z``; its objective and parameters."""
        current = objective.to_theta(z)
        # The objective of section 2 at the iterate (with sum|w|, which the
        # split form equals once the halves no longer overlap).
        value, data_loss = objective.evaluated_at(z)
        loss = data_loss + config.penalty.value(current[: layout.n_coefs])
        norms, zero_fractions = weight_statistics(layout.unpack(current)[0])
        record = {
            "epoch": epoch,
            "loss": float(loss),
            "weight_norms": norms,
            "zero_fractions": zero_fractions,
            "seconds": time.perf_counter() - start_time[0],
        }
        start_time[0] = time.perf_counter()
        return record, value, current

    def on_iteration(z):
        """Record the iteration that scipy just accepted; maybe stop."""
        record, value, current = record_at(z, len(history) + 1)
        history.append(record)
        best["z"], best["value"] = z.copy(), value
        if config.verbose:
            print(f"Iteration {record['epoch']:4d}: loss {record['loss']:.6g}")
        if iteration_callback is not None and iteration_callback(record, current):
            raise _Stopped

    try:
        result = scipy.optimize.minimize(
            objective,
            best["z"],
            method="L-BFGS-B",
            jac=True,
            bounds=objective.bounds(),
            callback=on_iteration,
            options={
                "maxiter": config.max_iter,
                "maxfun": config.max_fun,
                "gtol": config.tol,
                **({} if config.ftol is None else {"ftol": config.ftol}),
            },
        )
    except _Stopped:
        stop_reason, message, z = "callback", "stopped by a callback", best["z"]
    else:
        stop_reason, message = _stop_reason(result, len(history), config)
        # When the evaluations run out inside a line search, scipy may return
        # its last trial point: keep it only if it is better than the last
        # iterate.
        z = result.x if float(result.fun) <= best["value"] else best["z"]
    z = np.asarray(z, dtype=np.float64)
    theta = objective.to_theta(z)
    _check_finite(theta, layout, X, config)
    n_iter = len(history)
    if not history:
        # No step taken (the start was optimal, or max_fun allowed one
        # evaluation): the history still records the weights returned.
        history.append(record_at(z, 0)[0])
    return QuasiNewtonResult(
        theta=theta,
        n_iter=n_iter,
        n_fun=objective.n_fun,
        stop_reason=stop_reason,
        message=message,
        history=history,
    )


def _stop_reason(result, n_iter, config):
    """Why scipy stopped, in the words of :class:`QuasiNewtonResult`."""
    message = str(result.message)
    if isinstance(result.message, bytes):
        message = result.message.decode()
    if result.status == 0:
        return "converged", message
    if result.status == 1:
        # Status 1 covers both limits; the iteration count tells which.
        return ("max_iter" if n_iter >= config.max_iter else "max_fun"), message
    return "line_search", message


def _check_finite(theta, layout, X, config):
    """Raise DivergenceError if ``theta`` or the network's outputs are not finite."""
    what = None
    if not np.isfinite(theta).all():
        what = "the weights are not finite"
    else:
        coefs, intercepts = layout.unpack(theta)
        output = predict(
            coefs, intercepts, X, config.activation, config.loss.output_activation
        )
        if not np.isfinite(output).all():
            what = "the trained weights overflow the network's outputs"
    if what is not None:
        raise DivergenceError(
            f"L-BFGS training failed: {what}. The features are likely not "
            "scaled: standardise X (e.g. with sklearn.preprocessing."
            "StandardScaler). The estimator keeps the weights it had before "
            "this call."
        )
