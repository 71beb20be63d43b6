"""Benchmarks of sk_weights side by side with its anchors (speed, accuracy and memory).

Usage::

    python benchmarks/run.py            # the full suite (under 10 minutes, 2 cores)
    python benchmarks/run.py --quick    # a smoke run: small sizes, ~1 minute
    python benchmarks/run.py --json out.json
    python benchmarks/run.py --only 1 3       # some workloads only
    python benchmarks/run.py --threads 1      # every system on one BLAS thread
    python benchmarks/run.py --only 8 9 10 11 --assert-targets   # wide data
    python benchmarks/run.py --section speed  # the speed tables (~6 min, 2 cores)

The speed section times what most users run (one fit on small bundled data,
a grid search, wide L1 against skglm, tall GLMs against glum, network epochs,
standard errors against statsmodels);
skglm and glum are the ``bench`` extra (``pip install -e ".[bench]"``),
statsmodels (the anchor of the standard errors) is in the ``test`` extra, and
their rows are skipped with a note when they are not installed. It prints the
load average before and after: compare ratios taken on a quiet machine only.

Every workload fits the package and its anchors in the same process,
*interleaved*: repeat ``r`` fits every system once, in an order rotated by
``r``, so a machine that slows down or speeds up affects every system alike.
The table shows the median time with its min-max over the repeats and the
ratio ours / anchor computed from the medians. Quality figures (objective gap
to the best objective found, held-out R^2 or accuracy, exact zeros, support
errors) read each system's last fit. The peak extra memory comes from two
more, untimed fits per system (skipped for the slow SGD anchors, which do not
copy X): the first warms it up, so that what a process allocates once
(imports, JIT compilation, threadpoolctl's discovery of the BLAS libraries)
is left out, and the second is measured. It is measured with tracemalloc, which
counts Python and NumPy allocations (NumPy reports its buffers to it) but not
memory that compiled code allocates on its own (BLAS work space, Cython
buffers, PyTorch tensors).

A workload is a small function that builds its data, describes its systems and
returns rows; the MLP workloads run when ``sk_weights.MLPWeightsClassifier``
exists and the PyTorch rows when ``import torch`` works.
"""

import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy
import scipy.linalg as la
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LogisticRegression,
    Ridge,
    SGDRegressor,
)
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import sk_weights
from sk_weights import (
    WeightedLinearClassifier,
    WeightedLinearRegressor,
    weight_inference,
)

try:
    import torch
except ImportError:
    torch = None

#: Problem sizes and repeats of the two modes.
MODES = {
    "full": {
        "repeats": 5,
        "l2": (200_000, 100),
        "ill": (100_000, 200),
        "lasso": (100_000, 500),
        "scaling": (10_000, 100_000, 1_000_000),
        "scaling_sgd": 100_000,  # SGD would take a minute per fit at 1M
        "digits_epochs": 200,
        "mlp_samples": 100_000,
        "mlp_epochs": 5,
        "wide_repeats": 3,
        "sparse": [
            (20_000, 5_000, 0.002),
            (10_000, 20_000, 0.001),
            (20_000, 50_000, 0.001),
        ],
        "dense_wide": (500, 20_000),
        "one_hot": (100_000, 1_000),
        "sparse_l2": [(20_000, 5_000, 0.002), (10_000, 20_000, 0.001)],
        "logistic": (100_000, 100),
    },
    "quick": {
        "repeats": 3,
        "l2": (20_000, 100),
        "ill": (10_000, 200),
        "lasso": (5_000, 500),
        "scaling": (10_000, 50_000),
        "scaling_sgd": 10_000,
        "digits_epochs": 10,
        "mlp_samples": 2_000,
        "mlp_epochs": 1,
        "wide_repeats": 2,
        "sparse": [(5_000, 2_000, 0.005), (2_000, 5_000, 0.003)],
        "dense_wide": (200, 4_000),
        "one_hot": (10_000, 100),
        "sparse_l2": [(5_000, 2_000, 0.005)],
        "logistic": (5_000, 100),
    },
}

#: Samples held out to score the linear models.
N_TEST = 20_000


# -- measuring ---------------------------------------------------------------


@dataclass
class System:
    """One thing to time: a name, a fit callable and how to read its result."""

    name: str
    fit: callable  # () -> fitted object
    versus: str = None  # name of our system this anchor is compared with
    per: callable = None  # fitted object -> divisor of the time (epochs, samples)
    memory: bool = True  # measure memory (in an untimed fit); False for slow ones
    info: dict = field(default_factory=dict)


def measure(systems, repeats):
    """Fit every system ``repeats`` times, interleaved; return their records.

    First, two untimed fits per system (``System.memory``): one warms it up
    (imports, JIT compilation, threadpoolctl's discovery of the BLAS
    libraries and other caches kept for the process), and the second
    measures its peak extra memory under tracemalloc. The quality figures
    read the last fit; the warnings are those of every fit.
    """
    records = {s.name: {"times": [], "peak": None, "warnings": set()} for s in systems}
    for system in systems:
        if system.memory:
            _fit(system, records[system.name])
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            _fit(system, records[system.name])
            records[system.name]["peak"] = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
    for r in range(repeats):
        order = systems[r % len(systems) :] + systems[: r % len(systems)]
        for system in order:
            gc.collect()
            start = time.perf_counter()
            fitted = _fit(system, records[system.name])
            elapsed = time.perf_counter() - start
            divisor = system.per(fitted) if system.per else 1
            records[system.name]["times"].append(elapsed / divisor)
    for record in records.values():
        record["warnings"] = sorted(record["warnings"])
    return records


def _fit(system, record):
    """Fit once, keeping the fitted object and the names of the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record["fitted"] = system.fit()
    record["warnings"] |= {w.category.__name__ for w in caught}
    return record["fitted"]


def make_rows(workload, systems, records, quality, unit="s"):
    """Turn measurements into table rows; ``quality(name, fitted)`` adds figures."""
    rows = []
    for system in systems:
        record = records[system.name]
        times = np.asarray(record["times"])
        row = {
            "workload": workload,
            "system": system.name,
            "unit": unit,
            "time": float(np.median(times)),
            "min": float(times.min()),
            "max": float(times.max()),
            "repeats": len(times),
            "peak_mb": None if record["peak"] is None else record["peak"] / 1e6,
            "warnings": record["warnings"],
            **system.info,
            **quality(system.name, record["fitted"]),
        }
        rows.append(row)
    by_name = {row["system"]: row for row in rows}
    for system, row in zip(systems, rows):
        if system.versus is not None:
            ours = by_name[system.versus]
            row["versus"] = system.versus
            row["ratio"] = ours["time"] / row["time"]
            if ours["peak_mb"] is not None and row["peak_mb"]:
                row["memory_ratio"] = ours["peak_mb"] / row["peak_mb"]
    return rows


# -- linear workloads ----------------------------------------------------------


def regression_data(n_samples, n_features, **kwargs):
    """Standardised ``make_regression`` data with a held-out test set."""
    X, y = make_regression(n_samples + N_TEST, n_features, random_state=0, **kwargs)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=N_TEST, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def objective(X, y, coef, intercept, alpha, l1_ratio):
    """The training objective, weighted mean loss + elastic net (unit weights)."""
    coef = np.ravel(coef).astype(np.float64)
    residual = y - X @ coef - intercept
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    return 0.5 * float(residual @ residual) / len(y) + alpha * penalty


def ridge_reference(X, y, alpha):
    """The L2 optimum by a direct solve of the centred normal equations."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - x_mean
    hessian = Xc.T @ Xc / len(y) + alpha * np.eye(X.shape[1])
    coef = la.solve(hessian, Xc.T @ (y - y_mean) / len(y), assume_a="pos")
    return coef, y_mean - x_mean @ coef


