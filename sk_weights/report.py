"""The learned-weights report: which inputs a fitted model relies on, at a glance.

:func:`weights_report` reads the *fitted attributes* of a model (it never
retrains or predicts) and returns a :class:`WeightsReport`, which renders the
same facts as a plain dict, text, HTML, pandas DataFrames and a matplotlib
figure.

Importance of feature ``j``:

- linear models: ``|w_j| * sigma_j``, normalised to sum to 1, where ``sigma_j``
  is the weighted standard deviation of feature ``j`` seen in ``fit`` (recorded
  by this package's estimators as ``feature_std_``): the change in the output
  when the feature moves by one standard deviation. Models from elsewhere do
  not record it, and ``|w_j|`` is used instead; the report says which.
- networks: the same quantity as ``MLPWeightsClassifier.feature_importances_``,
  ``|coef_|`` summed over outputs, where ``coef_`` is the product of the weight
  matrices (Olden's connection weights).

Multi-output models sum the importance over outputs. The signed weights (the
directions) are ``coef_``: per output, labelled by class or target index.

Given several fitted models of one kind (refits on resamples, the models of a
cross-validation), the report adds how much each feature's weight and
importance vary across them (:func:`weights_report` of a list, and
:func:`sk_weights.weight_stability`, which refits them).
"""

import base64
import copy
import json
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

from sk_weights._datafits import datafit_of
from sk_weights._network import connection_weights
from sk_weights._views import (
    CSS,
    DIVERGING_CMAP,
    MAX_OUTPUT_COLUMNS,
    colour_bar,
    escape_html,
    format_fixed,
    format_number,
    format_value,
    format_weight,
    plot_text,
    png_bytes,
    printable,
    sign_colour,
    sign_legend,
    symmetric_limit,
    table_decimals,
    weight_cells,
    wrap,
)
from sk_weights.exceptions import is_poor_fit

__all__ = ["WeightsReport", "weights_report"]

# The command line's pages share the report's style (under its former name).
_CSS = CSS

#: Features listed in the text summary.
TOP_FEATURES = 10

#: Models with fewer weights than this get no weight histograms in plot().
MIN_HISTOGRAM_WEIGHTS = 100

#: Strongest weights named per class (or target) in the text's directions block.
TOP_DIRECTIONS = 3

#: A training score this much above the validation score is called over-fitting
#: (in the score's units: R² or accuracy).
OVERFIT_GAP = 0.1

SUPPORTED = (
    "a fitted WeightedLinearRegressor or MLPWeightsClassifier, a Pipeline, "
    "GridSearchCV, RandomizedSearchCV or TransformedTargetRegressor around one, "
    "one of scikit-learn's linear models (LinearRegression, Ridge, Lasso, "
    "ElasticNet, their CV variants, LogisticRegression(CV), SGDRegressor, "
    "SGDClassifier, LinearSVC, LinearSVR) or MLPClassifier / MLPRegressor"
)


def _check_flat(models):
    """Refuse a list holding lists (or arrays): it is not flattened."""
    for i, model in enumerate(models):
        if isinstance(model, (list, tuple, np.ndarray)):
            raise TypeError(
                f"weights_report takes a flat list of fitted models, but item {i} "
                f"is a {type(model).__name__}; pass the models themselves, e.g. "
                "list(itertools.chain(*lists)) for lists of them."
            )


def weights_report(obj, feature_names=None):
    """Build the learned-weights report of a fitted model.

    Parameters
    ----------
    obj : estimator, Pipeline, search or list of them
        A fitted estimator of this package, one of scikit-learn's linear models
        or multi-layer perceptrons, or a :class:`~sklearn.pipeline.Pipeline`
        ending in one (the feature names then come from the earlier steps'
        ``get_feature_names_out``), a fitted
        :class:`~sklearn.model_selection.GridSearchCV` or
        :class:`~sklearn.model_selection.RandomizedSearchCV` (its
        ``best_estimator_`` is read) or a
        :class:`~sklearn.compose.TransformedTargetRegressor` (its
        ``regressor_``, whose weights predict the transformed target).

        A list (or tuple) of at least two such models of one class, fitted on
        the same features (for example
        ``cross_validate(..., return_estimator=True)["estimator"]``), gives
        one report of them all: each feature row's ``weight`` and
        ``importance`` are the means over the models, and the row adds the
        stability columns described in :func:`sk_weights.weight_stability`;
        ``to_dict()["stability"]`` is ``{"method": "given", "n_resamples":
        len(obj)}``. The layer table, the intercepts and the training entry
        are those of the first model.
    feature_names : sequence of str, optional
        Names of the model's input features; by default ``feature_names_in_``
        or ``x0, x1, ...``.

    Returns
    -------
    WeightsReport
        The report.

    Raises
    ------
    TypeError
        If ``obj`` is not one of the supported kinds of model.
    ValueError
        If a search was fitted with ``refit=False`` (it keeps no model),
        ``feature_names`` has the wrong length, or the models of a list are
        fewer than two or differ in class, features or outputs.

    See Also
    --------
    WeightsReport : The report's renderings (dict, text, HTML, frames, plot).
    WeightedLinearRegressor.weights_report : The same, as a method.
    weight_stability : Refit on resamples and report how the weights vary.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weights_report
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    >>> report = weights_report(model)
    >>> [row["name"] for row in report.to_dict()["features"][:3]]
    ['bmi', 's5', 'bp']
    >>> report.to_dict()["features"][0]["weight"] > 0  # more bmi, more progression
    True
    """
    if isinstance(obj, (list, tuple)):
        _check_flat(obj)
        return _stability_report(list(obj), "given", feature_names=feature_names)
    model, names, wrappers = _final_model_and_names(obj, feature_names)
    if _is_network(model):
        data = _network_report(model)
    elif _is_linear(model):
        data = _linear_report(model)
    else:
        raise TypeError(
            f"weights_report got {type(model).__name__}; it supports {SUPPORTED}."
        )
    # Read once: get_params inspects the signature on every call.
    params = model.get_params(deep=False)
    data["estimator"] = _estimator_entry(model, wrappers, params)
    data["objective"], data["penalty"] = _objective(model, params)
    data["reading"] = _weight_reading(model)
    data["training"] = _training_entry(model, params)
    n_features = len(data["features"])
    if names is None:
        names = [f"x{j}" for j in range(n_features)]
    names = [str(name) for name in names]
    if len(names) != n_features:
        raise ValueError(
            f"feature_names has {len(names)} names but the model has "
            f"{n_features} input features."
        )
    for row in data["features"]:
        row["name"] = names[row["index"]]
    layer_values = data.pop("_values")
    return WeightsReport(data, layer_values)


#: Percentiles of the weights and importances across models (a 95 % interval).
STABILITY_PERCENTILES = (2.5, 97.5)

#: Methods a stability report can name: how its models were obtained.
STABILITY_METHODS = {
    "bootstrap": "bootstrap refits",
    "subsample": "refits on half the rows",
    "given": "models",
}


