#!/usr/bin/env python3
"""scikit-learn's side of the bench's algorithms section: same arguments, same JSON line as
scripts/dist/bench/algorithm-fit.js.

    python3 scripts/bench/sklearn_algorithms.py --algorithm NAME --train TRAIN.csv \\
        --test TEST.csv --target COLUMN [--query-rows N] [--skip-accuracy]

NAME and the estimator fitted:
  logistic_regression  StandardScaler + LogisticRegression() (lbfgs, C=1); ours standardizes
                       inside its own parameters, as scripts/bench/sklearn_fit.py
  random_forest        RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
  knn                  StandardScaler + KNeighborsClassifier(n_neighbors=5, algorithm='brute')
  gaussian_nb          GaussianNB()

Times the fit (with the scaler's fit and transform where there is one), then predict_proba
on N query rows (the test rows cycled to N; default the test set) with the scaler's
transform; not the CSV reading. Accuracy on the test set: from the timed predictions when
they cover it, else from an untimed second prediction (left out with --skip-accuracy).
`threads` reports the thread pools numpy and scikit-learn may use (threadpoolctl).
Needs numpy and scikit-learn (Debian: python3-sklearn). Exit code 2 on bad input.
"""
import argparse
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_fit import read


def estimator(name):
    """(scaled, estimator, label) for one of the product's algorithm names."""
    if name == "logistic_regression":
        return True, LogisticRegression(), "LogisticRegression(lbfgs, C=1) + StandardScaler"
    if name == "random_forest":
        return False, RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1), "RandomForestClassifier(100 trees, n_jobs=1)"
    if name == "knn":
        return True, KNeighborsClassifier(n_neighbors=5, algorithm="brute"), "KNeighborsClassifier(5, brute) + StandardScaler"
    if name == "gaussian_nb":
        return False, GaussianNB(), "GaussianNB()"
    raise ValueError(f"unknown algorithm {name!r}")


def threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return sorted({f"{p.get('internal_api')}:{p.get('num_threads')}" for p in threadpool_info()})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--algorithm", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--query-rows", type=int)
    p.add_argument("--skip-accuracy", action="store_true")
    a = p.parse_args()
    try:
        scaled, model, label = estimator(a.algorithm)
        names, x_train, y_train = read(a.train, a.target)
        test_names, x_test, y_test = read(a.test, a.target)
        if names != test_names:
            raise ValueError(f"{a.test}: feature columns differ from {a.train}")
        n = x_test.shape[0] if a.query_rows is None else a.query_rows
        if n < 1 or x_test.shape[0] == 0:
            raise ValueError("need at least one query row and one test row")
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    queries = np.ascontiguousarray(x_test[np.arange(n) % x_test.shape[0]])

    started = time.perf_counter()
    scaler = StandardScaler().fit(x_train) if scaled else None
    model.fit(scaler.transform(x_train) if scaled else x_train, y_train)
    fit_ms = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    proba = model.predict_proba(scaler.transform(queries) if scaled else queries)
    predict_ms = (time.perf_counter() - started) * 1000

    accuracy = None
    if n >= x_test.shape[0]:
        accuracy = float(np.mean(model.classes_[np.argmax(proba[: x_test.shape[0]], axis=1)] == y_test))
    elif not a.skip_accuracy:
        accuracy = float(model.score(scaler.transform(x_test) if scaled else x_test, y_test))
    iterations = int(np.max(model.n_iter_)) if hasattr(model, "n_iter_") else 1
    print(json.dumps({
        "algorithm": f"sklearn-{sklearn.__version__} {label}",
        "train_rows": int(x_train.shape[0]),
        "features": int(x_train.shape[1]),
        "fit_ms": round(fit_ms, 1),
        "iterations": iterations,
        "predict_rows": int(n),
        "predict_ms": round(predict_ms, 1),
        "test_rows": int(x_test.shape[0]),
        "test_accuracy": accuracy,
        "threads": threads(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
