"""Log-det acyclicity and the path-following engine shared by CoLiDE and DAGMA.

Stage ``k`` minimises ``mu_k * [S(W, sigma) + lambda1 ||W||_1] + h_{s_k}(W)`` with
``mu_k = mu_init * mu_factor**k``, warm-started from stage ``k - 1`` (Bello, Aragam &
Ravikumar, NeurIPS 2022; Saboksayr, Mateos & Tepper, ICLR 2024). The score ``S`` and its
closed-form scale are chosen by a small ``Score`` record (``SCORES`` table): DAGMA holds
the scale at 1, CoLiDE-EV updates one scale, CoLiDE-NV one per node. The inner loop
(Adam, domain test, backtracking) is the compiled kernel
``sparseopt._ext._dag.adam_stage`` for NumPy inputs and the same iterations in the
input's array namespace (``_adam_namespace``) for any other.
"""
from __future__ import annotations

import inspect
import math
import numbers
import time
import warnings
from dataclasses import dataclass, fields, replace

import array_api_compat
import numpy as np
import scipy.linalg as sla
from sklearn.utils import check_array

from .._ext import _dag as kernel
from ..optimize import SolverResult
from ..utils._array_api import from_numpy, get_namespace_and_device, to_numpy
from ..utils.validation import Interval, StrOptions, validate_params
from ._adam_namespace import adam_stage_namespace
from ._checks import check_mask, check_square, check_vector
from ._graph import is_dag

__all__ = ["logdet_acyclicity", "path_following", "PathOptions", "DAGResult", "SCHEDULES",
           "SCORES"]


def logdet_acyclicity(W, s=1.0, *, domain_tol=1e-6):
    """Log-det acyclicity ``h_s(W) = -log det(sI - W o W) + d log s`` and its gradient.

    One LU factorisation of ``sI - W o W`` gives the value (from the
    diagonal of U), the inverse (for the gradient ``2 W o (sI - W o W)^-T``)
    and the M-matrix domain test (every entry of the inverse ``>= -domain_tol``).

    Parameters
    ----------
    W : array of shape (d, d)
        Weighted adjacency matrix; ``W[i, j]`` is the weight of edge i -> j.
        With scikit-learn's ``array_api_dispatch`` on, a torch / CuPy /
        array-api-strict array is handled in its namespace and on its device
        (``xp.linalg.slogdet`` and ``xp.linalg.inv``; the acyclicity of the
        support by repeated squaring of its 0/1 adjacency) and ``grad`` is
        returned there, in float64 where the device has it.
    s : float, default=1.0
        Domain parameter; ``h_s`` is defined while ``s > rho(W o W)``.
    domain_tol : float, default=1e-6
        Tolerance of the domain test (CoLiDE's; rounding leaves entries of
        about -1e-15 in the inverse even for exact DAGs).

    Returns
    -------
    h : float
        ``h_s(W)``; ``>= 0`` in the domain, ``0`` exactly on DAGs; ``inf``
        outside the domain.
    grad : array of shape (d, d)
        ``2 W o (sI - W o W)^-T`` (NaN-free only inside the domain; NaN when
        ``sI - W o W`` is singular).
    in_domain : bool
        Whether ``sI - W o W`` is a nonsingular M-matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.causal import logdet_acyclicity
    >>> dag = np.array([[0.0, 0.8], [0.0, 0.0]])
    >>> logdet_acyclicity(dag)[0]
    0.0
    >>> cycle = np.array([[0.0, 0.8], [0.5, 0.0]])
    >>> round(logdet_acyclicity(cycle)[0], 4)
    0.1744
    """
    validate_params(dict(s=s, domain_tol=domain_tol),
                    dict(s=_POSITIVE, domain_tol=_NON_NEGATIVE), owner="logdet_acyclicity")
    xp, is_api, device = get_namespace_and_device(W)
    if is_api:
        return _logdet_acyclicity_namespace(xp, device, W, s, domain_tol)
    W = check_square(W, "W")
    d = W.shape[0]
    A = s * np.eye(d) - W * W
    # on an acyclic support sI - W o W is triangular up to a permutation, so
    # h_s = -d log s + d log s = 0 exactly; rounding in the LU would leave ~1e-16
    exact_zero = is_dag(W)
    with warnings.catch_warnings():
        # an exactly singular sI - W o W is reported by the result (h = inf, NaN gradient,
        # out of the domain), not by SciPy's LinAlgWarning
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        lu, piv = sla.lu_factor(A, check_finite=False)
    diag = np.diag(lu)
    if np.any(diag == 0):
        return np.inf, np.full_like(W, np.nan), False
    n_swaps = np.count_nonzero(piv != np.arange(d))
    sign = (-1.0) ** n_swaps * np.prod(np.sign(diag))
    inverse = sla.lu_solve((lu, piv), np.eye(d), check_finite=False)
    in_domain = bool(sign > 0 and np.all(inverse >= -domain_tol))
    if sign <= 0:
        return np.inf, 2.0 * W * inverse.T, False
    h = 0.0 if exact_zero else float(-np.sum(np.log(np.abs(diag))) + d * np.log(s))
    return h, 2.0 * W * inverse.T, in_domain


