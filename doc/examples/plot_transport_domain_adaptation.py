"""
====================================================================
Domain adaptation with SinkhornTransport (POT's estimator API)
====================================================================

A labelled source cloud and an unlabelled target cloud drawn from the same
three classes, the target rotated and shifted. :class:`SinkhornTransport`
(the same parameters and methods as POT's ``ot.da.SinkhornTransport``)
fits the entropic plan between the clouds; ``transform`` moves the source
samples onto the target, where a classifier trained on the moved source
labels the target, and ``transform_labels`` propagates the labels through
the plan directly. With a few target labels (``yt``, ``-1`` elsewhere), the
semi-supervised fit forbids mass between samples of different classes.

The code is POT's: ``from sparseopt import transport`` replaces ``import ot``
and ``transport.SinkhornTransport`` replaces ``ot.da.SinkhornTransport``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from sparseopt.transport import SinkhornTransport

rng = np.random.default_rng(0)
centres = np.array([[0.0, 0.0], [3.0, 0.5], [1.5, 2.5]])


def cloud(n, rotation, shift):
    labels = rng.integers(0, 3, n)
    X = centres[labels] + 0.45 * rng.standard_normal((n, 2))
    c, s = np.cos(rotation), np.sin(rotation)
    return X @ np.array([[c, -s], [s, c]]).T + shift, labels


Xs, ys = cloud(150, 0.0, np.zeros(2))
Xt, yt_true = cloud(150, 0.6, np.array([2.0, 1.0]))


def accuracy(y_pred):
    return float(np.mean(y_pred == yt_true))


baseline = KNeighborsClassifier(5).fit(Xs, ys).predict(Xt)

# unsupervised adaptation: POT's call, unchanged
ot_map = SinkhornTransport(reg_e=0.05, norm="max")
ot_map.fit(Xs=Xs, Xt=Xt)
Xs_moved = ot_map.transform(Xs=Xs)
adapted = KNeighborsClassifier(5).fit(Xs_moved, ys).predict(Xt)
propagated = np.argmax(ot_map.transform_labels(ys=ys), axis=1)

# semi-supervised: 10% of the target labelled, -1 elsewhere
yt = np.full_like(yt_true, -1)
known = rng.permutation(len(yt))[:15]
yt[known] = yt_true[known]
semi = SinkhornTransport(reg_e=0.05, norm="max").fit(Xs=Xs, ys=ys, Xt=Xt, yt=yt)
semi_labels = np.argmax(semi.transform_labels(ys=ys), axis=1)

print(f"kNN trained on the source:          {accuracy(baseline):.2f}")
print(f"kNN trained on the moved source:    {accuracy(adapted):.2f}")
print(f"labels propagated through the plan: {accuracy(propagated):.2f}")
print(f"semi-supervised (15 target labels): {accuracy(semi_labels):.2f}")
print(f"converged: {ot_map.converged_}, marginal error {ot_map.marginal_error_:.1e}, "
      f"{ot_map.n_iter_} iterations")

fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True, sharey=True)
colors = np.array(["tab:blue", "tab:orange", "tab:green"])
axes[0].scatter(Xs[:, 0], Xs[:, 1], c=colors[ys], s=12, label="source (labelled)")
axes[0].scatter(Xt[:, 0], Xt[:, 1], c="lightgray", s=12, label="target (unlabelled)")
axes[0].set_title("source and target")
axes[1].scatter(Xt[:, 0], Xt[:, 1], c="lightgray", s=12)
axes[1].scatter(Xs_moved[:, 0], Xs_moved[:, 1], c=colors[ys], s=12)
axes[1].set_title("source moved by transform(Xs=...)")
axes[2].scatter(Xt[:, 0], Xt[:, 1], c=colors[semi_labels], s=12)
axes[2].scatter(Xt[known, 0], Xt[known, 1], facecolors="none", edgecolors="k", s=40,
                label="given target labels")
axes[2].set_title(f"target labels, semi-supervised (acc. {accuracy(semi_labels):.2f})")
axes[0].legend(loc="lower right", fontsize=8)
axes[2].legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()