def _stability_report(models, method, reference=None, feature_names=None):
    """The report of several fitted models of one kind, with stability columns.

    ``models`` are the fitted models to aggregate; ``reference``, if given, is
    a model fitted on all the data whose report the rows are based on (else
    the rows hold the means over ``models``). Reads fitted attributes only,
    through each model's own report.
    """
    if len(models) < 2:
        raise ValueError(
            f"A stability report needs at least two fitted models, got "
            f"{len(models)}; pass a list of models fitted on different resamples "
            "or folds."
        )
    reports = [weights_report(model, feature_names) for model in models]
    base = reports[0] if reference is None else weights_report(reference, feature_names)
    for k, report in enumerate(reports):
        _check_alike(base._data, report._data, k)
    first = base._data
    labels = first["outputs"]["labels"]
    n_features = len(first["features"])
    weights = np.empty((len(reports), n_features, len(labels)))
    importance = np.empty((len(reports), n_features))
    selected = np.empty((len(reports), n_features), dtype=bool)
    for r, report in enumerate(reports):
        for row in report._data["features"]:
            j = row["index"]
            weights[r, j] = _weight_vector(row["weight"], labels)
            importance[r, j] = row["importance"]
            # Linear models: not every weight of the feature is zero; networks:
            # the input is not cut off (some first-layer weight leaves it).
            selected[r, j] = not row["is_zero"]
    low, high = np.percentile(weights, STABILITY_PERCENTILES, axis=0)
    importance_low, importance_high = np.percentile(
        importance, STABILITY_PERCENTILES, axis=0
    )
    columns = {
        "weight_mean": weights.mean(axis=0),
        "weight_std": weights.std(axis=0, ddof=1),
        "weight_low": low,
        "weight_high": high,
    }
    frequency = selected.mean(axis=0)
    data = copy.deepcopy(first)
    if reference is None:
        names = {row["index"]: row["name"] for row in first["features"]}
        data["features"] = _ranked(
            [
                {
                    "importance": float(importance[:, j].mean()),
                    "weight": _signed(columns["weight_mean"][j], first["outputs"]),
                    "is_zero": bool(frequency[j] == 0),
                }
                for j in range(n_features)
            ]
        )
        for row in data["features"]:
            row["name"] = names[row["index"]]
    for row in data["features"]:
        j = row["index"]
        for key, values in columns.items():
            row[key] = _signed(values[j], first["outputs"])
        row["importance_low"] = float(importance_low[j])
        row["importance_high"] = float(importance_high[j])
        row["selection_frequency"] = float(frequency[j])
    data["stability"] = {"method": method, "n_resamples": len(models)}
    return WeightsReport(data, base._layer_values)


def _check_alike(expected, found, k):
    """Raise a ValueError unless two reports describe the same kind of model."""
    for what, key in (
        ("class", lambda d: (d["estimator"]["class"], d["estimator"]["inside"])),
        (
            "features",
            lambda d: [row["name"] for row in sorted(d["features"], key=_by_index)],
        ),
        ("outputs", lambda d: d["outputs"]),
    ):
        if key(expected) != key(found):
            raise ValueError(
                f"The models to aggregate must share their class, features and "
                f"outputs, but model {k} differs in its {what}: {key(found)!r} "
                f"instead of {key(expected)!r}. Pass models of one class fitted "
                "on the same columns (and classes)."
            )


def _by_index(row):
    return row["index"]


