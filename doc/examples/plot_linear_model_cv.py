"""
Choosing alpha and l1_ratio by cross-validation
===============================================

The same calls as scikit-learn's ``ElasticNetCV``: an ``l1_ratio`` grid and a
geometric ``alpha`` grid from ``alpha_max``, one warm-started path per fold
and ``l1_ratio``, the pair with the smallest mean held-out error refit on all
the data. The folds are drawn by ``GroupKFold`` (samples of one group never
split between training and test), whose ``groups`` go through ``fit``. Each
curve is the mean held-out MSE over the folds for one ``l1_ratio``; the dot
marks the selected ``alpha_``.
"""
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GroupKFold

from sparseopt.datasets import make_correlated_regression
from sparseopt.linear_model import ElasticNetCV

X, y, w_true = make_correlated_regression(120, 40, n_informative=5, rho=0.6, snr=5,
                                          random_state=0)
groups = np.repeat(np.arange(12), 10)
reg = ElasticNetCV(l1_ratio=[0.2, 0.5, 0.9, 1.0], alphas=30, cv=GroupKFold(4))
reg.fit(X, y, groups=groups)

fig, ax = plt.subplots(figsize=(6, 3.6))
for ratio, alphas, mse in zip(reg.l1_ratio, reg.alphas_, reg.mse_path_):
    ax.plot(alphas, mse.mean(axis=1), label=f"l1_ratio = {ratio}")
best = list(reg.l1_ratio).index(reg.l1_ratio_)
ax.plot(reg.alpha_, reg.mse_path_[best].mean(axis=1)[list(reg.alphas_[best]).index(reg.alpha_)],
        "ko", label=f"selected: alpha = {reg.alpha_:.3g}, l1_ratio = {reg.l1_ratio_}")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("mean held-out MSE")
ax.legend(fontsize=8)
ax.set_title(f"ElasticNetCV: {np.count_nonzero(reg.coef_)} nonzero coefficients "
             f"({np.count_nonzero(w_true)} planted)")
fig.tight_layout()
plt.show()
