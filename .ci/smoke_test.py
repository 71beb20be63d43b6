"""Smoke test of an installed sk_weights, run from outside the source tree.

Checks that the package imported is the installed one (not a source checkout),
that both estimators fit and predict, that a model survives the safe
``save`` / ``load`` round trip, and that the ``sk-weights`` console script fits
and reports a model from a CSV file. Exits non-zero on the first failure.
"""

import csv
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, load_iris

import sk_weights

site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
package_dir = Path(sk_weights.__file__).resolve().parent
assert package_dir.parent == site_packages, f"imported from {package_dir}"
print(f"sk_weights {sk_weights.__version__} from {package_dir}")

workdir = Path(tempfile.mkdtemp())
X, y = load_diabetes(return_X_y=True)
X = (X - X.mean(axis=0)) / X.std(axis=0)
linear = sk_weights.WeightedLinearRegressor(penalty="l1", alpha=0.1).fit(X, y)
assert linear.score(X, y) > 0.4, linear.score(X, y)
assert np.any(linear.coef_ == 0.0), "L1 gave no exact zero"

X_iris, y_iris = load_iris(return_X_y=True)
X_iris = (X_iris - X_iris.mean(axis=0)) / X_iris.std(axis=0)
mlp = sk_weights.MLPWeightsClassifier(
    hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=500, random_state=0
).fit(X_iris, y_iris)
assert mlp.score(X_iris, y_iris) > 0.9, mlp.score(X_iris, y_iris)

for model, data in [(linear, X), (mlp, X_iris)]:
    path = workdir / f"{type(model).__name__}.npz"
    sk_weights.save(model, path)
    loaded = sk_weights.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
print("fit, predict and the save/load round trip work")

script = shutil.which("sk-weights", path=str(Path(sys.executable).parent))
assert script is not None, "the sk-weights console script is not installed"
table = workdir / "diabetes.csv"
with table.open("w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow([f"x{j}" for j in range(X.shape[1])] + ["target"])
    writer.writerows(np.column_stack([X, y]).tolist())
model_file = workdir / "model.npz"
subprocess.run(
    [script, "fit", str(table), "--target", "target", "--out", str(model_file)],
    check=True,
    capture_output=True,
)
report = subprocess.run(
    [script, "report", str(model_file)], check=True, capture_output=True, text=True
)
assert "x0" in report.stdout, report.stdout
print("the sk-weights console script fits and reports a model")
shutil.rmtree(workdir)
