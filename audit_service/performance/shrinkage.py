"""Bayesian shrinkage of a share toward a prior mean, and its interval (the reference formula).

A component observed ``n`` times with mean ``raw`` (a share in 0..1) is a Beta posterior with the
prior ``Beta(k·m, k·(1-m))``: ``m`` the prior mean (the outlet's, or the organisation's when the
outlet has too little evidence), ``k`` the prior strength in the component's unit.

    score = (n·raw + k·m) / (n + k)
    sd    = sqrt(score·(1-score) / (n + k + 1))
    low, high = clip(score ∓ z·sd, 0, 1)

The SQL in ``performance.scores`` computes exactly this; tests compare the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Shrunk:
    score: float
    low: float
    high: float
    sd: float


def shrink(raw: float | None, n: float, prior: float, k: float, z: float) -> Shrunk:
    """``raw`` None (no evidence) gives the prior itself with the prior's own spread."""
    mean = 0.0 if raw is None else raw
    n = 0.0 if raw is None else n
    score = (n * mean + k * prior) / (n + k)
    sd = math.sqrt(max(score * (1 - score), 0.0) / (n + k + 1))
    return Shrunk(score, max(0.0, score - z * sd), min(1.0, score + z * sd), sd)