class WeightsReport:
    """A fitted model's weights, summarised for people.

    Build it with :func:`weights_report` or an estimator's ``weights_report()``.
    Every rendering reads the same plain dict, :meth:`to_dict`.

    Parameters
    ----------
    data : dict
        The report's content, as returned by :meth:`to_dict`.
    layer_values : dict of str to list of float, optional
        The values of each weight matrix, for the histograms of :meth:`plot`.

    See Also
    --------
    weights_report : Build the report of a fitted model.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sk_weights import MLPWeightsClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> model = MLPWeightsClassifier(
    ...     hidden_layer_sizes=(5,), learning_rate_init=0.02, random_state=0
    ... ).fit(X, y)
    >>> report = model.weights_report(
    ...     feature_names=["sepal length", "sepal width", "petal length", "petal width"]
    ... )
    >>> [(layer["name"], layer["shape"]) for layer in report.to_dict()["layers"]]
    [('coefs_[0]', [4, 5]), ('coefs_[1]', [5, 3])]
    >>> round(sum(row["importance"] for row in report.to_dict()["features"]), 6)
    1.0
    >>> sorted(report.to_dict()["features"][0]["weight"])  # one weight per class
    ['0', '1', '2']
    """

    def __init__(self, data, layer_values=None):
        self._data = data
        self._layer_values = layer_values or {}

    def to_dict(self):
        """Return the report as plain, JSON-serialisable Python objects.

        Returns
        -------
        dict
            Keys ``"kind"`` ("linear" or "network"), ``"estimator"`` (with
            ``"inside"``: the wrappers opened), ``"objective"`` (text),
            ``"penalty"`` (its kind and strength), ``"importance"``,
            ``"outputs"`` (what each
            output's weights are for), ``"features"`` (one row per input
            feature, most important first), ``"layers"`` (one row per weight
            matrix), ``"intercepts"`` (one entry per bias vector) and
            ``"training"``; a stability report also ``"stability"``
            (``"method"``, ``"n_resamples"``), and stability columns in the
            feature rows; an inference report
            (:func:`sk_weights.weight_inference`) ``"inference"``, and
            inference columns in the feature rows.
        """
        return json.loads(json.dumps(self._data))

    # -- text ---------------------------------------------------------------

    def __str__(self):
        data = self._data
        outputs = data["outputs"]
        single = len(outputs["labels"]) == 1
        lines = [_header(data["estimator"]), f"objective: {data['objective']}"]
        if data.get("reading"):
            lines.append(f"reading: {data['reading']}")
        if "TransformedTargetRegressor" in data["estimator"]["inside"]:
            lines.append("(the weights predict the transformed target)")
        lines.append("")
        shown = data["features"][:TOP_FEATURES]
        lines.append(
            f"Top {len(shown)} of {len(data['features'])} features "
            f"(importance = {data['importance']}):"
        )
        names = [printable(row["name"]) for row in shown]
        width = max(len(name) for name in names)
        top = shown[0]["importance"] or 1.0
        stability = data.get("stability")
        inference = data.get("inference")
        if inference:
            lines.extend(wrap(f"  {_inference_note(data)}"))
        columns = _weight_columns(shown, outputs)
        bar_width = 20 if columns is None else 10
        if columns is not None:  # a heading over the weight columns
            cells = "".join(
                f"{printable(label):>{size}s}"
                for label, size in zip(outputs["labels"], columns[1])
            )
            # Right-aligned over the rows' rank, name, importance and bar.
            what = f"weight per {outputs['kind']}:"
            lines.append(f"{what:>{width + bar_width + 17}s}{cells}")
        for k, (name, row) in enumerate(zip(names, shown)):
            bar = "█" * round(bar_width * row["importance"] / top)
            weight = f"  w = {format_weight(row['weight'])}" if single else ""
            if columns is not None:
                weight = "  " + "".join(
                    f"{cell:>{size}s}" for cell, size in zip(columns[0][k], columns[1])
                )
            if stability:
                weight += _stability_text(row, single)
            if inference:
                weight += _inference_text(row)
            lines.append(
                f"  {row['rank']:>3d}. {name:<{width}s} "
                f"{row['importance']:6.1%} {bar:<{bar_width}s}{weight}".rstrip()
            )
        if single and outputs["kind"] == "class":
            lines.append(f"  (w > 0 favours class {outputs['labels'][0]})")
        if stability:
            lines.extend(_stability_lines(data))
        if not single:
            lines.extend(_directions_lines(data))
        zeros = [row["name"] for row in data["features"] if row["is_zero"]]
        if zeros:
            what = (
                "Inputs cut off (every first-layer weight is zero)"
                if data["kind"] == "network"
                else "Weights set to exactly zero"
            )
            lines.extend(
                wrap(f"{what} ({len(zeros)}): " + ", ".join(zeros), items=True)
            )
        if data["kind"] == "linear":
            for entry in data["intercepts"]:
                value = _labelled(entry, outputs)
                per = f" per {outputs['kind']} —" if isinstance(value, dict) else ":"
                extra = ""
                if inference and inference["intercept"] is not None:
                    extra = _inference_text(inference["intercept"])
                lines.extend(
                    wrap(
                        f"{entry['name']}{per} {format_weight(value)}{extra}",
                        items=True,
                    )
                )
        lines.append("")
        lines.append("Layers:")
        lines.append(
            f"  {'name':<12s} {'shape':>12s} {'params':>8s} {'mean':>9s} "
            f"{'std':>9s} {'L1 norm':>10s} {'L2 norm':>9s} {'zeros':>13s}"
        )
        for layer in data["layers"]:
            shape = "×".join(str(n) for n in layer["shape"])
            zeros = f"{layer['n_zero']} ({layer['zero_fraction']:.1%})"
            lines.append(
                f"  {layer['name']:<12s} {shape:>12s} {layer['n_params']:>8d} "
                f"{layer['mean']:>9.3g} {layer['std']:>9.3g} "
                f"{layer['l1_norm']:>10.4g} {layer['l2_norm']:>9.4g} {zeros:>13s}"
            )
        lines.append("")
        lines.extend(_training_lines(data["training"]))
        # The one place where every line is made safe for a terminal.
        return "\n".join(printable(line) for line in lines)

    def __repr__(self):
        data = self._data
        return printable(
            f"<WeightsReport of {data['estimator']['class']}: "
            f"{len(data['features'])} features, {len(data['layers'])} layer(s)>"
        )

    # -- tables -------------------------------------------------------------

    def to_frame(self, table="features"):
        """Return the ``"features"`` or ``"layers"`` table as a pandas DataFrame.

        Parameters
        ----------
        table : {"features", "layers"}, default="features"
            Which table. A multi-output feature table has one ``weight_<label>``
            column per class or target (and one ``weight_low_<label>``, ...
            per stability column).

        Returns
        -------
        pandas.DataFrame
            One row per feature (indexed by name) or per weight matrix.
        """
        if table not in ("features", "layers"):
            raise ValueError(f"table must be 'features' or 'layers', got {table!r}.")
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "WeightsReport.to_frame needs pandas: pip install 'sk_weights[pandas]'."
            ) from exc
        rows = [_flatten_weights(row) for row in self._data[table]]
        frame = pd.DataFrame(rows)
        return frame.set_index("name")

    def _repr_html_(self):
        """Return an HTML summary for notebooks."""
        return self.to_html(full_page=False)

    def to_html(self, full_page=True, include_plot=False, image_shape=None):
        """Render the report as HTML.

        The feature table has one weight column per class or target (shaded
        by the weight's sign and size) up to ten outputs, and a heatmap
        beyond; the intercepts follow it.

        Parameters
        ----------
        full_page : bool, default=True
            Whether to return a complete document (else a fragment).
        include_plot : bool, default=False
            Whether to embed :meth:`plot` as a PNG image (needs matplotlib).
        image_shape : tuple of (int, int), optional
            Passed to :meth:`plot` with ``include_plot``: draw the inputs as
            images of this shape.

        Returns
        -------
        str
            The HTML.
        """
        data = self._data
        esc = escape_html
        outputs = data["outputs"]
        labels = outputs["labels"]
        # One column per output up to MAX_OUTPUT_COLUMNS, shaded by value;
        # beyond, a heatmap (the values on hover).
        numbers = len(labels) <= MAX_OUTPUT_COLUMNS
        limit = symmetric_limit(
            [_weight_vector(row["weight"], labels) for row in data["features"]]
        )
        if len(labels) == 1:
            weight_heads = f"<th>{esc(_weight_heading(outputs))}</th>"
        else:
            weight_heads = "".join(
                f'<th title="weight for {esc(outputs["kind"])} {esc(label)}">'
                f"{esc(label)}</th>"
                for label in labels
            )
        parts = [
            '<div class="sk-weights-report">',
            f"<h3>{esc(_header(data['estimator']))}</h3>",
            f"<p><b>Objective:</b> {esc(data['objective'])}<br>"
            + (
                f"<b>Reading:</b> {esc(data['reading'])}<br>"
                if data.get("reading")
                else ""
            )
            + f"<b>Importance:</b> {esc(data['importance'])}</p>",
            (
                ""
                if len(labels) == 1
                else f"<p><b>Weight per {esc(outputs['kind'])}</b> "
                f"({'one column each' if numbers else 'heatmap; values on hover'}"
                f"; blue &gt; 0, red &lt; 0)</p>"
            ),
            "<table><thead><tr><th>rank</th><th>feature</th><th>importance</th>"
            f"<th></th>{weight_heads}"
            + (
                f"<th>{esc(_interval_heading(data['stability']))}</th><th>selected</th>"
                if data.get("stability")
                else ""
            )
            + (_inference_headings(data) if data.get("inference") else "")
            + "</tr></thead><tbody>",
        ]
        top = data["features"][0]["importance"] or 1.0 if data["features"] else 1.0
        for row in data["features"]:
            width = 100 * row["importance"] / top
            style = ' style="color:#999"' if row["is_zero"] else ""
            colour = sign_colour(row["weight"])
            parts.append(
                f"<tr{style}><td>{row['rank']}</td><td>{esc(row['name'])}</td>"
                f"<td>{row['importance']:.1%}</td>"
                f'<td><div style="background:{colour};height:0.8em;'
                f'width:{width:.0f}px"></div></td>'
                + (
                    f"<td>{esc(format_weight(row['weight']))}</td>"
                    if len(labels) == 1
                    else weight_cells(
                        _weight_vector(row["weight"], labels), limit, numbers
                    )
                )
                + (
                    f"<td>{esc(_interval_text(row, len(outputs['labels']) == 1))}"
                    f"</td><td>{_percent(row['selection_frequency'])}</td>"
                    if data.get("stability")
                    else ""
                )
                + (_inference_cells(row) if data.get("inference") else "")
                + "</tr>"
            )
        parts.append("</tbody></table>")
        inference = data.get("inference")
        if inference:
            parts.append(f"<p>{esc(_inference_note(data))}</p>")
        parts.append(
            "<p><b>Intercepts:</b> "
            + "<br>".join(
                esc(_intercept_text(entry, outputs, k == len(data["intercepts"]) - 1))
                + (
                    esc(_inference_text(inference["intercept"]))
                    if inference and inference["intercept"] is not None
                    else ""
                )
                for k, entry in enumerate(data["intercepts"])
            )
            + "</p>"
        )
        parts.append(
            "<table><thead><tr><th>layer</th><th>shape</th><th>params</th>"
            "<th>mean</th><th>std</th><th>min</th><th>max</th><th>L1 norm</th>"
            "<th>L2 norm</th><th>zeros</th></tr></thead><tbody>"
        )
        for layer in data["layers"]:
            shape = "×".join(str(n) for n in layer["shape"])
            parts.append(
                f"<tr><td>{esc(layer['name'])}</td><td>{shape}</td>"
                f"<td>{layer['n_params']}</td><td>{layer['mean']:.3g}</td>"
                f"<td>{layer['std']:.3g}</td><td>{layer['min']:.3g}</td>"
                f"<td>{layer['max']:.3g}</td><td>{layer['l1_norm']:.4g}</td>"
                f"<td>{layer['l2_norm']:.4g}</td>"
                f"<td>{layer['n_zero']} ({layer['zero_fraction']:.1%})</td></tr>"
            )
        parts.append("</tbody></table>")
        parts.append(
            "<p>"
            + "<br>".join(esc(line) for line in _training_lines(data["training"]))
            + "</p>"
        )
        if include_plot:
            parts.append(
                '<img alt="weights report plots" src="data:image/png;base64,'
                + base64.b64encode(self._png(image_shape)).decode("ascii")
                + '">'
            )
        parts.append("</div>")
        fragment = "\n".join(parts)
        if not full_page:
            return fragment
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{esc(data['estimator']['class'])} weights</title>"
            f"<style>{CSS}</style></head><body>\n{fragment}\n</body></html>\n"
        )

    # -- plots --------------------------------------------------------------

    def plot(self, top=20, image_shape=None):
        """Draw importances, signed weights, weight histograms and training curves.

        The first row holds the importances (bars coloured by the sign of the
        weight for a single output), the signed weights (bars for a single
        output, a class-by-feature map otherwise), the training curves (loss,
        validation score, best epoch) and, when recorded, the weight norms
        per layer over the epochs; the second row one histogram per weight
        matrix (none for a model of fewer than 100 weights: its tables say
        more). A stability report (:func:`sk_weights.weight_stability`)
        draws the 95 % intervals of the importances and weights as error
        bars and adds a panel of each feature's selection frequency.

        Parameters
        ----------
        top : int, default=20
            Number of features in the bar charts.
        image_shape : tuple of (int, int), optional
            When the inputs are the pixels of an image (the 8x8 digits), draw
            a third row: the importances and each output's weights as
            ``image_shape`` images.

        Returns
        -------
        matplotlib.figure.Figure
            The figure (not shown; call ``fig.savefig`` or display it).

        Raises
        ------
        ValueError
            If ``image_shape`` does not hold exactly the model's inputs.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "WeightsReport.plot needs matplotlib: pip install 'sk_weights[plot]'."
            ) from exc
        data = self._data
        n_features = len(data["features"])
        if image_shape is not None:
            image_shape = tuple(int(n) for n in image_shape)
            if len(image_shape) != 2 or image_shape[0] * image_shape[1] != n_features:
                raise ValueError(
                    f"image_shape={image_shape} does not hold the model's "
                    f"{n_features} inputs; pass (height, width) with "
                    f"height * width == {n_features}."
                )
        training = data["training"]
        shown = data["features"][:top][::-1]  # barh draws from the bottom up
        top_panels = [
            lambda ax: _plot_importance(ax, data, shown),
            lambda ax: _plot_weights(ax, data, shown),
            lambda ax: _plot_training(ax, training),
        ]
        if training.get("weight_norms_curve"):
            top_panels.append(lambda ax: _plot_norms(ax, training, data["layers"]))
        if data.get("stability"):
            top_panels.insert(2, lambda ax: _plot_selection(ax, data, shown))
        # A histogram of a few weights says less than the table of them.
        histograms = [
            layer for layer in data["layers"] if layer["name"] in self._layer_values
        ]
        if sum(layer["n_params"] for layer in histograms) < MIN_HISTOGRAM_WEIGHTS:
            histograms = []
        rows = [len(top_panels)]
        if histograms:
            rows.append(len(histograms))
        if image_shape is not None:
            rows.append(1 + len(data["outputs"]["labels"]))
        fig = Figure(
            figsize=(max(4.2 * max(rows[:2]), 1.9 * rows[-1]), 3.8 * len(rows)),
            layout="constrained",
        )
        grid = fig.add_gridspec(len(rows), 1)
        for draw, cell in zip(top_panels, grid[0].subgridspec(1, rows[0])):
            draw(fig.add_subplot(cell))
        if histograms:
            for cell, layer in zip(grid[1].subgridspec(1, rows[1]), histograms):
                ax = fig.add_subplot(cell)
                ax.hist(self._layer_values[layer["name"]], bins=40, color="#777777")
                ax.set_title(f"{layer['name']} ({layer['zero_fraction']:.0%} zeros)")
                ax.set_xlabel("weight")
        if image_shape is not None:
            _plot_images(fig, grid[-1].subgridspec(1, rows[-1]), data, image_shape)
        return fig

    def _png(self, image_shape=None):
        """Return :meth:`plot` rendered as PNG bytes."""
        return png_bytes(self.plot(image_shape=image_shape))


# -- plots ----------------------------------------------------------------------


def _plot_importance(ax, data, shown):
    """Importance bars, coloured by the sign of a single output's weight."""
    ax.barh(
        [plot_text(row["name"]) for row in shown],
        [row["importance"] for row in shown],
        color=[sign_colour(row["weight"]) for row in shown],
    )
    ax.set_title("Feature importance")
    ax.set_xlabel(plot_text(data["importance"]))
    if data.get("stability"):
        _plot_intervals(
            ax,
            [row["importance_low"] for row in shown],
            [row["importance_high"] for row in shown],
        )
    if len(data["outputs"]["labels"]) == 1:
        sign_legend(ax)


