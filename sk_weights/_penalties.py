"""The elastic-net penalty on weights: value, smooth gradient and proximal step.

The penalty is ``alpha * (l1_ratio * sum|w| + 0.5 * (1 - l1_ratio) * sum w**2)``.
Its smooth (L2) part enters the gradient; its L1 part is handled by the
proximal operator, soft-thresholding, which sets weights to exactly zero
instead of leaving the tiny values that a subgradient step would. With
``positive=True`` the weights are also held at or above zero: the proximal
step then projects onto the non-negative orthant after shrinking, which is
the proximal operator of the L1 part plus the constraint.
"""

from dataclasses import dataclass

import numpy as np

#: l1_ratio implied by each ``penalty`` option (None: use the parameter).
PENALTY_L1_RATIOS = {"l2": 0.0, "l1": 1.0, "elasticnet": None}


@dataclass(frozen=True)
class ElasticNetPenalty:
    """Strengths of the L1 and L2 parts of the penalty on the weights.

    Parameters
    ----------
    l1 : float
        ``alpha * l1_ratio``, the weight of ``sum|w|``.
    l2 : float
        ``alpha * (1 - l1_ratio)``, the weight of ``0.5 * sum w**2``.
    """

    l1: float = 0.0
    l2: float = 0.0
    positive: bool = False

    @classmethod
    def from_params(cls, penalty, alpha, l1_ratio, positive=False):
        """Build the penalty from ``penalty``, ``alpha``, ``l1_ratio``, ``positive``."""
        if penalty is None:
            return cls(positive=bool(positive))
        ratio = PENALTY_L1_RATIOS[penalty]
        if ratio is None:
            ratio = l1_ratio
        return cls(l1=alpha * ratio, l2=alpha * (1.0 - ratio), positive=bool(positive))

    @property
    def has_prox(self):
        """Whether a proximal step follows each gradient step (L1 or positive)."""
        return bool(self.l1) or self.positive

    def value(self, weights):
        """Return the penalty of the weight array ``weights``."""
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(weights).sum())
        if self.l2:
            total += 0.5 * self.l2 * float(np.dot(weights.ravel(), weights.ravel()))
        return total

    def add_gradient(self, weights, gradient):
        """Add the gradient of the smooth (L2) part to ``gradient`` in place."""
        if self.l2:
            gradient += self.l2 * weights
        return gradient

    def prox(self, weights, step):
        """Apply the proximal step of the L1 part in place (soft-thresholding).

        ``step`` is the step size the optimiser just used, a scalar or an array
        of per-weight steps; the threshold is ``step * l1``. With ``positive``
        the result is projected onto ``weights >= 0``.
        """
        return l1_prox(weights, step * self.l1, self.positive)


def l1_prox(weights, threshold, positive=False):
    """Soft-threshold ``weights`` in place, then clip at 0 if ``positive``.

    For ``positive`` this is ``max(w - threshold, 0)``: the proximal operator
    of ``threshold * |w|`` plus the constraint ``w >= 0``.
    """
    if positive:
        weights -= threshold
        np.maximum(weights, 0, out=weights)
        return weights
    if np.any(threshold):
        soft_threshold(weights, threshold)
    return weights


def optimality_violations(gradient, weights, l1, positive=False):
    """Turn the penalised smooth gradient into optimality violations, in place.

    At an optimum ``gradient_j = -l1 * sign(w_j)`` where ``w_j != 0`` and
    ``|gradient_j| <= l1`` where ``w_j == 0``; with ``positive``, where
    ``w_j == 0`` only ``-gradient_j <= l1`` is needed (the constraint holds
    the weight up against a pull below zero).
    """
    active = weights != 0
    if np.count_nonzero(active) >= gradient.size // 4:
        # Many weights: whole-vector passes hold one temporary, where the
        # selections hold three of the active weights' size. A weight at
        # zero adds 0, which changes at most the sign of a zero gradient.
        shift = np.sign(weights)
        shift *= l1
        gradient += shift
        del shift
    else:
        gradient[active] += l1 * np.sign(weights[active])
    if positive:
        np.negative(gradient, out=gradient, where=~active)
        # A weight at zero may be pushed further down freely: only the pull
        # upwards beyond l1 violates.
        np.maximum(gradient, 0, out=gradient, where=~active)
    np.abs(gradient, out=gradient)
    np.subtract(gradient, l1, out=gradient, where=~active)
    np.maximum(gradient, 0, out=gradient)
    return gradient


def soft_threshold(weights, threshold):
    """Shrink ``weights`` towards zero by ``threshold`` in place, clipping at 0."""
    # sign(w) * max(|w| - t, 0) is w minus its projection onto [-t, t]: the
    # weights within the threshold become exactly 0. Written with minimum and
    # maximum, which NumPy vectorises (copysign it does not).
    threshold = np.asarray(threshold, dtype=weights.dtype)
    projection = np.minimum(weights, threshold)
    np.maximum(projection, -threshold, out=projection)
    weights -= projection
    return weights