def _is_dag_namespace(xp, W):
    """Whether the support of W is acyclic, on W's device: its 0/1 adjacency ``B`` is
    nilpotent, i.e. ``B^(2^k) = 0`` once ``2^k >= d`` (a cycle gives walks of every length);
    the power by ``ceil(log2 d)`` squarings, back to 0/1 after each."""
    B = xp.astype(W != 0, W.dtype)
    reach = 1
    while reach < W.shape[0]:
        B = xp.astype((B @ B) > 0, W.dtype)
        reach *= 2
    return not bool(xp.any(B != 0))


def _logdet_acyclicity_namespace(xp, device, W, s, domain_tol):
    """:func:`logdet_acyclicity` in namespace ``xp``: ``slogdet`` for h, ``inv`` for the
    gradient and the domain test (a few host reads, no host copy of W)."""
    _check_namespace_matrix(W, "W", xp)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (d, d) matrix, got shape {tuple(W.shape)}.")
    W = xp.astype(W, _compute_dtype(xp, device))
    d = W.shape[0]
    A = s * xp.eye(d, dtype=W.dtype, device=device) - W * W
    sign, logabsdet = xp.linalg.slogdet(A)
    sign, logabsdet = float(sign), float(logabsdet)
    try:
        inverse = xp.linalg.inv(A)
    except Exception:  # exactly singular (LinAlgError of NumPy, torch, array-api-strict)
        return math.inf, xp.full_like(W, math.nan), False
    grad = 2.0 * W * inverse.T
    if sign <= 0 or not math.isfinite(logabsdet):
        return math.inf, grad, False
    in_domain = bool(xp.all(inverse >= -domain_tol))
    # on an acyclic support h_s is 0 exactly (see the NumPy branch)
    h = 0.0 if _is_dag_namespace(xp, W) else -logabsdet + d * math.log(s)
    return h, grad, in_domain


@dataclass(frozen=True)
class Score:
    """How a score treats the noise scale.

    ``scale_mode`` selects the kernel's closed-form update, ``initial_scale``
    maps the marginal standard deviations of the centred columns
    (``||X_j|| / sqrt(n)``, a NumPy vector) to sigma^0 (the reference code's
    initialisation).
    """

    name: str
    scale_mode: int
    initial_scale: callable


def _fixed_scale(column_std):
    return np.ones(column_std.shape[0])


def _ev_initial_scale(column_std):
    # EV: the smallest marginal standard deviation
    return np.full(column_std.shape[0], np.min(column_std))


def _nv_initial_scale(column_std):
    # NV: each node's marginal standard deviation
    return np.array(column_std, dtype=np.float64)


SCORES = {
    "dagma": Score("dagma", kernel.SCALE_FIXED, _fixed_scale),
    "ev": Score("ev", kernel.SCALE_EV, _ev_initial_scale),
    "nv": Score("nv", kernel.SCALE_NV, _nv_initial_scale),
}

LOSSES = {"l2": kernel.LOSS_L2, "logistic": kernel.LOSS_LOGISTIC}

# the paper's experiment scripts and the authors' fit() defaults
SCHEDULES = {
    "paper": dict(T=4, s=(1.0, 0.9, 0.8, 0.7), warm_iter=20_000, max_iter=70_000),
    "dagma": dict(T=5, s=(1.0, 0.9, 0.8, 0.7, 0.6), warm_iter=30_000, max_iter=60_000),
}


