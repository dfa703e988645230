"""Fixed block partitions of block coordinate descent.

Each partition is a function ``(objective, block_size) -> list of int arrays``
registered in :data:`PARTITIONS`. ``"variable"`` is not a partition: the
selection rule picks any ``block_size`` coordinates at every iteration.
"""
from __future__ import annotations

import numpy as np

from ..._ext import _bcd as _k

__all__ = ["PARTITIONS", "order_partition", "sorted_partition", "avg_partition",
           "red_black_partition", "forest_partition"]


def _cut(indices, block_size):
    return [np.sort(indices[i:i + block_size]).astype(np.int64)
            for i in range(0, indices.size, block_size)]


def order_partition(objective, block_size):
    """Contiguous runs ``{0..s-1}, {s..2s-1}, ...``."""
    return _cut(np.arange(objective.n_coords), block_size)


def sorted_partition(objective, block_size):
    """Sort coordinates by L_i and cut runs: blocks of similar constants."""
    order = np.argsort(-objective.coord_lipschitz, kind="stable")
    return _cut(order, block_size)


def avg_partition(objective, block_size):
    """Interleave the largest and smallest L_i so that block constants are alike."""
    order = np.argsort(objective.coord_lipschitz, kind="stable")
    n = order.size
    inter = np.empty(n, dtype=np.int64)
    inter[0::2] = order[: (n + 1) // 2]  # smallest ...
    inter[1::2] = order[::-1][: n // 2]  # ... paired with largest
    return _cut(inter, block_size)


def _graph(objective):
    Q = getattr(objective, "Q", None)
    if Q is None:
        raise ValueError("graph partitions (red_black, forest) need a QuadraticObjective "
                         "(a sparse quadratic such as graph_quadratic).")
    return Q


def red_black_partition(objective, block_size=None):
    """Colour classes of a greedy graph colouring: A_bb is diagonal on each block.

    On bipartite graphs (lattices) this is the red-black ordering with two
    classes of about n/2 nodes. ``block_size`` is ignored.
    """
    Q = _graph(objective)
    n = Q.shape[0]
    colour = np.full(n, -1, dtype=np.int64)
    indptr, indices = Q.indptr, Q.indices
    for i in range(n):
        used = {colour[j] for j in indices[indptr[i]:indptr[i + 1]] if j != i}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return [np.flatnonzero(colour == c).astype(np.int64) for c in range(colour.max() + 1)]


def forest_partition(objective, block_size=None):
    """Split the nodes into forests (greedy forest cover), alternated by cyclic selection.

    Repeatedly grows a maximal forest over the nodes not yet covered (the
    paper's "tree partitions": two forests suffice on lattices). ``block_size``
    is ignored: the forests are maximal.
    """
    Q = _graph(objective)
    n = Q.shape[0]
    remaining = np.arange(n, dtype=np.int64)
    uf = np.arange(n, dtype=np.int64)
    in_block = np.zeros(n, dtype=np.int8)
    out = np.empty(n, dtype=np.int64)
    cap = n
    blocks = []
    while remaining.size:
        size = _k.greedy_forest(Q.indptr, Q.indices, remaining, cap, uf, in_block, out)
        block = np.sort(out[:size].copy())
        blocks.append(block)
        remaining = np.setdiff1d(remaining, block, assume_unique=True)
    return blocks


PARTITIONS = {
    "order": order_partition,
    "sorted": sorted_partition,
    "sort": sorted_partition,  # the paper's name
    "avg": avg_partition,
    "red_black": red_black_partition,
    "forest": forest_partition,
}
