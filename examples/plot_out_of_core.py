"""
Out of core: learn from data on disk, one chunk at a time
=========================================================

When the training data do not fit in memory, keep them in a file and let the
model see one chunk at a time. :meth:`~sk_weights.WeightedLinearRegressor.partial_fit`
runs one epoch of mini-batch gradient descent on the chunk it is given and
keeps the weights *and* the optimiser's state (the momentum) for the next
call, so a loop over the chunks of a :class:`numpy.memmap` trains the model
while only one chunk is ever read into memory.

Here the file is small enough to load as well, so that we can check the two
claims that matter: streaming from disk gives exactly the model that the same
``partial_fit`` calls give on the data in memory, and that model is close to
the exact optimum of the full-batch solver.
"""

# %%
# Write a data set to disk
# ------------------------
# 200,000 samples of 20 features (32 MB), written chunk by chunk so that the
# writer never holds more than one chunk either. The target is a sparse linear
# function of the features plus noise.
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from sk_weights import WeightedLinearRegressor

n_samples, n_features, chunk_size = 200_000, 20, 10_000
rng = np.random.default_rng(0)
true_coef = rng.normal(size=n_features) * (rng.random(n_features) < 0.5)

folder = Path(tempfile.mkdtemp())
X_file = np.memmap(
    folder / "X.f64", dtype=np.float64, mode="w+", shape=(n_samples, n_features)
)
y_file = np.memmap(folder / "y.f64", dtype=np.float64, mode="w+", shape=(n_samples,))
for start in range(0, n_samples, chunk_size):
    X_chunk = rng.normal(size=(chunk_size, n_features))
    X_file[start : start + chunk_size] = X_chunk
    y_file[start : start + chunk_size] = (
        X_chunk @ true_coef + 3.0 + rng.normal(scale=0.5, size=chunk_size)
    )
X_file.flush()
y_file.flush()
del X_file, y_file

# %%
# Stream the file through ``partial_fit``
# ---------------------------------------
# Open the files read-only and pass over them a few times. Each call sees one
# chunk (10,000 rows), much larger than a mini-batch (``batch_size="auto"`` is
# 200 rows): every call takes 50 gradient steps.
X_disk = np.memmap(
    folder / "X.f64", dtype=np.float64, mode="r", shape=(n_samples, n_features)
)
y_disk = np.memmap(folder / "y.f64", dtype=np.float64, mode="r", shape=(n_samples,))


def stream(X, y, n_passes=3):
    """Train a fresh model by partial_fit over the chunks of X and y."""
    model = WeightedLinearRegressor(random_state=0)
    for _ in range(n_passes):
        for start in range(0, len(y), chunk_size):
            rows = slice(start, start + chunk_size)
            model.partial_fit(X[rows], y[rows])
    return model


tic = time.perf_counter()
streamed = stream(X_disk, y_disk)
print(f"streamed {streamed.n_iter_} chunks in {time.perf_counter() - tic:.2f} s")

# %%
# Compare with the data in memory
# -------------------------------
# The same calls on arrays in memory give bit-identical weights: the memmap is
# only where the numbers live.
X, y = np.array(X_disk), np.array(y_disk)
in_memory = stream(X, y)
print(
    "identical to the in-memory run:", np.array_equal(streamed.coef_, in_memory.coef_)
)

# %%
# The full-batch solver finds the exact optimum of the same objective (it
# needs all of X at once). Three passes of stochastic gradient descent land
# within about a hundredth of it, and predict as well.
exact = WeightedLinearRegressor().fit(X, y)
gap = np.abs(streamed.coef_ - exact.coef_).max()
print(f"largest weight difference: {gap:.4f} (largest weight {exact.coef_.max():.2f})")
print(f"intercept: streamed {streamed.intercept_:.3f}, exact {exact.intercept_:.3f}")
print(f"R^2: streamed {streamed.score(X, y):.5f}, exact {exact.score(X, y):.5f}")

# %%
# On a cluster, ``dask_ml.wrappers.Incremental`` runs the same loop over the
# blocks of a ``dask.array`` (see the "Scaling out" page of the docs).
del X_disk, y_disk
shutil.rmtree(folder)