def _plot_weights(ax, data, shown):
    """Signed weights: bars for one output, an output-by-feature map else."""
    names = [plot_text(row["name"]) for row in shown]
    outputs = data["outputs"]
    what = "coef_" if data["kind"] == "linear" else "effective, coef_"
    if len(outputs["labels"]) == 1:
        weights = [row["weight"] for row in shown]
        ax.barh(names, weights, color=[sign_colour(w) for w in weights])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_title(f"Signed weights ({what})")
        ax.set_xlabel("weight")
        if data.get("stability"):
            _plot_intervals(
                ax,
                [row["weight_low"] for row in shown],
                [row["weight_high"] for row in shown],
                label=_interval_heading(data["stability"]),
            )
            ax.legend(loc="lower right", fontsize="small")
        if data.get("inference"):
            inference = data["inference"]
            # An unbounded interval (a weight not identified) is not drawn.
            ends = [
                [end if np.isfinite(end) else np.nan for end in (low, high)]
                for low, high in ((r["weight_low"], r["weight_high"]) for r in shown)
            ]
            _plot_intervals(
                ax,
                [low for low, _ in ends],
                [high for _, high in ends],
                label=f"{inference['confidence']:.0%} confidence interval "
                f"({inference['cov_type']})",
            )
            ax.legend(loc="lower right", fontsize="small")
        return
    labels = outputs["labels"]
    matrix = np.array([[row["weight"][label] for label in labels] for row in shown])
    limit = symmetric_limit(matrix)
    image = ax.imshow(
        matrix, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, aspect="auto"
    )
    ax.set_yticks(range(len(names)), names)
    ax.set_xticks(range(len(labels)), [plot_text(label) for label in labels])
    ax.set_xlabel(outputs["kind"])
    ax.set_title(f"Weights per {outputs['kind']} ({what})")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


def _plot_intervals(ax, lows, highs, label=None):
    """Draw each bar's interval as a horizontal error bar (bar k at height k)."""
    positions = np.arange(len(lows))
    ax.hlines(positions, lows, highs, color="black", linewidth=1.2, label=label)
    for ends in (lows, highs):
        ax.plot(ends, positions, "|", color="black", markersize=8)


def _plot_selection(ax, data, shown):
    """The share of the models in which each feature is selected (not zero)."""
    stability = data["stability"]
    ax.barh(
        [plot_text(row["name"]) for row in shown],
        [row["selection_frequency"] for row in shown],
        color="#5a8f5a",
    )
    ax.set_xlim(0, 1)
    ax.axvline(1.0, color="black", linewidth=0.8)
    what = "input not cut off" if data["kind"] == "network" else "weight not zero"
    ax.set_xlabel(f"share of {stability['n_resamples']} models ({what})")
    ax.set_title(f"Selection frequency ({STABILITY_METHODS[stability['method']]})")


def _plot_images(fig, cells, data, image_shape):
    """Importances and each output's weights as images of ``image_shape``."""
    by_index = sorted(data["features"], key=lambda row: row["index"])
    labels = data["outputs"]["labels"]
    ax = fig.add_subplot(cells[0])
    importance = np.array([row["importance"] for row in by_index])
    image = ax.imshow(importance.reshape(image_shape), cmap="viridis")
    colour_bar(fig, image, ax)
    ax.set_title("importance")
    ax.set_axis_off()
    weights = np.array([_weight_vector(row["weight"], labels) for row in by_index])
    limit = symmetric_limit(weights)
    kind = data["outputs"]["kind"]
    weight_axes = []
    for k, label in enumerate(labels):
        ax = fig.add_subplot(cells[1 + k])
        image = ax.imshow(
            weights[:, k].reshape(image_shape),
            cmap=DIVERGING_CMAP,
            vmin=-limit,
            vmax=limit,
        )
        ax.set_title(plot_text(f"{kind} {label}"))
        ax.set_axis_off()
        weight_axes.append(ax)
    # One colour bar for every weight image: they share their scale.
    colour_bar(fig, image, weight_axes, label="weight")


def _plot_training(ax, training):
    """Loss curve, validation curve, the best epoch, and a legend.

    A model that chose alpha by cross-validation shows its CV curve instead.
    """
    if training.get("cross_validation") is not None:
        _plot_cross_validation(ax, training["cross_validation"])
        return
    curve = training["loss_curve"]
    epochs = range(1, len(curve) + 1)
    if curve:
        ax.plot(epochs, curve, color="C0", label="training objective")
        ax.set_xlabel(training["iteration_unit"])
        ax.set_ylabel("objective")
    else:
        ax.text(0.5, 0.5, "no training curve recorded", ha="center", va="center")
        ax.set_axis_off()
    handles, labels = ax.get_legend_handles_labels()
    scores = training.get("validation_scores")
    if scores:
        score_ax = ax.twinx()
        score_ax.plot(
            range(1, len(scores) + 1),
            scores,
            color="C1",
            label=f"validation {training['score_name']}",
        )
        score_ax.set_ylabel(f"validation {training['score_name']}", color="C1")
        more = score_ax.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if training["best_epoch"] is not None:
        line = ax.axvline(
            training["best_epoch"],
            color="black",
            linestyle=":",
            label=f"best epoch {training['best_epoch']} (weights kept)",
        )
        handles.append(line)
        labels.append(line.get_label())
    if handles:
        ax.legend(handles, labels, loc="best", fontsize="small")
    ax.set_title("Training")


