"""
Clusters of different spread: K-means, EM and iLA-SDP
=====================================================

Two Gaussian clusters in the plane, a tight one (variance 0.05) next to a
broad one (variance 4), their means three units apart. K-means (and the
Peng-Wei SDP, which relaxes the same cost) assumes clusters of equal spherical
spread: it moves the boundary into the broad cluster. The likelihood-adjusted
SDP of :class:`sparseopt.cluster.ILASDPClustering` weighs every cluster by its
own covariance, as EM for a Gaussian mixture
(:class:`sklearn.mixture.GaussianMixture`) does, but without estimating
centroids inside its loop.

Each panel shows the labels found, with the mis-clustering error (best
matching of the labels) in its title.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from sparseopt.cluster import ILASDPClustering, SDPKMeans
from sparseopt.datasets import make_heterogeneous_mixture
from sparseopt.metrics import misclustering_error

X, y, _, _ = make_heterogeneous_mixture(80, 2, 2, separation=3, covariance="scale",
                                        covariance_scales=[0.05, 4.0], random_state=0)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fits = {
        "truth": y,
        "KMeans (k-means++)": KMeans(2, n_init=10, random_state=0).fit(X).labels_,
        "SDPKMeans (Peng-Wei)": SDPKMeans(2, random_state=0).fit(X).labels_,
        "GaussianMixture (EM)": GaussianMixture(2, random_state=0).fit(X).predict(X),
        "ILASDPClustering": ILASDPClustering(2, random_state=0).fit(X).labels_,
    }

fig, axes = plt.subplots(1, len(fits), figsize=(3.2 * len(fits), 3.3), sharex=True,
                         sharey=True)
for ax, (name, labels) in zip(axes, fits.items()):
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="coolwarm", s=14, edgecolors="k",
               linewidths=0.3)
    error = misclustering_error(y, labels)
    ax.set_title(f"{name}\nerror {error:.2f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    print(f"{name:22s} mis-clustering error {error:.3f}")
fig.tight_layout()
plt.show()
