"""Bridge from the epoch loop to scikit-learn's callbacks API (``sklearn.callback``).

scikit-learn 1.9 lets users attach callbacks (``ProgressBar``,
``ScoringMonitor``, their own) to an estimator with ``set_callbacks``; the
estimator describes its fit as a tree of tasks and calls the callbacks'
``on_fit_task_begin`` / ``on_fit_task_end`` hooks around each. Here a fit is
the root task and each epoch of the stochastic solvers a subtask (the
full-batch solver's fit is a single task). A callback that returns True from
``on_fit_task_end`` stops training after that epoch.

:class:`FitCallbacks` does the bookkeeping for every estimator. With a
scikit-learn that has no callbacks API, or an estimator without callbacks, it
does nothing, and the estimators work as before.
"""

from sk_weights._sklearn_compat import HAS_CALLBACKS


class FitCallbacks:
    """The callback hooks of one ``fit`` or ``partial_fit`` call.

    Create it at the start of the call, once X and y are validated: it opens
    the root task. Pass :meth:`epoch_callback` to the epoch loop, then call
    :meth:`end` once the fitted attributes are set.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted (with ``CallbackSupportMixin``).
    X, y : array-like
        The training data, handed to the callbacks (a ``ScoringMonitor``
        scores the model on them).
    sample_weight : ndarray or None
        Handed to the callbacks as metadata.
    max_epochs : int
        Number of epochs the call may run; 0 for the full-batch solver.
    """

    def __init__(self, estimator, X, y, sample_weight, *, max_epochs):
        self._estimator = estimator
        self._root = None
        self._epoch = None
        self._n_epochs = 0
        self._max_epochs = max_epochs
        if not (HAS_CALLBACKS and hasattr(estimator, "_init_callback_context")):
            return
        if not getattr(estimator, "_skl_callbacks", None):
            # No callback to call (a meta-estimator's propagated ones are set
            # on the estimator too): the tasks would cost time for nothing.
            return
        self._data = {
            "X": X,
            "y": y,
            "metadata": {"sample_weight": sample_weight},
        }
        self._root = estimator._init_callback_context(max_subtasks=max_epochs)
        self._root.call_on_fit_task_begin(estimator=estimator, **self._data)

    def epoch_callback(self, theta, reconstruct):
        """Return the ``epoch_callback`` for :func:`~sk_weights._training.train`.

        Parameters
        ----------
        theta : ndarray
            The parameters before the first epoch.
        reconstruct : callable
            ``reconstruct(theta)`` returns the fitted attributes (``coef_``,
            ``coefs_``, ...) that make a copy of the estimator predict with
            ``theta``; called only when a callback asks for the model.

        Returns
        -------
        callback : callable or None
            None when there is nothing to call.
        """
        if self._root is None or self._max_epochs == 0:
            return None
        self._reconstruct = reconstruct
        self._begin_epoch(theta)
        return self._end_epoch

    def _attributes(self, theta):
        # Evaluated lazily by scikit-learn, only if a hook wants the model.
        return lambda: self._reconstruct(theta.copy())

    def _begin_epoch(self, theta):
        self._epoch = self._root.subcontext(task_name="epoch")
        self._epoch.call_on_fit_task_begin(
            estimator=self._estimator,
            reconstruction_attributes=self._attributes(theta),
            **self._data,
        )

    def _end_epoch(self, record, theta):
        """End the epoch that just ran; begin the next; return True to stop."""
        stop = self._epoch.call_on_fit_task_end(
            estimator=self._estimator,
            reconstruction_attributes=self._attributes(theta),
            **self._data,
        )
        self._epoch = None
        self._n_epochs += 1
        if not stop and self._n_epochs < self._max_epochs:
            self._begin_epoch(theta)
        return stop

    def end(self):
        """Close the fit task; the estimator holds its fitted attributes now."""
        if self._root is None:
            return
        if self._epoch is not None:
            # Training stopped (converged) before this begun epoch ran: end it
            # as an empty task so that every begin has its end.
            self._epoch.call_on_fit_task_end(estimator=self._estimator)
            self._epoch = None
        self._root.call_on_fit_task_end(
            estimator=self._estimator, reconstruction_attributes={}, **self._data
        )