def _plot_cross_validation(ax, cv):
    """The mean held-out error against alpha, one standard deviation around it."""
    alphas = np.asarray(cv["alphas"])
    mean, std = np.asarray(cv["mean"]), np.asarray(cv["std"])
    ax.plot(alphas, mean, color="C0", label=f"mean over {cv['n_folds']} folds")
    ax.fill_between(
        alphas, mean - std, mean + std, color="C0", alpha=0.2, label="± 1 std"
    )
    ax.axvline(
        cv["alpha"], color="black", linestyle=":", label=f"alpha_ = {cv['alpha']:.3g}"
    )
    ax.set_xscale("log")
    ax.set_xlabel("alpha (log scale)")
    ax.set_ylabel(f"held-out {plot_text(cv['metric'])}")
    ax.legend(loc="best", fontsize="small")
    ax.set_title("Cross-validation")


def _plot_norms(ax, training, layers):
    """Each weight matrix's L2 norm over the epochs, and its zeros (dashed)."""
    norms = np.asarray(training["weight_norms_curve"], dtype=float)
    norms = norms.reshape(len(norms), -1)
    epochs = range(1, len(norms) + 1)
    names = [layer["name"] for layer in layers]
    for k in range(norms.shape[1]):
        name = names[k] if k < len(names) else f"layer {k}"
        ax.plot(epochs, norms[:, k], color=f"C{k}", label=name)
    zeros = np.asarray(training.get("zero_fraction_curve", []), dtype=float)
    if zeros.size and zeros.any():  # only when some weight was ever exactly zero
        zeros_ax = ax.twinx()
        for k, column in enumerate(zeros.reshape(len(zeros), -1).T):
            zeros_ax.plot(epochs, column, color=f"C{k}", linestyle="--")
        zeros_ax.set_ylabel("fraction of exact zeros (dashed)")
        zeros_ax.set_ylim(0, 1)
    if training["best_epoch"] is not None:
        ax.axvline(training["best_epoch"], color="black", linestyle=":")
    ax.set_xlabel(training["iteration_unit"])
    ax.set_ylabel("L2 norm")
    ax.set_title("Weight norms per layer")
    ax.legend(loc="best", fontsize="small")


# -- reading fitted models ----------------------------------------------------


def _final_model_and_names(obj, feature_names):
    """Return the model inside ``obj``, its input names and the wrappers opened."""
    model, names, wrappers = obj, None, []
    while True:
        if isinstance(model, Pipeline):
            head = model[:-1]
            if len(head.steps):
                try:
                    names = list(head.get_feature_names_out())
                except (AttributeError, ValueError, TypeError):
                    names = None
            inner = model.steps[-1][1]
        elif hasattr(model, "best_estimator_"):  # GridSearchCV, RandomizedSearchCV
            inner = model.best_estimator_
        elif hasattr(model, "regressor_"):  # TransformedTargetRegressor
            inner = model.regressor_
        elif hasattr(model, "cv_results_"):
            raise ValueError(
                f"{type(model).__name__} was fitted with refit=False and keeps no "
                "model to report on; fit it with refit=True, or report on "
                "a model refitted with its best_params_."
            )
        else:
            break
        wrappers.append(type(model).__name__)
        model = inner
    if names is None and hasattr(model, "feature_names_in_"):
        names = list(model.feature_names_in_)
    if feature_names is not None:
        names = list(feature_names)
    return model, names, wrappers


def _is_network(model):
    return hasattr(model, "coefs_") and hasattr(model, "intercepts_")


def _is_linear(model):
    if not hasattr(model, "coef_") or _is_network(model):
        return False
    module = type(model).__module__
    return (
        module.startswith(("sklearn.linear_model", "sk_weights"))
        or _objective_row(model) is not None
    )


def _linear_report(model):
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    scale = getattr(model, "feature_std_", None)
    if scale is not None:
        raw = np.abs(coef) * np.asarray(scale, dtype=np.float64)
        kind = "|w| × std(x), normalised"
    else:
        raw = np.abs(coef)
        kind = "|w|, normalised (the feature scales are unknown)"
    outputs = _outputs(model, coef.shape[0])
    features = [
        {
            "importance": float(importance),
            "weight": _signed(coef[:, j], outputs),
            "is_zero": bool(np.all(coef[:, j] == 0)),
        }
        for j, importance in enumerate(_normalise(raw.sum(axis=0)))
    ]
    matrix = coef if np.ndim(model.coef_) == 2 else coef[0]
    intercept = np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64)
    return {
        "kind": "linear",
        "importance": kind,
        "outputs": outputs,
        "features": _ranked(features),
        "layers": [_layer_row("coef_", matrix)],
        "intercepts": [_intercept_entry("intercept_", intercept)],
        "_values": {"coef_": _floats(coef)},
    }


def _network_report(model):
    coefs = [np.asarray(c, dtype=np.float64) for c in model.coefs_]
    # coef_ of this package's networks is this same product, transposed.
    effective = connection_weights(coefs)
    outputs = _outputs(model, effective.shape[1])
    features = [
        {
            "importance": float(importance),
            "weight": _signed(effective[j], outputs),
            # The input is cut off when no first-layer weight leaves it.
            "is_zero": bool(np.all(coefs[0][j] == 0)),
        }
        for j, importance in enumerate(_normalise(np.abs(effective).sum(axis=1)))
    ]
    names = [f"coefs_[{i}]" for i in range(len(coefs))]
    return {
        "kind": "network",
        "importance": "|connection weights| (product of the weight matrices)",
        "outputs": outputs,
        "features": _ranked(features),
        "layers": [_layer_row(name, c) for name, c in zip(names, coefs)],
        "intercepts": [
            _intercept_entry(f"intercepts_[{i}]", np.asarray(b, dtype=np.float64))
            for i, b in enumerate(model.intercepts_)
        ],
        "_values": {name: _floats(c) for name, c in zip(names, coefs)},
    }


def _outputs(model, n_outputs):
    """Name what each output's weights are for: a class, or a target index."""
    classes = getattr(model, "classes_", None)
    if is_classifier(model) and classes is not None and np.ndim(classes) == 1:
        labels = [str(c) for c in classes]
        if n_outputs == len(labels):
            return {"kind": "class", "labels": labels}
        if n_outputs == 1 and len(labels) == 2:  # one logistic output: classes_[1]
            return {"kind": "class", "labels": labels[1:]}
    return {"kind": "target", "labels": [str(k) for k in range(n_outputs)]}


def _signed(weights, outputs):
    """A float for one output, else a dict keyed by class label or target index."""
    values = _floats(weights)
    if len(values) == 1:
        return values[0]
    return dict(zip(outputs["labels"], values))


def _intercept_entry(name, values):
    return {
        "name": name,
        "shape": [int(n) for n in values.shape],
        "values": _floats(values),
    }


def _normalise(values):
    total = values.sum()
    if total > 0:
        return values / total
    return np.full_like(values, 1.0 / max(len(values), 1))


def _ranked(features):
    """Sort rows by decreasing importance (ties by feature order) and rank them."""
    order = sorted(range(len(features)), key=lambda j: (-features[j]["importance"], j))
    ranked = []
    for rank, j in enumerate(order, start=1):
        ranked.append({"name": None, "index": j, "rank": rank, **features[j]})
    return ranked


def _layer_row(name, matrix):
    values = np.asarray(matrix, dtype=np.float64)
    flat = values.ravel()
    n_zero = int(np.count_nonzero(flat == 0))
    return {
        "name": name,
        "shape": [int(n) for n in values.shape],
        "n_params": int(flat.size),
        "mean": float(flat.mean()) + 0.0,  # + 0.0: never a "-0"
        "std": float(flat.std()),
        "min": float(flat.min()) + 0.0,
        "max": float(flat.max()) + 0.0,
        "l1_norm": float(np.abs(flat).sum()),
        "l2_norm": float(np.sqrt(flat @ flat)),
        "n_zero": n_zero,
        "zero_fraction": n_zero / max(flat.size, 1),
    }


