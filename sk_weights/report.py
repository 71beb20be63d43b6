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

Multi-output models sum the importance over outputs.
"""

import base64
import html
import io
import json
import numbers

import numpy as np
from sklearn.pipeline import Pipeline

from sk_weights._network import connection_weights

__all__ = ["WeightsReport", "weights_report"]

#: Features listed in the text summary.
TOP_FEATURES = 10

SUPPORTED = (
    "a fitted WeightedLinearRegressor or MLPWeightsClassifier, a Pipeline "
    "ending in one, one of scikit-learn's linear models (LinearRegression, "
    "Ridge, Lasso, ElasticNet, SGDRegressor, LogisticRegression, ...) or "
    "MLPClassifier / MLPRegressor"
)


def weights_report(obj, feature_names=None):
    """Build the learned-weights report of a fitted model.

    Parameters
    ----------
    obj : estimator or Pipeline
        A fitted estimator of this package, a :class:`~sklearn.pipeline.Pipeline`
        ending in one (the feature names then come from the earlier steps'
        ``get_feature_names_out``), or one of scikit-learn's linear models or
        multi-layer perceptrons.
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

    See Also
    --------
    WeightsReport : The report's renderings (dict, text, HTML, frames, plot).
    WeightedLinearRegressor.weights_report : The same, as a method.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weights_report
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    >>> report = weights_report(model)
    >>> [row["name"] for row in report.to_dict()["features"][:3]]
    ['bmi', 's5', 'bp']
    """
    model, names = _final_model_and_names(obj, feature_names)
    if _is_network(model):
        data = _network_report(model)
    elif _is_linear(model):
        data = _linear_report(model)
    else:
        raise TypeError(
            f"weights_report got {type(model).__name__}; it supports {SUPPORTED}."
        )
    data["estimator"] = _estimator_entry(model)
    data["training"] = _training_entry(model)
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
    """

    def __init__(self, data, layer_values=None):
        self._data = data
        self._layer_values = layer_values or {}

    def to_dict(self):
        """Return the report as plain, JSON-serialisable Python objects.

        Returns
        -------
        dict
            Keys ``"estimator"``, ``"objective"``, ``"importance"``,
            ``"features"`` (one row per input feature, most important first),
            ``"layers"`` (one row per weight matrix) and ``"training"``.
        """
        return json.loads(json.dumps(self._data))

    # -- text ---------------------------------------------------------------

    def __str__(self):
        data = self._data
        lines = [f"{data['estimator']['class']} — learned weights"]
        lines.append(f"objective: {data['objective']}")
        lines.append("")
        shown = data["features"][:TOP_FEATURES]
        lines.append(
            f"Top {len(shown)} of {len(data['features'])} features "
            f"(importance = {data['importance']}):"
        )
        width = max(len(row["name"]) for row in shown)
        top = shown[0]["importance"] or 1.0
        for row in shown:
            bar = "█" * round(20 * row["importance"] / top)
            weight = ""
            if "weight" in row:
                weight = "  w = " + _format_weight(row["weight"])
            lines.append(
                f"  {row['rank']:>3d}. {row['name']:<{width}s} "
                f"{row['importance']:6.1%} {bar:<20s}{weight}"
            )
        zeros = [row["name"] for row in data["features"] if row.get("is_zero")]
        if zeros:
            lines.append(
                f"Weights set to exactly zero ({len(zeros)}): " + ", ".join(zeros)
            )
        lines.append("")
        lines.append("Layers:")
        lines.append(
            f"  {'name':<12s} {'shape':>12s} {'params':>8s} {'mean':>9s} "
            f"{'std':>9s} {'L1 norm':>10s} {'L2 norm':>9s} {'zeros':>7s}"
        )
        for layer in data["layers"]:
            shape = "×".join(str(n) for n in layer["shape"])
            lines.append(
                f"  {layer['name']:<12s} {shape:>12s} {layer['n_params']:>8d} "
                f"{layer['mean']:>9.3g} {layer['std']:>9.3g} "
                f"{layer['l1_norm']:>10.4g} {layer['l2_norm']:>9.4g} "
                f"{layer['zero_fraction']:>7.1%}"
            )
        lines.append("")
        lines.append("Training: " + _training_summary(data["training"]))
        return "\n".join(lines)

    def __repr__(self):
        data = self._data
        return (
            f"<WeightsReport of {data['estimator']['class']}: "
            f"{len(data['features'])} features, {len(data['layers'])} layer(s)>"
        )

    # -- tables -------------------------------------------------------------

    def to_frame(self, table="features"):
        """Return the ``"features"`` or ``"layers"`` table as a pandas DataFrame.

        Parameters
        ----------
        table : {"features", "layers"}, default="features"
            Which table.

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

    def to_html(self, full_page=True, include_plot=False):
        """Render the report as HTML.

        Parameters
        ----------
        full_page : bool, default=True
            Whether to return a complete document (else a fragment).
        include_plot : bool, default=False
            Whether to embed :meth:`plot` as a PNG image (needs matplotlib).

        Returns
        -------
        str
            The HTML.
        """
        data = self._data
        esc = html.escape
        parts = [
            '<div class="sk-weights-report">',
            f"<h3>{esc(data['estimator']['class'])} — learned weights</h3>",
            f"<p><b>Objective:</b> {esc(data['objective'])}<br>"
            f"<b>Importance:</b> {esc(data['importance'])}</p>",
            "<table><thead><tr><th>rank</th><th>feature</th><th>importance</th>"
            "<th></th><th>weight</th></tr></thead><tbody>",
        ]
        top = data["features"][0]["importance"] or 1.0 if data["features"] else 1.0
        for row in data["features"]:
            width = 100 * row["importance"] / top
            weight = _format_weight(row["weight"]) if "weight" in row else ""
            style = ' style="color:#999"' if row.get("is_zero") else ""
            parts.append(
                f"<tr{style}><td>{row['rank']}</td><td>{esc(row['name'])}</td>"
                f"<td>{row['importance']:.1%}</td>"
                f'<td><div style="background:#4c72b0;height:0.8em;'
                f'width:{width:.0f}px"></div></td><td>{esc(weight)}</td></tr>'
            )
        parts.append("</tbody></table>")
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
                f"<td>{layer['zero_fraction']:.1%}</td></tr>"
            )
        parts.append("</tbody></table>")
        parts.append(
            f"<p><b>Training:</b> {esc(_training_summary(data['training']))}</p>"
        )
        if include_plot:
            parts.append(
                '<img alt="weights report plots" src="data:image/png;base64,'
                + base64.b64encode(self._png()).decode("ascii")
                + '">'
            )
        parts.append("</div>")
        fragment = "\n".join(parts)
        if not full_page:
            return fragment
        return (
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>{esc(data['estimator']['class'])} weights</title>"
            f"<style>{_CSS}</style></head><body>\n{fragment}\n</body></html>\n"
        )

    # -- plots --------------------------------------------------------------

    def plot(self, top=20):
        """Draw importances, one weight histogram per layer, and the curves.

        Parameters
        ----------
        top : int, default=20
            Number of features in the importance bar chart.

        Returns
        -------
        matplotlib.figure.Figure
            The figure (not shown; call ``fig.savefig`` or display it).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "WeightsReport.plot needs matplotlib: pip install 'sk_weights[plot]'."
            ) from exc
        data = self._data
        layers = data["layers"]
        n_panels = 2 + len(layers)
        fig = Figure(figsize=(4.2 * n_panels, 4.0), layout="constrained")
        axes = fig.subplots(1, n_panels)

        shown = data["features"][:top][::-1]
        axes[0].barh([row["name"] for row in shown], [r["importance"] for r in shown])
        axes[0].set_title("Feature importance")
        axes[0].set_xlabel(data["importance"])

        for ax, layer in zip(axes[1:-1], layers):
            ax.hist(self._layer_values[layer["name"]], bins=40)
            ax.set_title(f"{layer['name']} ({layer['zero_fraction']:.0%} zeros)")
            ax.set_xlabel("weight")

        curve_ax = axes[-1]
        training = data["training"]
        if training["loss_curve"]:
            curve_ax.plot(
                range(1, len(training["loss_curve"]) + 1),
                training["loss_curve"],
                label="training objective",
            )
            curve_ax.set_xlabel("iteration / epoch")
            curve_ax.set_ylabel("objective")
        if training.get("validation_scores"):
            score_ax = curve_ax.twinx()
            scores = training["validation_scores"]
            score_ax.plot(
                range(1, len(scores) + 1), scores, color="C1", label="validation"
            )
            score_ax.set_ylabel("validation score", color="C1")
        curve_ax.set_title("Training")
        return fig

    def _png(self):
        """Return :meth:`plot` rendered as PNG bytes."""
        buffer = io.BytesIO()
        self.plot().savefig(buffer, format="png", dpi=90)
        return buffer.getvalue()


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    ".sk-weights-report table{border-collapse:collapse;margin:0.8em 0}"
    ".sk-weights-report th,.sk-weights-report td{padding:2px 8px;"
    "border-bottom:1px solid #ddd;text-align:right}"
    ".sk-weights-report img{max-width:100%}"
)


