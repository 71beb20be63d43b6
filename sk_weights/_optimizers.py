"""Optimisers that update a flat parameter vector in place.

:class:`SGDOptimizer` and :class:`AdamOptimizer` take one mini-batch gradient
per :meth:`step`; their :meth:`prox_step_size` tells the proximal L1 step how far
the weights just moved, so soft-thresholding uses the step the optimiser
actually took. (The deterministic full-batch solvers live in
``_least_squares``.)

Optimisers hold only arrays and numbers; ``state()`` / ``load_state()`` turn
them into a plain dict and back, so an estimator can keep its optimiser
between ``partial_fit`` calls without storing objects. The dict names the
solver that ran (``"solver"``), and each class declares its layout in
``STATE_SCHEMA``, which the safe file format checks a loaded state against.
"""

import math

import numpy as np

#: The smallest positive normal float64: the floor of a scheduled learning rate.
_TINY = float(np.finfo(np.float64).tiny)


class SGDOptimizer:
    """Stochastic gradient descent with momentum and a learning-rate schedule.

    The update is the textbook ``w <- w - learning_rate * grad`` when
    ``momentum=0``; with momentum a velocity accumulates past steps, and
    Nesterov's variant evaluates the step at the look-ahead point.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        dtype of the parameters.
    learning_rate_init : float
        Initial step size.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule: constant; ``learning_rate_init / (t + 1) ** power_t`` with
        ``t`` the number of samples seen; or divided by 5 each time training
        stops improving (see :meth:`on_plateau`).
    momentum : float, default=0.9
        Weight of the previous velocity.
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    """

    name = "sgd"
    min_learning_rate = 1e-6

    #: The saved state: ``"params"`` is an array shaped and typed like the
    #: parameter vector, ``"rate"`` a float > 0, ``"count"`` an int >= 0.
    STATE_SCHEMA = {"learning_rate": "rate", "velocity": "params"}

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        learning_rate="constant",
        momentum=0.9,
        nesterovs_momentum=True,
        power_t=0.5,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.momentum = float(momentum)
        self.nesterovs_momentum = bool(nesterovs_momentum)
        self.power_t = float(power_t)
        self.velocity = np.zeros(n_params, dtype=dtype)
        self._scaled_grad = np.empty(n_params, dtype=dtype)

    def step(self, theta, grad):
        """Move ``theta`` in place along the negative gradient."""
        # The textbook update w <- w - learning_rate * grad, with the product
        # written into a reused buffer instead of a new array.
        scaled = np.multiply(grad, self.learning_rate, out=self._scaled_grad)
        if self.momentum == 0:
            theta -= scaled
            return theta
        velocity = self.velocity
        velocity *= self.momentum
        velocity -= scaled
        if self.nesterovs_momentum:
            # theta += momentum * velocity - learning_rate * grad
            scaled *= -1
            scaled += self.momentum * velocity
            theta += scaled
        else:
            theta += velocity
        return theta

    def prox_step_size(self, n):
        """Return the step size of the last update (the same for all weights)."""
        return self.learning_rate

    def on_epoch_end(self, n_samples_seen):
        """Apply the ``"invscaling"`` schedule after an epoch."""
        if self.schedule == "invscaling":
            try:
                decay = (n_samples_seen + 1) ** self.power_t
            except OverflowError:  # a large power_t: the rate is all but 0
                decay = math.inf
            # Kept above 0, so that the state stays a valid one to save and load.
            self.learning_rate = max(self.learning_rate_init / decay, _TINY)

    def on_plateau(self, verbose=False):
        """React to training that stopped improving; return True to go on.

        With the ``"adaptive"`` schedule the learning rate is divided by 5 and
        training continues until it falls below 1e-6.
        """
        if self.schedule != "adaptive" or self.learning_rate <= self.min_learning_rate:
            return False
        self.learning_rate /= 5.0
        if verbose:
            print(f"Setting learning rate to {self.learning_rate:f}")
        return True

    def state_is_finite(self):
        """Whether the velocity is finite (it holds past steps, not squares)."""
        return bool(np.isfinite(self.velocity).all())

    def state(self):
        """Return the optimiser's state: its name, numbers and (copied) arrays."""
        return {
            "solver": self.name,
            "learning_rate": self.learning_rate,
            "velocity": self.velocity.copy(),
        }

    def load_state(self, state):
        """Restore a state returned by :meth:`state` (arrays are copied)."""
        _check_solver(self, state)
        self.learning_rate = float(state["learning_rate"])
        self.velocity[...] = state["velocity"]
        return self


