"""The result object returned by every functional solver."""
from __future__ import annotations

__all__ = ["SolverResult"]


class SolverResult(dict):
    """Solution of an iterative solver, in the spirit of ``scipy.optimize.OptimizeResult``.

    A ``dict`` whose keys are also attributes. Every solver fills at least:

    x : array
        The solution (coefficients, transport plan, low-rank matrix, ...).
        Solvers may add field-specific aliases (``coef``, ``plan``).
    n_iter : int
        Outer iterations performed.
    converged : bool
        Whether ``certificate <= tol`` was reached.
    certificate : float
        The stopping quantity that was compared with ``tol``: duality gap for
        convex problems, KKT / subdifferential distance, marginal error,
        relative residual, ...
    certificate_name : str
        What ``certificate`` measures, e.g. ``"duality gap"``.
    tol : float
        The tolerance it was compared with.
    history : list of dict
        One entry per checkpoint (iteration, certificate, objective, time).
    message : str
        Human-readable summary.

    Examples
    --------
    >>> from sparseopt.optimize import SolverResult
    >>> res = SolverResult(x=[0.0], n_iter=3, converged=True, certificate=1e-9,
    ...                    certificate_name="duality gap", tol=1e-6)
    >>> res.converged, res.n_iter
    (True, 3)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setdefault("history", [])
        if "message" not in self and "converged" in self:
            name = self.get("certificate_name", "certificate")
            state = "converged" if self["converged"] else "did not converge"
            self["message"] = (
                f"{state} after {self.get('n_iter')} iterations "
                f"({name} {self.get('certificate', float('nan')):.3e}, tol {self.get('tol', float('nan')):.1e})"
            )

    @property
    def success(self):
        """Alias of ``converged`` (SciPy's name)."""
        return bool(self.get("converged", False))

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __setattr__(self, name, value):
        self[name] = value

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.keys()))

    def __repr__(self):
        keys = [k for k in self if k != "history"]
        width = max(map(len, keys)) + 1 if keys else 0
        lines = []
        for k in keys:
            v = repr(self[k])
            if len(v) > 70:
                v = v[:67] + "..."
            lines.append(f"{k.rjust(width)}: {v}")
        return "\n".join(lines)

    def __reduce__(self):
        return (type(self), (dict(self),))
