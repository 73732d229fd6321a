"""Building a design's sampling stages from its columns (used by :class:`SurveyDesign`).

Each stage codes its units 0..P-1 (globally unique), the stratum of every unit, the number of
sampled units per stratum and the population units per stratum from the fpc, as
:class:`~surveylib.variance.taylor.Stage`.  Conventions follow R ``svydesign``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import (
    SMALL_RANGE_SLACK,
    design_key,
    integer_codes,
    integer_offsets,
    numeric_column,
    offset_codes,
)
from .errors import SurveyDesignError
from .variance.taylor import Stage


def _factorize_pairs(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..K-1 of the distinct (a, b) pairs, ordered by a then b, and the ``a`` of each
    pair (``a`` and ``b`` are codes below ``n_a`` and ``n_b``)."""
    base = n_b if len(b) else 1
    key = a.astype(np.int64) * base + b
    coded = integer_codes(key) if n_a * base <= len(key) + SMALL_RANGE_SLACK else None
    if coded is None:  # many pairs possible: sort them
        keys, codes = np.unique(key, return_inverse=True)
        coded = codes.astype(np.int64).reshape(-1), keys
    codes, keys = coded
    return codes, keys // base


def _first_per_group(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The value of the first row of each group (``values`` constant within groups)."""
    first = np.full(n_groups, -1, dtype=np.int64)
    order = np.arange(len(group))[::-1]
    first[group[order]] = order
    return values[first]


def _psu_strata(df, psu_col, strat: np.ndarray, ids: np.ndarray, n_ids: int) -> np.ndarray:
    """The stratum of each PSU (one scatter, and one gather to check that every PSU lies in
    one stratum); a PSU id in two strata is an error naming it."""
    unit_stratum = np.empty(n_ids, dtype=strat.dtype)
    unit_stratum[ids] = strat  # any row of a PSU gives its stratum when PSUs are nested
    if (unit_stratum[ids] != strat).any():
        # name the ids of rows whose stratum differs from their PSU's first row's
        crossing = strat != _first_per_group(strat, ids, n_ids)[ids]
        vals = pd.unique(df[psu_col].to_numpy()[crossing])
        raise SurveyDesignError(
            f"PSU ids in column {psu_col!r} repeat across strata "
            f"(e.g. {list(vals[:5])}); if ids are only unique within a stratum, "
            "use nest=True."
        )
    return unit_stratum


PAIR_BLOCK = 1 << 16  # rows per block of pair keys (one reused buffer, no n-vector of keys)


def _pairs_present(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> np.ndarray:
    """The ``n_a x n_b`` table of the pairs ``(a, b)`` present in the rows (``a``, ``b``
    offsets below ``n_a``, ``n_b``): one scatter of the keys ``a * n_b + b``, built block by
    block in one buffer."""
    seen = np.zeros(n_a * n_b, dtype=bool)
    buf = np.empty(min(PAIR_BLOCK, len(a)), dtype=np.intp)
    for i in range(0, len(a), PAIR_BLOCK):
        key = buf[: len(a[i:i + PAIR_BLOCK])]
        np.multiply(a[i:i + PAIR_BLOCK], n_b, out=key)
        key += b[i:i + PAIR_BLOCK]
        seen[key] = True
    return seen.reshape(n_a, n_b)


def _nested_integer_ids(df, strata_col, psu_col) -> tuple | None:
    """Strata codes and labels, PSU codes and each PSU's stratum, from one table of the
    (PSU id, stratum) pairs present, when both columns are integers whose ranges multiply to
    at most the number of rows and every PSU lies in one stratum; else ``None`` (the columns
    are then coded one by one, and a PSU in two strata is reported by name)."""
    h, ids = df[strata_col], df[psu_col]
    if not (isinstance(h.dtype, np.dtype) and isinstance(ids.dtype, np.dtype)):
        return None
    limit = len(df) + SMALL_RANGE_SLACK
    found_h = integer_offsets(h.to_numpy(), limit=limit)
    found_p = integer_offsets(ids.to_numpy(), limit=limit)
    if found_h is None or found_p is None or found_h[1] * found_p[1] > limit:
        return None
    (h_off, h_span, h_lo), (p_off, p_span, p_lo) = found_h, found_p
    pairs = _pairs_present(p_off, h_off, p_span, h_span)
    strata_per_id = pairs.sum(axis=1)
    if (strata_per_id > 1).any():
        return None
    h_present = np.asarray(pairs.any(axis=0))
    strat, strat_labels = offset_codes(h_off, h_lo, h_present)
    unit, _ = offset_codes(p_off, p_lo, strata_per_id == 1)
    # each PSU's stratum: the column of its one pair, recoded as the strata are
    unit_stratum = (np.cumsum(h_present) - 1)[pairs[strata_per_id == 1].argmax(axis=1)]
    return strat, np.asarray(strat_labels, dtype=object), unit, unit_stratum


def build_stages(df, strata_col, psu_cols, fpc_cols, nest, *, pps=False) -> tuple:
    """The sampling stages of a design (first stage first), validated: PSUs nested in strata
    (or relabelled with ``nest``), an fpc constant within strata and not below the sample.

    With ``pps`` (unequal-probability sampling, Brewer's approximation) the fpc columns are
    each unit's inclusion probability: fractions, constant within a unit, free to vary within
    a stratum; they are kept per unit (``Stage.unit_pi``).
    """
    n = len(df)
    nested = (_nested_integer_ids(df, strata_col, psu_cols[0])
              if strata_col is not None and psu_cols and not nest else None)
    if nested is not None:
        strat, strat_labels = nested[:2]
    elif strata_col is not None:
        strat, strat_labels = design_key(df, strata_col, role="strata", labels=True)
    else:
        strat = np.zeros(n, dtype=np.int64)
        strat_labels = np.array(["(all)"], dtype=object)
    fpc_values = [numeric_column(df, c, role="fpc", allow_na=False) for c in fpc_cols]
    if fpc_values:
        allv = np.concatenate(fpc_values)
        if (allv <= 0).any():
            raise SurveyDesignError(
                f"fpc column(s) {list(fpc_cols)} have values <= 0; give population counts "
                "or sampling fractions in (0, 1]."
            )
        as_fraction = not (allv > 1).any()
        if pps and not as_fraction:
            raise SurveyDesignError(
                f"with pps= the fpc column(s) {list(fpc_cols)} must be each unit's "
                "inclusion probability (a fraction in (0, 1]), not population counts.",
                parameter="fpc", expected="inclusion probabilities in (0, 1]")
    stages = []
    parent_unit: np.ndarray = strat  # the previous stage's units (set before stage 2 reads it)
    n_parent = len(strat_labels)
    for s in range(max(1, len(psu_cols))):
        if s == 0 and nested is not None:  # coded above, PSUs known to be nested in strata
            stratum, unit, unit_stratum = strat, nested[2], nested[3]
        else:
            if psu_cols:
                ids, id_values = design_key(df, psu_cols[s], role=f"psu (stage {s + 1})",
                                            labels=True)
                n_ids = len(id_values)
            else:
                ids, n_ids = np.arange(n, dtype=np.int64), n
            if s == 0 and not psu_cols and strata_col is None:
                # every row its own PSU in one stratum: already 0..n-1
                stratum, unit, unit_stratum = strat, ids, np.zeros(n, dtype=np.int64)
            elif s == 0 and psu_cols and not nest:
                stratum, unit = strat, ids
                unit_stratum = (np.zeros(n_ids, dtype=np.int64) if strata_col is None
                                else _psu_strata(df, psu_cols[0], strat, ids, n_ids))
            else:
                stratum = parent_unit
                unit, unit_stratum = _factorize_pairs(parent_unit, ids, n_parent, n_ids)
        n_units_total = len(unit_stratum)
        n_strata_total = n_parent
        n_units = np.bincount(unit_stratum, minlength=n_strata_total)
        if s == 0:
            labels = strat_labels
        else:  # a stratum of stage s+1 is a unit of stage s: label it with that unit's id
            first_row = _first_per_group(np.arange(n), stratum, n_strata_total)
            labels = df[psu_cols[s - 1]].iloc[first_row].to_numpy(dtype=object)
        popsize = np.full(n_strata_total, np.inf)
        unit_pi = None
        if pps and fpc_values and s < len(fpc_values):
            unit_pi = _unit_probabilities(fpc_values[s], unit, n_units_total, fpc_cols[s], s)
        elif fpc_values and s < len(fpc_values):
            v = fpc_values[s]
            vmin = np.full(n_strata_total, np.inf)
            vmax = np.full(n_strata_total, -np.inf)
            np.minimum.at(vmin, stratum, v)
            np.maximum.at(vmax, stratum, v)
            with np.errstate(invalid="ignore"):  # fpc = inf (no fpc) gives inf - inf
                varies = np.flatnonzero(vmax - vmin > 1e-9 * np.abs(vmax))
            if len(varies):
                raise SurveyDesignError(
                    f"fpc column {fpc_cols[s]!r} varies within stratum "
                    f"{labels[varies[0]]!r} (stage {s + 1}); the fpc must be constant "
                    "within each stratum."
                )
            popsize = n_units / vmax if as_fraction else vmax
            too_small = np.flatnonzero(popsize < n_units - 1e-9)
            if len(too_small):
                h = too_small[0]
                raise SurveyDesignError(
                    f"fpc column {fpc_cols[s]!r} gives a population of {popsize[h]:g} units in "
                    f"stratum {labels[h]!r} (stage {s + 1}) but {n_units[h]} were sampled; "
                    "the fpc must be the population count (>= the sample) or the sampling fraction."
                )
        stages.append(Stage(unit, unit_stratum, n_units, popsize, np.asarray(labels, dtype=object),
                            unit_pi))
        parent_unit, n_parent = unit, n_units_total
    return tuple(stages)



def _unit_probabilities(v, unit, n_units, col, s) -> np.ndarray:
    """Each unit's inclusion probability from an fpc column of fractions (constant in a unit)."""
    vmin = np.full(n_units, np.inf)
    vmax = np.full(n_units, -np.inf)
    np.minimum.at(vmin, unit, v)
    np.maximum.at(vmax, unit, v)
    varies = np.flatnonzero(vmax - vmin > 1e-12 * np.abs(vmax))
    if len(varies):
        raise SurveyDesignError(
            f"fpc column {col!r} varies within a unit of stage {s + 1} (unit number "
            f"{varies[0] + 1}); an inclusion probability belongs to the unit, so give each "
            "unit's rows the same value.", parameter="fpc", value=col)
    return vmax