class AdamOptimizer:
    """Adam: steps scaled by running estimates of the gradient's moments.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        dtype of the parameters.
    learning_rate_init : float
        Step size.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to the root of the second moment for numerical stability.

    References
    ----------
    Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic
    optimization. ICLR.
    """

    name = "adam"

    #: The saved state (see ``SGDOptimizer.STATE_SCHEMA``).
    STATE_SCHEMA = {"t": "count", "first_moment": "params", "second_moment": "params"}

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.first_moment = np.zeros(n_params, dtype=dtype)
        self.second_moment = np.zeros(n_params, dtype=dtype)
        # Scratch space, so that a step allocates nothing: the denominator
        # sqrt(v) + epsilon of the last step (the proximal step reuses it) and
        # the step itself.
        self._denominator = np.empty(n_params, dtype=dtype)
        self._buffer = np.empty(n_params, dtype=dtype)
        self._step_scale = 0.0

    def step(self, theta, grad):
        """Move ``theta`` in place by the bias-corrected Adam step."""
        self.t += 1
        m, v = self.first_moment, self.second_moment
        denominator, buf = self._denominator, self._buffer
        # m <- beta_1 * m + (1 - beta_1) * grad
        m *= self.beta_1
        m += np.multiply(grad, 1 - self.beta_1, out=buf)
        # v <- beta_2 * v + (1 - beta_2) * grad**2
        v *= self.beta_2
        np.multiply(grad, grad, out=buf)
        buf *= 1 - self.beta_2
        v += buf
        # The bias corrections of m and v folded into one scalar (a Python
        # float: a NumPy float64 would turn float32 arithmetic into float64).
        self._step_scale = (
            self.learning_rate
            * math.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        # theta -= step_scale * m / (sqrt(v) + epsilon)
        np.sqrt(v, out=denominator)
        denominator += self.epsilon
        np.divide(m, denominator, out=buf)
        buf *= self._step_scale
        theta -= buf
        return theta

    def prox_step_size(self, n):
        """Return the per-weight step sizes of the last update, for the first n.

        The array is scratch space of the optimiser, valid until its next step.
        """
        return np.divide(self._step_scale, self._denominator[:n], out=self._buffer[:n])

    def on_epoch_end(self, n_samples_seen):
        """Adam keeps its learning rate; nothing to do."""

    def on_plateau(self, verbose=False):
        """Adam has no adaptive schedule: stop when training stops improving."""
        return False

    def state_is_finite(self):
        """Whether the moment estimates are finite.

        The second moment holds squared gradients, which overflow long before
        the gradients do (from about 1.8e19 in float32): the steps then become
        0 while every weight stays finite, and training silently stops.
        """
        return bool(np.isfinite(self.second_moment).all())

    def state(self):
        """Return the optimiser's state: its name, numbers and (copied) arrays."""
        return {
            "solver": self.name,
            "t": self.t,
            "first_moment": self.first_moment.copy(),
            "second_moment": self.second_moment.copy(),
        }

    def load_state(self, state):
        """Restore a state returned by :meth:`state` (arrays are copied)."""
        _check_solver(self, state)
        self.t = int(state["t"])
        self.first_moment[...] = state["first_moment"]
        self.second_moment[...] = state["second_moment"]
        return self


#: Labels of states saved before the label named the optimiser that ran: a
#: WeightedLinearRegressor's partial_fit with solver="auto" or "fista" ran SGD.
_LEGACY_LABELS = {"fista": "sgd"}


def state_solver(state):
    """Return the name of the optimiser a saved state belongs to."""
    label = state.get("solver")
    return _LEGACY_LABELS.get(label, label)


def _check_solver(optimizer, state):
    """Refuse the state of another optimiser (its arrays mean something else)."""
    if state_solver(state) != optimizer.name:
        raise ValueError(
            f"Cannot load the state of solver {state.get('solver')!r} into the "
            f"{optimizer.name!r} optimiser."
        )


#: The optimiser each stochastic solver runs, by the solver's name: the name
#: its saved state carries (see ``state``).
OPTIMIZERS = {optimizer.name: optimizer for optimizer in (SGDOptimizer, AdamOptimizer)}