def lasso_reference(X, y, alpha):
    """The L1 optimum by coordinate descent on the Gram matrix, tightly converged."""
    model = Lasso(alpha=alpha, precompute=True, tol=1e-14, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model.coef_, model.intercept_


def linear_quality(data, alpha, l1_ratio, reference, records):
    """Quality figures of linear fits: gap to the best objective, R^2, zeros."""
    X, y, X_test, y_test = data
    ref_coef, ref_intercept = reference
    values = {
        name: objective(
            X, y, r["fitted"].coef_, r["fitted"].intercept_, alpha, l1_ratio
        )
        for name, r in records.items()
    }
    best = min(
        [objective(X, y, ref_coef, ref_intercept, alpha, l1_ratio), *values.values()]
    )
    ref_zeros = np.ravel(ref_coef) == 0

    def quality(name, fitted):
        zeros = np.ravel(fitted.coef_) == 0
        figures = {
            "iterations": getattr(fitted, "n_iter_", None),
            "gap": (values[name] - best) / abs(best),
            "r2": r2_score(y_test, fitted.predict(X_test)),
        }
        if l1_ratio > 0:
            figures["zeros"] = int(zeros.sum())
            figures["support_errors"] = int(np.sum(zeros != ref_zeros))
        return figures

    return quality


def l2_systems(X, y, alpha, sgd=True):
    """Our full-batch solver and the L2 anchors of workloads 1, 2 and 4."""
    n = X.shape[0]
    systems = [
        System("ours", lambda: WeightedLinearRegressor(alpha=alpha).fit(X, y)),
        System("Ridge(alpha*n)", lambda: Ridge(alpha=alpha * n).fit(X, y), "ours"),
        System(
            "ElasticNet(l1_ratio=0, precompute)",
            lambda: ElasticNet(alpha=alpha, l1_ratio=0, precompute=True).fit(X, y),
            "ours",
        ),
    ]
    if sgd:
        systems.append(
            System(
                "SGDRegressor(l2)",
                lambda: SGDRegressor(penalty="l2", alpha=alpha, random_state=0).fit(
                    X, y
                ),
                "ours",
                memory=False,
            )
        )
    return systems


def l2_workload(label, n_features, n_samples, repeats, **data_kwargs):
    """Workloads 1 and 2: an L2 linear model against Ridge, ElasticNet, SGD."""
    alpha = 1e-4
    data = regression_data(n_samples, n_features, **data_kwargs)
    X, y = data[:2]
    systems = l2_systems(X, y, alpha)
    records = measure(systems, repeats)
    quality = linear_quality(data, alpha, 0.0, ridge_reference(X, y, alpha), records)
    return make_rows(label, systems, records, quality)


def workload_l2(mode):
    n, d = mode["l2"]
    label = f"1. L2 linear: make_regression({n}, {d}, noise=10), alpha=1e-4"
    return l2_workload(label, d, n, mode["repeats"], noise=10)


def workload_ill_conditioned(mode):
    n, d = mode["ill"]
    label = (
        f"2. Ill-conditioned L2: make_regression({n}, {d}, effective_rank=20, "
        "noise=1), alpha=1e-4"
    )
    return l2_workload(label, d, n, mode["repeats"], effective_rank=20, noise=1)


def workload_lasso(mode):
    """Workload 3: L1 against Lasso (with and without the Gram matrix) and SGD."""
    n, d = mode["lasso"]
    alpha = 0.1
    label = f"3. Lasso: make_regression({n}, {d}, n_informative=50, noise=5), alpha=0.1"
    data = regression_data(n, d, n_informative=50, noise=5)
    X, y = data[:2]
    systems = [
        System(
            "ours", lambda: WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
        ),
        System("Lasso", lambda: Lasso(alpha=alpha).fit(X, y), "ours"),
        System(
            "Lasso(precompute)",
            lambda: Lasso(alpha=alpha, precompute=True).fit(X, y),
            "ours",
        ),
        System(
            "SGDRegressor(l1)",
            lambda: SGDRegressor(penalty="l1", alpha=alpha, random_state=0).fit(X, y),
            "ours",
            memory=False,
        ),
    ]
    records = measure(systems, mode["repeats"])
    quality = linear_quality(data, alpha, 1.0, lasso_reference(X, y, alpha), records)
    return make_rows(label, systems, records, quality)


def workload_scaling(mode):
    """Workload 4: the L2 problem at growing n, in microseconds per sample."""
    alpha, d = 1e-4, 100
    label = "4. Scaling: the L2 problem (d=100, alpha=1e-4) at growing n"
    rows = []
    for n in mode["scaling"]:
        X, y = make_regression(n, d, noise=10, random_state=0)
        X = StandardScaler().fit_transform(X)
        systems = l2_systems(X, y, alpha, sgd=n <= mode["scaling_sgd"])
        for system in systems:
            system.name = f"{system.name} n={n}"
            system.versus = f"ours n={n}" if system.versus else None
            system.per = lambda fitted, n=n: n / 1e6
        records = measure(systems, mode["repeats"])
        rows += make_rows(label, systems, records, lambda name, fitted: {}, "us/sample")
        del X, y
    return rows


# -- wide and sparse workloads --------------------------------------------------


def x_bytes(X):
    """The bytes X occupies (for sparse X: data, indices and pointers)."""
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def alpha_max(X, y):
    """``max|X^T (y - mean y)| / n``: the smallest L1 alpha whose optimum (with
    an intercept) has every weight at zero."""
    return float(np.abs(X.T @ (y - y.mean())).max() / X.shape[0])


def planted_target(X, n_true=100, noise=0.1, seed=0):
    """y from ``n_true`` standard-normal weights plus noise, and the L1 alpha.

    ``alpha = 0.02 * alpha_max(X, y)``: about a fiftieth of the smallest alpha
    whose optimum is all zeros.
    """
    rng = np.random.default_rng(seed)
    coef = np.zeros(X.shape[1])
    chosen = rng.choice(X.shape[1], size=min(n_true, X.shape[1]), replace=False)
    coef[chosen] = rng.standard_normal(chosen.size)
    y = np.asarray(X @ coef).ravel() + noise * rng.standard_normal(X.shape[0])
    return y, 0.02 * alpha_max(X, y)


def sparse_data(n_samples, n_features, density, seed=0):
    """``scipy.sparse.random`` CSR data with standard-normal values."""
    rng = np.random.default_rng(seed)
    return sp.random(
        n_samples,
        n_features,
        density=density,
        format="csr",
        random_state=seed,
        data_rvs=rng.standard_normal,
    )


def fitted_bytes(fitted):
    """The bytes of a fitted estimator's own arrays (its attributes ending in _).

    They are allocated during the fit, so its peak memory is at least this.
    """
    return sum(
        value.nbytes
        for name, value in vars(fitted).items()
        if name.endswith("_")
        and not name.startswith("_")
        and isinstance(value, np.ndarray)
    )


def gap_quality(X, y, alpha, l1_ratio, reference, records):
    """Gap to the best objective found, zeros, support errors and memory vs X."""
    values = {
        name: objective(
            X, y, r["fitted"].coef_, r["fitted"].intercept_, alpha, l1_ratio
        )
        for name, r in records.items()
    }
    best = min([objective(X, y, *reference, alpha, l1_ratio), *values.values()])
    ref_zeros = np.ravel(reference[0]) == 0
    size = x_bytes(X)

    def quality(name, fitted):
        zeros = np.ravel(fitted.coef_) == 0
        peak = records[name]["peak"]
        figures = {
            "iterations": getattr(fitted, "n_iter_", None),
            "gap": (values[name] - best) / abs(best),
            "x_mb": size / 1e6,
            "peak_over_x": None if peak is None else peak / size,
            "model_over_x": fitted_bytes(fitted) / size,
            "solver": getattr(fitted, "solver_", None),
        }
        if l1_ratio > 0:
            figures["zeros"] = int(zeros.sum())
            figures["support_errors"] = int(np.sum(zeros != ref_zeros))
        return figures

    return quality


def tight_lasso(X, y, alpha):
    """The L1 reference: sklearn's coordinate descent, tightly converged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    return model.coef_, model.intercept_


def l1_wide_rows(label, X, y, alpha, repeats):
    """Ours against ``Lasso`` on X, with the targets of the wide-data work."""
    systems = [
        System(
            "ours", lambda: WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
        ),
        System("Lasso", lambda: Lasso(alpha=alpha).fit(X, y), "ours"),
    ]
    records = measure(systems, repeats)
    quality = gap_quality(X, y, alpha, 1.0, tight_lasso(X, y, alpha), records)
    rows = make_rows(label, systems, records, quality)
    ours = rows[0]
    ours["targets"] = {
        "time <= Lasso": bool(rows[1]["ratio"] <= 1.0),
        "gap <= 1e-8": bool(ours["gap"] <= 1e-8),
        "same zeros": bool(ours["support_errors"] == 0),
        "peak <= 0.2 x X": bool(ours["peak_over_x"] <= 0.2),
    }
    return rows


def workload_sparse_l1(mode):
    """Workload 8: L1 on sparse X (three shapes) against Lasso."""
    rows = []
    for n, d, density in mode["sparse"]:
        X = sparse_data(n, d, density)
        y, alpha = planted_target(X)
        label = (
            f"8. Sparse L1: scipy.sparse.random({n}, {d}, density={density}), "
            f"alpha={alpha:.3g}"
        )
        rows += l1_wide_rows(label, X, y, alpha, mode["wide_repeats"])
    return rows


def workload_dense_wide(mode):
    """Workload 9: dense wide X, L1 against Lasso and L2 against Ridge."""
    n, d = mode["dense_wide"]
    X = np.random.default_rng(0).standard_normal((n, d))
    y, alpha = planted_target(X)
    rows = l1_wide_rows(
        f"9a. Dense wide L1: normal({n}, {d}), alpha={alpha:.3g}",
        X,
        y,
        alpha,
        mode["wide_repeats"],
    )
    l2 = 1e-2
    systems = [
        System("ours", lambda: WeightedLinearRegressor(alpha=l2).fit(X, y)),
        System("Ridge(alpha*n)", lambda: Ridge(alpha=l2 * n).fit(X, y), "ours"),
    ]
    records = measure(systems, mode["wide_repeats"])
    quality = gap_quality(X, y, l2, 0.0, ridge_reference_dual(X, y, l2), records)
    rows += make_rows(
        f"9b. Dense wide L2: normal({n}, {d}), alpha={l2}", systems, records, quality
    )
    return rows


def ridge_reference_dual(X, y, alpha):
    """The L2 optimum of wide X through the n x n kernel system (direct solve)."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - x_mean
    kernel = Xc @ Xc.T / len(y) + alpha * np.eye(len(y))
    dual = la.solve(kernel, (y - y_mean) / len(y), assume_a="pos")
    coef = Xc.T @ dual
    return coef, y_mean - x_mean @ coef


def workload_one_hot(mode):
    """Workload 10: one-hot data (5 columns of many levels), L1 against Lasso."""
    n, levels = mode["one_hot"]
    rng = np.random.default_rng(0)
    categories = rng.integers(levels, size=(n, 5))
    effects = rng.standard_normal((5, levels)) * (rng.uniform(size=(5, levels)) < 0.1)
    y = effects[np.arange(5), categories].sum(axis=1) + rng.standard_normal(n)
    X = OneHotEncoder().fit_transform(categories).tocsr()
    alpha = 0.02 * alpha_max(X, y)
    label = (
        f"10. One-hot L1: {n} rows, 5 columns of {levels} levels "
        f"(OneHotEncoder, {X.shape[1]} features), alpha={alpha:.3g}"
    )
    return l1_wide_rows(label, X, y, alpha, mode["wide_repeats"])


def workload_sparse_l2(mode):
    """Workload 11: L2 on sparse X against Ridge(sparse_cg) and Ridge(sag)."""
    rows = []
    for n, d, density in mode["sparse_l2"]:
        rows += sparse_l2_rows(n, d, density, mode["wide_repeats"])
    return rows


def sparse_l2_rows(n, d, density, repeats, alpha=1e-4):
    """One shape of workload 11."""
    X = sparse_data(n, d, density)
    y, _ = planted_target(X)
    systems = [
        System("ours", lambda: WeightedLinearRegressor(alpha=alpha).fit(X, y)),
        System(
            "Ridge(sparse_cg)",
            lambda: Ridge(alpha=alpha * n, solver="sparse_cg").fit(X, y),
            "ours",
        ),
        System(
            "Ridge(sag)",
            lambda: Ridge(alpha=alpha * n, solver="sag", random_state=0).fit(X, y),
            "ours",
        ),
    ]
    records = measure(systems, repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tight = Ridge(alpha=alpha * n, solver="sparse_cg", tol=1e-14, max_iter=10**5)
        tight.fit(X, y)
    quality = gap_quality(X, y, alpha, 0.0, (tight.coef_, tight.intercept_), records)
    label = (
        f"11. Sparse L2: scipy.sparse.random({n}, {d}, density={density}), "
        f"alpha={alpha}"
    )
    rows = make_rows(label, systems, records, quality)
    fastest = min(row["time"] for row in rows[1:])
    rows[0]["targets"] = {
        "time <= 0.5 x fastest Ridge": bool(rows[0]["time"] <= 0.5 * fastest),
        "gap <= 1e-8": bool(rows[0]["gap"] <= 1e-8),
    }
    return rows


# -- MLP workloads ---------------------------------------------------------------


def has_mlp():
    return hasattr(sk_weights, "MLPWeightsClassifier")


def epochs(fitted):
    """Epochs run by a fitted network (ours, sklearn's, or the PyTorch loop)."""
    return fitted.n_iter_


def mlp_params(epochs_, **extra):
    """The parameters both MLP classes share, set for exactly ``epochs_`` epochs."""
    return {
        "max_iter": epochs_,
        "tol": 0.0,
        "n_iter_no_change": epochs_ + 1,
        "random_state": 0,
        **extra,
    }


def ours_mlp(X, y, epochs_, **extra):
    def fit():
        model = sk_weights.MLPWeightsClassifier(**mlp_params(epochs_, **extra))
        return model.fit(X, y)

    return fit


def sklearn_mlp(X, y, epochs_, **extra):
    def fit():
        return MLPClassifier(**mlp_params(epochs_, **extra)).fit(X, y)

    return fit


def mlp_pair(X, y, epochs_, label, memory=True):
    """Ours and MLPClassifier on the workload's network, timed per epoch.

    ``memory``: whether the anchor's memory is measured too (ours' always is).
    """
    ours = f"ours {label}"
    return [
        System(ours, ours_mlp(X, y, epochs_, **MLP_SHAPE), per=epochs),
        System(
            f"MLPClassifier {label}",
            sklearn_mlp(X, y, epochs_, **MLP_SHAPE),
            ours,
            per=epochs,
            memory=memory,
        ),
    ]


def accuracy_quality(X_test, y_test):
    def quality(name, fitted):
        if not hasattr(fitted, "predict"):
            return {}
        return {"accuracy": accuracy_score(y_test, fitted.predict(X_test))}

    return quality


def workload_digits(mode):
    """Workload 5: digits, one hidden layer of 100, seconds per epoch, accuracy."""
    n_epochs = mode["digits_epochs"]
    label = f"5. MLP quality: digits, hidden (100,), {n_epochs} epochs"
    if not has_mlp():
        return [skipped(label, "MLPWeightsClassifier is not available")]
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    params = {"hidden_layer_sizes": (100,)}
    systems = [
        System("ours", ours_mlp(X_train, y_train, n_epochs, **params), per=epochs),
        System(
            "MLPClassifier",
            sklearn_mlp(X_train, y_train, n_epochs, **params),
            "ours",
            per=epochs,
        ),
    ]
    records = measure(systems, mode["repeats"])
    quality = accuracy_quality(X_test, y_test)
    return make_rows(label, systems, records, quality, "s/epoch")


def mlp_data(n_samples):
    """Standardised 10-class data of workloads 6 and 7, float64 and float32."""
    X, y = make_classification(
        n_samples + N_TEST, 100, n_informative=50, n_classes=10, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=N_TEST, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


MLP_SHAPE = {
    "hidden_layer_sizes": (256, 128),
    "activation": "relu",
    "solver": "adam",
    "batch_size": 256,
}


def workload_throughput(mode):
    """Workload 6: seconds per epoch in float64 and float32, GEMM share."""
    n, n_epochs = mode["mlp_samples"], mode["mlp_epochs"]
    label = (
        f"6. MLP throughput: make_classification({n}, 100, n_classes=10), "
        f"hidden (256, 128), adam, batch 256, {n_epochs} epochs"
    )
    if not has_mlp():
        return [skipped(label, "MLPWeightsClassifier is not available")]
    X64, y, X_test, y_test = mlp_data(n)
    systems = []
    for dtype in (np.float64, np.float32):
        X = X64.astype(dtype)
        bits = np.dtype(dtype).itemsize * 8
        systems += mlp_pair(X, y, n_epochs, f"float{bits}")
        ours = systems[-2].name
        if torch is not None and dtype == np.float32:
            systems.append(
                System(
                    f"PyTorch loop float{bits}",
                    torch_mlp(X, y, n_epochs, dtype),
                    ours,
                    per=epochs,
                )
            )
        for threads, suffix in ((None, ""), (1, ", 1 BLAS thread")):
            systems.append(
                System(
                    f"GEMMs alone float{bits}{suffix}",
                    gemms_alone(n, X.shape[1], 10, dtype, threads),
                    per=epochs,
                    memory=False,
                )
            )
    records = measure(systems, mode["repeats"])
    quality = accuracy_quality(X_test, y_test)
    rows = make_rows(label, systems, records, quality, "s/epoch")
    by_name = {row["system"]: row for row in rows}
    for bits in (64, 32):
        # The GEMMs' time is the better of the two thread settings.
        gemm = min(
            by_name[f"GEMMs alone float{bits}{suffix}"]["time"]
            for suffix in ("", ", 1 BLAS thread")
        )
        for name in (f"ours float{bits}", f"MLPClassifier float{bits}"):
            by_name[name]["gemm_share"] = gemm / by_name[name]["time"]
        if f"PyTorch loop float{bits}" in by_name:
            torch_row = by_name[f"PyTorch loop float{bits}"]
            torch_row["gemm_share"] = gemm / torch_row["time"]
    return rows


@dataclass
class EpochsRun:
    """What a hand-written training loop returns: epochs run, and no predict."""

    n_iter_: int


def gemms_alone(n_samples, n_features, n_classes, dtype, threads=None):
    """Time only the matrix products of one epoch of the (256, 128) network.

    Per batch: three forward products, three weight gradients and two
    back-propagated deltas (none to the input), on preallocated buffers;
    with ``threads`` BLAS threads (None: as set).
    """
    sizes = [n_features, *MLP_SHAPE["hidden_layer_sizes"], n_classes]
    batch = MLP_SHAPE["batch_size"]
    rng = np.random.default_rng(0)
    weights = [
        rng.standard_normal((a, b)).astype(dtype) for a, b in zip(sizes, sizes[1:])
    ]
    grads = [np.empty_like(w) for w in weights]
    acts = [rng.standard_normal((batch, s)).astype(dtype) for s in sizes]
    deltas = [np.empty((batch, s), dtype=dtype) for s in sizes]
    n_batches = -(-n_samples // batch)

    def fit():
        with threadpool_limits(threads):
            for _ in range(n_batches):
                for i, w in enumerate(weights):
                    np.matmul(acts[i], w, out=acts[i + 1])
                for i in reversed(range(len(weights))):
                    np.matmul(acts[i].T, acts[i + 1], out=grads[i])
                    if i > 0:
                        np.matmul(acts[i + 1], weights[i].T, out=deltas[i])
        return EpochsRun(1)

    return fit


def torch_mlp(X, y, n_epochs, dtype):
    """A plain PyTorch CPU training loop of the same network (adam, batch 256)."""
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    X_t = torch.from_numpy(np.ascontiguousarray(X))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    sizes = [X.shape[1], *MLP_SHAPE["hidden_layer_sizes"], int(y.max()) + 1]
    batch = MLP_SHAPE["batch_size"]

    def fit():
        torch.manual_seed(0)
        layers = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [torch.nn.Linear(a, b, dtype=torch_dtype), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(n_epochs):
            for idx in torch.randperm(len(y_t)).split(batch):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X_t[idx]), y_t[idx])
                loss.backward()
                optimizer.step()
        return EpochsRun(n_epochs)

    return fit


def workload_overheads(mode):
    """Workload 7: dropout=0.3 and penalty="l1" relative to the plain network."""
    n, n_epochs = mode["mlp_samples"], mode["mlp_epochs"]
    label = (
        f"7. Dropout and L1 overhead: workload 6's network, float32, {n_epochs} epochs"
    )
    if not has_mlp():
        return [skipped(label, "MLPWeightsClassifier is not available")]
    X64, y, X_test, y_test = mlp_data(n)
    X = X64.astype(np.float32)
    systems = [
        System("ours plain", ours_mlp(X, y, n_epochs, **MLP_SHAPE), per=epochs),
        System(
            "ours dropout=0.3",
            ours_mlp(X, y, n_epochs, dropout=0.3, **MLP_SHAPE),
            per=epochs,
        ),
        System(
            'ours penalty="l1"',
            ours_mlp(X, y, n_epochs, penalty="l1", **MLP_SHAPE),
            per=epochs,
        ),
    ]
    records = measure(systems, mode["repeats"])
    rows = make_rows(
        label, systems, records, accuracy_quality(X_test, y_test), "s/epoch"
    )
    plain = rows[0]["time"]
    for row in rows[1:]:
        row["overhead"] = row["time"] / plain - 1
    return rows


def skipped(label, reason):
    return {"workload": label, "system": "(skipped)", "note": reason}


# -- the linear classifier ------------------------------------------------------


def logistic_objective(X, y, coef, intercept, alpha, l1_ratio):
    """The binary training objective: mean log loss + elastic net (unit weights)."""
    coef = np.ravel(coef).astype(np.float64)
    eta = X @ coef + np.ravel(intercept)[0]
    loss = float(np.mean(np.logaddexp(0, eta) - y * eta))
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    return loss + alpha * penalty


def logistic_reference(solver, alpha, l1_ratio, n):
    """LogisticRegression with our optimum (C = 1 / (alpha * n)), either API."""
    old_api = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8)
    penalty = {"penalty": "l1" if l1_ratio else "l2"} if old_api else {}
    return LogisticRegression(
        **penalty, l1_ratio=l1_ratio, C=1 / (alpha * n), solver=solver, max_iter=10_000
    )


def workload_logistic(mode):
    """The linear classifier, binary: L2 and L1 against LogisticRegression."""
    n, d = mode["logistic"]
    X, y = make_classification(n, d, n_informative=20, random_state=0)
    return logistic_rows(
        X, y, 1e-4, 0.0, {"newton-cholesky": 1.0, "lbfgs": 0.5}, mode["repeats"]
    ) + logistic_rows(
        X, y, 1e-2, 1.0, {"liblinear": 0.5, "saga": 0.25}, mode["repeats"]
    )


def logistic_rows(X, y, alpha, l1_ratio, bounds, repeats):
    """Ours against LogisticRegression's solvers, with the time ``bounds``."""
    n, d = X.shape
    penalty = "l1" if l1_ratio else "l2"
    systems = [
        System(
            "ours",
            lambda: WeightedLinearClassifier(penalty=penalty, alpha=alpha).fit(X, y),
        )
    ]
    systems += [
        System(
            f"LogisticRegression({solver})",
            lambda solver=solver: logistic_reference(solver, alpha, l1_ratio, n).fit(
                X, y
            ),
            "ours",
            memory=False,
        )
        for solver in bounds
    ]
    records = measure(systems, repeats)
    values = {
        name: logistic_objective(
            X, y, r["fitted"].coef_, r["fitted"].intercept_, alpha, l1_ratio
        )
        for name, r in records.items()
    }
    best = min(values.values())
    # liblinear penalises its intercept: the reference zeros are the last's.
    reference = records[systems[-1].name]["fitted"].coef_ == 0

    def quality(name, fitted):
        zeros = fitted.coef_ == 0
        return {
            "iterations": int(np.max(getattr(fitted, "n_iter_", 0) or 0)),
            "gap": (values[name] - best) / abs(best),
            "zeros": int(zeros.sum()),
            "support_errors": int(np.sum(zeros != reference)),
        }

    label = (
        f"12. logistic {penalty}: make_classification({n}, {d}, "
        f"n_informative=20), alpha={alpha:g}"
    )
    rows = make_rows(label, systems, records, quality)
    ours = rows[0]
    ours["targets"] = {
        f"time <= {bound} x {solver}": bool(row["ratio"] <= bound)
        for (solver, bound), row in zip(bounds.items(), rows[1:])
    }
    ours["targets"]["gap <= 1e-8"] = bool(ours["gap"] <= 1e-8)
    if l1_ratio:
        ours["targets"]["same zeros"] = bool(ours["support_errors"] == 0)
    return rows


# -- speed where the users are (the "speed" section) ----------------------------

try:
    import skglm
except ImportError:
    skglm = None
try:
    import glum
except ImportError:
    glum = None
try:
    import statsmodels.api as statsmodels
except ImportError:
    statsmodels = None

#: Sizes of the speed section (full) and of its smoke run (quick).
SPEED_MODES = {
    "full": {
        "repeats": 5,
        "small_fits": 20,  # fits per timed repeat of a millisecond fit
        "wide": [
            ("sparse", 20_000, 5_000, 0.002),
            ("sparse", 10_000, 20_000, 0.001),
            ("sparse", 20_000, 50_000, 0.001),
            ("dense", 500, 20_000, None),
            ("one-hot", 100_000, 10, 500),
        ],
        # (n, d, density, share of alpha_max): weak penalties, no targets.
        "wide_weak": [
            (20_000, 5_000, 0.002, 0.01),
            (20_000, 5_000, 0.002, 0.001),
            (2_000, 3_000, 0.01, 0.001),
            (10_000, 20_000, 0.001, 0.001),
        ],
        "wide_repeats": 3,
        "tall": (100_000, 100),
        "mlp_samples": 100_000,
        "mlp_epochs": 2,
        "wine_epochs": 200,
    },
    "quick": {
        "repeats": 3,
        "small_fits": 3,
        "wide": [("sparse", 5_000, 2_000, 0.005), ("one-hot", 10_000, 5, 100)],
        "wide_weak": [(2_000, 1_000, 0.01, 0.01)],
        "wide_repeats": 2,
        "tall": (5_000, 50),
        "mlp_samples": 2_000,
        "mlp_epochs": 1,
        "wine_epochs": 20,
    },
}


def repeated(fit, times):
    """A fit callable that fits ``times`` times (millisecond fits time badly alone)."""

    def run():
        for _ in range(times):
            fitted = fit()
        return fitted

    return run


def scaled(loader):
    """A bundled data set, standardised."""
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def small_rows(label, systems, objective_of, reference, mode, with_zeros):
    """Time millisecond fits; gaps to the best objective, zeros vs ``reference``."""
    k = mode["small_fits"]
    timed = [
        System(s.name, repeated(s.fit, k), s.versus, per=lambda _, k=k: k)
        for s in systems
    ]
    records = measure(timed, mode["repeats"])
    values = {n: objective_of(r["fitted"]) for n, r in records.items()}
    best = min([*values.values(), objective_of(reference)])
    ref_zeros = np.ravel(reference.coef_) == 0

    def quality(name, fitted):
        figures = {
            "iterations": int(np.max(getattr(fitted, "n_iter_", 0) or 0)),
            "gap": (values[name] - best) / abs(best),
        }
        if with_zeros:
            zeros = np.ravel(fitted.coef_) == 0
            figures["zeros"] = int(zeros.sum())
            figures["support_errors"] = int(np.sum(zeros != ref_zeros))
        return figures

    rows = make_rows(label, timed, records, quality, "s/fit")
    rows[0]["targets"] = {
        f"time <= {row['system']}": bool(row["ratio"] <= 1.0) for row in rows[1:2]
    }
    rows[0]["targets"]["gap <= 1e-8"] = bool(rows[0]["gap"] <= 1e-8)
    if with_zeros:
        rows[0]["targets"]["same zeros"] = bool(rows[0]["support_errors"] == 0)
    return rows


def softmax_objective(X, y, coef, intercept, alpha):
    """Mean log loss (binary or softmax) + 0.5 alpha |W|^2, unit weights."""
    eta = X @ np.atleast_2d(coef).T + intercept
    if eta.shape[1] == 1:
        eta = np.column_stack([np.zeros(len(y)), eta[:, 0]])
    classes = np.unique(y)
    chosen = eta[np.arange(len(y)), np.searchsorted(classes, y)]
    loss = np.logaddexp.reduce(eta, axis=1) - chosen
    return float(loss.mean()) + 0.5 * alpha * float(np.sum(np.square(coef)))


def speed_small(mode):
    """S1: one fit on small bundled data against scikit-learn's exact solvers."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    rows = []
    X, y = scaled(load_diabetes)
    n = len(y)
    for penalty, alpha in (("l1", 1.0), ("l2", 1.0)):
        l1_ratio = 1.0 if penalty == "l1" else 0.0
        anchor = (
            System(
                "Lasso(tol=1e-10)",
                lambda a=alpha: Lasso(alpha=a, tol=1e-10).fit(X, y),
                "ours",
            )
            if penalty == "l1"
            else System(
                "Ridge(alpha*n)", lambda a=alpha: Ridge(alpha=a * n).fit(X, y), "ours"
            )
        )
        ours = System(
            "ours",
            lambda p=penalty, a=alpha: WeightedLinearRegressor(penalty=p, alpha=a).fit(
                X, y
            ),
        )
        reference = (
            Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)
            if penalty == "l1"
            else Ridge(alpha=alpha * n).fit(X, y)
        )
        rows += small_rows(
            f"S1. {penalty.upper()} fit: diabetes 442 x 10 standardised, alpha={alpha}",
            [ours, anchor],
            lambda f, a=alpha, r=l1_ratio: objective(X, y, f.coef_, f.intercept_, a, r),
            reference,
            mode,
            penalty == "l1",
        )
    for loader, label, alpha, penalty, solver in (
        (load_breast_cancer, "breast cancer 569 x 30", 1e-3, "l2", "lbfgs"),
        (load_breast_cancer, "breast cancer 569 x 30", 1e-2, "l1", "liblinear"),
        (load_wine, "wine 178 x 13, 3 classes", 1e-2, "l2", "lbfgs"),
    ):
        X, y = scaled(loader)
        n = len(y)
        l1_ratio = 1.0 if penalty == "l1" else 0.0
        anchor = logistic_reference(solver, alpha, l1_ratio, n).set_params(tol=1e-8)
        tight = logistic_reference(
            "saga" if penalty == "l1" else "lbfgs", alpha, l1_ratio, n
        ).set_params(tol=1e-12, max_iter=1_000_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tight.fit(X, y)
        if penalty == "l1":

            def objective_of(f, X=X, y=y, a=alpha):
                return logistic_objective(X, y, f.coef_, f.intercept_, a, 1.0)

        else:

            def objective_of(f, X=X, y=y, a=alpha):
                return softmax_objective(X, y, f.coef_, f.intercept_, a)

        rows += small_rows(
            f"S1. logistic {penalty.upper()}: {label}, alpha={alpha:g}",
            [
                System(
                    "ours",
                    lambda X=X, y=y, p=penalty, a=alpha: WeightedLinearClassifier(
                        penalty=p, alpha=a
                    ).fit(X, y),
                ),
                System(
                    f"LogisticRegression({solver}, tol=1e-8)",
                    lambda X=X, y=y, m=anchor: sklearn.base.clone(m).fit(X, y),
                    "ours",
                ),
            ],
            objective_of,
            tight,
            mode,
            penalty == "l1",
        )
    return rows


def speed_grid(mode):
    """S2: GridSearchCV over 20 alphas x 5 folds on diabetes, L1."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import GridSearchCV

    X, y = scaled(load_diabetes)
    grid = {"alpha": np.logspace(-3, 1, 20)}

    def search(estimator):
        return lambda: GridSearchCV(estimator, grid, cv=5).fit(X, y)

    systems = [
        System("ours", search(WeightedLinearRegressor(penalty="l1"))),
        System("Lasso(tol=1e-10)", search(Lasso(tol=1e-10)), "ours"),
        System("Lasso() (tol=1e-4)", search(Lasso()), "ours"),
    ]
    records = measure(systems, mode["repeats"])

    def quality(name, fitted):
        return {"r2": fitted.best_score_}

    rows = make_rows(
        "S2. GridSearchCV: 20 alphas x 5 folds, diabetes, L1 (R2 = best CV score)",
        systems,
        records,
        quality,
    )
    rows[0]["targets"] = {"time <= Lasso(tol=1e-10)": bool(rows[1]["ratio"] <= 1.0)}
    return rows + path_rows(X, y, mode)


def path_rows(X, y, mode):
    """weights_path of the L1 regressor on 100 alphas against lasso_path on
    the same alphas (X centred for it: lasso_path fits no intercept)."""
    from sklearn.linear_model import lasso_path

    from sk_weights import weights_path

    estimator = WeightedLinearRegressor(penalty="l1")
    alphas = weights_path(estimator, X, y, n_alphas=100).alphas
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    k = max(1, mode["small_fits"] // 4)
    systems = [
        System(
            "weights_path",
            repeated(lambda: weights_path(estimator, X, y, alphas=alphas), k),
            per=lambda _, k=k: k,
        ),
        System(
            "lasso_path (tol=1e-4)",
            repeated(lambda: lasso_path(Xc, yc, alphas=alphas), k),
            "weights_path",
            per=lambda _, k=k: k,
        ),
        System(
            "lasso_path (tol=1e-10)",
            repeated(lambda: lasso_path(Xc, yc, alphas=alphas, tol=1e-10), k),
            "weights_path",
            per=lambda _, k=k: k,
        ),
    ]
    records = measure(systems, mode["repeats"])
    _, tight, _ = lasso_path(Xc, yc, alphas=alphas, tol=1e-14, max_iter=10**6)
    tight = tight.T

    def quality(name, fitted):
        coefs = fitted.coefs if name == "weights_path" else fitted[1].T
        gap = np.abs(coefs - tight).max() / np.abs(tight).max()
        return {"gap": float(gap), "zeros": int((coefs == 0).sum())}

    rows = make_rows(
        "S2. weights_path: 100 alphas, diabetes, L1 (gap: largest weight "
        "difference from a tight lasso_path, relative)",
        systems,
        records,
        quality,
    )
    rows[0]["targets"] = {"time <= lasso_path": bool(rows[1]["ratio"] <= 1.0)}
    return rows


def random_sparse(n_samples, n_features, density, seed=0):
    """CSR data with standard-normal values at uniformly drawn distinct places.

    The distribution of ``scipy.sparse.random``, drawn in O(nonzeros) memory
    (``scipy.sparse.random`` takes minutes and gigabytes at 20000 x 50000).
    """
    rng = np.random.default_rng(seed)
    size = round(density * n_samples * n_features)
    places = rng.choice(n_samples * n_features, size=size, replace=False)
    rows, columns = np.divmod(places, n_features)
    values = rng.standard_normal(size)
    return sp.csr_matrix((values, (rows, columns)), shape=(n_samples, n_features))


def wide_problem(kind, n, d, extra):
    """The data of a wide L1 shape: X, y, alpha and a label."""
    if kind == "sparse":
        X = random_sparse(n, d, extra)
        y, alpha = planted_target(X)
        return X, y, alpha, f"sparse random({n}, {d}, density={extra})"
    if kind == "dense":
        X = np.random.default_rng(0).standard_normal((n, d))
        y, alpha = planted_target(X)
        return X, y, alpha, f"normal({n}, {d})"
    rng = np.random.default_rng(0)
    columns, levels = d, extra
    categories = rng.integers(levels, size=(n, columns))
    effects = rng.standard_normal((columns, levels))
    effects *= rng.uniform(size=(columns, levels)) < 0.1
    y = effects[np.arange(columns), categories].sum(axis=1) + rng.standard_normal(n)
    X = OneHotEncoder().fit_transform(categories).tocsr()
    alpha = 0.02 * alpha_max(X, y)
    label = (
        f"one-hot {n} rows, {columns} columns of {levels} levels "
        f"({X.shape[1]} features)"
    )
    return X, y, float(alpha), label


def speed_wide(mode):
    """S3: wide L1 against skglm's Lasso (after its JIT warm-up).

    The five shapes at the strength of :func:`planted_target`, with the
    targets of SPEC §16; then sparse shapes at weak penalties (a share of
    ``alpha_max``, where thousands of weights stay nonzero), measured the
    same way but without targets: the regime where skglm leads.
    """
    rows = []
    for kind, n, d, extra in mode["wide"]:
        X, y, alpha, shape = wide_problem(kind, n, d, extra)
        rows += wide_rows(f"S3. wide L1: {shape}, alpha={alpha:.3g}", X, y, alpha, mode)
    for n, d, density, share in mode["wide_weak"]:
        X = random_sparse(n, d, density)
        y, _ = planted_target(X)
        alpha = share * alpha_max(X, y)
        label = (
            f"S3. wide L1, weak penalty: sparse random({n}, {d}, density={density}), "
            f"alpha={share:g} x alpha_max"
        )
        rows += wide_rows(label, X, y, alpha, mode, targets=False)
    return rows


def wide_rows(label, X, y, alpha, mode, targets=True):
    """Our L1 fit and skglm's on one problem: time, gap, zeros and peak memory."""
    systems = [
        System(
            "ours",
            lambda: WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y),
        )
    ]
    rows = []
    if skglm is None:
        rows.append(skipped(label + " (skglm rows)", "skglm is not installed"))
        reference_coef = tight_lasso(X, y, alpha)
    else:
        # The untimed warm-up fit before the memory fit is its JIT warm-up.
        # max_iter: its working-set rounds, which weak penalties need more of.
        systems.append(
            System(
                "skglm Lasso(tol=1e-10)",
                lambda: skglm.Lasso(alpha=alpha, tol=1e-10, max_iter=200).fit(X, y),
                "ours",
            )
        )
        # Its own tight solution is the reference: a tighter tolerance than
        # 1e-10 makes it grow its working set to every feature.
        tight = skglm.Lasso(alpha=alpha, tol=1e-10, max_iter=200).fit(X, y)
        reference_coef = (tight.coef_, tight.intercept_)
    records = measure(systems, mode["wide_repeats"])
    quality = gap_quality(X, y, alpha, 1.0, reference_coef, records)
    new = make_rows(label, systems, records, quality)
    if targets:
        ours = new[0]
        ours["targets"] = {
            "gap <= 1e-8": bool(ours["gap"] <= 1e-8),
            "same zeros": bool(ours["support_errors"] == 0),
            "peak <= 0.2 x X": bool(ours["peak_over_x"] <= 0.2),
        }
        if len(new) > 1:
            ours["targets"]["time <= skglm"] = bool(new[1]["ratio"] <= 1.0)
    return rows + new


def glm_objective(X, y, coef, intercept, alpha, l1_ratio, loss):
    """Mean loss (log loss, or half the Poisson deviance) + elastic net."""
    coef = np.ravel(coef).astype(np.float64)
    eta = X @ coef + np.ravel(intercept)[0]
    if loss == "log":
        value = np.mean(np.logaddexp(0, eta) - y * eta)
    else:
        value = np.mean(np.exp(eta) - y * eta)  # half deviance up to a constant
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    return float(value) + alpha * penalty


def glum_system(family, alpha, l1_ratio, X, y):
    """glum's GeneralizedLinearRegressor on the same objective."""
    return System(
        f"glum({family}, l1_ratio={l1_ratio:g})",
        lambda: glum.GeneralizedLinearRegressor(
            family=family, alpha=alpha, l1_ratio=l1_ratio, gradient_tol=1e-8
        ).fit(X, y),
        "ours",
    )


def speed_tall(mode):
    """S4: tall GLMs: logistic L2 (and Poisson L2 / L1 when the loss exists)."""
    n, d = mode["tall"]
    X, y = make_classification(n, d, n_informative=30, random_state=0)
    alpha = 1e-4
    systems = [
        System(
            "ours",
            lambda: WeightedLinearClassifier(penalty="l2", alpha=alpha).fit(X, y),
        ),
        System(
            "LogisticRegression(lbfgs)",
            lambda: logistic_reference("lbfgs", alpha, 0.0, n).fit(X, y),
            "ours",
        ),
        System(
            "LogisticRegression(newton-cholesky)",
            lambda: logistic_reference("newton-cholesky", alpha, 0.0, n).fit(X, y),
            "ours",
        ),
    ]
    if glum is not None:
        systems.append(glum_system("binomial", alpha, 0.0, X, y))
    rows = tall_rows(
        f"S4. logistic L2: make_classification({n}, {d}), alpha={alpha:g}",
        systems,
        lambda f: glm_objective(X, y, f.coef_, f.intercept_, alpha, 0.0, "log"),
        mode,
        {"LogisticRegression(lbfgs)": 0.5, "LogisticRegression(newton-cholesky)": 1.0},
    )
    if glum is None:
        rows.append(skipped("S4. (glum rows)", "glum is not installed"))
    if "loss" not in WeightedLinearRegressor().get_params():
        rows.append(skipped("S4. Poisson", "WeightedLinearRegressor has no loss yet"))
        return rows
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(0)
    Xp = rng.standard_normal((n, d)) / np.sqrt(d)
    yp = rng.poisson(np.exp(Xp @ rng.uniform(-1, 1, d) + 0.5)).astype(np.float64)
    for penalty, alpha in (("l2", 1e-4), ("l1", 1e-3)):
        l1_ratio = 1.0 if penalty == "l1" else 0.0
        systems = [
            System(
                "ours",
                lambda p=penalty, a=alpha: WeightedLinearRegressor(
                    loss="poisson", penalty=p, alpha=a
                ).fit(Xp, yp),
            )
        ]
        bounds = {}
        if penalty == "l2":
            systems.append(
                System(
                    "PoissonRegressor(lbfgs)",
                    lambda a=alpha: PoissonRegressor(
                        alpha=a, tol=1e-8, max_iter=10_000
                    ).fit(Xp, yp),
                    "ours",
                )
            )
            bounds["PoissonRegressor(lbfgs)"] = 1.0
        if glum is not None:
            systems.append(glum_system("poisson", alpha, l1_ratio, Xp, yp))
            bounds[systems[-1].name] = 1.0
        rows += tall_rows(
            f"S4. Poisson {penalty.upper()}: normal({n}, {d}) / sqrt(d), "
            f"alpha={alpha:g}",
            systems,
            lambda f, a=alpha, r=l1_ratio: glm_objective(
                Xp, yp, f.coef_, f.intercept_, a, r, "poisson"
            ),
            mode,
            bounds,
        )
    return rows


def tall_rows(label, systems, objective_of, mode, bounds):
    """Time the tall fits; gaps to the best objective found; the ``bounds``."""
    records = measure(systems, mode["repeats"])
    values = {n: objective_of(r["fitted"]) for n, r in records.items()}
    best = min(values.values())

    def quality(name, fitted):
        return {
            "iterations": int(np.max(getattr(fitted, "n_iter_", 0) or 0)),
            "gap": (values[name] - best) / abs(best),
            "zeros": int(np.sum(np.ravel(fitted.coef_) == 0)),
        }

    rows = make_rows(label, systems, records, quality)
    by_name = {row["system"]: row for row in rows}
    rows[0]["targets"] = {
        f"time <= {bound} x {name}": bool(by_name[name]["ratio"] <= bound)
        for name, bound in bounds.items()
        if name in by_name
    }
    rows[0]["targets"]["gap <= 1e-8"] = bool(rows[0]["gap"] <= 1e-8)
    return rows


def speed_networks(mode):
    """S5: the MLP epoch (float32 and float64) and MLP on wine, vs MLPClassifier."""
    from sklearn.datasets import load_wine

    n, n_epochs = mode["mlp_samples"], mode["mlp_epochs"]
    label = (
        f"S5. MLP epoch: make_classification({n}, 100, n_classes=10), "
        f"hidden (256, 128), adam, batch 256"
    )
    if not has_mlp():
        return [skipped(label, "MLPWeightsClassifier is not available")]
    X64, y, X_test, y_test = mlp_data(n)
    rows = []
    for dtype, bound in ((np.float32, 0.5), (np.float64, None)):
        X = X64.astype(dtype)
        bits = np.dtype(dtype).itemsize * 8
        # Each system also fits twice the epochs: the difference is the time
        # of the added epochs alone, without the fixed cost of a fit
        # (validation, initialisation, and our final pass for the records).
        systems = []
        for count in (n_epochs, 2 * n_epochs):
            suffix = "" if count == n_epochs else f", {count} epochs"
            systems += mlp_pair(X, y, count, f"float{bits}{suffix}", memory=False)
        records = measure(systems, mode["repeats"])
        new = make_rows(
            f"{label}, float{bits}, {n_epochs} epochs (per epoch) and "
            f"{2 * n_epochs} epochs",
            systems,
            records,
            accuracy_quality(X_test.astype(dtype), y_test),
            "s/epoch",
        )
        marginal = added_epochs_rows(
            f"{label}, float{bits}: time per added epoch (fits of {2 * n_epochs} "
            f"minus fits of {n_epochs} epochs)",
            new,
            n_epochs,
        )
        if bound:
            marginal[0]["targets"] = {
                f"added epoch <= {bound} x MLPClassifier's": bool(
                    marginal[1]["ratio"] <= bound
                )
            }
        rows += new + marginal
    Xw, yw = scaled(load_wine)
    n_epochs = mode["wine_epochs"]
    systems = [
        System("ours", ours_mlp(Xw, yw, n_epochs, hidden_layer_sizes=(100,))),
        System(
            "MLPClassifier",
            sklearn_mlp(Xw, yw, n_epochs, hidden_layer_sizes=(100,)),
            "ours",
        ),
    ]
    records = measure(systems, mode["repeats"])
    new = make_rows(
        f"S5. MLP on wine: hidden (100,), adam, {n_epochs} epochs "
        "(acc on training data)",
        systems,
        records,
        accuracy_quality(Xw, yw),
    )
    new[0]["targets"] = {"time <= 0.5 x MLPClassifier": bool(new[1]["ratio"] <= 0.5)}
    return rows + new


def added_epochs_rows(label, rows, n_epochs):
    """Rows of the time per added epoch, from fits of ``n_epochs`` and twice that.

    ``rows``: ours and the anchor at ``n_epochs``, then both at ``2 *
    n_epochs`` (medians per epoch). The time of the added epochs is the
    difference of the two fits' medians; it leaves out the fixed cost of a
    fit, so it has no spread of its own ("min-max" is blank).
    """
    added = []
    for few, more in zip(rows[:2], rows[2:]):
        seconds = (more["time"] * 2 * n_epochs - few["time"] * n_epochs) / n_epochs
        added.append(
            {
                "workload": label,
                "system": few["system"],
                "unit": "s/epoch",
                "time": seconds,
                "repeats": few["repeats"],
                "peak_mb": None,
                "warnings": [],
            }
        )
    added[1]["versus"] = added[0]["system"]
    added[1]["ratio"] = added[0]["time"] / added[1]["time"]
    return added


def speed_inference(mode):
    """S6: the table of standard errors, p-values and intervals beside statsmodels.

    Both systems go from the data to the whole table (weights, standard
    errors, p-values, intervals): ours is ``weight_inference`` of an unfitted
    estimator (the fit included, the report with the table returned),
    statsmodels' is ``fit()`` and then ``bse``, ``pvalues`` and ``conf_int()``.
    The row "ours, fitted" starts from the fitted model a user already has.
    """
    from sklearn.datasets import load_breast_cancer, load_diabetes

    label = "S6. weight_inference"
    if statsmodels is None:
        return [skipped(label, "statsmodels is not installed (the test extra)")]
    rows = []
    cases = [
        ("diabetes 442 x 10, OLS", load_diabetes, "nonrobust"),
        ("diabetes 442 x 10, OLS HC3", load_diabetes, "HC3"),
        # All 30 columns separate the classes (no finite unpenalised weights).
        ("breast cancer, its 10 mean features, Logit", load_breast_cancer, None),
    ]
    for name, loader, cov_type in cases:
        X, y = loader(return_X_y=True)
        if cov_type is None:
            X = StandardScaler().fit_transform(X[:, :10])
            estimator = WeightedLinearClassifier(penalty=None)
            cov, options = "nonrobust", {}

            def theirs(X=X, y=y):
                fit = statsmodels.Logit(y, statsmodels.add_constant(X)).fit(disp=0)
                return fit.params, fit.bse, fit.pvalues, fit.conf_int()

        else:
            estimator = WeightedLinearRegressor(penalty=None)
            cov, options = cov_type, {"cov_type": cov_type}

            def theirs(X=X, y=y, options=options):
                fit = statsmodels.OLS(y, statsmodels.add_constant(X)).fit(**options)
                return fit.params, fit.bse, fit.pvalues, fit.conf_int()

        fitted = sklearn.base.clone(estimator).fit(X, y)
        k = mode["small_fits"]

        def table_of(model, X=X, y=y, cov=cov):
            return lambda: weight_inference(model, X, y, cov_type=cov)

        systems = [
            System("ours", repeated(table_of(estimator), k), per=lambda _, k=k: k),
            System(
                "ours, fitted",
                repeated(table_of(fitted), k),
                per=lambda _, k=k: k,
                info={"note": "from the fitted model"},
            ),
            System("statsmodels", repeated(theirs, k), "ours", per=lambda _, k=k: k),
        ]
        records = measure(systems, mode["repeats"])
        reference = records["statsmodels"]["fitted"]

        def quality(system, result, reference=reference):
            if system == "statsmodels":
                return {}
            data = result.to_dict()
            se = np.empty(len(data["features"]))
            for row in data["features"]:
                se[row["index"]] = row["weight_se"]
            ours = np.r_[data["inference"]["intercept"]["weight_se"], se]
            theirs = np.asarray(reference[1])
            return {"se_error": float(np.max(np.abs(ours - theirs) / theirs))}

        new = make_rows(f"{label}: {name}", systems, records, quality, "s/table")
        new[0]["targets"] = {"time <= statsmodels": bool(new[2]["ratio"] <= 1.0)}
        rows += new
    return rows


SPEED_WORKLOADS = [
    speed_small,
    speed_grid,
    speed_wide,
    speed_tall,
    speed_networks,
    speed_inference,
]


WORKLOADS = [
    workload_l2,
    workload_ill_conditioned,
    workload_lasso,
    workload_scaling,
    workload_digits,
    workload_throughput,
    workload_overheads,
    workload_sparse_l1,
    workload_dense_wide,
    workload_one_hot,
    workload_sparse_l2,
    workload_logistic,
]


# -- reporting -------------------------------------------------------------------


def environment():
    """Versions, CPU and the BLAS / thread set-up, as threadpoolctl sees it."""
    libraries = [
        {
            key: info.get(key)
            for key in (
                "internal_api",
                "version",
                "num_threads",
                "threading_layer",
                "architecture",
                "prefix",
            )
        }
        for info in threadpool_info()
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "sk_weights": sk_weights.__version__,
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average": os.getloadavg(),
        "threadpools": libraries,
    }


COLUMNS = [
    # (header, key, format)
    ("system", "system", "{}"),
    ("solver_", "solver", "{}"),
    ("time", "time", "{:.4g}"),
    ("min-max", None, None),
    ("n", "repeats", "{}"),
    ("ours/this", "ratio", "{:.3f}"),
    ("iter", "iterations", "{}"),
    ("gap", "gap", "{:.1e}"),
    ("SE rel. err", "se_error", "{:.1e}"),
    ("R2", "r2", "{:.4f}"),
    ("acc", "accuracy", "{:.4f}"),
    ("zeros", "zeros", "{}"),
    ("supp.err", "support_errors", "{}"),
    ("GEMM share", "gemm_share", "{:.0%}"),
    ("overhead", "overhead", "{:+.0%}"),
    ("peak MB", "peak_mb", "{:.1f}"),
    ("X MB", "x_mb", "{:.1f}"),
    ("peak/X", "peak_over_x", "{:.3f}"),
    ("model/X", "model_over_x", "{:.3f}"),
    ("mem ours/this", "memory_ratio", "{:.3f}"),
    ("notes", None, None),
]


def cell(row, key, fmt):
    value = row.get(key)
    return "" if value is None else fmt.format(value)


def format_table(rows):
    """Render the rows as one Markdown table per workload."""
    lines = []
    workloads = list(dict.fromkeys(row["workload"] for row in rows))
    for workload in workloads:
        group = [row for row in rows if row["workload"] == workload]
        used = [
            c
            for c in COLUMNS
            if c[1] is None or any(row.get(c[1]) is not None for row in group)
        ]
        unit = group[0].get("unit", "s")
        lines += ["", f"### {workload}", ""]
        header = [f"{h} ({unit})" if h == "time" else h for h, _, _ in used]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in used) + "|")
        for row in group:
            cells = []
            for header_, key, fmt in used:
                if header_ == "min-max":
                    text = f"{row['min']:.4g}-{row['max']:.4g}" if "min" in row else ""
                elif header_ == "notes":
                    text = row.get("note", "") or ", ".join(row.get("warnings", []))
                    missed = [k for k, ok in row.get("targets", {}).items() if not ok]
                    if row.get("targets"):
                        verdict = "missed: " + "; ".join(missed) if missed else "met"
                        text = f"targets {verdict}" + (f"; {text}" if text else "")
                else:
                    text = cell(row, key, fmt)
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_environment(env):
    lines = [
        f"Python {env['python']}, NumPy {env['numpy']}, SciPy {env['scipy']}, "
        f"scikit-learn {env['scikit-learn']}, sk_weights {env['sk_weights']}, "
        f"PyTorch {env['torch'] or 'not installed'}; {env['cpu_count']} CPUs "
        f"({env['machine']}), load average {env['load_average'][0]:.2f} at start.",
    ]
    for lib in env["threadpools"]:
        lines.append(
            f"- {lib['internal_api']} {lib['version']} ({lib['prefix']}): "
            f"{lib['num_threads']} threads, {lib['threading_layer']}, "
            f"{lib['architecture']}"
        )
    if env["torch_threads"] is not None:
        lines.append(f"- torch: {env['torch_threads']} threads")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.add_argument(
        "--only", metavar="N", type=int, nargs="+", help="run only these workloads"
    )
    parser.add_argument(
        "--threads",
        metavar="N",
        type=int,
        help="limit BLAS (and PyTorch) to N threads for every system",
    )
    parser.add_argument(
        "--section",
        choices=["main", "speed"],
        default="main",
        help='"speed": the tables of "speed where the users are" (about 6 minutes)',
    )
    parser.add_argument(
        "--assert-targets",
        action="store_true",
        help="exit with status 1 when a wide-data target is missed",
    )
    args = parser.parse_args(argv)
    size = "quick" if args.quick else "full"
    mode = SPEED_MODES[size] if args.section == "speed" else MODES[size]
    with threadpool_limits(args.threads):
        if args.threads and torch is not None:
            torch.set_num_threads(args.threads)
        return run(mode, args)