# -- reading fitted models ----------------------------------------------------


def _final_model_and_names(obj, feature_names):
    """Return the model at the end of ``obj`` and the names of its inputs."""
    model = obj
    names = None
    if isinstance(obj, Pipeline):
        model = obj.steps[-1][1]
        head = obj[:-1]
        if len(head.steps):
            try:
                names = list(head.get_feature_names_out())
            except (AttributeError, ValueError, TypeError):
                names = None
    if names is None and hasattr(model, "feature_names_in_"):
        names = list(model.feature_names_in_)
    if feature_names is not None:
        names = list(feature_names)
    return model, names


def _is_network(model):
    return hasattr(model, "coefs_") and hasattr(model, "intercepts_")


def _is_linear(model):
    if not hasattr(model, "coef_") or _is_network(model):
        return False
    module = type(model).__module__
    return module.startswith("sklearn.linear_model") or module.startswith("sk_weights")


def _linear_report(model):
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    scale = getattr(model, "feature_std_", None)
    if scale is not None:
        raw = np.abs(coef) * np.asarray(scale, dtype=np.float64)
        kind = "|w| × std(x), normalised"
    else:
        raw = np.abs(coef)
        kind = "|w|, normalised (the feature scales are unknown)"
    importance = _normalise(raw.sum(axis=0))
    features = []
    for j in range(coef.shape[1]):
        weight = coef[:, j]
        features.append(
            {
                "importance": float(importance[j]),
                "weight": float(weight[0]) if coef.shape[0] == 1 else _floats(weight),
                "is_zero": bool(np.all(weight == 0)),
            }
        )
    return {
        "objective": _linear_objective(model),
        "importance": kind,
        "features": _ranked(features),
        "layers": [_layer_row("coef_", coef if np.ndim(model.coef_) == 2 else coef[0])],
        "_values": {"coef_": _floats(coef.ravel())},
    }


