"""Exact Shapley values of a game over a few players, from its value on every coalition.

Coalitions are bit masks: bit ``g`` of index ``m`` set means player ``g`` is present. With 7
players (the face-parameter groups) or 13 (regions) the 2^n values are cheap to tabulate once the
expensive part (rendering, embedding) is cached, and exact values need no sampling error bars.
"""

from __future__ import annotations

from math import factorial

import numpy as np


def coalition_masks(n_players: int) -> np.ndarray:
    """(2^n, n) booleans: row ``m`` is coalition ``m``'s membership."""
    m = np.arange(2**n_players)
    return ((m[:, None] >> np.arange(n_players)) & 1).astype(bool)


def shapley_weights(n_players: int) -> np.ndarray:
    """(n, 2^n) matrix ``W`` with ``φ = values @ W.T``: ``W[g, S ∪ g] = +w(|S|)``, ``W[g, S] = −w(|S|)``
    for every ``S`` without ``g``, ``w(s) = s! (n − s − 1)! / n!``."""
    masks = coalition_masks(n_players)
    size = masks.sum(1)
    w = np.zeros((n_players, 2**n_players))
    for g in range(n_players):
        without = np.flatnonzero(~masks[:, g])
        coef = np.array([factorial(s) * factorial(n_players - s - 1) for s in size[without]]) / factorial(n_players)
        w[g, without | (1 << g)] += coef
        w[g, without] -= coef
    return w


def exact_shapley(values: np.ndarray) -> np.ndarray:
    """Shapley values from coalition values ``(..., 2^n)`` → ``(..., n)``, in float64.

    Efficiency holds exactly: the values sum to ``v(all) − v(none)``.
    """
    values = np.asarray(values, np.float64)
    n = int(round(np.log2(values.shape[-1])))
    if 2**n != values.shape[-1]:
        raise ValueError(f"expected 2^n coalition values, got {values.shape[-1]}")
    return values @ shapley_weights(n).T
