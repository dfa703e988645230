"""
Block coordinate descent: selection rules, block updates and message passing
=============================================================================

Reproduces the shape of the figures of Nutini, Laradji & Schmidt (JMLR 2022)
on scaled-down problems: relative sub-optimality ``(F - f*) / (F0 - f*)``
against iterations and against solver seconds for

* cyclic / random / Lipschitz / GS / GSL / GSD / GSQ with gradient updates on
  sorted fixed blocks (FB) and variable blocks (VB), problem A (sparse least
  squares, 300 x 600 here instead of 1000 x 10000);
* matrix updates with the same rules;
* exact message-passing solves on forest blocks of the lattice problem D
  (20 x 20 here instead of 50 x 50).
"""
import matplotlib.pyplot as plt
import numpy as np

from sparseopt.datasets import make_bcd_lattice, make_bcd_least_squares
from sparseopt.optimize import BlockCoordinateDescent

A = make_bcd_least_squares(300, 600, random_state=0)
D = make_bcd_lattice(20, 16, random_state=0)


def curve(prob, max_iter=500, **params):
    res = BlockCoordinateDescent(max_iter=max_iter, tol=0.0, random_state=0, **params).solve(
        prob.objective, f_star=prob.f_star)
    f0 = res.history[0]["gap"]
    it = np.array([h["iter"] for h in res.history])
    sec = np.array([h["time"] for h in res.history])
    gap = np.maximum(np.array([h["gap"] for h in res.history]) / f0, 1e-16)
    return it, sec, gap


fig, axes = plt.subplots(2, 2, figsize=(11, 8))
rules = ["cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq"]
for part, style in (("sorted", "--"), ("variable", "-")):
    for rule in rules:
        if rule == "cyclic" and part == "variable":
            continue
        it, sec, gap = curve(A, partition=part, selection=rule, update="gradient", block_size=5)
        axes[0, 0].semilogy(it, gap, style, label=f"{part[:3].upper()}-{rule}")
axes[0, 0].set(title="A: gradient updates, |b| = 5 (dashed: sorted FB, solid: VB)",
               xlabel="iteration", ylabel="(F - f*) / (F0 - f*)")
axes[0, 0].legend(fontsize=7, ncol=2)

for rule in rules:
    part = "sorted" if rule == "cyclic" else "variable"
    it, sec, gap = curve(A, partition=part, selection=rule, update="matrix", block_size=5)
    axes[0, 1].semilogy(it, gap, label=f"{rule} + matrix")
    axes[1, 0].semilogy(sec, gap, label=f"{rule} + matrix")
axes[0, 1].set(title="A: matrix updates H_b^-1 g_b", xlabel="iteration")
axes[0, 1].legend(fontsize=7)
axes[1, 0].set(title="A: matrix updates against solver seconds", xlabel="seconds",
               ylabel="(F - f*) / (F0 - f*)")
axes[1, 0].legend(fontsize=7)

n_nodes = D.Q.shape[0]
for label, params in [
    ("red-black + BP", dict(partition="red_black", selection="cyclic",
                            update="message_passing")),
    ("tree partition + BP", dict(partition="forest", selection="cyclic",
                                 update="message_passing")),
    ("random tree + BP", dict(partition="variable", selection="random_tree",
                              update="message_passing", block_size=n_nodes)),
    ("greedy tree + BP", dict(partition="variable", selection="greedy_tree",
                              update="message_passing", block_size=n_nodes)),
    ("general (GS, n^1/3, dense)", dict(partition="variable", selection="gs", update="matrix",
                                        block_size=round(n_nodes ** (1 / 3)))),
    ("cyclic gradient |b|=5", dict(partition="sorted", selection="cyclic", update="gradient",
                                   block_size=5)),
]:
    it, sec, gap = curve(D, max_iter=200, **params)
    axes[1, 1].semilogy(it, gap, label=label)
axes[1, 1].set(title="D: lattice label propagation, exact forest solves",
               xlabel="iteration")
axes[1, 1].legend(fontsize=7)
fig.tight_layout()
plt.show()
