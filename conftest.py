import os

# scikit-learn's array-API checks only run when this is set before SciPy loads;
# .ci/run exports it, this keeps local runs equivalent.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)
