"""Datafits: one object per loss, the one place that knows a loss.

A datafit is the data term of the objective

    (1 / sum(s)) * sum_i s_i * loss(y_i, eta_i)

as a function of the *raw output* ``eta`` (the linear predictor ``X @ w + b``
of a linear model, the last layer's input of a network) together with its
*inverse link*, the output activation that turns ``eta`` into the prediction.
Each object answers every question the rest of the package asks of a loss:

- for the exact solvers: :meth:`Datafit.value`, :meth:`Datafit.derivatives`
  (the gradient and curvature per sample with respect to ``eta``),
  ``is_quadratic`` (only then is the Gram matrix a valid shortcut),
  :meth:`Datafit.best_offset` (the optimal intercept for fixed weights);
- for the epoch loop of the networks, which keeps only the prediction after
  the output activation: :meth:`Datafit.loss` and
  :meth:`Datafit.output_gradient`, the same loss and gradient written in the
  prediction;
- for the shells: :meth:`Datafit.check_y` (the valid range of y),
  :meth:`Datafit.constant` (the best constant model, in raw-output space),
  :meth:`Datafit.curvature_scale` (how large the curvature is near that model,
  for step sizes), :meth:`Datafit.gradient_at_constant` (``alpha_max`` of a
  regularisation path);
- for the report and the command line: ``name``, ``title``, ``formula``,
  ``link`` and ``weight_reading``, and ``deviance`` (whether the value is a
  deviance, whose share explained D² the fit records report).

``weights`` passed to the methods in raw-output space are the sample weights
normalised to sum to one, as a vector or, for equal weights, the scalar
``1 / n``; ``sample_weight`` of the prediction-space methods is a vector that
sums to one over the batch. Poisson and Gamma use *half* the unit deviance,
so that the objective with ``penalty="l2"`` is exactly that of scikit-learn's
``PoissonRegressor(alpha)`` and ``GammaRegressor(alpha)``:
``1 / (2 sum(s)) * sum_i s_i * deviance_i + alpha / 2 * ||w||**2``.

Adding a loss is one class here, its entry in :data:`DATAFITS` and its tests.
Nothing in this module imports scikit-learn.
"""

import numpy as np
from scipy.special import expit, xlogy


def _total(values, n_samples):
    """Sum of a per-sample vector, or of a scalar repeated n_samples times."""
    return values * n_samples if np.ndim(values) == 0 else float(np.sum(values))


def _weighted_sum(per_entry, weights):
    """``sum_i weights_i * per_entry_i``, summed over columns for 2-D entries.

    With normalised sample weights, the weighted mean; ``weights`` may be a
    scalar (every entry weighted alike).
    """
    if per_entry.ndim == 2:
        per_entry = per_entry.sum(axis=1)
    if np.ndim(weights) == 0:
        return float(weights * per_entry.sum())
    return float(weights @ per_entry)


#: Samples per block of :func:`_weighted_squared_distance`: small against
#: the vectors a solver holds, large enough that the loop costs nothing.
_BLOCK = 8192


def _weighted_squared_distance(a, b, weights):
    """``sum_i weights_i * (a_i - b_i)**2`` of two vectors, a block at a time.

    The solvers evaluate the squared loss every round: blocks keep its
    difference from being one more vector of n_samples at their peak memory.
    """
    scalar = np.ndim(weights) == 0
    total = 0.0
    for start in range(0, a.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        difference = a[block] - b[block]
        if scalar:
            total += float(difference @ difference)
        else:
            total += float(weights[block] @ (difference * difference))
    return float(weights * total) if scalar else total


def log_sum_exp(eta):
    """``log(sum(exp(eta)))`` along the rows of a 2-D ``eta``, as a column.

    Shifted by each row's maximum so that nothing overflows. Plain NumPy:
    ``scipy.special.logsumexp`` gives the same to rounding at three times the
    cost, which a small fit pays on every evaluation of its objective.
    """
    top = eta.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0  # a row of -inf stays -inf, one with inf inf
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(eta - top).sum(axis=1, keepdims=True))


#: The machine epsilon of each float dtype, looked up once (``np.finfo`` and
#: ``np.issubdtype`` cost microseconds, at every batch of a network).
_FLOAT_EPS = {
    np.dtype(t): np.finfo(t).eps
    for t in (np.float16, np.float32, np.float64, np.longdouble)
}