def _network_report(model):
    coefs = [np.asarray(c, dtype=np.float64) for c in model.coefs_]
    effective = connection_weights(coefs)
    importance = _normalise(np.abs(effective).sum(axis=1))
    features = [{"importance": float(v)} for v in importance]
    names = [f"coefs_[{i}]" for i in range(len(coefs))]
    return {
        "objective": _network_objective(model),
        "importance": "|connection weights| (product of the weight matrices)",
        "features": _ranked(features),
        "layers": [_layer_row(name, c) for name, c in zip(names, coefs)],
        "_values": {name: _floats(c.ravel()) for name, c in zip(names, coefs)},
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
    return {
        "name": name,
        "shape": [int(n) for n in values.shape],
        "n_params": int(flat.size),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "min": float(flat.min()),
        "max": float(flat.max()),
        "l1_norm": float(np.abs(flat).sum()),
        "l2_norm": float(np.sqrt(flat @ flat)),
        "zero_fraction": float(np.mean(flat == 0)),
    }


def _penalty_text(model):
    params = model.get_params()
    penalty = params.get("penalty", "l2" if "alpha" in params else None)
    alpha = params.get("alpha")
    if penalty is None or alpha is None:
        return ""
    if penalty == "elasticnet":
        return f" + elastic net (alpha={alpha:g}, l1_ratio={params.get('l1_ratio')})"
    return f" + {penalty.upper()} (alpha={alpha:g})"


def _linear_objective(model):
    from sklearn.base import is_classifier

    loss = "log loss" if is_classifier(model) else "mean 0.5·(y − Xw − b)²"
    return loss + _penalty_text(model)


def _network_objective(model):
    from sklearn.base import is_classifier

    loss = "cross-entropy" if is_classifier(model) else "mean squared error"
    text = loss + _penalty_text(model)
    dropout = model.get_params().get("dropout")
    if dropout:
        text += f", dropout {dropout}"
    return text


def _estimator_entry(model):
    return {
        "class": type(model).__name__,
        "module": type(model).__module__.split(".")[0],
        "params": {
            key: _json_value(value)
            for key, value in sorted(model.get_params(deep=False).items())
        },
    }


def _training_entry(model):
    n_iter = getattr(model, "n_iter_", None)
    if n_iter is not None:
        n_iter = int(np.max(n_iter))
    max_iter = model.get_params().get("max_iter")
    converged = None
    if n_iter is not None and isinstance(max_iter, numbers.Integral):
        converged = bool(n_iter < max_iter)
    entry = {
        "n_iter": n_iter,
        # Mini-batch solvers count samples seen (t_); full-batch ones do not.
        "iteration_unit": "epochs" if getattr(model, "t_", 0) else "iterations",
        "loss_curve": _floats(getattr(model, "loss_curve_", None) or []),
        "converged": converged,
    }
    scores = getattr(model, "validation_scores_", None)
    if scores:
        entry["validation_scores"] = _floats(scores)
        entry["best_validation_score"] = float(max(scores))
    return entry


def _training_summary(training):
    parts = []
    if training["n_iter"] is not None:
        parts.append(f"{training['n_iter']} {training['iteration_unit']}")
    if training["loss_curve"]:
        parts.append(f"final objective {training['loss_curve'][-1]:.6g}")
    if training["converged"] is not None:
        parts.append("converged" if training["converged"] else "NOT converged")
    if "best_validation_score" in training:
        parts.append(f"best validation score {training['best_validation_score']:.4g}")
    return ", ".join(parts) or "no training history recorded"


def _format_weight(weight):
    if isinstance(weight, list):
        return "[" + ", ".join(f"{w:+.4g}" for w in weight) + "]"
    return f"{weight:+.4g}"


def _flatten_weights(row):
    row = {k: v for k, v in row.items() if k != "index"}
    weight = row.get("weight")
    if isinstance(weight, list):
        del row["weight"]
        row.update({f"weight_{k}": w for k, w in enumerate(weight)})
    if "shape" in row:
        row["shape"] = tuple(row["shape"])
    return row


def _floats(values):
    return [float(v) for v in np.ravel(values)]


def _json_value(value):
    """Return ``value`` if JSON can hold it, else its repr."""
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
