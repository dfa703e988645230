"""
Background subtraction on a synthetic video with robust PCA
===========================================================

A video whose frames are the rows of a matrix ``X`` (60 frames of 32 x 48
pixels) shows a static textured background under a slowly changing global
illumination, a rank-1 matrix, with two bright squares moving across it, a
sparse matrix. :class:`sparseopt.decomposition.RobustPCA` splits
``X = L + S``: ``L`` is the background and ``S`` the moving objects.

We run IALM (Principal Component Pursuit, no rank given) and AccAltProj
(rank 1 given) and show, for three frames, the original frame, the recovered
background and the recovered foreground, with the recovery errors against the
generator's ground truth in the titles (never the residual alone).
"""

import matplotlib.pyplot as plt

from sparseopt.datasets import make_synthetic_video
from sparseopt.decomposition import RobustPCA
from sparseopt.metrics import relative_error, support_recovery

X, background, foreground, (height, width) = make_synthetic_video(
    n_frames=60, height=32, width=48, random_state=0)

ialm = RobustPCA(method="ialm", random_state=0).fit(X)
accaltproj = RobustPCA(method="accaltproj", rank=1, random_state=0).fit(X)

for name, est in (("IALM", ialm), ("AccAltProj", accaltproj)):
    f1 = support_recovery(est.sparse_, foreground, atol=0.05)["f1"]
    print(f"{name:10s} rank {est.rank_}  iterations {est.n_iter_:3d}  "
          f"rel. error of background {relative_error(est.low_rank_, background):.1e}  "
          f"foreground F1 {f1:.3f}")

frames = [5, 30, 55]
fig, axes = plt.subplots(len(frames), 3, figsize=(9, 6.5))
for row, t in enumerate(frames):
    pictures = [
        (f"frame {t}", X[t]),
        ("background L (IALM)", ialm.low_rank_[t]),
        ("foreground S (IALM)", ialm.sparse_[t]),
    ]
    for col, (title, image) in enumerate(pictures):
        ax = axes[row, col]
        ax.imshow(image.reshape(height, width), cmap="gray",
                  vmin=-0.2 if col == 2 else 0.0, vmax=1.6)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle(
    f"IALM: background rel. error {relative_error(ialm.low_rank_, background):.1e}, "
    f"AccAltProj (rank 1): {relative_error(accaltproj.low_rank_, background):.1e}",
    fontsize=10)
fig.tight_layout()
plt.show()
