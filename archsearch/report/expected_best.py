"""Expected best validation score after k hyperparameter samples (Dodge et al. 2019).

"Show your work: improved reporting of experimental results" (EMNLP 2019):
instead of one best-of-n number, show how good the best trial is expected to
be after k = 1..n random hyperparameter samples. With the n observed scores
sorted, v(1) <= ... <= v(n), and k draws from their empirical distribution
(with replacement, as in the paper), the best of the k draws is v(i) with
probability (i/n)^k - ((i-1)/n)^k, so

    E[best of k] = sum_i v(i) * ((i/n)^k - ((i-1)/n)^k).

`replace=False` gives the same for k distinct trials out of the n (the best
of k is v(i) with probability C(i-1, k-1) / C(n, k)); at k = n it is the
observed best.

Example:
    >>> expected_best([0.2, 0.4, 0.9], "max").round(4).tolist()
    [0.5, 0.6556, 0.7444]
    >>> expected_best([0.2, 0.4, 0.9], "max", replace=False).round(4).tolist()
    [0.5, 0.7333, 0.9]
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np

__all__ = ["expected_best"]


def expected_best(scores: Sequence[float], mode: str = "max", *,
                  replace: bool = True) -> np.ndarray:
    """E[best of k samples] for k = 1..n, exactly, from the order statistics.

    Args:
        scores: The n observed trial scores (non-finite values are dropped).
        mode: `max` (higher is better) or `min` (lower is better).
        replace: Draw the k samples with replacement (Dodge et al.) or not.

    Returns:
        An array of length n: element k-1 is the expected best of k samples.

    Raises:
        ValueError: `mode` is not `max` or `min`.
    """
    if mode not in ("max", "min"):
        raise ValueError(f"Expected mode 'max' or 'min'. Received: mode={mode!r}")
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if not n:
        return np.empty(0)
    # ascending in goodness: the best value is last
    v = np.sort(values) if mode == "max" else np.sort(values)[::-1]
    i = np.arange(1, n + 1)
    out = np.empty(n)
    for k in range(1, n + 1):
        if replace:
            weights = (i / n) ** k - ((i - 1) / n) ** k
        else:
            weights = np.array([comb(j - 1, k - 1) for j in i], dtype=float) / comb(n, k)
        out[k - 1] = float(weights @ v)
    return out