class DAGResult(SolverResult):
    """Result of :func:`path_following`: ``x`` is the raw weighted adjacency ``W``.

    Extra keys: ``sigma`` (per-node scale, all equal for EV), ``h`` (``h_1`` of
    the raw W), ``stages`` (one dict per stage attempt: stage, s, lr, mu,
    status, n_iter, objective, seconds) and ``seconds`` (wall time).
    """


_STATUS = {
    kernel.STAGE_MAX_ITER: "max_iter",
    kernel.STAGE_CONVERGED: "converged",
    kernel.STAGE_DOMAIN_FAIL: "left domain",
    kernel.STAGE_LR_UNDERFLOW: "lr underflow",
}


@dataclass
class _Problem:
    """The validated arrays of one :func:`path_following` call, in the namespace that runs it.

    ``xp`` is None for NumPy (the compiled kernel) and the input's namespace otherwise.
    """

    Sigma: object
    X: object
    sigma_init: object
    floor: object
    free: object
    required: object
    scale_mode: int
    loss_code: int
    required_floor: float
    sigma_max_abs: float
    xp: object = None

    def zeros_like_W(self):
        if self.xp is None:
            return np.zeros_like(self.Sigma)
        return self.xp.zeros_like(self.Sigma)

    def all_finite(self, A):
        if self.xp is None:
            return bool(np.all(np.isfinite(A)))
        return bool(self.xp.all(self.xp.isfinite(A)))

    def final_h(self, W):
        """``h_1`` of the raw weights (0 exactly on an acyclic support)."""
        if self.xp is None:
            return logdet_acyclicity(W, 1.0)[0]
        xp = self.xp
        d = W.shape[0]
        sign, logabsdet = xp.linalg.slogdet(xp.eye(d, dtype=W.dtype, device=_device(W)) - W * W)
        if float(sign) <= 0:
            return math.inf
        return max(-float(logabsdet), 0.0)


def _device(a):
    return array_api_compat.device(a)


def _adam(problem, W, sigma, *, mu, s, lr, max_iter, opts, warm):
    """The reference inner solver: one Adam step, then the closed-form scale.

    Compiled (``_dag.adam_stage``) for NumPy; the same iterations in ``problem.xp`` otherwise.
    Returns ``status, n_iter, objective, relative_change, n_backtracks, W, sigma`` (new arrays).
    """
    args = (mu, s, lr, float(opts.lambda1), max_iter, int(opts.checkpoint), float(opts.tol),
            float(opts.beta1), float(opts.beta2), 1e-8, float(opts.domain_tol),
            problem.scale_mode, problem.loss_code, warm)
    if problem.xp is None:
        W, sigma = W.copy(), sigma.copy()
        status, n_it, _, obj, rel, n_back = kernel.adam_stage(
            problem.Sigma, problem.X, W, sigma, problem.floor, problem.free, problem.required,
            problem.required_floor, *args)
    else:
        status, n_it, _, obj, rel, n_back, W, sigma = adam_stage_namespace(
            problem.xp, problem.Sigma, problem.X, W, sigma, problem.floor, problem.free,
            problem.required, problem.required_floor, *args)
    return status, n_it, obj, rel, n_back, W, sigma


# inner solvers of one stage: same signature, same stage objective
STAGE_SOLVERS = {"adam": _adam}


def _schedule_values(s, T):
    """Per-stage s as a fresh list (never the caller's): pad with the last value."""
    values = [float(s)] * T if np.isscalar(s) else [float(v) for v in s]
    if len(values) < T:
        values = values + [values[-1]] * (T - len(values))
    return values[:T]


# implementations of the stage loop (PathOptions.array_path)
ARRAY_PATHS = ("auto", "native", "compiled")

_NON_NEGATIVE = [Interval(numbers.Real, 0, None, closed="left")]
_POSITIVE = [Interval(numbers.Real, 0, None, closed="neither")]
_PATH_PARAMS = {
    "score": [StrOptions(set(SCORES))],
    "loss": [StrOptions(set(LOSSES))],
    "lambda1": _NON_NEGATIVE,
    "T": [Interval(numbers.Integral, 1, None, closed="left")],
    "mu_init": _POSITIVE,
    "mu_factor": [Interval(numbers.Real, 0, 1, closed="right")],
    "s": [Interval(numbers.Real, 0, None, closed="neither"), "array-like"],
    "warm_iter": [Interval(numbers.Integral, 0, None, closed="left")],
    "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "lr": _POSITIVE,
    "checkpoint": [Interval(numbers.Integral, 1, None, closed="left")],
    "tol": _NON_NEGATIVE,
    "beta1": [Interval(numbers.Real, 0, 1, closed="left")],
    "beta2": [Interval(numbers.Real, 0, 1, closed="left")],
    "domain_tol": _NON_NEGATIVE,
    "required_floor": _NON_NEGATIVE,
    "solver": [StrOptions(set(STAGE_SOLVERS))],
    "pin_diagonal": ["boolean"],
    "max_retries": [Interval(numbers.Integral, 0, None, closed="left")],
    "verbose": ["verbose"],
    "array_path": [StrOptions(set(ARRAY_PATHS))],
}


