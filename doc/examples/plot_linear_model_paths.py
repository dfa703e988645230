"""
Regularisation paths of L1, MCP, SCAD and SEF on a planted problem
==================================================================

A 5-sparse coefficient vector is planted in a correlated AR(1) design
(rho = 0.6). We trace the coefficients along a decreasing grid of ``alpha``
for the convex L1 penalty, the nonconvex MCP and SCAD (warm-started
working-set CD, :func:`sparseopt.linear_model.sparse_path`) and the
nonconvex sparse envelope function (SEF, target sparsity k = 5, proximal
gradient). Planted coefficients are drawn in colour, the others in grey:
L1 shrinks the true coefficients towards 0 while MCP and SCAD leave large
ones unbiased; SEF keeps about k coefficients large along the whole path.
"""
import matplotlib.pyplot as plt
import numpy as np

from sparseopt.datasets import make_correlated_regression
from sparseopt.linear_model import sparse_path

X, y, w_true = make_correlated_regression(150, 60, n_informative=5, rho=0.6, snr=5,
                                          random_state=0)
X = X - X.mean(axis=0)
y = y - y.mean()
support = np.flatnonzero(w_true)

fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharey=True)
configs = [("l1", {}, "L1 (Lasso)"), ("mcp", {"gamma": 3.0}, "MCP, gamma = 3"),
           ("scad", {"gamma": 3.7}, "SCAD, a = 3.7"),
           ("sef", {"k": 5, "nonconvex": True}, "SEF (nonconvex), k = 5")]
for ax, (penalty, params, title) in zip(axes, configs):
    if penalty == "sef":
        alphas = np.geomspace(0.9, 0.01, 15)  # SEF has no alpha_max; prox needs alpha/L < 1
    else:
        alphas = 30
    alphas, coefs, certificates, info = sparse_path(X, y, penalty=penalty, alphas=alphas,
                                                    eps=1e-2, tol=1e-6, max_iter=200, **params)
    for j in range(coefs.shape[0]):
        in_support = j in support
        ax.plot(alphas, coefs[j], color=None if in_support else "0.75",
                lw=1.8 if in_support else 0.8, zorder=3 if in_support else 1)
    for j in support:
        ax.axhline(w_true[j], color="k", ls=":", lw=0.6)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_title(title)
    ax.set_xlabel("alpha")
axes[0].set_ylabel("coefficient (dotted: planted values)")
fig.tight_layout()
plt.show()
