"""
Sparse regression under local differential privacy: error against the number of users
=====================================================================================

Each of ``n`` users holds one record of a 3-feature, 2-sparse linear model on
standardized Gaussian data and sends only locally privatized messages
(``epsilon = 2``, ``delta = 1e-5``). We fit
:class:`sparseopt.privacy.LDPSparseRegression` with its defaults, with the
non-interactive protocol (alone and with 10,000 public unlabeled covariates)
and the interactive one, and plot the l2 error relative to
``||theta*||`` against ``n``, next to the non-private Lasso and the zero
estimator (relative error 1). The non-interactive estimator returns zero
until the noise of the privatized covariance is small enough (a few hundred
thousand users at d = 3); public covariates remove that noise; every private
estimator stays one to two orders of magnitude above the non-private Lasso,
the price of local privacy.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Lasso

from sparseopt.datasets import make_ldp_regression
from sparseopt.privacy import LDPSparseRegression

ns = [1_000, 10_000, 100_000, 300_000]
d, k, noise = 3, 2, 0.5
curves = {"non-interactive": [], "non-interactive + public X": [], "interactive (LDP-IHT)": [],
          "Lasso (not private)": []}
for n in ns:
    X, y, theta = make_ldp_regression(n, d, k, noise=noise, design="gaussian", random_state=0)
    X_public = np.random.default_rng(1).standard_normal((10_000, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "n below the guarantee" at small n
        fits = {
            "non-interactive": LDPSparseRegression(random_state=0).fit(X, y),
            "non-interactive + public X": LDPSparseRegression(random_state=0).fit(
                X, y, X_public=X_public),
            "interactive (LDP-IHT)": LDPSparseRegression(protocol="interactive",
                                                         random_state=0).fit(X, y),
            "Lasso (not private)": Lasso(alpha=noise * np.sqrt(2 * np.log(2 * d) / n),
                                         fit_intercept=False).fit(X, y),
        }
    for name, est in fits.items():
        curves[name].append(np.linalg.norm(est.coef_ - theta) / np.linalg.norm(theta))

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, errors in curves.items():
    ax.loglog(ns, errors, "o-", label=name)
ax.axhline(1.0, color="k", ls="--", lw=1, label="predicting zero")
anchor = curves["non-interactive + public X"][-1]
ax.loglog(ns, anchor * np.sqrt(ns[-1] / np.array(ns)), ":", color="gray", label="slope -1/2")
ax.set_xlabel("number of users n")
ax.set_ylabel("||theta - theta*|| / ||theta*||")
ax.set_title("LDP sparse regression, d = 3, k = 2, epsilon = 2")
ax.legend(fontsize=8)
plt.show()
