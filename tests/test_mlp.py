"""Tests of MLPWeightsClassifier against MLPClassifier and exact facts."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import MLPWeightsClassifier
from sk_weights._network import Layout, Workspace, forward
from sk_weights._sklearn_compat import SKLEARN_VERSION

DATASETS = {
    "digits": load_digits,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "iris": load_iris,
}
SEEDS = (0, 1, 2)


def _split(loader, seed):
    """Standardised 75/25 stratified split of a bundled data set."""
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def digits():
    """The digits split of seed 0, shared by several tests."""
    return _split(load_digits, 0)


@pytest.fixture(scope="module")
def accuracy_table():
    """Mean test accuracy over three seeds, ours and MLPClassifier's, per data set."""
    table = {}
    for name, loader in DATASETS.items():
        ours, theirs = [], []
        for seed in SEEDS:
            X_train, X_test, y_train, y_test = _split(loader, seed)
            settings = dict(hidden_layer_sizes=(64,), max_iter=300, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                ours.append(
                    MLPWeightsClassifier(**settings)
                    .fit(X_train, y_train)
                    .score(X_test, y_test)
                )
                theirs.append(
                    MLPClassifier(**settings)
                    .fit(X_train, y_train)
                    .score(X_test, y_test)
                )
        table[name] = (np.mean(ours), np.mean(theirs))
    return table


@pytest.mark.parametrize("name", list(DATASETS))
def test_accuracy_at_least_mlpclassifiers(name, accuracy_table):
    """Check that the test accuracy is at least MLPClassifier's minus one point."""
    ours, theirs = accuracy_table[name]
    assert ours >= theirs - 0.01, f"{name}: ours {ours:.4f}, MLPClassifier {theirs:.4f}"
    assert ours > 0.9


def test_l1_gives_exact_zeros_on_digits(digits):
    """Check that L1 zeroes first-layer weights exactly, and L2 does not."""
    X_train, X_test, y_train, y_test = digits
    zeros, scores = {}, {}
    for penalty in ["l1", "l2"]:
        model = MLPWeightsClassifier(
            hidden_layer_sizes=(64,),
            penalty=penalty,
            alpha=1e-3,
            max_iter=100,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        zeros[penalty] = int(np.sum(model.coefs_[0] == 0))
        scores[penalty] = model.score(X_test, y_test)
    assert zeros["l1"] > 0.2 * model.coefs_[0].size
    assert zeros["l1"] > 10 * zeros["l2"]
    # The sparse network still classifies well.
    assert scores["l1"] > 0.9


def test_dropout_trains_well_and_predicts_deterministically(digits):
    """Check accuracy > 0.9 with dropout=0.3 and that prediction never drops."""
    X_train, X_test, y_train, y_test = digits
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(64,), dropout=0.3, max_iter=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9
    first = model.predict_proba(X_test)
    np.testing.assert_array_equal(first, model.predict_proba(X_test))
    # Prediction is the plain network: the forward pass with nothing dropped.
    hidden = np.maximum(X_test @ model.coefs_[0] + model.intercepts_[0], 0)
    logits = hidden @ model.coefs_[1] + model.intercepts_[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(first, expected, rtol=1e-10, atol=1e-14)


def test_dropout_per_hidden_layer():
    """Check that one rate per hidden layer is accepted and a wrong count refused."""
    X, y = make_classification(200, 6, random_state=0)
    model = MLPWeightsClassifier((8, 4), dropout=[0.5, 0.0], max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    with pytest.raises(InvalidParameterError, match="one such rate per hidden"):
        MLPWeightsClassifier((8, 4), dropout=[0.5]).fit(X, y)
    with pytest.raises(InvalidParameterError, match="dropout"):
        MLPWeightsClassifier((8, 4), dropout=[0.5, 1.0]).fit(X, y)


def test_feature_importances_rank_the_informative_features_on_top():
    """Check that importances put the informative features of the data first."""
    n_informative = 4
    X, y = make_classification(
        2000,
        20,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=4,
        n_clusters_per_class=1,
        shuffle=False,  # the informative features are the first columns
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    model = MLPWeightsClassifier((16,), max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    importances = model.feature_importances_
    assert importances.shape == (20,)
    assert np.all(importances >= 0)
    assert importances.sum() == pytest.approx(1.0)
    top = np.argsort(-importances)[:n_informative]
    assert set(top) == set(range(n_informative))
    assert model.coef_.shape == (4, 20)

    # SelectFromModel reads them without any configuration.
    selector = SelectFromModel(model, prefit=True, max_features=n_informative)
    np.testing.assert_array_equal(
        np.flatnonzero(selector.get_support()), np.arange(n_informative)
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_identity_network_coef_reproduces_the_logits(n_classes):
    """Check that X @ coef_.T plus the propagated biases is the network's logits."""
    X, y = make_classification(
        300, 7, n_informative=4, n_classes=n_classes, random_state=0
    )
    model = MLPWeightsClassifier(
        (6, 5), activation="identity", max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    n_outputs = 1 if n_classes == 2 else n_classes
    assert model.coef_.shape == (n_outputs, 7)
    intercept = model.intercepts_[0]
    for W, b in zip(model.coefs_[1:], model.intercepts_[1:]):
        intercept = intercept @ W + b
    layout = Layout([7, 6, 5, n_outputs])
    logits = forward(
        model.coefs_,
        model.intercepts_,
        X,
        "identity",
        "identity",
        Workspace(layout, X.shape[0], np.float64),
    )
    np.testing.assert_allclose(X @ model.coef_.T + intercept, logits, rtol=1e-10)


def test_coef_is_olden_connection_weights_for_any_activation():
    """Check that coef_ is the product of the weight matrices, transposed."""
    X, y = load_iris(return_X_y=True)
    model = MLPWeightsClassifier((5, 4), activation="tanh", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    W0, W1, W2 = model.coefs_
    # Sum over every path input -> hidden -> hidden -> output of the products.
    paths = np.einsum("ij,jk,kl->li", W0, W1, W2)
    np.testing.assert_allclose(model.coef_, paths, rtol=1e-12)
    importances = np.abs(paths).sum(axis=0)
    np.testing.assert_allclose(
        model.feature_importances_, importances / importances.sum()
    )


def test_zero_weight_samples_have_no_effect():
    """Check that weight-0 samples change nothing compared with removing them.

    With ``batch_size`` at least the number of samples every step sees the
    whole data set, so the two fits see the same batches.
    """
    X, y = make_classification(120, 6, n_classes=3, n_informative=4, random_state=0)
    weight = np.ones(len(y))
    weight[::4] = 0
    params = dict(hidden_layer_sizes=(7,), batch_size=200, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = MLPWeightsClassifier(**params).fit(X, y, sample_weight=weight)
        removed = MLPWeightsClassifier(**params).fit(X[weight > 0], y[weight > 0])
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, removed.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(weighted.loss_curve_, removed.loss_curve_, rtol=1e-9)


def test_class_weight_multiplies_sample_weight():
    """Check that class_weight and sample_weight enter as their product."""
    X, y = make_classification(150, 5, n_classes=3, n_informative=3, random_state=1)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    class_weight = {0: 3.0, 2: 0.5}
    factor = np.array([3.0, 1.0, 0.5])[y]
    params = dict(hidden_layer_sizes=(5,), max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_class = MLPWeightsClassifier(class_weight=class_weight, **params).fit(
            X, y, sample_weight=sample_weight
        )
        by_sample = MLPWeightsClassifier(**params).fit(
            X, y, sample_weight=sample_weight * factor
        )
        balanced = MLPWeightsClassifier(class_weight="balanced", **params).fit(
            X, y, sample_weight=sample_weight
        )
        # "balanced": total weight / (n_classes * the class's total weight).
        class_totals = np.bincount(y, weights=sample_weight)
        by_hand_balanced = class_totals.sum() / (3 * class_totals)
        by_sample_balanced = MLPWeightsClassifier(**params).fit(
            X, y, sample_weight=sample_weight * by_hand_balanced[y]
        )
    if SKLEARN_VERSION >= (1, 7):  # compute_class_weight's sample_weight is new
        np.testing.assert_allclose(
            compute_class_weight(
                "balanced", classes=np.unique(y), y=y, sample_weight=sample_weight
            ),
            by_hand_balanced,
            rtol=1e-12,
        )
    for a, b in zip(by_class.coefs_, by_sample.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(balanced.coefs_, by_sample_balanced.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_balanced_class_weight_raises_minority_recall():
    """Check that class_weight='balanced' recalls more of a rare class."""
    X, y = make_classification(
        1200,
        10,
        n_informative=3,
        weights=[0.9, 0.1],
        flip_y=0.05,
        class_sep=0.6,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    recalls = {}
    for class_weight in [None, "balanced"]:
        model = MLPWeightsClassifier(
            (16,), class_weight=class_weight, max_iter=100, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        recalls[class_weight] = recall_score(y_test, model.predict(X_test))
    assert recalls["balanced"] > recalls[None] + 0.1


def test_balanced_class_weight_refused_by_partial_fit():
    """Check that partial_fit asks for explicit class weights instead of 'balanced'."""
    X, y = make_classification(50, 4, random_state=0)
    model = MLPWeightsClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="compute_class_weight"):
        model.partial_fit(X, y, classes=[0, 1])


def test_same_random_state_gives_bit_identical_weights():
    """Check reproducibility with shuffling and dropout on, and that seeds matter."""
    X, y = make_classification(300, 8, n_classes=3, n_informative=5, random_state=0)
    params = dict(hidden_layer_sizes=(10, 6), dropout=0.2, shuffle=True, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = MLPWeightsClassifier(random_state=3, **params).fit(X, y)
        second = MLPWeightsClassifier(random_state=3, **params).fit(X, y)
        other = MLPWeightsClassifier(random_state=4, **params).fit(X, y)
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_
    ):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_string_labels_binary_and_multiclass():
    """Check string labels, and two probability columns for a binary problem."""
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    multi = MLPWeightsClassifier((8,), learning_rate_init=0.01, random_state=0)
    binary = MLPWeightsClassifier((8,), learning_rate_init=0.01, random_state=0)
    binary_names = np.where(y == 0, "setosa", "other")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        multi.fit(X, names)
        binary.fit(X, binary_names)
    np.testing.assert_array_equal(multi.classes_, np.unique(names))
    assert multi.score(X, names) > 0.9
    assert multi.n_outputs_ == 3 and multi.out_activation_ == "softmax"

    proba = binary.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert binary.n_outputs_ == 1 and binary.out_activation_ == "logistic"
    assert binary.coef_.shape == (1, 4)
    assert set(binary.predict(X)) <= {"other", "setosa"}
    assert binary.score(X, binary_names) == 1.0
    np.testing.assert_allclose(binary.predict_log_proba(X), np.log(proba), rtol=1e-12)


def test_sparse_input_equals_dense():
    """Check that CSR input trains the same network as the dense array."""
    X, y = make_classification(200, 30, n_informative=5, random_state=0)
    X[np.abs(X) < 1.0] = 0.0
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = MLPWeightsClassifier(**params).fit(X, y)
        sparse = MLPWeightsClassifier(**params).fit(sp.csr_matrix(X), y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)), rtol=1e-8
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype):
    """Check that float32 data give float32 weights and probabilities."""
    X, y = make_classification(200, 6, n_classes=3, n_informative=4, random_state=0)
    model = MLPWeightsClassifier((8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.astype(dtype), y)
    assert all(W.dtype == dtype for W in model.coefs_ + model.intercepts_)
    assert model.predict_proba(X.astype(dtype)).dtype == dtype
    assert model.coef_.dtype == dtype
    assert model.feature_importances_.dtype == dtype


def test_partial_fit_streaming_reaches_good_accuracy(digits):
    """Check that chunks fed to partial_fit train a good classifier."""
    X_train, X_test, y_train, y_test = digits
    model = MLPWeightsClassifier((64,), random_state=0)
    classes = np.unique(y_train)
    for _ in range(15):
        for start in range(0, len(y_train), 250):
            chunk = slice(start, start + 250)
            model.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
    assert model.score(X_test, y_test) > 0.93
    assert model.n_iter_ == 15 * int(np.ceil(len(y_train) / 250))
    assert len(model.loss_curve_) == model.n_iter_


def test_partial_fit_checks_its_classes():
    """Check that classes are required first, then fixed, and labels must be in them."""
    X, y = make_classification(60, 4, random_state=0)
    model = MLPWeightsClassifier((4,))
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    # A first chunk may lack some of the announced classes.
    model.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.n_outputs_ == 3
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, np.where(y == 1, 5, y))
    with pytest.raises(ValueError, match="not the same"):
        model.partial_fit(X, y, classes=[0, 1])
    model.partial_fit(X, y)
    assert model.n_iter_ == 2


def test_warm_start_continues_from_the_previous_weights():
    """Check that warm_start starts from the fitted weights and extends the curve."""
    X, y = make_classification(200, 6, random_state=0)
    model = MLPWeightsClassifier((6,), max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        curve = list(model.loss_curve_)
        model.fit(X, y)
    assert model.loss_curve_[:5] == curve
    assert len(model.loss_curve_) == 10
    # The second fit starts where the first ended, not from a new initialisation.
    assert model.loss_curve_[5] < curve[0]


def test_divergence_keeps_the_previous_weights():
    """Check that a diverging fit raises ValueError and keeps the previous weights."""
    X, y = load_digits(return_X_y=True)
    model = MLPWeightsClassifier((16,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X / 16, y)
    before = [W.copy() for W in model.coefs_ + model.intercepts_]
    state = pickle.dumps(model)
    model.set_params(solver="sgd", learning_rate_init=10.0)
    with pytest.raises(ValueError, match="learning rate"):
        model.fit(X * 100, y)
    with pytest.raises(ValueError, match="learning rate"):
        model.partial_fit(X * 100, y)
    for a, b in zip(model.coefs_ + model.intercepts_, before):
        np.testing.assert_array_equal(a, b)
    assert pickle.dumps(model.set_params(solver="adam", learning_rate_init=0.001)) == (
        state
    )


def test_convergence_warning_at_max_iter():
    """Check that stopping at max_iter warns as scikit-learn does."""
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        MLPWeightsClassifier((4,), max_iter=3).fit(X, y)


def test_early_stopping_uses_a_stratified_weighted_accuracy():
    """Check the validation scores: accuracies of a stratified held-out share."""
    X, y = make_classification(
        400, 6, n_informative=4, weights=[0.8, 0.2], random_state=0
    )
    model = MLPWeightsClassifier(
        (8,), early_stopping=True, validation_fraction=0.2, random_state=0
    )
    model.fit(X, y)
    scores = np.array(model.validation_scores_)
    assert len(scores) == model.n_iter_ == len(model.loss_curve_)
    assert model.best_validation_score_ == scores.max()
    # 80 held-out samples: every score is a multiple of 1/80.
    np.testing.assert_allclose(scores * 80, np.round(scores * 80), atol=1e-9)

    # Stratified: a class with two samples is split one and one, so training
    # still sees it; a class with a single sample cannot be stratified.
    rows = np.r_[np.flatnonzero(y == 0)[:50], np.flatnonzero(y == 1)[:2]]
    model.fit(X[rows], y[rows])
    with pytest.raises(ValueError, match="two samples of every class"):
        model.fit(X[rows[:-1]], y[rows[:-1]])


def test_learning_rate_auto_follows_the_documented_rule():
    """Check learning_rate_init='auto': 1e-3 for Adam, (1 - momentum) / L for SGD."""
    X, y = make_classification(100, 5, random_state=0)
    params = dict(hidden_layer_sizes=(3,), max_iter=1, learning_rate_init="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd = MLPWeightsClassifier(solver="sgd", momentum=0.8, alpha=0.01, **params)
        sgd.fit(X, y)
    curvature = 1 + np.mean(np.sum(X**2, axis=1)) + 0.01
    assert sgd._optimizer_state["learning_rate"] == pytest.approx(0.2 / curvature)


def test_sgd_schedules():
    """Check the invscaling rate after training and the adaptive rate's decrease."""
    X, y = make_classification(100, 5, random_state=0)
    params = dict(hidden_layer_sizes=(3,), solver="sgd", learning_rate_init=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        inv = MLPWeightsClassifier(
            learning_rate="invscaling", power_t=0.25, max_iter=4, **params
        ).fit(X, y)
        adaptive = MLPWeightsClassifier(
            learning_rate="adaptive", n_iter_no_change=2, tol=10.0, max_iter=8, **params
        ).fit(X, y)
    assert inv.t_ == 400
    assert inv._optimizer_state["learning_rate"] == pytest.approx(0.1 / 401**0.25)
    # With tol=10 only the first epoch improves (on the initial infinite best
    # loss); after it the rate is divided by 5 every 2 epochs: 3 times in 8.
    assert adaptive._optimizer_state["learning_rate"] == pytest.approx(0.1 / 5**3)


def test_fitted_state_is_plain_data_and_pickles():
    """Check that the fitted state holds only plain data and survives pickling."""
    X, y = load_iris(return_X_y=True)
    model = MLPWeightsClassifier((5,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        return value is None or isinstance(
            value, (np.ndarray, int, float, str, bool, np.number)
        )

    fitted = {k: v for k, v in vars(model).items() if k.endswith("_")}
    assert plain(fitted), fitted
    assert all(type(W) is np.ndarray for W in model.coefs_ + model.intercepts_)
    assert set(model._optimizer_state) == {
        "solver",
        "t",
        "first_moment",
        "second_moment",
    }
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert model.n_layers_ == 3
    assert [W.shape for W in model.coefs_] == [(4, 5), (5, 3)]


def test_no_hidden_layer_is_logistic_regression():
    """Check that hidden_layer_sizes=() gives a linear model whose coef_ is exact."""
    X, y = load_iris(return_X_y=True)
    model = MLPWeightsClassifier(
        (), learning_rate_init=0.01, max_iter=300, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_layers_ == 2
    np.testing.assert_array_equal(model.coef_, model.coefs_[0].T)
    assert model.score(X, y) > 0.9


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "softmax"},
        {"hidden_layer_sizes": (4, 0)},
        {"hidden_layer_sizes": (4, 2.5)},
        {"dropout": 1.0},
        {"dropout": -0.1},
        {"solver": "newton"},
        {"max_fun": 0},
        {"class_weight": "equal"},
        {"penalty": "l3"},
        {"alpha": -1.0},
        {"l1_ratio": 2.0},
        {"learning_rate_init": 0.0},
        {"learning_rate": "optimal"},
        {"batch_size": 0},
        {"max_iter": 0},
        {"momentum": 1.5},
        {"beta_2": 1.0},
        {"validation_fraction": 1.0},
    ],
)
def test_invalid_parameters_raise(params):
    """Check that each invalid parameter raises InvalidParameterError."""
    X, y = make_classification(30, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(InvalidParameterError):
        MLPWeightsClassifier(**params).fit(X, y)


def test_verbose_prints_one_line_per_epoch(capsys):
    """Check that verbose prints the loss of every epoch."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPWeightsClassifier((3,), max_iter=4, verbose=1).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss" in line]
    assert len(lines) == 4


def _expected_failed_checks(estimator):
    """The checks each configuration cannot pass, with the reason."""
    failures = {}
    if estimator.dropout or estimator.early_stopping:
        # Dropout draws an independent mask for every row of a batch and early
        # stopping holds out a random share of the rows: repeating a row gives
        # it several masks, or changes the held-out set, so the trajectory
        # differs from weighting the row. The objective is the same; this is
        # the failure scikit-learn declares for its SGD estimators.
        reason = "stochastic rows: dropout masks or validation split"
        failures["check_sample_weight_equivalence_on_dense_data"] = reason
        failures["check_sample_weight_equivalence_on_sparse_data"] = reason
    return failures


@parametrize_with_checks(
    [
        MLPWeightsClassifier(),
        # The checks fit a few hundred samples at most, one or two mini-batches
        # per epoch: a larger step lets the small network learn them in the
        # epochs it is given.
        MLPWeightsClassifier(
            hidden_layer_sizes=(8, 8),
            penalty="l1",
            dropout=0.2,
            learning_rate_init=0.01,
            max_iter=100,
        ),
        # Early stopping on the checks' small data sets: 5 to 30 held-out
        # samples, class weights of 1000 : 0.0001.
        MLPWeightsClassifier(early_stopping=True, max_iter=100),
        MLPWeightsClassifier(
            solver="sgd", early_stopping=True, activation="tanh", max_iter=100
        ),
        # Full batch: no partial_fit, so the checks of partial_fit skip it.
        # max_iter=100, as scikit-learn's own checks of MLPClassifier: trained
        # to the end on the checks' separable multilabel data, a logistic
        # output reaches exactly 1.0 in float64, which one check refuses.
        MLPWeightsClassifier(solver="lbfgs", max_iter=100),
        MLPWeightsClassifier(
            hidden_layer_sizes=(8,), solver="lbfgs", penalty="l1", activation="tanh"
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that every configuration passes scikit-learn's estimator checks."""
    check(estimator)