def run(mode, args):
    """Run the selected workloads, print their tables, write the JSON."""
    env = {**environment(), "threads_limit": args.threads}
    print(format_environment(env))
    print(
        "Times: median over the repeats (n) with min-max; ours/this is the ratio "
        "of the medians. Peak MB: extra memory during one fit, as tracemalloc "
        "counts it (Python and NumPy allocations only)."
    )
    rows, started = [], time.perf_counter()
    workloads = SPEED_WORKLOADS if args.section == "speed" else WORKLOADS
    print(f"Load average {os.getloadavg()} at the start.")
    for number, workload in enumerate(workloads, start=1):
        if args.only and number not in args.only:
            continue
        new = workload(mode)
        rows += new
        print(format_table(new), flush=True)
        gc.collect()
    elapsed = time.perf_counter() - started
    missed = [
        f"{row['workload']}: {target}"
        for row in rows
        for target, ok in row.get("targets", {}).items()
        if not ok
    ]
    if any("targets" in row for row in rows):
        print("\nTargets: " + ("all met" if not missed else "missed:"))
        print("\n".join(f"- {line}" for line in missed))
    print(f"\nTotal {elapsed:.0f} s; load average {os.getloadavg()} at the end.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"environment": env, "seconds": elapsed, "rows": rows}, f, indent=1
            )
    return 1 if args.assert_targets and missed else 0


if __name__ == "__main__":
    sys.exit(main())