def _check_path_params(params):
    validate_params(params, _PATH_PARAMS, owner="path_following")
    if params["loss"] == "logistic" and params["score"] != "dagma":
        raise ValueError("path_following(loss='logistic') needs score='dagma' (the logistic "
                         "score has no noise scale).")


@dataclass(frozen=True)
class PathOptions:
    """Settings of :func:`path_following` (the path, the inner Adam solver, the safeguards).

    Defaults are the CoLiDE paper's schedule (``SCHEDULES["paper"]``) and the
    reference codes' Adam settings. Build one and pass it, or pass any field
    by name to :func:`path_following` as a keyword.

    Parameters
    ----------
    lambda1 : float, default=0.05
        L1 weight.
    T : int, default=4
        Number of stages (``mu`` values).
    mu_init, mu_factor : float, default=1.0, 0.1
        ``mu_k = mu_init * mu_factor**k``.
    s : float or sequence of float, default=(1.0, 0.9, 0.8, 0.7)
        Domain parameter per stage (padded with its last value; never modified).
    warm_iter, max_iter : int, default=20000, 70000
        Adam iterations of every stage but the last, and of the last.
    lr : float, default=3e-4
        Adam step size (halved at every stage retry and backtrack).
    checkpoint, tol : int, float, default=1000, 1e-6
        Every ``checkpoint`` iterations the stage stops if the relative change
        of its objective is ``<= tol``.
    beta1, beta2 : float, default=0.99, 0.999
        Adam moment decays (the reference codes' values).
    domain_tol : float, default=1e-6
        Entries of ``(sI - W o W)^-1`` must be ``>= -domain_tol``.
    required_floor : float, default=0.0
        Required edges keep ``|W_ij| >= required_floor``.
    solver : {"adam"}, default="adam"
        Inner solver of each stage, looked up in ``STAGE_SOLVERS`` (a new
        solver with the same signature and stage objective is one entry there).
    pin_diagonal : bool, default=False
        Hold the diagonal at zero. Off by default, as in the reference codes:
        the diagonal drifts early in the path and is pushed back to ~1e-3 by
        the acyclicity term. Pinning it changes the path and, measured on one
        SF4 graph with d=50, raised DAGMA's SHD from 2 to 28.
    max_retries : int, default=60
        Safety cap on stage restarts (the reference retries forever).
    verbose : int, default=0
        Print one line per stage attempt.
    array_path : {"auto", "native", "compiled"}, default="auto"
        Which implementation of the stage loop runs. ``"auto"``: the compiled
        loop for NumPy ``Sigma``, the namespace path for any other array-API
        array (torch, CuPy, array-api-strict, on any device), so that a CUDA
        tensor is solved on its GPU. ``"native"``: the namespace path always
        (NumPy through ``array_api_compat.numpy``): the same iterations with
        ``xp.linalg.inv`` for ``(sI - W o W)^-1`` and ``xp.linalg.slogdet``
        for ``h``, in ``Sigma``'s namespace and device. ``"compiled"``: the
        compiled loop always, on a host (NumPy) copy, results moved back to
        ``Sigma``'s namespace and device. On a CPU the compiled loop is the
        faster of the two at every size measured, by far the most for small
        graphs (``benchmarks/compare/dag.py --namespace``; the user guide
        shows the table): pass ``"compiled"`` for torch CPU tensors.
    """

    lambda1: float = 0.05
    T: int = 4
    mu_init: float = 1.0
    mu_factor: float = 0.1
    s: object = (1.0, 0.9, 0.8, 0.7)
    warm_iter: int = 20_000
    max_iter: int = 70_000
    lr: float = 3e-4
    checkpoint: int = 1000
    tol: float = 1e-6
    beta1: float = 0.99
    beta2: float = 0.999
    domain_tol: float = 1e-6
    required_floor: float = 0.0
    solver: str = "adam"
    pin_diagonal: bool = False
    max_retries: int = 60
    verbose: int = 0
    array_path: str = "auto"


