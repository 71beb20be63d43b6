"""Why this prediction: each feature's contribution to one output of a model.

:func:`explain` splits a model's raw output on a row ``x`` (the prediction of a
regressor, the decision function of a classifier: its logits, before the
sigmoid or softmax) into one contribution per input feature, measured from a
baseline row ``b``::

    output(x) = output(b) + contribution_1 + ... + contribution_n

- Linear models: contribution ``j`` is ``coef_[j] * (x_j - b_j)``, exactly.
- Networks: integrated gradients (Sundararajan et al., 2017). Contribution
  ``j`` is ``(x_j - b_j)`` times the average, along the straight path from
  ``b`` to ``x``, of the gradient of the output with respect to input ``j``.
  The average is taken by the trapezoid rule over ``n_steps`` equally spaced
  points of the path (for relu, with each unit's on/off derivative averaged
  over the point's step), with one forward pass and one backward pass per
  output and point, in batches of (row, point) pairs.

The contributions add up to ``output(x) - output(b)`` exactly for a linear
model (up to rounding), and up to the error of the trapezoid rule for a
network, reported per row as ``completeness_error``.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, validate_params

from sk_weights._activations import DERIVATIVES
from sk_weights._datafits import datafit_of
from sk_weights._network import (
    FittedNetwork,
    Workspace,
    forward,
    input_gradient,
)
from sk_weights._sklearn_compat import _num_samples, check_is_fitted
from sk_weights._validation import check_budget, n_columns, validate_input
from sk_weights._views import (
    DIVERGING_CMAP,
    SIGN_COLOURS,
    colour_bar,
    escape_html,
    format_number,
    plot_text,
    printable,
    symmetric_limit,
)
from sk_weights.report import _outputs

__all__ = ["Explanation", "explain"]

#: (row, point) pairs per forward and backward pass of integrated gradients.
BATCH_SIZE = 4096

#: Contributions listed per row in the text (the rest are summed on one line).
TOP_CONTRIBUTIONS = 6

#: A linear model's own output must equal ``X @ coef_.T + intercept_`` to this
#: share of the size of its terms (loose enough for float32 models).
_LINEAR_TOLERANCE = 1e-4

SUPPORTED = (
    "a fitted estimator of this package, one of scikit-learn's linear models "
    "(coef_, intercept_ and an output linear in X), MLPClassifier / "
    "MLPRegressor, or a Pipeline ending in one of them"
)


@validate_params(
    {
        "estimator": "no_validation",
        "X": ["array-like", "sparse matrix"],
        "baseline": ["array-like", None],
        "n_steps": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def explain(estimator, X, *, baseline=None, n_steps=64, batch_size=BATCH_SIZE):
    """Split a model's raw output on each row of X into feature contributions.

    What is explained is the raw output: the prediction of a regressor (for
    a log link, e.g. ``loss="poisson"``, the log of the prediction,
    on which the weights add up), the decision function of a classifier (for
    logistic models and networks, the logits, before the sigmoid or softmax).
    For each row ``x``, ``contributions.sum(-1) + baseline_output == output``:
    exactly (to rounding) for linear models, where contribution ``j`` is
    ``coef_[j] * (x_j - baseline_j)``, and to the accuracy of the quadrature
    for networks, explained by integrated gradients (see Notes).

    Read more in the :ref:`User Guide <why_this_prediction>`.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted estimator of this package, one of scikit-learn's linear
        models (``LinearRegression``, ``Ridge``, ``LogisticRegression``,
        ``SGDClassifier``, ...), ``MLPClassifier`` / ``MLPRegressor``, or a
        :class:`~sklearn.pipeline.Pipeline` ending in one. For a pipeline, X
        goes through the steps before the last, and the contributions are
        those of the last step's inputs, named by the earlier steps'
        ``get_feature_names_out``.
    X : {array-like, sparse matrix} of shape (n_rows, n_features)
        The rows to explain, as the estimator takes them. The rows of a
        DataFrame keep their index labels in the text and in
        :meth:`Explanation.to_frame`.
    baseline : array-like of shape (n_features,) or (n_baseline_rows, n_features), \
