"""Cost of sk_weights.explain beside one predict of the same rows.

Usage::

    python benchmarks/explain.py            # 1,000 rows per workload, 5 repeats
    python benchmarks/explain.py --quick    # 200 rows, 3 repeats (seconds)
    python benchmarks/explain.py --json out.json

Workloads: ``WeightedLinearRegressor`` on 100 generated features (exact
contributions), and ``MLPWeightsClassifier`` with hidden layers (256, 128) on
the digits (64 pixels, 10 classes; relu and tanh), explained by integrated
gradients with the default 64 points. The table gives the median time per
1,000 rows of ``explain`` and of ``predict`` (``predict_proba`` for the
classifier), their min-max over the repeats, and the ratio of the medians.
The two calls alternate within each repeat, so that a machine that slows
down affects both alike. The networks are trained for a few epochs only: the
cost does not depend on how well they fit.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import StandardScaler

import sk_weights
from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor, explain

MODES = {
    "full": {"rows": 1000, "repeats": 5},
    "quick": {"rows": 200, "repeats": 3},
}


def _linear(n_rows):
    X, y = make_regression(
        n_samples=max(n_rows, 2000), n_features=100, noise=1.0, random_state=0
    )
    model = WeightedLinearRegressor(alpha=1e-3).fit(X, y)
    return model, X[:n_rows], model.predict


def _network(activation):
    def build(n_rows):
        digits = load_digits()
        X = StandardScaler().fit_transform(digits.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too few epochs, on purpose
            model = MLPWeightsClassifier(
                hidden_layer_sizes=(256, 128),
                activation=activation,
                max_iter=3,
                random_state=0,
            ).fit(X, digits.target)
        rows = np.resize(X, (n_rows, X.shape[1]))  # the digits repeated as needed
        return model, rows, model.predict_proba

    return build


WORKLOADS = {
    "linear (100 features)": _linear,
    "mlp (256, 128) relu, digits": _network("relu"),
    "mlp (256, 128) tanh, digits": _network("tanh"),
}


def _time(call, *args):
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def run(mode):
    settings = MODES[mode]
    n_rows, repeats = settings["rows"], settings["repeats"]
    results = []
    for name, build in WORKLOADS.items():
        model, X, predict = build(n_rows)
        explain(model, X[:10])  # warm up (imports, BLAS threads)
        predict(X[:10])
        explain_times, predict_times = [], []
        for repeat in range(repeats):
            calls = [
                (explain_times, explain, (model, X)),
                (predict_times, predict, (X,)),
            ]
            for times, call, args in calls[repeat % 2 :] + calls[: repeat % 2]:
                times.append(_time(call, *args) * 1000 / n_rows)
        explanation = explain(model, X)
        scale = np.abs(explanation.output).max()
        results.append(
            {
                "workload": name,
                "rows": n_rows,
                "explain_s_per_1000_rows": float(np.median(explain_times)),
                "explain_range": [min(explain_times), max(explain_times)],
                "predict_s_per_1000_rows": float(np.median(predict_times)),
                "predict_range": [min(predict_times), max(predict_times)],
                "ratio": float(np.median(explain_times) / np.median(predict_times)),
                "max_completeness_error_over_max_output": float(
                    explanation.completeness_error.max() / scale
                ),
            }
        )
    return results


def _table(results):
    lines = [
        f"{'workload':<30} {'explain s/1000 rows':>24} {'predict s/1000 rows':>26} "
        f"{'ratio':>8} {'completeness':>13}",
    ]
    for r in results:
        e_low, e_high = r["explain_range"]
        p_low, p_high = r["predict_range"]
        lines.append(
            f"{r['workload']:<30} "
            f"{r['explain_s_per_1000_rows']:>9.4f} [{e_low:.4f}-{e_high:.4f}] "
            f"{r['predict_s_per_1000_rows']:>9.6f} [{p_low:.6f}-{p_high:.6f}] "
            f"{r['ratio']:>8.0f} {r['max_completeness_error_over_max_output']:>13.1e}"
        )
    lines.append(
        "completeness: the largest completeness error over the largest |output|."
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, seconds")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    print(
        f"sk_weights {sk_weights.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; mode {mode}"
    )
    results = run(mode)
    print(_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"mode": mode, "results": results}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