# -- objectives ---------------------------------------------------------------


@dataclass(frozen=True)
class _Objective:
    """How a kind of model writes its objective (see its documentation).

    ``data`` is the data term (``{loss}`` is filled from ``_LOSSES`` with the
    model's ``loss`` parameter); ``penalty`` is the penalty's kind ("l1",
    "l2", "elasticnet", None), or where to read it: "param" (the ``penalty``
    parameter) or "l1_ratio" (``LogisticRegression``: from ``l1_ratio`` and
    ``C``, or the older ``penalty``); ``scale`` names the row of
    ``_PENALTY_TERMS``: how the strength enters.
    """

    data: str
    penalty: str | None
    scale: str | None


_MEAN_SQUARED = "mean ½(y − ŷ)²"
_SUM_SQUARED = "Σ (y − ŷ)²"

#: Every model the report describes, by class name, as its documentation writes
#: its objective. The CV variants read their fitted alpha_ / l1_ratio_ / C_.
_OBJECTIVES = {
    "LinearRegression": _Objective(_SUM_SQUARED, None, None),
    "Ridge": _Objective(_SUM_SQUARED, "l2", "ridge"),
    "RidgeCV": _Objective(_SUM_SQUARED, "l2", "ridge"),
    "Lasso": _Objective(_MEAN_SQUARED, "l1", "alpha"),
    "LassoCV": _Objective(_MEAN_SQUARED, "l1", "alpha"),
    "ElasticNet": _Objective(_MEAN_SQUARED, "elasticnet", "alpha"),
    "ElasticNetCV": _Objective(_MEAN_SQUARED, "elasticnet", "alpha"),
    "LogisticRegression": _Objective("C · Σ log loss", "l1_ratio", "C"),
    "LogisticRegressionCV": _Objective("C · Σ log loss", "l1_ratio", "C"),
    "SGDRegressor": _Objective("mean {loss}", "param", "alpha"),
    "SGDClassifier": _Objective("mean {loss}", "param", "alpha"),
    "LinearSVC": _Objective("C · Σ {loss}", "param", "C"),
    "LinearSVR": _Objective("C · Σ {loss}", "l2", "C"),
    "MLPClassifier": _Objective("mean log loss", "l2", "mlp"),
    "MLPRegressor": _Objective(_MEAN_SQUARED, "l2", "mlp"),
    "PoissonRegressor": _Objective("mean ½ Poisson deviance", "l2", "alpha"),
    "GammaRegressor": _Objective("mean ½ Gamma deviance", "l2", "alpha"),
    "TweedieRegressor": _Objective(
        "mean ½ Tweedie deviance (power={power:g})", "l2", "alpha"
    ),
    "HuberRegressor": _Objective(
        "Σ (σ + σ·H((y − ŷ)/σ)), H the Huber loss (epsilon={epsilon:g})",
        "l2",
        "ridge",
    ),
    # The data term of these comes from their datafit (see datafit_of).
    "WeightedLinearRegressor": _Objective("mean {datafit}", "param", "alpha"),
    "WeightedLinearClassifier": _Objective("mean {datafit}", "param", "alpha"),
    "WeightedLinearRegressorCV": _Objective("mean {datafit}", "param", "alpha"),
    "WeightedLinearClassifierCV": _Objective("mean {datafit}", "param", "alpha"),
    "MLPWeightsClassifier": _Objective("mean {datafit}", "param", "alpha"),
    "MLPWeightsRegressor": _Objective("mean {datafit}", "param", "alpha"),
}

#: The losses named by a ``loss`` parameter (SGD*, LinearSVC, LinearSVR).
_LOSSES = {
    "squared_error": "½(y − ŷ)²",
    "huber": "Huber loss (epsilon={epsilon:g})",
    "epsilon_insensitive": "max(0, |y − ŷ| − epsilon) (epsilon={epsilon:g})",
    "squared_epsilon_insensitive": "max(0, |y − ŷ| − epsilon)² (epsilon={epsilon:g})",
    "hinge": "hinge loss max(0, 1 − y·ŷ)",
    "squared_hinge": "squared hinge loss max(0, 1 − y·ŷ)²",
    "log_loss": "log loss",
    "modified_huber": "modified Huber loss",
    "perceptron": "perceptron loss max(0, −y·ŷ)",
}

#: The penalty term by how its strength enters and by its kind.
_PENALTY_TERMS = {
    "alpha": {
        "l2": "alpha · ½‖w‖²",
        "l1": "alpha · ‖w‖₁",
        "elasticnet": "alpha · (l1_ratio · ‖w‖₁ + ½(1 − l1_ratio) · ‖w‖²)",
    },
    "ridge": {"l2": "alpha · ‖w‖²"},
    "C": {
        "l2": "½‖w‖²",
        "l1": "‖w‖₁",
        "elasticnet": "l1_ratio · ‖w‖₁ + ½(1 − l1_ratio) · ‖w‖²",
    },
    "mlp": {"l2": "alpha · ½‖W‖² / n_samples"},
}

_PENALTY_NAMES = {"l2": "L2", "l1": "L1", "elasticnet": "elastic net"}


def _objective_row(model):
    cls = type(model)
    if cls.__module__.startswith(("sklearn.", "sk_weights.")):
        return _OBJECTIVES.get(cls.__name__)
    return None


def _objective(model, params):
    """Return the objective's text and the penalty's kind and strength."""
    row = _objective_row(model)
    if row is None:
        text = f"not described here; see {type(model).__name__}'s documentation"
        return text, {"kind": "unknown"}
    data = row.data
    if "{loss}" in data:
        loss = params.get("loss")
        described = _LOSSES.get(loss, str(loss)).format(
            epsilon=params.get("epsilon") or 0.0
        )
        data = data.format(loss=described)
    elif "{datafit}" in data:
        datafit = datafit_of(model)
        data = data.format(datafit=datafit.formula if datafit else "loss")
    elif "{" in data:  # the model's own parameters (power, epsilon)
        data = data.format(**params)
    kind = _penalty_kind(model, row.penalty, params)
    if kind is None:
        positive = ", weights ≥ 0" if params.get("positive") is True else ""
        return f"{data} (no penalty{positive})", {"kind": None}
    strength = "C" if row.scale == "C" else "alpha"
    penalty = {"kind": kind, strength: _fitted_value(model, strength, params)}
    if kind == "elasticnet":
        penalty["l1_ratio"] = _fitted_value(model, "l1_ratio", params)
    term = _PENALTY_TERMS[row.scale][kind]
    if _is_network(model):
        term = term.replace("‖w‖", "‖W‖")
    values = ", ".join(
        f"{key}={format_value(value)}" for key, value in list(penalty.items())[1:]
    )
    text = f"{data} + {term} ({_PENALTY_NAMES[kind]}, {values})"
    if params.get("positive") is True:
        text += ", weights ≥ 0"
    # A rate, or one rate per hidden layer (a list or an array).
    dropout = params.get("dropout")
    dropout = np.ravel(0.0 if dropout is None else dropout).tolist()
    if any(dropout):
        rates = dropout[0] if len(dropout) == 1 else dropout
        text += f", dropout {printable(str(rates))}"
    return text, penalty


def _weight_reading(model):
    """How to read a weight on the prediction's scale, for a link that is not
    the identity (None otherwise)."""
    datafit = datafit_of(model)
    if datafit is None or _is_network(model):
        # A network's effective weights ignore its hidden activations.
        return None
    return datafit.weight_reading


def _penalty_kind(model, where, params):
    if where == "param":
        return params.get("penalty")
    if where != "l1_ratio":
        return where
    penalty = params.get("penalty", "deprecated")
    if penalty != "deprecated":  # the older API: the penalty is named
        return penalty
    # Newer scikit-learn: l1_ratio picks the penalty and C=inf removes it.
    if np.all(np.isinf(np.asarray(_fitted_value(model, "C", params), dtype=float))):
        return None
    l1_ratio = _fitted_value(model, "l1_ratio", params)
    if l1_ratio is None or l1_ratio == 0:
        return "l2"
    return "l1" if l1_ratio == 1 else "elasticnet"