default=None
        The reference row the contributions are measured from, as the
        estimator takes rows; for several rows, their mean (taken after a
        pipeline's transformers). A pandas Series such as ``X_train.mean()``
        is one row. By default the model's ``feature_mean_``, the weighted
        mean of its training data; models from elsewhere record none and
        need a baseline (for example ``baseline=X_train``).
    n_steps : int, default=64
        Points of the path from the baseline to each row at which a network's
        gradient is evaluated (the trapezoid rule's nodes, both ends
        included). Ignored for linear models.
    batch_size : int, default=4096
        (row, point) pairs per forward and backward pass of a network: memory
        grows as ``batch_size`` times the widest layer. The results do not
        depend on it (up to rounding).

    Returns
    -------
    Explanation
        The contributions, the outputs, the baseline and the completeness
        error per row, with text, frame, HTML and waterfall-plot views.

    Raises
    ------
    TypeError
        If the estimator is not one of the supported kinds of model.
    ValueError
        If X or the baseline do not fit the model, or the model records no
        ``feature_mean_`` and no baseline is given, or a linear model's
        output is not linear in X (a generalised linear model's ``predict``).

    See Also
    --------
    weights_report : What a model relies on overall, from its weights.

    Notes
    -----
    For a network ``F`` and output ``k``, contribution ``j`` of row ``x`` is
    the integrated gradient

    .. math::

        \\phi_j = (x_j - b_j) \\int_0^1
        \\frac{\\partial F_k}{\\partial x_j}\\bigl(b + t (x - b)\\bigr)\\,dt,

    and the contributions sum to ``F_k(x) - F_k(b)``, since their sum is the
    integral of the derivative of ``F_k`` along the path. The integral is
    taken by the trapezoid rule on ``n_steps`` equally spaced points ``t``,
    and ``completeness_error`` is the rule's error on the integral of
    ``g(t) = d F_k(b + t (x - b)) / dt``:

    - smooth activations (``tanh``, ``logistic``): at most
      ``max |g''| / (12 (n_steps - 1)**2)``, so it falls as
      ``1 / n_steps**2``;
    - ``relu``: each hidden unit's derivative jumps between 0 and 1 where the
      unit switches on or off along the path, an error of order
      ``1 / n_steps`` for the plain rule. So at each point the unit's 0/1
      derivative is replaced by the share of the point's step (half a step
      on either side) on which the unit is on, found from its pre-activation
      and the rate at which that changes along the path. The share is exact
      for the first hidden layer, whose pre-activations are linear along the
      path, and for a deeper layer on the steps where no earlier unit
      switches; as the gradient is linear in each layer's derivatives, a
      network with one hidden layer is explained exactly (to rounding),
      whatever ``n_steps``. With more hidden layers the error comes from the
      steps on which units of several layers switch; it falls about as
      ``1 / n_steps**2`` in practice, and at worst as ``1 / n_steps``;
    - ``identity``: ``g`` is constant and the rule is exact; the
      contributions are those of the linear model with the effective weights
      ``coef_``.

    Each contribution is the same rule applied to one partial derivative,
    with an error of the same kind (the errors of different features may
    partly cancel in their sum); raise ``n_steps`` when
    ``completeness_error`` is not small against the outputs. Computations
    are in float64 whatever the model's dtype. The cost is ``n_steps``
    forward passes and ``n_steps * n_outputs`` backward passes per row.

    References
    ----------
    Sundararajan, M., Taly, A. and Yan, Q. (2017). Axiomatic attribution for
    deep networks. ICML.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, explain
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    >>> explanation = explain(model, X.iloc[:3])
    >>> explanation.contributions.shape
    (3, 10)
    >>> total = explanation.contributions.sum(axis=1) + explanation.baseline_output
    >>> bool(abs(total - model.predict(X.iloc[:3])).max() < 1e-9)
    True
    """
    check_is_fitted(estimator)
    _check_sizes(estimator, X, n_steps, batch_size)
    index = list(X.index) if hasattr(X, "index") and hasattr(X, "columns") else None
    model, X_model, X_seen, names, reference = _model_inputs(estimator, X, baseline)
    if index is None:
        index = list(range(X_model.shape[0]))
    if _is_network(model):
        network = _network_of(model)
        output = _raw_output(network, X_model)
        baseline_output = _raw_output(network, reference[np.newaxis])[0]
        contributions = _integrated_gradients(
            network, X_model, reference, n_steps, batch_size
        )
        method = f"integrated gradients (trapezoid rule, {n_steps} points)"
    else:
        coef, intercept, output = _linear_terms(model, X_model, X_seen)
        contributions = (X_model - reference)[:, np.newaxis, :] * coef
        baseline_output = coef @ reference + intercept
        method = "exact for a linear model: coef_ * (x - baseline)"
    n_outputs = output.shape[1]
    labels = _outputs(model, n_outputs)["labels"]
    completeness_error = np.abs(contributions.sum(axis=-1) + baseline_output - output)
    if _single_output(model, n_outputs):
        contributions, output = contributions[:, 0], output[:, 0]
        baseline_output, completeness_error = (
            float(baseline_output[0]),
            completeness_error[:, 0],
        )
    return Explanation(
        contributions=contributions,
        baseline_output=baseline_output,
        output=output,
        completeness_error=completeness_error,
        feature_names=names,
        data=X_model,
        baseline=reference,
        output_names=labels,
        index=index,
        kind=_kind_of_output(model),
        method=method,
        estimator_name=type(model).__name__,
        baseline_source="feature_mean_" if baseline is None else "given",
        transformers=[] if model is estimator else _step_names(estimator),
    )


class Explanation:
    """Per-feature contributions to a model's raw output on some rows.

    Build it with :func:`explain`. For every row (and output),
    ``contributions.sum(-1) + baseline_output`` equals ``output`` up to
    ``completeness_error``.

    Parameters
    ----------
    contributions : ndarray of shape (n_rows, n_features) or \
(n_rows, n_outputs, n_features)
        The contribution of each feature.
    baseline_output : float or ndarray of shape (n_outputs,)
        The model's raw output on the baseline.
    output : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        The model's raw output on each row.
    completeness_error : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        ``|contributions.sum(-1) + baseline_output - output|``.
    feature_names : list of str
        Names of the model's input features.
    data : ndarray of shape (n_rows, n_features)
        The feature values the model sees (after a pipeline's transformers).
    baseline : ndarray of shape (n_features,)
        The reference row, as the model sees it.
    output_names : list of str
        What each output is: a class label or a target index.
    index : list
        A label per row (a DataFrame's index, else 0, 1, ...).
    kind : str
        ``"prediction"`` (regressors; ``"log of the prediction"`` for a log
        link, whose raw output is explained), ``"logit"`` (networks and this
        package's classifiers) or ``"decision function"`` (other classifiers).
    method : str
        How the contributions were computed.
    estimator_name : str
        The explained model's class name.
    baseline_source : str
        ``"feature_mean_"`` (the default baseline) or ``"given"``.
    transformers : list of str, default=()
        Class names of the pipeline steps X went through before the model.

    Attributes
    ----------
    contributions : ndarray of shape (n_rows, n_features) or \
(n_rows, n_outputs, n_features)
        The contribution of each feature to each row's output, in the units
        of the output; positive contributions push the output up.
    baseline_output : float or ndarray of shape (n_outputs,)
        The output on the baseline, the same for every row.
    output : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        The output on each row.
    completeness_error : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        How far the contributions are from adding up to the output: rounding
        for linear models, the quadrature error for networks.
    feature_names : list of str
        Names of the features the contributions belong to.
    data : ndarray of shape (n_rows, n_features)
        The feature values of the rows, as the model sees them.
    baseline : ndarray of shape (n_features,)
        The baseline row, as the model sees it.
    output_names : list of str
        The class label or target index of each output.
    index : list
        The label of each row.

    See Also
    --------
    explain : Compute an explanation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, explain
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    >>> explanation = explain(model, X.iloc[[0]])
    >>> print(str(explanation).splitlines()[1])
    row 0: prediction +194.8 = baseline +152.1 + contributions +42.7
    """

    def __init__(
        self,
        contributions,
        baseline_output,
        output,
        completeness_error,
        feature_names,
        data,
        baseline,
        output_names,
        index,
        kind,
        method,
        estimator_name,
        baseline_source,
        transformers=(),
    ):
        self.contributions = contributions
        self.baseline_output = baseline_output
        self.output = output
        self.completeness_error = completeness_error
        self.feature_names = list(feature_names)
        self.data = data
        self.baseline = baseline
        self.output_names = list(output_names)
        self.index = list(index)
        self.kind = kind
        self.method = method
        self.estimator_name = estimator_name
        self.baseline_source = baseline_source
        self.transformers = list(transformers)

    def __repr__(self):
        n_rows, n_features = self.data.shape
        outputs = "" if self.contributions.ndim == 2 else f"{len(self.output_names)} "
        return (
            f"<Explanation of {self.estimator_name}: {n_rows} rows, {outputs}"
            f"{self.kind} output(s), {n_features} features>"
        )

    # -- text ---------------------------------------------------------------

    def __str__(self):
        baseline = (
            "the mean of the training data (feature_mean_)"
            if self.baseline_source == "feature_mean_"
            else "the given baseline"
        )
        lines = [
            f"{self.estimator_name}: contributions of each feature to the "
            f"{self.kind}, from {baseline}; {self.method}."
        ]
        if self.transformers:
            lines[0] += (
                " Feature values as the model sees them, after "
                + ", ".join(printable(name) for name in self.transformers)
                + "."
            )
        for row in range(len(self.index)):
            lines.extend(self._row_lines(row))
        return "\n".join(lines)

    def _row_lines(self, row):
        """The text of one row: per output shown, the sum and the top terms."""
        lines = []
        for k in self._outputs_shown(row):
            contributions, output, baseline_output, error = self._of(row, k)
            lines.append(
                f"row {printable(self.index[row])}: {self._output_label(k)} "
                f"{format_number(output)} = baseline "
                f"{format_number(baseline_output)} + contributions "
                f"{format_number(float(contributions.sum()))}"
                + (f" (completeness error {error:.2g})" if self._is_network else "")
            )
            order = np.argsort(-np.abs(contributions), kind="stable")
            shown = order[:TOP_CONTRIBUTIONS]
            names = [printable(self.feature_names[j]) for j in shown]
            width = max([len("feature"), *(len(name) for name in names)])
            lines.append(f"    {'feature':<{width}}  {'value':>10}  contribution")
            for name, j in zip(names, shown):
                lines.append(
                    f"    {name:<{width}}  {self.data[row, j]:>10.4g}  "
                    f"{format_number(float(contributions[j])):>12}"
                )
            rest = order[TOP_CONTRIBUTIONS:]
            if rest.size:
                others = f"({rest.size} other features)"
                lines.append(
                    f"    {others:<{width + 12}}  "
                    f"{format_number(float(contributions[rest].sum())):>12}"
                )
        return lines

    @property
    def _regression(self):
        """Whether the outputs are a regressor's (its prediction, or its log)."""
        return "prediction" in self.kind

    @property
    def _is_network(self):
        return self.method.startswith("integrated")

    def _outputs_shown(self, row):
        """All outputs of a regressor; a classifier's largest (its prediction)."""
        if self.contributions.ndim == 2:
            return [None]
        if not self._regression:
            return [int(np.argmax(self.output[row]))]
        return list(range(len(self.output_names)))

    def _output_label(self, k):
        if k is None:
            if self._regression:
                return self.kind
            return f"{self.kind} (class {printable(self.output_names[0])})"
        what = "target" if self._regression else "class"
        return f"{self.kind} of {what} {printable(self.output_names[k])}"

    def _of(self, row, k):
        """Contributions, output, baseline output and error of one row and output."""
        if k is None:
            return (
                self.contributions[row],
                float(self.output[row]),
                float(self.baseline_output),
                float(self.completeness_error[row]),
            )
        return (
            self.contributions[row, k],
            float(self.output[row, k]),
            float(self.baseline_output[k]),
            float(self.completeness_error[row, k]),
        )

    # -- tables -------------------------------------------------------------

    def to_frame(self):
        """Return the contributions as a pandas DataFrame.

        Returns
        -------
        pandas.DataFrame
            One column per feature; one row per explained row (indexed by its
            label, ``"row"``), or per row and output (a ``("row", "output")``
            MultiIndex) for models with several outputs.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Explanation.to_frame needs pandas: pip install 'sk_weights[pandas]'."
            ) from exc
        if self.contributions.ndim == 2:
            index = pd.Index(self.index, name="row")
            values = self.contributions
        else:
            index = pd.MultiIndex.from_product(
                [self.index, self.output_names], names=["row", "output"]
            )
            values = self.contributions.reshape(-1, len(self.feature_names))
        return pd.DataFrame(values, index=index, columns=self.feature_names)

    def _repr_html_(self):
        """Return the text of every row as HTML, for notebooks."""
        return self.to_html(full_page=False)

    def to_html(self, full_page=True, include_plot=False):
        """Render the explanation as HTML: each row's text, and its waterfall.

        Parameters
        ----------
        full_page : bool, default=True
            Whether to return a complete document (else a fragment).
        include_plot : bool, default=False
            Whether to embed each row's :meth:`plot` as a PNG (needs
            matplotlib).

        Returns
        -------
        str
            The HTML.
        """
        import base64
        import io

        text = str(self).splitlines()
        parts = [
            '<div class="sk-weights-explanation">',
            f"<p>{escape_html(text[0])}</p>",
        ]
        for row in range(len(self.index)):
            block = "\n".join(escape_html(line) for line in self._row_lines(row))
            parts.append(f"<pre>{block}</pre>")
            if include_plot:
                buffer = io.BytesIO()
                self.plot(row).savefig(buffer, format="png", dpi=90)
                png = base64.b64encode(buffer.getvalue()).decode("ascii")
                parts.append(
                    f'<img alt="contributions of row {escape_html(self.index[row])}" '
                    f'src="data:image/png;base64,{png}">'
                )
        parts.append("</div>")
        fragment = "\n".join(parts)
        if not full_page:
            return fragment
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{escape_html(self.estimator_name)}: why these predictions</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
            "img{max-width:100%}</style></head><body>\n"
            f"{fragment}\n</body></html>\n"
        )

    # -- plots --------------------------------------------------------------

    def plot(self, row=0, output=None, top=10, image_shape=None):
        """Draw a waterfall from the baseline output to the row's output.

        Each bar is one feature's contribution, starting where the previous
        one ended, the largest first; the rest are summed in one bar. Bars
        are coloured by sign. With ``image_shape``, the contributions are
        drawn as an image instead, beside the row itself.

        Parameters
        ----------
        row : int, default=0
            Position of the row among those explained (0 for the first).
        output : int, optional
            For several outputs, which one (by position); by default a
            classifier's largest (its prediction), a regressor's first.
        top : int, default=10
            Number of features drawn as their own bar.
        image_shape : tuple of (int, int), optional
            When the features are the pixels of an image (the 8x8 digits),
            draw the row's pixels and its contributions as ``image_shape``
            images: the contributions on a diverging colour map centred on 0
            (blue raises the output, red lowers it, as in the bars), with a colour bar.

        Returns
        -------
        matplotlib.figure.Figure
            The figure (not shown; call ``fig.savefig`` or display it).

        Raises
        ------
        ValueError
            If ``row`` is not the position of an explained row, or
            ``image_shape`` does not hold exactly the features.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "Explanation.plot needs matplotlib: pip install 'sk_weights[plot]'."
            ) from exc
        n_rows = len(self.index)
        if not (isinstance(row, Integral) and -n_rows <= row < n_rows):
            raise ValueError(
                f"row={row!r} is not the position of an explained row: pass an "
                f"integer from 0 to {n_rows - 1}."
            )
        if self.contributions.ndim == 2:
            k = None
        elif output is None:
            k = self._outputs_shown(row)[0]
        else:
            k = int(output)
        contributions, value, start, _ = self._of(row, k)
        if image_shape is not None:
            return self._plot_image(row, k, contributions, value, start, image_shape)
        order = np.argsort(-np.abs(contributions), kind="stable")
        labels = [
            f"{plot_text(self.feature_names[j])} = {self.data[row, j]:.3g}"
            for j in order[:top]
        ]
        steps = list(contributions[order[:top]])
        if order.size > top:
            labels.append(f"{order.size - top} other features")
            steps.append(float(contributions[order[top:]].sum()))
        fig = Figure(figsize=(7.0, 1.6 + 0.38 * len(steps)), layout="constrained")
        ax = fig.add_subplot()
        left = start + np.concatenate([[0.0], np.cumsum(steps)[:-1]])
        positions = np.arange(len(steps))[::-1]
        colours = [
            SIGN_COLOURS["positive"] if s > 0 else SIGN_COLOURS["negative"]
            for s in steps
        ]
        ax.barh(positions, steps, left=left, color=colours)
        for y, x0, width in zip(positions, left, steps):
            ax.annotate(
                format_number(float(width)),
                (x0 + width, y),
                xytext=(3 if width >= 0 else -3, 0),
                textcoords="offset points",
                ha="left" if width >= 0 else "right",
                va="center",
                fontsize=8,
            )
        ax.axvline(start, color="#777777", linestyle="--", linewidth=1)
        ax.axvline(value, color="#222222", linewidth=1)
        ax.set_yticks(positions, labels)
        ax.set_xlabel(
            f"{plot_text(self._output_label(k))}: baseline {start:.4g} "
            f"(dashed) → {value:.4g} (solid)"
        )
        ax.set_title(
            f"{plot_text(self.estimator_name)}, row {plot_text(self.index[row])}"
        )
        # Bars stick to their base, which defeats ax.margins: pad by hand,
        # leaving room for the labels.
        ends = np.concatenate([[start, value], left, left + steps])
        low, high = ends.min(), ends.max()
        pad = 0.15 * (high - low) or 1.0
        ax.set_xlim(low - pad, high + pad)
        return fig

    def _plot_image(self, row, k, contributions, value, start, image_shape):
        """The row's pixels and its contributions, as two images."""
        from matplotlib.figure import Figure

        n_features = contributions.size
        shape = tuple(int(n) for n in np.ravel(image_shape))
        if len(shape) != 2 or shape[0] * shape[1] != n_features:
            raise ValueError(
                f"image_shape={image_shape!r} does not hold the {n_features} "
                f"features; pass (height, width) with height * width == "
                f"{n_features}."
            )
        fig = Figure(figsize=(8.0, 4.0), layout="constrained")
        pixels_ax, contributions_ax = fig.subplots(1, 2)
        pixels = pixels_ax.imshow(self.data[row].reshape(shape), cmap="gray_r")
        pixels_ax.set_title("the row's values")
        colour_bar(fig, pixels, pixels_ax)
        limit = symmetric_limit(contributions)
        image = contributions_ax.imshow(
            contributions.reshape(shape), cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit
        )
        contributions_ax.set_title(
            f"contributions to {plot_text(self._output_label(k))}"
        )
        colour_bar(fig, image, contributions_ax, label="contribution")
        for ax in (pixels_ax, contributions_ax):
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(
            f"{plot_text(self.estimator_name)}, row {plot_text(self.index[row])}: "
            f"baseline {start:.4g} → {value:.4g}"
        )
        return fig


# -- the model, its inputs and the baseline -------------------------------------


def _is_network(model):
    return hasattr(model, "coefs_") and hasattr(model, "intercepts_")


def _check_sizes(estimator, X, n_steps, batch_size):
    """Refuse, before any work, arguments whose arrays would exceed the budget.

    Integrated gradients keep five vectors of ``n_steps`` points, a batch of
    ``batch_size`` points per layer, and the contributions (with their mean
    gradients) of every row, feature and output.
    """
    model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    n_rows = _num_samples(X)
    n_features = getattr(model, "n_features_in_", None) or n_columns(X)
    if _is_network(model):
        widths = sum(np.shape(bias)[-1] for bias in model.intercepts_)
        n_outputs = np.shape(model.intercepts_[-1])[-1]
        work = 5 * n_steps + 3 * min(batch_size, n_steps * n_rows) * (
            widths + n_features
        )
    else:
        coef = getattr(model, "coef_", ())  # no coef_: refused later, by kind
        n_outputs, work = (np.shape(coef)[:-1] or (1,))[0], 0
    check_budget(
        work + 3 * n_rows * n_outputs * n_features,
        f"n_steps={n_steps}" if work else "X",
        "explain",
    )


def _model_inputs(estimator, X, baseline):
    """The final model, X as it sees it (validated, and as passed), names, baseline.

    For a pipeline, X and the baseline rows go through the steps before the
    last one.
    """
    model, head = estimator, None
    if isinstance(estimator, Pipeline):
        head, model = estimator[:-1], estimator.steps[-1][1]
    if not (_is_network(model) or hasattr(model, "coef_")):
        raise TypeError(f"explain got {type(model).__name__}; it supports {SUPPORTED}.")
    names = None
    if head is not None:
        X = head.transform(X)
        try:
            names = [str(name) for name in head.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            names = None
    X_model = _dense(
        validate_input(model, X, reset=False, accept_sparse="csr", dtype=np.float64)
    )
    n_features = X_model.shape[1]
    if names is None and hasattr(model, "feature_names_in_"):
        names = [str(name) for name in model.feature_names_in_]
    if names is None or len(names) != n_features:
        names = [f"x{j}" for j in range(n_features)]
    reference = _reference(model, head, baseline, n_features)
    return model, X_model, X, names, reference


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def _reference(model, head, baseline, n_features):
    """The baseline row as the model sees it (float64, shape (n_features,))."""
    if baseline is None:
        mean = getattr(model, "feature_mean_", None)
        if mean is None:
            raise ValueError(
                f"{type(model).__name__} records no feature_mean_ (this package's "
                "estimators do), so there is no default baseline: pass one, e.g. "
                "baseline=X_train (the mean of its rows is used) or a reference "
                "row."
            )
        return np.asarray(mean, dtype=np.float64)
    if hasattr(baseline, "to_frame") and np.ndim(baseline) == 1:  # a pandas Series
        baseline = baseline.to_frame().T
    elif np.ndim(baseline) == 1:
        baseline = np.asarray(baseline).reshape(1, -1)
    if head is not None:
        baseline = head.transform(baseline)
    if hasattr(baseline, "columns"):  # names to check against the model's
        rows = validate_input(
            model, baseline, reset=False, accept_sparse="csr", dtype=np.float64
        )
    else:  # a plain row needs no names, even for a model fitted on a DataFrame
        rows = check_array(
            baseline, accept_sparse="csr", dtype=np.float64, input_name="baseline"
        )
    if rows.shape[1] != n_features:
        raise ValueError(
            f"baseline has {rows.shape[1]} features but the model takes "
            f"{n_features}: pass a row like those of X, or rows of them."
        )
    return _dense(rows).mean(axis=0)


def _kind_of_output(model):
    """What the raw output is called: a classifier's logits, when known to be.

    A regressor with a log link (Poisson) explains the log of its prediction.
    """
    if not is_classifier(model):
        datafit = datafit_of(model)
        if datafit is not None and datafit.link != "identity":
            return f"{datafit.link} of the prediction"
        return "prediction"
    # The networks' outputs and this package's classifiers go through a
    # sigmoid or softmax; another model's decision function may be a margin.
    if _is_network(model) or type(model).__module__.startswith("sk_weights"):
        return "logit"
    return "decision function"


def _step_names(pipeline):
    return [type(step).__name__ for _, step in pipeline.steps[:-1]]


def _single_output(model, n_outputs):
    """Whether the model's own output is one column (1-D ``predict``)."""
    if n_outputs != 1:
        return False
    return is_classifier(model) or np.ndim(getattr(model, "coef_", 0.0)) < 2


# -- linear models ----------------------------------------------------------------


def _linear_terms(model, X_model, X_seen):
    """``coef`` (n_outputs, n_features), ``intercept`` and the model's own output.

    The output comes from the model's ``decision_function`` (classifiers) or
    ``predict``, and must be ``X @ coef.T + intercept``: otherwise the weights
    do not describe it (a generalised linear model, a transformed target).
    """
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    intercept = np.broadcast_to(
        np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64).ravel(),
        coef.shape[:1],
    )
    method = model.decision_function if is_classifier(model) else model.predict
    output = np.asarray(method(X_seen), dtype=np.float64)
    datafit = datafit_of(model)
    if datafit is not None and not is_classifier(model):
        # The raw output of a link that is not the identity: log(prediction).
        output = datafit.raw_output(output)
    output = output.reshape(len(X_model), -1)
    linear = X_model @ coef.T + intercept
    scale = np.abs(X_model) @ np.abs(coef).T + np.abs(intercept) + np.abs(linear)
    if output.shape != linear.shape or np.any(
        np.abs(output - linear) > _LINEAR_TOLERANCE * scale + 1e-300
    ):
        raise ValueError(
            f"The output of {type(model).__name__} is not X @ coef_.T + "
            "intercept_, so its weights do not explain it (a link function or a "
            "transformed target?); explain handles models whose raw output is "
            "linear in X."
        )
    return coef, intercept, output


# -- networks -----------------------------------------------------------------------


def _network_of(model):
    """The model as a FittedNetwork in float64 (this package's, or scikit-learn's)."""
    if hasattr(model, "_fitted_network"):
        network = model._fitted_network()
    else:  # scikit-learn's MLPClassifier / MLPRegressor
        network = FittedNetwork(
            model.coefs_, model.intercepts_, model.activation, model.out_activation_, ()
        )
    return FittedNetwork(
        [np.asarray(c, dtype=np.float64) for c in network.coefs],
        [np.asarray(b, dtype=np.float64) for b in network.intercepts],
        network.activation,
        "identity",  # the raw output: no sigmoid or softmax
        network.dropout_rates,
    )


def _raw_output(network, X):
    """The last layer's pre-activation on X, in row blocks of bounded memory."""
    layout = network.layout
    output = np.empty((X.shape[0], layout.layer_sizes[-1]))
    workspace = Workspace(layout, min(X.shape[0], BATCH_SIZE), np.float64)
    for start in range(0, X.shape[0], BATCH_SIZE):
        stop = min(start + BATCH_SIZE, X.shape[0])
        output[start:stop] = forward(
            network.coefs,
            network.intercepts,
            X[start:stop],
            network.activation,
            "identity",
            workspace.resize(stop - start),
        )
    return output


def _integrated_gradients(network, X, baseline, n_steps, batch_size):
    """Integrated gradients of every output, shape (n_rows, n_outputs, n_features).

    The (row, point) pairs are laid out row after row and cut into batches of
    ``batch_size``; a row's points may span two batches. Each batch is one
    forward pass and one backward pass per output.
    """
    n_rows, n_features = X.shape
    n_outputs = network.layout.layer_sizes[-1]
    # The trapezoid rule on n_steps equally spaced points of [0, 1]: point m
    # stands for the part of the path within half a step of it, whose length
    # is its weight.
    points = np.linspace(0.0, 1.0, n_steps)
    half = np.full(n_steps, 0.5 / (n_steps - 1))
    before, after = half.copy(), half.copy()
    before[0] = after[-1] = 0.0
    weights = before + after
    difference = X - baseline
    mean_gradient = np.zeros((n_rows, n_outputs, n_features))
    n_pairs = n_rows * n_steps
    batch = min(batch_size, n_pairs)
    workspace = Workspace(network.layout, batch, np.float64)
    inputs = np.empty((batch, n_features))
    gradient = np.empty((batch, n_features))
    for start in range(0, n_pairs, batch):
        stop = min(start + batch, n_pairs)
        size = stop - start
        rows, steps = np.divmod(np.arange(start, stop), n_steps)
        # The path's points b + t (x - b) of this batch.
        path = np.take(difference, rows, axis=0, out=inputs[:size])
        path *= points[steps, np.newaxis]
        path += baseline
        view = workspace.resize(size)
        forward(
            network.coefs,
            network.intercepts,
            path,
            network.activation,
            "identity",
            view,
        )
        derivatives = _hidden_derivatives(
            network,
            view,
            difference[rows],
            before[steps, np.newaxis],
            after[steps, np.newaxis],
        )
        # Where each row's run of points starts within the batch.
        firsts = np.flatnonzero(np.diff(rows, prepend=-1))
        for k in range(n_outputs):
            grad = input_gradient(
                network.coefs,
                network.activation,
                view,
                k,
                out=gradient[:size],
                derivatives=derivatives,
            )
            grad *= weights[steps, np.newaxis]
            mean_gradient[rows[firsts], k] += np.add.reduceat(grad, firsts, axis=0)
    return mean_gradient * difference[:, np.newaxis, :]


def _hidden_derivatives(network, workspace, direction, before, after):
    """The derivative of each hidden unit at each point, to back-propagate through.

    Smooth activations: the derivative at the point. relu: the share of the
    point's part of the path (``before`` and ``after`` it, in units of t) on
    which the unit is on, from its pre-activation and that one's derivative
    along the path (``direction = x - b`` carried forward through the units
    on at the point). relu's derivative jumps where a unit switches, and the
    trapezoid rule's error on a step with a switch falls only as the step
    length; with the share, a step whose switches all lie in one layer is
    integrated exactly.
    """
    coefs, intercepts = network.coefs, network.intercepts
    activations = workspace.activations
    n_hidden = len(coefs) - 1
    if network.activation != "relu":
        derivative = DERIVATIVES[network.activation]
        return [
            derivative(activations[i], np.ones_like(activations[i]))
            for i in range(1, n_hidden + 1)
        ]
    derivatives = []
    slope, pre = direction, None
    for i in range(n_hidden):
        if pre is not None:
            slope *= pre > 0
        slope = slope @ coefs[i]
        pre = activations[i] @ coefs[i] + intercepts[i]
        derivatives.append(_share_on(pre, slope, before, after))
    return derivatives


def _share_on(pre, slope, before, after):
    """Share of ``[-before, after]`` on which ``pre + slope * u > 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.clip(-pre / slope, -before, after)
    on = np.where(
        slope > 0,
        after - crossing,
        np.where(slope < 0, crossing + before, (pre > 0) * (before + after)),
    )
    return on / (before + after)
