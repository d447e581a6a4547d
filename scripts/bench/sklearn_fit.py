#!/usr/bin/env python3
"""scikit-learn's side of `cli fit`: same arguments, same JSON line.

    python3 scripts/bench/sklearn_fit.py --train TRAIN.csv --test TEST.csv --target COLUMN

Fits StandardScaler + LogisticRegression() (lbfgs, C=1.0, max_iter=100, multinomial for
3+ classes) and times the scaler plus the fit, not the CSV reading, as `cli fit` does.
Needs only numpy and scikit-learn (Debian: python3-sklearn). Exit code 2 on bad input.

Stopping rules differ between scikit-learn versions: up to 1.3 the lbfgs tolerance applies
to the gradient of the summed loss and SciPy's default ftol usually ends the fit; from 1.4
the loss is a mean, as in `cli fit`. `iterations` is whatever the installed version did.
"""
import argparse
import csv
import json
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def read(path, target):
    """Features as float64 and labels as strings, like parseNumericCsv (header line first)."""
    with open(path, newline="") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    if target not in header:
        raise ValueError(f"{path}: line 1: no column {target!r} in the header")
    t = header.index(target)
    features = [j for j in range(len(header)) if j != t]
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=features, dtype=np.float64, quotechar='"', ndmin=2)
    y = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[t], dtype=str, quotechar='"', ndmin=1)
    if not np.isfinite(x).all():
        raise ValueError(f"{path}: non-finite feature values")
    return [header[j] for j in features], x, np.char.strip(y)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--target", required=True)
    a = p.parse_args()
    try:
        names, x_train, y_train = read(a.train, a.target)
        test_names, x_test, y_test = read(a.test, a.target)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if names != test_names:
        print(f"error: {a.test}: feature columns differ from {a.train}", file=sys.stderr)
        return 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        started = time.perf_counter()
        scaler = StandardScaler().fit(x_train)
        model = LogisticRegression().fit(scaler.transform(x_train), y_train)
        fit_ms = (time.perf_counter() - started) * 1000
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)

    accuracy = float(model.score(scaler.transform(x_test), y_test))
    print(json.dumps({
        "algorithm": f"sklearn-{sklearn.__version__} LogisticRegression",
        "train_rows": int(x_train.shape[0]),
        "features": int(x_train.shape[1]),
        "fit_ms": round(fit_ms, 1),
        "iterations": int(np.max(model.n_iter_)),
        "converged": converged,
        "test_accuracy": accuracy,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
