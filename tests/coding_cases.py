"""Data for the tests of the coding of rows into joint cells (``weighting/_coding.py``): three
variables ``a`` (4 levels), ``b`` (3 integer levels), ``c`` (2 strings) and the paths a case
sends the coding down, with the reference coding by sorting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveylib._validation import factorize_column

CODING_CASES = ("all combinations", "combinations absent", "missing values", "subset",
         "late combination", "missing, first variable")


def coding_frame(rng, n: int, case: str, weights=1.0) -> tuple[pd.DataFrame, np.ndarray]:
    """``(frame, active rows)`` for ``case``; ``weights`` is the ``w`` column, or a function
    of ``rng`` drawing it after the three variables."""
    df = pd.DataFrame({"a": rng.integers(0, 4, n), "b": rng.choice([3, 7, 8], n),
                       "c": rng.choice(["x", "y"], n)})
    df["w"] = weights(rng) if callable(weights) else weights
    active = np.ones(n, dtype=bool)
    if case == "combinations absent":
        df.loc[(df["a"] == 2) & (df["b"] == 7), "a"] = 1
    elif case == "missing values":
        df["b"] = df["b"].astype(float).where(np.arange(n) % 13 != 0)
    elif case == "subset":
        active = np.arange(n) % 3 != 0
    elif case == "missing, first variable":
        df["a"] = df["a"].astype(float).where(np.arange(n) % 11 != 0)
    elif case == "late combination":  # (a=3, b=8) only in the last row: past the first rows
        df.loc[(df["a"] == 3) & (df["b"] == 8), "a"] = 0
        df.loc[n - 1, ["a", "b"]] = [3, 8]
    elif case != "all combinations":
        raise ValueError(f"no coding case {case!r}")
    return df, active


def coded_by_sorting(df, variables, active):
    """Reference coding of the joint cells: the distinct rows of the level codes (-1 =
    missing) in lexicographic order, by np.unique over the active rows; ``(comp, inv,
    counts)``."""
    codes = np.column_stack([factorize_column(df[v])[0] for v in variables])[active]
    uniq, inv, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return uniq.T, inv.reshape(-1), counts
