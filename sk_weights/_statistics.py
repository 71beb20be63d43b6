"""Weighted feature statistics of dense or sparse X that never copy X.

The fit records keep each feature's weighted mean (the baseline of
explanations) and standard deviation (the scale of its weights). X may be
large against the memory: dense X is read in row blocks of about a MiB,
each converted to float64 on its own (a view when X is float64 already);
sparse X a slice of its stored values at a time. The memory beyond X is
O(n_samples + n_features) plus one block.
"""

import numpy as np
import scipy.sparse as sp

# Blocks of about this many bytes of float64.
_BLOCK_BYTES = 2**20
# Sparse X is read at least this many stored values at a time.
_MIN_CHUNK = 2**12


def _row_blocks(X):
    """Yield float64 row blocks of dense X (views when X is float64)."""
    rows = max(1, _BLOCK_BYTES // (8 * max(X.shape[1], 1)))
    for start in range(0, X.shape[0], rows):
        yield (
            slice(start, start + rows),
            np.asarray(X[start : start + rows], dtype=np.float64),
        )


def compressed_bounds(X, parts, minimum):
    """Bounds of runs of rows (columns for CSC) of sparse X, by stored values.

    Each run holds about ``1 / parts`` of X's stored values and at least
    ``minimum`` (a run ends at a row's end); runs without a stored value are
    left out. Returns the sorted bounds, ``length`` last.
    """
    length = X.indptr.size - 1
    per_part = max(X.nnz // parts, minimum)
    bounds = np.searchsorted(X.indptr, np.arange(0, X.nnz, per_part), "right") - 1
    return np.unique(np.append(np.clip(bounds, 0, length), length))


def _sparse_chunks(X):
    """Yield ``(rows, columns, float64 values)`` of slices of sparse X's values."""
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    by_rows = X.format == "csr"
    indptr = X.indptr
    bounds = compressed_bounds(X, parts=64, minimum=_MIN_CHUNK)
    for start, stop in zip(bounds[:-1], bounds[1:]):
        first, last = indptr[start], indptr[stop]
        outer = np.repeat(np.arange(start, stop), np.diff(indptr[start : stop + 1]))
        inner = X.indices[first:last]
        values = X.data[first:last].astype(np.float64)
        yield (outer, inner, values) if by_rows else (inner, outer, values)


def feature_mean(X, weights):
    """Mean of each column of X under the normalised sample ``weights``."""
    n_features = X.shape[1]
    mean = np.zeros(n_features)
    if sp.issparse(X) and X.dtype == np.float64:
        # One product over the stored values, without a copy of them.
        return np.asarray(X.T @ np.asarray(weights, dtype=np.float64)).ravel()
    if sp.issparse(X):
        for rows, columns, values in _sparse_chunks(X):
            mean += np.bincount(columns, values * weights[rows], minlength=n_features)
        return mean
    for rows, block in _row_blocks(X):
        mean += weights[rows] @ block
    return mean


def feature_std(X, weights):
    """Standard deviation of each column of X under the normalised ``weights``.

    Computed on the columns divided by their largest magnitude, so that no
    square overflows whatever the dtype and scale of X; dense columns are
    centred before squaring (no cancellation).
    """
    n_features = X.shape[1]
    scale = np.zeros(n_features)
    if sp.issparse(X):
        for _, columns, values in _sparse_chunks(X):
            np.maximum.at(scale, columns, np.abs(values))
        scale[scale == 0] = 1.0
        mean, second = np.zeros(n_features), np.zeros(n_features)
        for rows, columns, values in _sparse_chunks(X):
            values /= scale[columns]
            values_weighted = values * weights[rows]
            mean += np.bincount(columns, values_weighted, minlength=n_features)
            values_weighted *= values
            second += np.bincount(columns, values_weighted, minlength=n_features)
        variance = second - mean * mean
    else:
        for _, block in _row_blocks(X):
            np.maximum(scale, np.abs(block).max(axis=0, initial=0.0), out=scale)
        scale[scale == 0] = 1.0
        mean = feature_mean(X, weights) / scale
        variance = np.zeros(n_features)
        for rows, block in _row_blocks(X):
            centred = block / scale
            centred -= mean
            centred *= centred
            variance += weights[rows] @ centred
    return scale * np.sqrt(np.maximum(variance, 0))