_OPTION_NAMES = frozenset(f.name for f in fields(PathOptions))


def _resolve_options(options, overrides):
    """``options`` (or the defaults) with keyword overrides applied; unknown names raise."""
    if options is None:
        options = PathOptions()
    elif not isinstance(options, PathOptions):
        raise TypeError(f"options must be a PathOptions, got {type(options).__name__}.")
    unknown = sorted(set(overrides) - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"path_following() got unexpected keyword argument(s) {unknown}; "
                        f"options are {sorted(_OPTION_NAMES)}.")
    return replace(options, **overrides) if overrides else options


def _host_parameters(d, sigma_init, sigma_floor, free_mask, required_mask, opts):
    """Validated NumPy copies of the small per-node / per-edge parameters."""
    sigma = (np.ones(d) if sigma_init is None
             else check_vector(to_numpy(sigma_init), "sigma_init", d, non_negative=True))
    floor = (np.zeros(d) if sigma_floor is None
             else check_vector(to_numpy(sigma_floor), "sigma_floor", d, non_negative=True,
                               scalar_ok=True))
    sigma = np.maximum(sigma, floor)
    if np.any(sigma <= 0):
        raise ValueError("sigma_init must be positive where sigma_floor is 0 (the score divides "
                         "by the noise scale).")
    free = (np.ones((d, d)) if free_mask is None
            else check_mask(to_numpy(free_mask), "free_mask", d))
    if opts.pin_diagonal:
        np.fill_diagonal(free, 0.0)  # a self-loop is never an edge of a DAG
    required = (np.zeros((d, d)) if required_mask is None
                else check_mask(to_numpy(required_mask), "required_mask", d))
    return sigma, floor, free, required


def _prepare_numpy(Sigma, X, sigma_init, sigma_floor, free_mask, required_mask, *, score, loss,
                   opts, xp, device):
    """Validate and copy every array the compiled kernel reads (shape, dtype, finiteness).

    Fresh writable C-contiguous float64 copies: the kernel is compiled for that layout and
    never writes to a caller's array.
    """
    Sigma = np.array(check_square(Sigma, "Sigma"), dtype=np.float64, order="C", copy=True)
    d = Sigma.shape[0]
    loss_code = LOSSES[loss]
    if loss_code == kernel.LOSS_LOGISTIC:
        if X is None:
            raise ValueError("path_following(loss='logistic') needs the data X.")
        X_arr = np.array(check_array(X, dtype=np.float64, input_name="X"), order="C", copy=True)
        if X_arr.shape[1] != d:
            raise ValueError(f"X has {X_arr.shape[1]} columns but Sigma is {d} x {d}.")
    else:
        X_arr = np.zeros((0, d))
    sigma, floor, free, required = _host_parameters(d, sigma_init, sigma_floor, free_mask,
                                                    required_mask, opts)
    return _Problem(Sigma, X_arr, sigma, floor, free, required, SCORES[score].scale_mode,
                    loss_code, float(opts.required_floor),
                    float(np.max(np.abs(Sigma))) if d else 0.0)


def uses_native_path(array_path, is_array_api):
    """Whether the namespace path runs (see ``PathOptions.array_path``): ``"auto"`` for every
    non-NumPy array-API input, ``"native"`` always, ``"compiled"`` never."""
    return array_path == "native" or (array_path == "auto" and is_array_api)


def _compute_dtype(xp, device):
    """float64 where the device has it (not on Apple's MPS, for one), else float32."""
    try:
        xp.zeros(1, dtype=xp.float64, device=device)
    except (TypeError, RuntimeError, ValueError):
        return xp.float32
    return xp.float64


def _check_namespace_matrix(A, name, xp):
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {A.ndim} dimension(s).")
    if not xp.isdtype(A.dtype, ("real floating", "integral", "bool")):
        raise ValueError(f"{name} must hold real numbers, got dtype {A.dtype}.")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(A.shape)}).")
    if xp.isdtype(A.dtype, "real floating") and not bool(xp.all(xp.isfinite(A))):
        raise ValueError(f"{name} contains NaN or inf.")


