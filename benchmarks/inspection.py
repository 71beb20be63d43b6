"""Benchmarks of the inspection tools: the path, stability refits, MC dropout.

Usage::

    python benchmarks/inspection.py            # the full workloads (a few minutes)
    python benchmarks/inspection.py --quick    # a smoke run (about a minute)
    python benchmarks/inspection.py --json out.json

Workloads, measured as in ``benchmarks/run.py`` (whose measuring and table
helpers are reused: interleaved repeats, median times, tracemalloc peaks):

1. ``weights_path`` of ``WeightedLinearRegressor`` against
   :func:`sklearn.linear_model.enet_path` on its default grid of 100 alphas:
   time ratio, and the largest difference of the weights from a tightly
   converged ``enet_path``, relative to the largest weight.
2. ``weight_stability`` with ``n_jobs=1`` and ``n_jobs=2``: time ratio (about
   0.5 on two idle cores).
3. ``mc_dropout`` on 10,000 rows x 100 passes: tracemalloc's peak against the
   ``rows x outputs`` bytes of one prediction, with and without the passes
   kept.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import enet_path
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import (  # noqa: E402  (the helpers of the main benchmark suite)
    System,
    environment,
    format_environment,
    format_table,
    make_rows,
    measure,
)

from sk_weights import (  # noqa: E402
    MLPWeightsClassifier,
    PoorFitWarning,
    WeightedLinearRegressor,
    mc_dropout,
    weight_stability,
    weights_path,
)

MODES = {
    "full": {
        "repeats": 3,
        "path": (5_000, 200),
        "stability_resamples": 16,
        "stability_epochs": 30,
        "mc_rows": 10_000,
        "mc_passes": 100,
    },
    "quick": {
        "repeats": 2,
        "path": (1_000, 50),
        "stability_resamples": 4,
        "stability_epochs": 10,
        "mc_rows": 10_000,
        "mc_passes": 100,
    },
}


def workload_path(mode):
    """weights_path against enet_path on enet_path's 100-alpha grid."""
    n_samples, n_features = mode["path"]
    X, y = make_regression(
        n_samples, n_features, n_informative=n_features // 5, noise=10, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    l1_ratio = 0.5
    _, reference, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, tol=1e-12, max_iter=10**5)
    reference = reference.T
    estimator = WeightedLinearRegressor(penalty="elasticnet", l1_ratio=l1_ratio)
    systems = [
        System("weights_path", lambda: weights_path(estimator, X, y, n_alphas=100)),
        System(
            "enet_path (tol=1e-4)",
            lambda: enet_path(Xc, yc, l1_ratio=l1_ratio),
            versus="weights_path",
        ),
        System(
            "enet_path (tol=1e-12)",
            lambda: enet_path(Xc, yc, l1_ratio=l1_ratio, tol=1e-12, max_iter=10**5),
            versus="weights_path",
        ),
    ]
    records = measure(systems, mode["repeats"])

    def quality(name, fitted):
        coefs = fitted.coefs if name == "weights_path" else fitted[1].T
        gap = np.abs(coefs - reference).max() / np.abs(reference).max()
        return {"gap": float(gap), "zeros": int((coefs == 0).sum())}

    label = f"path: 100 alphas, {n_samples} x {n_features}, l1_ratio {l1_ratio}"
    return make_rows(label, systems, records, quality)


def workload_stability(mode):
    """weight_stability on one and on two cores."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator = MLPWeightsClassifier(
        hidden_layer_sizes=(32,), max_iter=mode["stability_epochs"], random_state=0
    )
    n = mode["stability_resamples"]

    def run(n_jobs):
        return lambda: weight_stability(
            estimator, X, y, n_resamples=n, n_jobs=n_jobs, random_state=0
        )

    systems = [
        System("n_jobs=2", run(2), memory=False),
        System("n_jobs=1", run(1), versus="n_jobs=2", memory=False),
    ]
    # Start joblib's worker processes once, outside the timings.
    weight_stability(estimator, X[:200], y[:200], n_resamples=2, n_jobs=2)
    records = measure(systems, mode["repeats"])
    one, two = (records[s.name]["fitted"].to_dict() for s in systems)

    def quality(name, fitted):
        return {"note": "same report" if one == two else "REPORTS DIFFER"}

    label = f"stability: digits, MLP (32,), {n} bootstrap refits"
    return make_rows(label, systems, records, quality)


def workload_mc_dropout(mode):
    """mc_dropout memory: running sums against every pass kept."""
    n_rows, passes = mode["mc_rows"], mode["mc_passes"]
    X, y = make_classification(
        n_rows, 20, n_informative=10, n_classes=3, random_state=0
    )
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(64,), dropout=0.2, max_iter=5, random_state=0
    ).fit(X, y)
    n_outputs = len(model.classes_)
    one_prediction = n_rows * n_outputs * 8  # float64 bytes of rows x outputs
    systems = [
        System(
            "mc_dropout",
            lambda: mc_dropout(model, X, n_samples=passes, random_state=0),
        ),
        System(
            "mc_dropout, samples kept",
            lambda: mc_dropout(
                model, X, n_samples=passes, random_state=0, return_samples=True
            ),
            versus="mc_dropout",
        ),
    ]
    records = measure(systems, mode["repeats"])

    def quality(name, fitted):
        peak = records[name]["peak"]
        return {"note": f"peak = {peak / one_prediction:.1f} x rows x outputs bytes"}

    label = (
        f"mc_dropout: {n_rows} rows x {passes} passes, MLP (64,), {n_outputs} "
        f"outputs (rows x outputs = {one_prediction / 1e6:.2f} MB)"
    )
    return make_rows(label, systems, records, quality)


WORKLOADS = [workload_path, workload_stability, workload_mc_dropout]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    mode = MODES["quick" if args.quick else "full"]
    # joblib's worker processes do not inherit the filters set below, but
    # read this variable when they start.
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    env = environment()
    print(format_environment(env))
    rows, started = [], time.perf_counter()
    with warnings.catch_warnings():
        # Short trainings are the point of a benchmark, not a finding.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", PoorFitWarning)
        for workload in WORKLOADS:
            new = workload(mode)
            rows += new
            print(format_table(new), flush=True)
    elapsed = time.perf_counter() - started
    print(f"\nTotal {elapsed:.0f} s; load average {os.getloadavg()[0]:.2f} at the end.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"environment": env, "seconds": elapsed, "rows": rows}, f, indent=1
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