def _fitted_value(model, name, params):
    """The value a fit chose (``alpha_`` of a CV model) or else the parameter."""
    value = getattr(model, name + "_", None)
    if value is None:
        value = params.get(name)
    if isinstance(value, (list, tuple, np.ndarray)):
        # One value per class (LogisticRegressionCV): one number when all agree.
        values = list(dict.fromkeys(_json_value(v) for v in np.ravel(value)))
        return values[0] if len(values) == 1 else values
    return _json_value(value)


def _estimator_entry(model, wrappers, params):
    return {
        "class": type(model).__name__,
        "module": type(model).__module__.split(".")[0],
        "inside": list(wrappers),
        "params": {key: _json_value(value) for key, value in sorted(params.items())},
    }


# -- training -----------------------------------------------------------------


def _training_entry(model, params):
    n_iter = getattr(model, "n_iter_", None)
    if n_iter is not None:
        n_iter = int(np.max(n_iter))
    scores = getattr(model, "validation_scores_", None)
    stop_reason = getattr(model, "stop_reason_", None)
    best_epoch = getattr(model, "best_epoch_", None)
    if stop_reason is None:
        stop_reason, guessed_best = _guess_stop(model, n_iter, params, scores)
        best_epoch = guessed_best if best_epoch is None else best_epoch
    entry = {
        "n_iter": n_iter,
        # Mini-batch solvers count samples seen (t_); full-batch ones do not.
        "iteration_unit": "epochs" if getattr(model, "t_", 0) else "iterations",
        "loss_curve": _floats(getattr(model, "loss_curve_", None) or []),
        "stop_reason": stop_reason,
        "converged": (None if stop_reason is None else stop_reason != "max_iter"),
        "best_epoch": None if best_epoch is None else int(best_epoch),
        "score_name": "accuracy" if is_classifier(model) else "R²",
        "train_loss": _optional_float(getattr(model, "train_loss_", None)),
        "baseline_loss": _optional_float(getattr(model, "baseline_loss_", None)),
        "train_score": _optional_float(getattr(model, "train_score_", None)),
        "validation_score": None,
        "deviance_explained": None,
    }
    datafit = datafit_of(model)
    if (
        datafit is not None
        and datafit.d2_name
        and entry["train_loss"] is not None
        and entry["baseline_loss"]
    ):
        # D²: the share of the constant model's loss the weights explain.
        entry["deviance_explained"] = 1.0 - entry["train_loss"] / entry["baseline_loss"]
        entry["deviance_name"] = datafit.d2_name
    if scores:
        entry["validation_scores"] = _floats(scores)
        entry["best_validation_score"] = float(max(scores))
        kept = entry["best_epoch"]
        # The score of the weights kept: the best epoch's, else the last one's.
        if kept is not None and 1 <= kept <= len(scores):
            entry["validation_score"] = float(scores[kept - 1])
        else:
            entry["validation_score"] = float(scores[-1])
    entry["poor_fit"] = (
        None
        if entry["train_loss"] is None or entry["baseline_loss"] is None
        else is_poor_fit(entry["train_loss"], entry["baseline_loss"])
    )
    for name in ("weight_norms_curve", "zero_fraction_curve"):
        curve = getattr(model, name + "_", None)
        if curve is not None:
            entry[name] = np.asarray(curve, dtype=np.float64).tolist()
    cross_validation = _cross_validation_entry(model)
    if cross_validation is not None:
        entry["cross_validation"] = cross_validation
    return entry


def _cross_validation_entry(model):
    """The CV curve of a model that chose alpha by cross-validation, or None.

    Our CV estimators record the held-out error (``mse_path_``) or score
    (``score_path_``) of every alpha on every fold; the curve is the row of
    the chosen ``l1_ratio_``.
    """
    errors = getattr(model, "mse_path_", None)
    scored = errors is None
    if scored:
        errors = getattr(model, "score_path_", None)
    if errors is None or type(model).__module__.split(".")[0] != "sk_weights":
        return None
    params = model.get_params()
    metric = "mean squared error"
    if scored:
        metric = "accuracy" if params.get("scoring") is None else str(params["scoring"])
    errors = np.asarray(errors, dtype=np.float64)
    alphas = np.asarray(model.alphas_, dtype=np.float64)
    row = 0
    if errors.ndim == 3:
        ratios = np.atleast_1d(np.asarray(params["l1_ratio"], dtype=np.float64))
        row = int(np.flatnonzero(ratios == model.l1_ratio_)[0])
        errors = errors[row]
    if alphas.ndim == 2:
        alphas = alphas[row]
    return {
        "n_folds": int(errors.shape[1]),
        "metric": metric,
        "alphas": _floats(alphas),
        "mean": _floats(errors.mean(axis=1)),
        "std": _floats(errors.std(axis=1)),
        "alpha": float(model.alpha_),
        "l1_ratio": float(model.l1_ratio_),
        "penalty": params.get("penalty"),
    }


def _guess_stop(model, n_iter, params, scores):
    """Stop reason and best epoch of a model that does not record them."""
    max_iter = params.get("max_iter")
    if n_iter is None or not isinstance(max_iter, numbers.Integral):
        return None, None
    if n_iter >= max_iter:
        return "max_iter", None
    if not params.get("early_stopping"):
        return "converged", None
    # scikit-learn's networks keep the weights of the best validation score.
    best = None
    if scores and type(model).__module__.startswith("sklearn.neural_network"):
        best = int(np.argmax(scores)) + 1
    return "early_stopping", best


def _training_lines(training):
    """The training verdict in words: stop, scores, losses, warnings."""
    n_iter, unit = training["n_iter"], training["iteration_unit"]
    reason = training["stop_reason"]
    if reason == "converged":
        verdict = f"stopped: converged after {n_iter} {unit}"
    elif reason == "early_stopping":
        verdict = (
            f"stopped early after {n_iter} {unit}: the validation score stopped "
            "improving"
        )
        if training["best_epoch"] is not None:
            verdict += f"; the weights of epoch {training['best_epoch']} are kept"
    elif reason == "max_iter":
        verdict = f"stopped: NOT converged, max_iter reached after {n_iter} {unit}"
    elif n_iter is not None:
        verdict = f"{n_iter} {unit}"
    else:
        verdict = "no iterations recorded (solved directly)"
    if training["loss_curve"]:
        verdict += f"; last objective {training['loss_curve'][-1]:.6g}"
    lines = [f"Training: {verdict}"]
    name = training["score_name"]
    scores = []
    if training["train_score"] is not None:
        scores.append(f"training {name} {training['train_score']:.3f}")
    if training["validation_score"] is not None:
        scores.append(f"validation {name} {training['validation_score']:.3f}")
    if training.get("deviance_explained") is not None:
        scores.append(
            f"{training['deviance_name']} (D²) {training['deviance_explained']:.3f}"
        )
    if scores:
        lines.append("  " + ", ".join(scores))
    if training["train_loss"] is not None and training["baseline_loss"] is not None:
        lines.append(
            f"  training loss {training['train_loss']:.4g} "
            f"(constant model: {training['baseline_loss']:.4g})"
        )
    cross_validation = training.get("cross_validation")
    if cross_validation is not None:
        lines.append("  " + _cross_validation_line(cross_validation))
    if training["poor_fit"]:
        lines.append(
            "  WARNING: poor fit: the training loss is worse than that of a "
            "constant model;"
        )
        lines.append(
            "  do not read these weights: scale the inputs, lower the learning "
            "rate or the penalty, and refit"
        )
    if (
        training["train_score"] is not None
        and training["validation_score"] is not None
        and training["train_score"] - training["validation_score"] > OVERFIT_GAP
    ):
        lines.append(
            f"  note: training {name} well above validation {name}: over-fitting "
            "(the weights fit the training data better than new data)"
        )
    return lines