def _prepare_namespace(Sigma, X, sigma_init, sigma_floor, free_mask, required_mask, *, score,
                       loss, opts, xp, device):
    """Validate the arrays and keep the data in namespace ``xp`` on ``device``.

    ``Sigma`` (and ``X`` for the logistic loss) are checked and cast on the device; the
    small parameters (d-vectors and d x d masks) are validated on the host and moved there.
    """
    _check_namespace_matrix(Sigma, "Sigma", xp)
    if Sigma.shape[0] != Sigma.shape[1]:
        raise ValueError(f"Sigma must be a square (d, d) matrix, got shape {tuple(Sigma.shape)}.")
    dtype = _compute_dtype(xp, device)
    Sigma = xp.astype(Sigma, dtype, copy=True)
    d = Sigma.shape[0]
    loss_code = LOSSES[loss]
    if loss_code == kernel.LOSS_LOGISTIC:
        if X is None:
            raise ValueError("path_following(loss='logistic') needs the data X.")
        X = X if not isinstance(X, np.ndarray) else from_numpy(X, xp, device)
        _check_namespace_matrix(X, "X", xp)
        if X.shape[1] != d:
            raise ValueError(f"X has {X.shape[1]} columns but Sigma is {d} x {d}.")
        X_arr = xp.astype(X, dtype, copy=True)
    else:
        X_arr = xp.zeros((0, d), dtype=dtype, device=device)
    host = _host_parameters(d, sigma_init, sigma_floor, free_mask, required_mask, opts)
    sigma, floor, free, required = (xp.asarray(a, dtype=dtype, device=device) for a in host)
    if np.all(host[2] == 1):
        free = None  # nothing masked: the loop skips the product
    return _Problem(Sigma, X_arr, sigma, floor, free, required, SCORES[score].scale_mode,
                    loss_code, float(opts.required_floor), float(xp.max(xp.abs(Sigma))), xp=xp)


def path_following(Sigma, options=None, *, score="ev", loss="l2", X=None, sigma_init=None,
                   sigma_floor=None, free_mask=None, required_mask=None, **overrides):
    """Minimise the log-det-constrained DAG score along a decreasing-``mu`` path.

    Parameters
    ----------
    Sigma : ndarray of shape (d, d)
        ``X^T X / n`` of the centred data (l2) or of the raw 0/1 data (logistic).
    options : PathOptions, optional
        Path, solver and safeguard settings (default ``PathOptions()``).
    score : {"ev", "nv", "dagma"}
        Scale handling (see ``SCORES``).
    loss : {"l2", "logistic"}
        Logistic needs ``X`` and ``score="dagma"``.
    X : ndarray of shape (n, d), optional
        Data for the logistic loss.
    sigma_init : ndarray of shape (d,), optional
        Initial scale (default 1; the score's data-based rule needs X, so the
        estimators pass it).
    sigma_floor : ndarray of shape (d,) or float, optional
        Lower bound on the scale.
    free_mask, required_mask : ndarray of shape (d, d), optional
        0/1 masks of allowed and required edges.
    **overrides
        Any field of :class:`PathOptions` by name (``lambda1=0.1, T=2``),
        replacing the value in ``options``.

    Returns
    -------
    DAGResult

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.causal import PathOptions, path_following
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.standard_normal(500)
    >>> X = np.column_stack([x0, 1.5 * x0 + rng.standard_normal(500)])
    >>> X -= X.mean(axis=0)
    >>> fast = PathOptions(T=2, warm_iter=2000, max_iter=3000)
    >>> result = path_following(X.T @ X / 500, fast, score="dagma")
    >>> (np.abs(result.x) > 0.3).astype(int).tolist()
    [[0, 1], [0, 0]]
    """
    t_start = time.perf_counter()
    opts = _resolve_options(options, overrides)
    _check_path_params(dict(vars(opts), score=score, loss=loss))
    xp, is_api, device = get_namespace_and_device(Sigma)
    native = uses_native_path(opts.array_path, is_api)
    if is_api and not native:
        Sigma, X = to_numpy(Sigma), to_numpy(X)
    elif native and not is_api:
        # NumPy (or an array-like) forced onto the namespace path: array_api_compat.numpy
        Sigma = check_square(Sigma, "Sigma")
        if X is not None:
            X = check_array(X, dtype=np.float64, input_name="X")
    prepare = _prepare_namespace if native else _prepare_numpy
    problem = prepare(Sigma, X, sigma_init, sigma_floor, free_mask, required_mask,
                      score=score, loss=loss, opts=opts, xp=xp, device=device)
    s_values = _schedule_values(opts.s, opts.T)
    if not all(np.isfinite(v) and v > 0 for v in s_values):
        raise ValueError(f"s must hold positive finite values, got {opts.s!r}.")

    W, sigma = problem.zeros_like_W(), problem.sigma_init
    mu = float(opts.mu_init)
    stages, n_iter_total = [], 0
    status, rel = kernel.STAGE_MAX_ITER, np.inf
    for k in range(opts.T):
        W, sigma, status, rel, n_it = _run_stage(problem, opts, k, s_values[k], mu, W, sigma,
                                                 stages)
        n_iter_total += n_it
        mu *= opts.mu_factor

    h_final = problem.final_h(W)
    if is_api and not native:  # results go back to Sigma's namespace and device
        W, sigma = from_numpy(W, xp, device), from_numpy(sigma, xp, device)
    converged = status in (kernel.STAGE_CONVERGED, kernel.STAGE_LR_UNDERFLOW)
    return DAGResult(
        x=W, sigma=sigma, h=float(h_final), n_iter=n_iter_total, converged=bool(converged),
        certificate=float(rel), certificate_name="relative objective change (last stage)",
        tol=float(opts.tol), history=stages, stages=stages, seconds=time.perf_counter() - t_start)


