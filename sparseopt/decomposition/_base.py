"""What the low-rank estimators share: deterministic component signs and the PCA-like transform."""
from __future__ import annotations

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..utils._array_api import get_namespace_and_device, same_namespace_and_device
from ..utils.validation import FLOAT_DTYPES, check_X


def flip_signs(xp, Vt, device=None):
    """Make the largest-magnitude entry of each row of ``Vt`` positive (deterministic signs)."""
    if Vt.shape[0] == 0:
        return Vt
    idx = xp.argmax(xp.abs(Vt), axis=1)
    cols = xp.arange(Vt.shape[1], device=device)
    onehot = cols[None, :] == idx[:, None]
    signs = xp.sign(xp.sum(xp.where(onehot, Vt, xp.zeros_like(Vt)), axis=1))
    signs = xp.where(signs == 0, xp.ones_like(signs), signs)
    return Vt * signs[:, None]


class LowRankTransformerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform`` / ``inverse_transform`` through ``components_`` (``rank_`` rows), like PCA
    without centring, in the namespace and on the device of the fitted components."""

    @property
    def _n_features_out(self):
        return self.rank_

    def transform(self, X):
        """Project ``X`` onto ``components_``: ``X @ components_.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : array of shape (n_samples, r)
            ``r`` is ``rank_``.
        """
        check_is_fitted(self)
        same_namespace_and_device(self.components_, X, f"{type(self).__name__}.transform()")
        X = check_X(self, X, reset=False)
        return X @ self.components_.T

    def inverse_transform(self, X):
        """Map scores back to feature space: ``X @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, r)

        Returns
        -------
        X_original : array of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        same_namespace_and_device(self.components_, X,
                                  f"{type(self).__name__}.inverse_transform()")
        xp, is_api, _ = get_namespace_and_device(X)
        X = check_array(X, dtype=(xp.float64, xp.float32) if is_api else FLOAT_DTYPES,
                        ensure_min_features=0, input_name="X")
        if X.shape[1] != self.rank_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} has "
                             f"rank_={self.rank_} components.")
        return X @ self.components_
