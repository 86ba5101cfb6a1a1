"""scikit-learn's sparse coders as the reference for lib/dictionary: reads a JSON problem on stdin,
writes the coefficients as JSON. {"op": "omp", "D": d×K, "X": n×d, "nNonZero" | "tol"} or
{"op": "lasso", "D", "X", "alpha"}."""
import json
import sys

import numpy as np
from sklearn.linear_model import Lasso, orthogonal_mp

p = json.load(sys.stdin)
D = np.array(p["D"], dtype=np.float64)
X = np.array(p["X"], dtype=np.float64)
if p["op"] == "omp":
    kwargs = {"tol": p["tol"]} if "tol" in p else {"n_nonzero_coefs": p["nNonZero"]}
    coef = orthogonal_mp(D, X.T, precompute=False, **kwargs)  # (K, n)
    out = np.asarray(coef).reshape(D.shape[1], -1).T
elif p["op"] == "lasso":
    model = Lasso(alpha=p["alpha"], fit_intercept=False, max_iter=100000, tol=1e-12)
    out = np.stack([model.fit(D, x).coef_.copy() for x in X])
else:
    raise SystemExit(f"unknown op {p['op']}")
json.dump(out.tolist(), sys.stdout)