def _run_stage(problem, opts, k, s_k, mu, W, sigma, stages):
    """Stage ``k`` from the warm start (W, sigma), restarted while it leaves the domain.

    Returns the stage's (W, sigma, status, relative change, iterations over all attempts).
    """
    lr_k = float(opts.lr)
    iters = int(opts.max_iter) if k == opts.T - 1 else int(opts.warm_iter)
    n_iter = 0
    for attempt in range(opts.max_retries + 1):
        t0 = time.perf_counter()
        status, n_it, obj, rel, n_back, W_try, sigma_try = STAGE_SOLVERS[opts.solver](
            problem, W, sigma, mu=mu, s=s_k, lr=lr_k, max_iter=iters, opts=opts, warm=k > 0)
        n_iter += int(n_it)
        entry = dict(stage=k, attempt=attempt, s=s_k, lr=lr_k, mu=mu, status=_STATUS[status],
                     n_iter=int(n_it), n_backtracks=int(n_back), objective=float(obj),
                     relative_change=float(rel), seconds=time.perf_counter() - t0)
        stages.append(entry)
        if opts.verbose:
            print(f"[path_following] stage {k} attempt {attempt}: s={s_k:.2f} lr={lr_k:.2e} "
                  f"mu={mu:.1e} -> {entry['status']} after {n_it} iterations "
                  f"(objective {obj:.6g})")
        if status != kernel.STAGE_DOMAIN_FAIL:
            break
        # restart the stage from its warm start with half lr and s + 0.1 (DAGMA's rule)
        lr_k *= 0.5
        s_k += 0.1
    else:
        raise RuntimeError(
            f"path_following: stage {k} left the M-matrix domain {opts.max_retries + 1} times "
            f"(last s={s_k:.2f}, lr={lr_k:.2e}); the data may be badly scaled.")
    if not np.isfinite(obj) or not problem.all_finite(W_try):
        # overflow in the score (data far from unit scale): the iterate is meaningless
        raise ValueError(
            f"path_following: stage {k} ended with a non-finite objective ({obj}); the "
            f"data are badly scaled for lambda1={opts.lambda1:g} and lr={opts.lr:g} (largest "
            f"|Sigma| entry {problem.sigma_max_abs:.3g}). Standardise or rescale the data "
            f"(CoLiDE/DAGMA: standardize='global').")
    return W_try, sigma_try, status, rel, n_iter


def _signature_with_options(func):
    """``func``'s signature with the ``**overrides`` spelled out as the :class:`PathOptions`
    fields (keyword-only, with their defaults), so that ``help()`` and introspection show
    every keyword the function accepts."""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    defaults = PathOptions()
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                 default=getattr(defaults, f.name)) for f in fields(PathOptions)]
    func.__signature__ = sig.replace(parameters=params)
    return func


_signature_with_options(path_following)
