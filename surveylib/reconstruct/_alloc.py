"""Small vectorised helpers: rounding to exact totals, seeded generators, rank-based assignment."""

from __future__ import annotations

import numpy as np

from ..errors import ReconstructionError


def generator(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible generator for one step (``keys`` name the step)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), *map(int, keys)])))


def largest_remainder(total: int, shares) -> np.ndarray:
    """Integers proportional to ``shares`` summing to ``total`` (Hamilton's method, ties by index)."""
    shares = np.asarray(shares, dtype=float)
    if total < 0 or shares.sum() <= 0 or np.any(shares < 0):
        raise ReconstructionError(f"cannot apportion {total} over shares {shares.tolist()}.")
    quota = total * shares / shares.sum()
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    order = np.lexsort((np.arange(len(quota)), -(quota - base)))
    base[order[:rest]] += 1
    return base


def rank_within(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank (0 = largest key) of every element within its group."""
    n = len(groups)
    order = np.lexsort((np.arange(n), -keys, groups))
    g_sorted = groups[order]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n) - first
    return ranks


def assign_within_groups(groups: np.ndarray, counts: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Boolean mask choosing ``counts[g]`` elements with the largest ``keys`` in each group ``g``."""
    groups = np.asarray(groups, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.bincount(groups, minlength=len(counts))
    if np.any(counts > sizes[: len(counts)]) or np.any(counts < 0):
        raise ReconstructionError("internal: more selections than group members.")
    return rank_within(groups, keys) < counts[groups]


def split_by_rank(keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Category index 0..K-1 per element: the ``counts[0]`` smallest keys get 0, and so on."""
    n = len(keys)
    if int(np.sum(counts)) != n:
        raise ReconstructionError("internal: category counts do not add up to the sample size.")
    order = np.lexsort((np.arange(n), keys))
    cat = np.empty(n, dtype=np.int64)
    cat[order] = np.repeat(np.arange(len(counts)), counts)
    return cat


def perturbed(prior, cfg, *keys: int) -> np.ndarray:
    """``prior`` times log-normal noise of sd ``cfg.prior_noise`` (unchanged when it is 0).

    A multiple reconstruction (:mod:`.draws`) spreads its draws over the feasible set by
    solving each integer problem at minimum L1 distance from a randomly perturbed prior; the
    noise of one problem comes from its own generator (``keys`` name the problem).
    """
    prior = np.asarray(prior, dtype=float)
    noise = float(cfg.get("prior_noise", 0.0) or 0.0)
    if noise <= 0:
        return prior
    rng = generator(cfg.seed, 99, *keys)
    return prior * np.exp(noise * rng.standard_normal(prior.shape))


def gumbel(rng: np.random.Generator, size) -> np.ndarray:
    return -np.log(-np.log(rng.uniform(1e-12, 1.0, size=size)))
