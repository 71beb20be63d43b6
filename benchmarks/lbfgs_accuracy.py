"""Held-out quality of ``solver="lbfgs"`` beside scikit-learn's, at equal penalties.

Usage::

    python benchmarks/lbfgs_accuracy.py             # 3 seeds
    python benchmarks/lbfgs_accuracy.py --seeds 5

Workloads: the digits (1,797 x 64, 10 classes), standardised, with 32 hidden
units, scored by test accuracy; ``make_friedman1`` (1,000 x 10, noise 1),
standardised, with 32 hidden units, scored by test R². Each is split once
(a quarter held out), and each seed initialises both networks. Both minimise
the same objective: scikit-learn's L2 term ``alpha / (2 n) ||W||²`` is
``alpha / n`` here, with ``n`` the training rows. Both run
scikit-learn's defaults otherwise (``max_iter=200`` iterations,
``max_fun=15000``, ``tol=1e-4``). The table gives each seed's score and the
mean; the numbers are qualities, not timings.
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier, MLPWeightsRegressor

SKLEARN_ALPHA = 1e-4


def workloads():
    """Yield (name, ours, theirs, X_train, X_test, y_train, y_test)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    yield (
        "digits (accuracy)",
        MLPWeightsClassifier,
        MLPClassifier,
        scaler.transform(X_train),
        scaler.transform(X_test),
        y_train,
        y_test,
    )
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    yield (
        "make_friedman1 (R²)",
        MLPWeightsRegressor,
        MLPRegressor,
        scaler.transform(X_train),
        scaler.transform(X_test),
        y_train,
        y_test,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        f"{'workload':22s} {'model':22s} "
        + " ".join(f"seed {s:<3d}" for s in range(args.seeds))
        + "     mean"
    )
    for name, ours, theirs, X_train, X_test, y_train, y_test in workloads():
        n = X_train.shape[0]
        # The same objective: scikit-learn's alpha / n is our alpha.
        for cls, alpha in ((theirs, SKLEARN_ALPHA), (ours, SKLEARN_ALPHA / n)):
            scores = []
            for seed in range(args.seeds):
                model = cls(
                    hidden_layer_sizes=(32,),
                    solver="lbfgs",
                    alpha=alpha,
                    random_state=seed,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X_train, y_train)
                scores.append(model.score(X_test, y_test))
            values = " ".join(f"{v:8.4f}" for v in scores)
            print(f"{name:22s} {cls.__name__:22s} {values} {np.mean(scores):8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