def _cross_validation_line(cv):
    """``alpha chosen by 5-fold CV: ...``, with its mean held-out error."""
    chosen = cv["alphas"].index(cv["alpha"]) if cv["alpha"] in cv["alphas"] else None
    text = f"alpha chosen by {cv['n_folds']}-fold CV: {cv['alpha']:.4g}"
    if cv["penalty"] == "elasticnet":
        text += f" (l1_ratio {cv['l1_ratio']:g})"
    if chosen is not None:
        text += (
            f"; held-out {cv['metric']} {cv['mean'][chosen]:.4g} "
            f"± {cv['std'][chosen]:.2g} over the folds"
        )
    return text


# -- text helpers ---------------------------------------------------------------


def _header(estimator):
    text = f"{estimator['class']} — learned weights"
    if estimator.get("inside"):
        text += " (inside " + " › ".join(estimator["inside"]) + ")"
    return text


def _directions_lines(data):
    """Per class (or target): the inputs with the strongest signed weights."""
    outputs = data["outputs"]
    lines = [
        f"Directions per {outputs['kind']} (strongest weights; + raises the "
        f"{'class score' if outputs['kind'] == 'class' else 'output'}):"
    ]
    width = max(len(printable(label)) for label in outputs["labels"])
    for label in outputs["labels"]:
        pairs = [(row["weight"][label], row["name"]) for row in data["features"]]
        pairs.sort(key=lambda pair: pair[0])
        up = [p for p in reversed(pairs) if p[0] > 0][:TOP_DIRECTIONS]
        down = [p for p in pairs if p[0] < 0][:TOP_DIRECTIONS]
        text = " | ".join(
            ", ".join(f"{name} {format_weight(w)}" for w, name in group)
            for group in (up, down)
            if group
        )
        lines.extend(
            wrap(
                f"  {outputs['kind']} {printable(label):<{width}s}: "
                f"{text or 'all zero'}",
                indent=" " * (len(outputs["kind"]) + width + 2),
                items=True,
            )
        )
    return lines


def _percent(frequency):
    return f"{100 * frequency:.0f} %"


def _interval_heading(stability):
    return (
        f"{STABILITY_PERCENTILES[0]:g}-{STABILITY_PERCENTILES[1]:g} % over "
        f"{stability['n_resamples']} {STABILITY_METHODS[stability['method']]}"
    )


def _interval_text(row, single):
    """A weight's interval for one output, else the importance's."""
    if single:
        low, high = row["weight_low"], row["weight_high"]
        return f"[{format_number(low)}, {format_number(high)}]"
    return f"importance [{row['importance_low']:.1%}, {row['importance_high']:.1%}]"


def _stability_text(row, single):
    """What a top-feature line adds: the interval and the selection frequency."""
    gap = " " if single else "  "
    return (
        f"{gap}{_interval_text(row, single)}, "
        f"selected {_percent(row['selection_frequency'])}"
    )


def _stability_lines(data):
    """What the intervals are, and which features are zero in some models only."""
    stability = data["stability"]
    what = "weight" if len(data["outputs"]["labels"]) == 1 else "importance"
    lines = [
        f"  [ ]: {STABILITY_PERCENTILES[0]:g} and {STABILITY_PERCENTILES[1]:g} "
        f"percentiles of the {what} over {stability['n_resamples']} "
        f"{STABILITY_METHODS[stability['method']]}; selected: share of them in "
        + (
            "which the input is not cut off"
            if data["kind"] == "network"
            else "which the weight is not zero"
        )
    ]
    unstable = [row for row in data["features"] if 0 < row["selection_frequency"] < 1]
    if unstable:
        shown = unstable[:TOP_FEATURES]
        more = len(unstable) - len(shown)
        lines.extend(
            wrap(
                f"Selected in some models only ({len(unstable)} of "
                f"{len(data['features'])}): "
                + ", ".join(
                    f"{row['name']} {_percent(row['selection_frequency'])}"
                    for row in shown
                )
                + (f", and {more} more" if more else ""),
                items=True,
            )
        )
    return lines


def _inference_headings(data):
    """The HTML feature table's columns of an inference report."""
    return (
        "<th>± standard error</th><th>statistic</th><th>p-value</th>"
        f"<th>{data['inference']['confidence']:.0%} interval</th>"
    )


def _format_p(p_value):
    """A p-value as a statistician writes it: "p < 0.001" or "p = 0.042"."""
    if p_value != p_value:  # NaN: the weight is not identified
        return "not identified"
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}"


def _format_se(se):
    return f"{se:.3g}"


def _inference_text(row):
    """What a weight's line adds: ``± standard error (p-value)``."""
    return f" ± {_format_se(row['weight_se'])} ({_format_p(row['p_value'])})"


def _inference_note(data):
    """What the ± and the p-values of an inference report are."""
    inference = data["inference"]
    # Student's t with its degrees of freedom, or the standard normal.
    law = (
        f"t({inference['df_resid']})" if inference["distribution"] == "t" else "N(0, 1)"
    )
    note = (
        f"± standard error ({inference['cov_type']}, {inference['nobs']} rows); "
        f"two-sided p-value and {inference['confidence']:.0%} interval from {law}"
    )
    if inference["not_identified"]:
        note += "; not identified (collinear): " + ", ".join(
            inference["not_identified"]
        )
    return note


def _inference_cells(row):
    return (
        f"<td>{_format_se(row['weight_se'])}</td><td>{row['statistic']:.3g}</td>"
        f"<td>{escape_html(_format_p(row['p_value']))}</td>"
        f"<td>[{format_number(row['weight_low'])}, "
        f"{format_number(row['weight_high'])}]</td>"
    )


def _labelled(entry, outputs):
    """An intercept entry's values as a weight: a float or a labelled dict."""
    values = entry["values"]
    if len(values) == 1:
        return values[0]
    labels = outputs["labels"] if len(outputs["labels"]) == len(values) else None
    return dict(zip(labels or [str(k) for k in range(len(values))], values))


def _weight_columns(rows, outputs):
    """The per-output weight cells of the text table and their widths, or None.

    None for a single output (one ``w = ...`` per row) and beyond
    ``MAX_OUTPUT_COLUMNS`` outputs (the directions block names the strongest).
    """
    labels = outputs["labels"]
    if not 1 < len(labels) <= MAX_OUTPUT_COLUMNS:
        return None
    vectors = [_weight_vector(row["weight"], labels) for row in rows]
    decimals = table_decimals(symmetric_limit(vectors))
    cells = [[format_fixed(w, decimals) for w in vector] for vector in vectors]
    widths = [
        1 + max([len(printable(label))] + [len(row[k]) for row in cells])
        for k, label in enumerate(labels)
    ]
    return cells, widths


def _intercept_text(entry, outputs, is_output):
    """One bias vector in words: the output's labelled, a hidden layer's summed up."""
    values = entry["values"]
    if not is_output and len(values) > 1:
        return (
            f"{entry['name']}: {len(values)} values from "
            f"{format_number(min(values))} to {format_number(max(values))} "
            f"(mean {format_number(sum(values) / len(values))})"
        )
    value = _labelled(entry, outputs)
    per = f" per {outputs['kind']} —" if isinstance(value, dict) else ":"
    return f"{entry['name']}{per} {format_weight(value)}"


def _weight_heading(outputs):
    if len(outputs["labels"]) == 1:
        return "weight"
    return f"weight per {outputs['kind']}"


def _weight_vector(weight, labels):
    if isinstance(weight, dict):
        return [weight[label] for label in labels]
    return [weight]


def _flatten_weights(row):
    """A table row: every per-output dict (weights, intervals) as one column each."""
    flat = {}
    for key, value in row.items():
        if key == "index":
            continue
        if isinstance(value, dict):
            flat.update({f"{key}_{label}": w for label, w in value.items()})
        else:
            flat[key] = value
    row = flat
    if "shape" in row:
        row["shape"] = tuple(row["shape"])
    return row


def _optional_float(value):
    return None if value is None else float(value)


def _floats(values):
    # Adding 0.0 turns -0.0 into 0.0: a zero weight has no sign.
    return [float(v) + 0.0 for v in np.ravel(values)]


def _json_value(value):
    """Return ``value`` if JSON can hold it, else its repr."""
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