def _clipped_log(p):
    """Return ``log(p)`` with ``p`` kept at least the dtype's eps (finite loss)."""
    eps = _FLOAT_EPS.get(p.dtype)
    if eps is None:  # integers, or floats of another byte order
        eps = np.finfo(p.dtype).eps if np.issubdtype(p.dtype, np.floating) else 1e-16
    # minimum and maximum rather than np.clip, whose Python-level checks
    # cost more than the arithmetic on a batch's few values.
    return np.log(np.maximum(p, eps))


def _weighted_median(values, weights):
    """The weighted median of ``values`` (weights a vector or a scalar)."""
    order = np.argsort(values, kind="stable")
    if np.ndim(weights) == 0:
        return float(values[order[(values.size - 1) // 2]])
    cumulative = np.cumsum(weights[order])
    return float(values[order[np.searchsorted(cumulative, 0.5 * cumulative[-1])]])


class Datafit:
    """The data term of the objective, one subclass per loss (see the module doc).

    Subclasses set the class attributes and write the per-entry loss and its
    derivatives in the raw output (``_pointwise``, ``_pointwise_derivatives``)
    and in the prediction (``_pointwise_prediction``,
    ``_prediction_gradient``); the weighting is done here.
    """

    #: The key of :data:`DATAFITS`, the ``loss`` parameter's value.
    name = ""
    #: "regression" or "classification": which estimators may use it.
    task = "regression"
    #: The output activation, a key of ``_activations.ACTIVATIONS``.
    output_activation = "identity"
    #: The link's name, as the report says it.
    link = "identity"
    #: Whether the loss is quadratic in the raw output (Gram path, one Newton step).
    is_quadratic = False
    #: Whether the value is zero at a perfect fit (a deviance, up to a factor):
    #: then ``1 - value / value of the constant model`` is the share explained.
    deviance = False
    #: The name of that share in the report, for losses whose R² does not
    #: already say it (None: not reported).
    d2_name = None
    #: The report's name of the loss and its per-sample formula.
    title = ""
    formula = ""
    #: How a weight is read on the prediction's scale (None: additively), in
    #: words for the report.
    weight_reading = None
    #: What y must be, for the error message of :meth:`check_y`.
    domain = "finite numbers"
    #: Whether y must be positive (scikit-learn's ``positive_only`` target tag).
    positive_only = False
    #: Whether the stochastic solvers start the output bias at the constant
    #: model (a log link: a zero raw output predicts 1, far from most data).
    starts_at_constant = False
    #: Whether a network regressor may use it (``MLPWeightsRegressor(loss=)``).
    in_networks = True

    @classmethod
    def from_options(cls, **options):
        """Build the datafit from the estimator's options (it reads its own)."""
        return cls()

    def __repr__(self):
        return f"{type(self).__name__}()"

    # -- the raw output: the exact solvers ----------------------------------

    def value(self, y, eta, weights):
        """The weighted mean loss at the raw output ``eta``."""
        return _weighted_sum(self._pointwise(y, eta), weights)

    def derivatives(self, y, eta, weights, out=None):
        """Return ``(gradient, curvature)`` per sample with respect to ``eta``.

        Both include the weights (the curvature may be a scalar for equal
        weights of a quadratic loss); the gradient is written into ``out``
        when given.
        """
        gradient, curvature = self._pointwise_derivatives(y, eta)
        if out is not None:
            out[...] = gradient
            gradient = out
        gradient *= weights
        curvature = curvature * weights
        return gradient, curvature

    def inverse_link(self, eta):
        """The prediction of the raw output ``eta`` (the identity: ``eta`` itself)."""
        return eta

    def raw_output(self, prediction):
        """The raw output of a prediction: the link, inverse of :meth:`inverse_link`."""
        return np.array(prediction, dtype=np.float64)

    def best_offset(self, y, eta, weights):
        """The constant ``b`` minimising ``value(y, eta + b)`` (the intercept).

        Newton's method on the one-dimensional problem, safeguarded by the
        bracket that the sign of the derivative keeps; subclasses with a
        closed form override it.
        """
        offset = self._offset_start(y, eta, weights)
        low, high = -np.inf, np.inf
        for _ in range(200):
            gradient, curvature = self.derivatives(y, eta + offset, weights)
            slope, total = _total(gradient, y.size), _total(curvature, y.size)
            if slope > 0:
                high = offset
            elif slope < 0:
                low = offset
            else:
                break
            new = offset - slope / total if total > 0 else np.nan
            if not low < new < high:
                if np.isfinite(low) and np.isfinite(high):
                    new = 0.5 * (low + high)
                else:  # no bracket yet: step out, doubling
                    new = offset - np.sign(slope) * (1.0 + 2.0 * abs(offset))
            if abs(new - offset) <= 4 * np.finfo(float).eps * max(1.0, abs(offset)):
                offset = new
                break
            offset = new
        return float(offset)

    def _offset_start(self, y, eta, weights):
        """Where :meth:`best_offset` starts."""
        return 0.0

    def constant(self, y, weights):
        """The raw output of the best constant model (intercept only)."""
        y = np.asarray(y, dtype=np.float64)
        return self.best_offset(y, np.zeros_like(y), weights)

    def constant_output(self, targets, weights, fit_intercept=True):
        """The prediction of the best constant model, one per column of ``targets``.

        Without an intercept the raw output is 0 (a regressor predicts 0, or
        1 on a log link; a logistic output 1/2).
        """
        targets = np.asarray(targets, dtype=np.float64)
        raw = np.zeros(targets.shape[1])
        if fit_intercept:
            raw[:] = [self.constant(t, weights) for t in targets.T]
        return self.inverse_link(raw)

    def gradient_at_constant(self, y, weights, fit_intercept=True):
        """The per-sample gradient at the best constant model (0 without intercept).

        ``X.T @`` it is the gradient of the data term with respect to the
        weights at zero weights: the L1 strength above which every weight
        stays zero is its largest magnitude (``alpha_max``).
        """
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2:  # one independent output per column
            columns = [
                self.gradient_at_constant(t, weights, fit_intercept) for t in y.T
            ]
            return np.column_stack(columns)
        level = self.constant(y, weights) if fit_intercept else 0.0
        return self.derivatives(y, np.full(y.shape, level), weights)[0]

    def curvature_scale(self, y, weights):
        """How large the curvature per unit weight is near the constant model.

        The stochastic solvers' ``learning_rate_init="auto"`` divides by it.
        """
        return 1.0

    def output_scale(self, y, weights):
        """The typical size of the raw output the weights must produce (Adam's step)."""
        return 1.0

    # -- the prediction: the epoch loop of the networks ---------------------

    def loss(self, y, prediction, sample_weight):
        """The weighted mean loss of predictions (after the output activation)."""
        return _weighted_sum(self._pointwise_prediction(y, prediction), sample_weight)

    def output_gradient(self, y, prediction, sample_weight, out):
        """Write the gradient with respect to the raw output into ``out``."""
        self._prediction_gradient(y, prediction, out)
        out *= sample_weight[:, np.newaxis]
        return out

    # -- the valid range of y -----------------------------------------------

    def check_y(self, y):
        """Raise ValueError unless every value of ``y`` is in the loss's domain."""
        y = np.asarray(y)
        if not np.all(np.isfinite(y)):
            raise ValueError(
                f"y contains NaN or infinity; loss={self.name!r} needs {self.domain}."
            )
        self._check_domain(y)
        return y

    def _check_domain(self, y):
        """Raise ValueError for values outside the domain (finite ones)."""

    def _raise_domain(self, y, bad, what):
        """Raise the ValueError of a value of y outside the domain."""
        raise ValueError(
            f"y has {int(np.count_nonzero(bad))} value(s) {what} (the smallest is "
            f"{float(np.min(y)):g}), but loss={self.name!r} needs {self.domain}. "
            "Use a loss whose domain holds these targets (e.g. "
            "loss='squared_error'), or transform y."
        )


class SquaredError(Datafit):
    """Half the squared error ``0.5 * (y - eta)**2``, with an identity link."""

    name = "squared_error"
    is_quadratic = True
    deviance = True
    title = "squared error"
    formula = "½(y − ŷ)²"

    def value(self, y, eta, weights):
        """The weighted mean loss at the raw output ``eta``."""
        if eta.ndim == 1:
            return 0.5 * _weighted_squared_distance(eta, y, weights)
        residual = eta - y
        return _weighted_sum(0.5 * residual * residual, weights)

    def derivatives(self, y, eta, weights, out=None):
        """``(weights * (eta - y), weights)``: the curvature is the weight itself."""
        gradient = np.subtract(eta, y, out=out)
        gradient *= weights
        return gradient, weights

    def constant(self, y, weights):
        """The weighted mean of y (no vector of zeros, no residual)."""
        y = np.asarray(y, dtype=np.float64)
        if np.ndim(weights) == 0:
            return float(y.sum()) / y.size
        return float(weights @ y) / _total(weights, y.size)

    def best_offset(self, y, eta, weights):
        """The weighted mean of ``y - eta``."""
        residual = np.subtract(y, eta)  # the one temporary vector
        if np.ndim(weights) == 0:
            return float(residual.sum()) / y.size
        return float(weights @ residual) / _total(weights, y.size)

    def output_scale(self, y, weights):
        """The root mean square of y."""
        y64 = np.asarray(y, dtype=np.float64)
        return float(np.sqrt(np.max(weights @ (y64 * y64))))

    def _pointwise_prediction(self, y, prediction):
        diff = prediction - y
        return 0.5 * diff * diff

    def loss(self, y, prediction, sample_weight):
        """The weighted mean loss of predictions."""
        diff = prediction - y
        return 0.5 * float(np.einsum("ij,ij,i->", diff, diff, sample_weight))

    def _prediction_gradient(self, y, prediction, out):
        np.subtract(prediction, y, out=out)


class Huber(Datafit):
    """Huber's loss: ``0.5 r**2`` if ``|r| <= delta``, else ``delta (|r| - delta/2)``.

    ``r = y - eta``, identity link; scikit-learn's ``SGDRegressor(loss="huber")``
    with ``epsilon = delta``. Quadratic near zero, linear in the tails: an
    outlier pulls on the weights with a force of at most ``delta``. Its
    curvature (1 inside the band, 0 outside) is given a floor of
    :data:`HUBER_CURVATURE_FLOOR` so that Newton's systems stay definite when
    a direction sees only outliers; the line search keeps the steps honest.
    """

    name = "huber"
    title = "Huber loss"
    # huber_delta is a parameter of the linear regressor only.
    in_networks = False
    d2_name = "Huber loss explained"
    domain = "finite numbers"
    deviance = True

    def __init__(self, delta=1.35):
        self.delta = float(delta)

    @classmethod
    def from_options(cls, huber_delta=1.35, **options):
        """Read ``huber_delta``."""
        return cls(huber_delta)

    def __repr__(self):
        return f"Huber(delta={self.delta:g})"

    @property
    def formula(self):
        """The per-sample loss, with this delta."""
        return f"Huber loss (huber_delta={self.delta:g}) of y − ŷ"

    def _pointwise(self, y, eta):
        r = np.abs(eta - y)
        inside = np.minimum(r, self.delta)
        # 0.5 * inside**2 + delta * (r - inside): both branches at once.
        return inside * (0.5 * inside) + self.delta * (r - inside)

    def _pointwise_derivatives(self, y, eta):
        r = eta - y
        gradient = np.clip(r, -self.delta, self.delta)
        curvature = np.where(np.abs(r) <= self.delta, 1.0, HUBER_CURVATURE_FLOOR)
        return gradient, curvature

    def _offset_start(self, y, eta, weights):
        return _weighted_median(y - eta, weights)

    def output_scale(self, y, weights):
        """The root mean square of y."""
        return SquaredError().output_scale(y, weights)

    _pointwise_prediction = _pointwise

    def _prediction_gradient(self, y, prediction, out):
        np.subtract(prediction, y, out=out)
        np.clip(out, -self.delta, self.delta, out=out)


#: The curvature Huber's loss is given outside its quadratic band.
HUBER_CURVATURE_FLOOR = 1e-3


class LogLinkDatafit(Datafit):
    """The base of the losses with a log link: ``prediction = exp(eta)``."""

    output_activation = "exp"
    link = "log"
    deviance = True
    weight_reading = (
        "log link: the raw output X·w + b is log(ŷ), so a weight w multiplies "
        "the prediction by exp(w) per unit of its input"
    )
    positive_only = True
    starts_at_constant = True

    def inverse_link(self, eta):
        """``exp(eta)``."""
        return np.exp(eta)

    def raw_output(self, prediction):
        """``log(prediction)``."""
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(prediction, dtype=np.float64))


class Poisson(LogLinkDatafit):
    """Half the Poisson deviance, ``y log(y / mu) - y + mu``, with a log link.

    ``mu = exp(eta)``; in the raw output the loss is ``exp(eta) - y eta`` plus
    a constant of y that makes it zero at ``mu = y``.
    """

    name = "poisson"
    title = "half Poisson deviance"
    d2_name = "Poisson deviance explained"
    formula = "½ Poisson deviance, y·log(y/ŷ) − y + ŷ"
    domain = "non-negative values with a positive sum (counts or rates)"

    def _pointwise(self, y, eta):
        return np.exp(eta) - y * eta + (xlogy(y, y) - y)

    def _pointwise_derivatives(self, y, eta):
        mu = np.exp(eta)
        return mu - y, mu

    def best_offset(self, y, eta, weights):
        """``log(sum s y / sum s exp(eta))``, in closed form."""
        top = _total(np.multiply(weights, y), y.size)
        shift = float(np.max(eta)) if np.size(eta) else 0.0
        bottom = _total(np.multiply(weights, np.exp(eta - shift)), y.size)
        return float(np.log(top / bottom) - shift)

    def curvature_scale(self, y, weights):
        """The curvature ``mu`` at the constant model: the weighted mean of y."""
        return float(np.max(weights @ np.asarray(y, dtype=np.float64)))

    def _check_domain(self, y):
        if np.any(y < 0):
            self._raise_domain(y, y < 0, "below 0")
        if np.all(y == 0):
            raise ValueError(
                f"y is 0 everywhere, but loss={self.name!r} needs {self.domain}: "
                "the best model would predict 0 with an infinite intercept."
            )

    def _pointwise_prediction(self, y, prediction):
        return prediction - y * _clipped_log(prediction) + (xlogy(y, y) - y)

    def _prediction_gradient(self, y, prediction, out):
        np.subtract(prediction, y, out=out)


class Gamma(LogLinkDatafit):
    """Half the Gamma deviance, ``log(mu / y) + y / mu - 1``, with a log link.

    ``mu = exp(eta)``; in the raw output the loss is ``eta + y exp(-eta)``
    plus a constant of y that makes it zero at ``mu = y``: for positive
    amounts whose noise grows with their size (a constant coefficient of
    variation).
    """

    name = "gamma"
    title = "half Gamma deviance"
    d2_name = "Gamma deviance explained"
    formula = "½ Gamma deviance, log(ŷ/y) + y/ŷ − 1"
    domain = "positive values (amounts)"
    # scikit-learn's networks have no Gamma loss either.
    in_networks = False

    def _pointwise(self, y, eta):
        return eta - np.log(y) + y * np.exp(-eta) - 1.0

    def _pointwise_derivatives(self, y, eta):
        ratio = y * np.exp(-eta)
        return 1.0 - ratio, ratio

    def best_offset(self, y, eta, weights):
        """``log(sum s y exp(-eta) / sum s)``, in closed form."""
        shift = float(np.min(eta)) if np.size(eta) else 0.0
        top = _total(np.multiply(weights, y * np.exp(shift - eta)), y.size)
        return float(np.log(top / _total(weights, y.size)) - shift)

    def _check_domain(self, y):
        if np.any(y <= 0):
            self._raise_domain(y, y <= 0, "at or below 0")

    def _pointwise_prediction(self, y, prediction):
        ratio = y / np.maximum(prediction, np.finfo(prediction.dtype).tiny)
        return ratio - np.log(ratio) - 1.0

    def _prediction_gradient(self, y, prediction, out):
        tiny = np.finfo(prediction.dtype).tiny
        np.divide(y, np.maximum(prediction, tiny), out=out)
        np.subtract(1.0, out, out=out)


class BinaryLogLoss(Datafit):
    """The log loss of a logistic output, ``log(1 + exp(eta)) - y eta``, y in {0, 1}.

    One column per label for multilabel targets, each an independent
    logistic output.
    """

    name = "binary_log_loss"
    task = "classification"
    output_activation = "logistic"
    link = "logit"
    deviance = True
    title = "log loss"
    formula = "log loss"
    weight_reading = (
        "logit link: the raw output X·w + b is the log-odds, so a weight w "
        "multiplies the odds by exp(w) per unit of its input"
    )
    domain = "0 or 1"

    def _pointwise(self, y, eta):
        # log(1 + exp(eta)) = log1p(exp(-|eta|)) + max(eta, 0), never
        # overflowing; NumPy's logaddexp gives the same to rounding at 2.5
        # times the cost (a tall fit's line search evaluates it every step).
        out = np.exp(-np.abs(eta))
        np.log1p(out, out=out)
        out += np.maximum(eta, 0.0)
        out -= y * eta
        return out

    def _pointwise_derivatives(self, y, eta):
        probability = expit(eta)
        return probability - y, probability * (1.0 - probability)

    def inverse_link(self, eta):
        """The logistic sigmoid."""
        return expit(eta)

    def _pointwise_prediction(self, y, prediction):
        return -(y * _clipped_log(prediction) + (1 - y) * _clipped_log(1 - prediction))

    def _prediction_gradient(self, y, prediction, out):
        np.subtract(prediction, y, out=out)


class MultinomialLogLoss(Datafit):
    """The cross-entropy of one-hot targets and a softmax over the raw outputs.

    Rows couple the outputs: ``value`` and ``derivatives`` take 2-D ``y``
    (one-hot) and ``eta``; the gradient is ``softmax(eta) - y`` per sample and
    output, and no per-sample curvature is defined (the solver is
    quasi-Newton).
    """

    name = "log_loss"
    task = "classification"
    output_activation = "softmax"
    link = "softmax"
    deviance = True
    title = "log loss"
    formula = "log loss"
    weight_reading = (
        "softmax: the raw outputs are log-odds up to a common constant, so "
        "w_a − w_b multiplies the odds of class a against b by exp(w_a − w_b) "
        "per unit of the input"
    )
    domain = "class labels"

    def value(self, y, eta, weights):
        """The weighted mean cross-entropy of the logits ``eta``."""
        per_sample = log_sum_exp(eta)[:, 0] - np.einsum("ik,ik->i", y, eta)
        return _weighted_sum(per_sample, weights)

    def gradient(self, y, eta, weights):
        """``weights * (softmax(eta) - y)``, shape (n_samples, n_outputs)."""
        residual = np.exp(eta - log_sum_exp(eta)) - y
        residual *= np.reshape(weights, (-1, 1)) if np.ndim(weights) else weights
        return residual

    def derivatives(self, y, eta, weights, out=None):
        """The gradient, and no curvature (rows couple the outputs)."""
        return self.gradient(y, eta, weights), None

    def inverse_link(self, eta):
        """The row-wise softmax."""
        return np.exp(eta - log_sum_exp(eta))

    def constant(self, y, weights):
        """The log of the weighted class priors, centred."""
        priors = np.asarray(np.multiply(np.reshape(weights, (-1, 1)), y).sum(0))
        logits = _clipped_log(priors / priors.sum())
        return logits - logits.mean()

    def constant_output(self, targets, weights, fit_intercept=True):
        """The class priors (uniform without intercept)."""
        n_classes = targets.shape[1]
        if not fit_intercept:
            return np.full(n_classes, 1.0 / n_classes)
        return self.inverse_link(self.constant(targets, weights)[np.newaxis])[0]

    def gradient_at_constant(self, y, weights, fit_intercept=True):
        """The per-sample gradient at the class priors (uniform without intercept)."""
        level = self.constant(y, weights) if fit_intercept else np.zeros(y.shape[1])
        return self.gradient(y, np.broadcast_to(level, y.shape), weights)

    def loss(self, y, prediction, sample_weight):
        """The weighted cross-entropy of one-hot ``y`` and softmax outputs."""
        # With one-hot rows, sum_j y_ij log p_ij is the log of the true class's
        # probability: one logarithm per sample instead of one per output.
        true_class = np.einsum("ij,ij->i", y, prediction)
        return -float(sample_weight @ _clipped_log(true_class))

    def _prediction_gradient(self, y, prediction, out):
        np.subtract(prediction, y, out=out)


#: Every datafit, by the name the ``loss`` parameter gives it.
DATAFITS = {
    datafit.name: datafit
    for datafit in (
        SquaredError,
        Huber,
        Poisson,
        Gamma,
        BinaryLogLoss,
        MultinomialLogLoss,
    )
}


def regression_losses(networks=False):
    """The names of the datafits a regressor (a network regressor) may use."""
    return {
        name
        for name, fit in DATAFITS.items()
        if fit.task == "regression" and (fit.in_networks or not networks)
    }


def make_datafit(name, **options):
    """Build the datafit named ``name`` from the estimator's options."""
    return DATAFITS[name].from_options(**options)


def datafit_of(model):
    """The datafit of a fitted estimator of this package (None for other models)."""
    hook = getattr(model, "_datafit", None)
    if hook is None:
        return None
    coef = getattr(model, "coef_", None)
    n_outputs = 1 if coef is None else np.atleast_2d(coef).shape[0]
    return hook(n_outputs)


def as_datafit(loss):
    """The datafit ``loss`` is: the object itself, or the default one of a name."""
    return make_datafit(loss) if isinstance(loss, str) else loss
