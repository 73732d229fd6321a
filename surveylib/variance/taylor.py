"""The Taylor-linearisation variance engine.

Every estimator hands this module its *linearised scores* (influence values already multiplied
by the sampling weight, as R ``survey`` passes ``x * pweights / psum`` to ``svyrecvar``); the
engine returns their design-based covariance matrix.  No estimator carries its own formula.

For stage ``s`` with strata ``h``, units ``j`` and unit totals ``T_j`` of the scores::

    V_s = sum_h  c_h  sum_{j in h} (T_j - Tbar_h)(T_j - Tbar_h)'
    c_h = m_h * f_h * n_h / (n_h - 1),    f_h = 1 - n_h / N_h   (1 without an fpc)

and the variance is ``V_1 + V_2 + ...`` where later stages enter only when an fpc is given at
every stage (R ``multistage``); ``m_h`` is the product of the sampling fractions ``n/N`` of the
stages above.  Strata with ``f_h < 1e-7`` (certainty strata) contribute nothing.  Strata with a
single unit follow the lonely-PSU rule of the design, exactly as R ``survey``'s ``onestrat``:

* ``remove`` / ``certainty``: the stratum contributes nothing;
* ``adjust``: the lone unit's total is taken as a deviation from zero (the scores of a mean are
  centred at the overall estimate, so this is the deviation from the grand mean), scaled by f;
* ``average``: the stratum is dropped and the sum over the others is multiplied by
  (strata present) / (strata with two or more units);
* ``fail``: an error naming the stratum (raised when the design is built).

A domain (or subset) may leave a stratum with rows in only one of its several PSUs.  By default
that stratum is centred as usual (the domain's other PSUs count as zeros).  With
``adjust_domain_lonely`` (R ``options(survey.adjust.domain.lonely = TRUE)``) the ``adjust`` and
``average`` rules treat it as lonely within that domain: ``adjust`` takes the lone PSU's total
as a deviation from zero (scale still ``f n_h / (n_h - 1)``), ``average`` drops the stratum and
multiplies by (strata with rows in the domain) / (those left).  As R's ``svyby`` computes each
domain on its own subset, the rule applies within each domain's block of the covariance; the
covariances between different domains stay unadjusted (R's ``covmat = TRUE`` ignores the
option altogether).

Unit totals are computed with ``numpy.bincount`` over (unit, cell) codes, so a score matrix
with one non-zero per row and cell block (a domain estimate) is never expanded to n x K.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LonelyPSUError

CERTAINTY_TOL = 1e-7


@dataclass(frozen=True)
class Stage:
    """One sampling stage: units nested in strata, with the strata's sizes.

    Attributes
    ----------
    unit : (n,) int64 codes 0..P-1 of each row's unit at this stage (globally unique).
    unit_stratum : (P,) stratum code of each unit.
    n_units : (H,) number of sampled units in each stratum (in the full design).
    popsize : (H,) population units per stratum, ``inf`` where no fpc was given.
    stratum_labels : (H,) labels for messages.
    unit_pi : (P,) inclusion probability of each unit, or None.  Given for unequal-probability
        sampling (Brewer's approximation, R ``pps="brewer"``): each unit then carries its own
        ``f = 1 - pi`` in place of the stratum's ``1 - n_h/N_h``.
    """

    unit: np.ndarray
    unit_stratum: np.ndarray
    n_units: np.ndarray
    popsize: np.ndarray
    stratum_labels: np.ndarray
    unit_pi: np.ndarray | None = None

    @property
    def n_strata(self) -> int:
        return len(self.n_units)

    @property
    def n_psu(self) -> int:
        return len(self.unit_stratum)

    @property
    def unit_weight_factor(self) -> np.ndarray:
        """Each unit's inverse sampling fraction at this stage: ``1 / pi``, or its stratum's
        ``N_h / n_h`` (the design weight's factor when weights come from the fpc)."""
        if self.unit_pi is not None:
            return 1.0 / self.unit_pi
        return (self.popsize / self.n_units)[self.unit_stratum]

    @property
    def fraction_complement(self) -> np.ndarray:
        """f_h = 1 - n_h/N_h (1 where the population is infinite); with unit probabilities,
        the largest ``1 - pi`` of the stratum's units (below ``CERTAINTY_TOL`` only when every
        unit is a certainty, as R)."""
        if self.unit_pi is not None:
            f = np.full(self.n_strata, -np.inf)
            np.maximum.at(f, self.unit_stratum, 1.0 - self.unit_pi)
            return f
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(np.isinf(self.popsize), 1.0, (self.popsize - self.n_units) / self.popsize)
        return f

    def lonely_strata(self) -> np.ndarray:
        """Codes of strata with one unit that are not certainty strata."""
        return np.flatnonzero((self.n_units == 1) & (self.fraction_complement >= CERTAINTY_TOL))


@dataclass(frozen=True)
class Scores:
    """Linearised scores of K cells, stored as blocks of (row values, row cell codes).

    Each block contributes ``values[i]`` to cell ``cells[i]`` of row ``i``; a dense n x K matrix
    is the special case of K blocks with constant cell codes.
    """

    blocks: tuple  # of (values (n,), cells (n,) int64)
    k: int

    @classmethod
    def from_dense(cls, x: np.ndarray) -> Scores:
        x = np.asarray(x, dtype=np.float64)
        n, k = x.shape
        return cls(tuple((x[:, j], np.full(n, j, dtype=np.int64)) for j in range(k)), k)

    def dense(self) -> np.ndarray:
        n = len(self.blocks[0][0]) if self.blocks else 0
        out = np.zeros((n, self.k))
        rows = np.arange(n)
        for values, cells in self.blocks:
            np.add.at(out, (rows, cells), values)
        return out

    def unit_totals(self, unit: np.ndarray, n_units: int) -> np.ndarray:
        """(n_units x K) totals of the scores within each unit."""
        k = self.k
        out = np.zeros(n_units * k)
        for values, cells in self.blocks:
            out += np.bincount(unit * k + cells, weights=values, minlength=n_units * k)
        return out.reshape(n_units, k)


def _rowsum(x: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of ``x`` (m x K) within ``group`` codes: (n_groups x K)."""
    k = x.shape[1]
    flat = np.bincount(
        (group[:, None] * k + np.arange(k)[None, :]).ravel(), weights=x.ravel(),
        minlength=n_groups * k,
    )
    return flat.reshape(n_groups, k)


def stratum_rule(stage: Stage, group: np.ndarray, n_groups: int, present: np.ndarray,
                 lonely_psu: str, domain_units: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, centre)`` of every stratum of a stage: its factor ``c_h`` (the fpc, ``n_h /
    (n_h - 1)``, zero for certainty strata, and the lonely-PSU rule; without ``mult``, which
    the caller applies) and whether its units are centred at the stratum mean (``False``:
    deviations from zero, the ``adjust`` rule).  Shared by the per-unit path
    (:func:`_stage_variance`) and the per-stratum Gram path (:func:`taylor_vcov_gram`)."""
    n_h = stage.n_units.astype(np.float64)
    certain = stage.fraction_complement < CERTAINTY_TOL
    # with unit probabilities each unit's own 1 - pi multiplies its term (below)
    f = stage.fraction_complement if stage.unit_pi is None else np.ones(stage.n_strata)
    lonely = stage.n_units == 1
    in_domain = None
    if domain_units is not None:
        n_sub = np.bincount(stage.unit_stratum, weights=domain_units, minlength=stage.n_strata)
        in_domain = (n_sub == 1) & ~lonely  # one PSU of several has rows in the domain
        present = n_sub > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(lonely, f, f * n_h / np.where(lonely, 1.0, n_h - 1.0))
    scale = np.where(certain, 0.0, scale)
    centre = np.ones(stage.n_strata, dtype=bool)
    if lonely_psu in ("remove", "certainty"):
        scale = np.where(lonely, 0.0, scale)
    elif lonely_psu == "adjust":
        centre = ~lonely if in_domain is None else ~lonely & ~in_domain
    elif lonely_psu == "average":
        bad = lonely & ~certain
        if in_domain is not None:
            bad = bad | (in_domain & ~certain)
        scale = np.where(bad, 0.0, scale)
        n_strat = np.bincount(group, weights=present.astype(float), minlength=n_groups)
        n_ok = np.bincount(group, weights=(present & ~bad).astype(float), minlength=n_groups)
        if np.any((n_strat > 0) & (n_ok == 0)):
            raise LonelyPSUError(
                "lonely_psu='average' needs at least one stratum with two or more PSUs "
                "in each stage; choose 'adjust', 'remove' or 'certainty'."
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(n_ok > 0, n_strat / n_ok, 0.0)
        scale = scale * ratio[group]
    return scale, centre


def _stage_variance(
    totals: np.ndarray,
    stage: Stage,
    mult: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    present: np.ndarray,
    lonely_psu: str,
    domain_units: np.ndarray | None = None,
) -> np.ndarray:
    """Covariance contribution of one stage from its unit totals (P x K).

    ``group`` maps each stratum to the unit of the stage above (the recursion unit of R's
    ``multistage``), used by the ``average`` rule; ``present`` flags strata with rows in the
    (sub)design.  ``domain_units`` (P bool), when given, flags the units with rows in the
    domain of every column and applies the domain-lonely rule (module docstring).
    """
    n_h = stage.n_units.astype(np.float64)
    scale, centre = stratum_rule(stage, group, n_groups, present, lonely_psu, domain_units)
    means = _rowsum(totals, stage.unit_stratum, stage.n_strata) / n_h[:, None]
    centred = totals - np.where(centre[:, None], means, 0.0)[stage.unit_stratum]
    c = (scale * mult)[stage.unit_stratum]
    if stage.unit_pi is not None:
        c = c * (1.0 - stage.unit_pi)
    d = centred * np.sqrt(c)[:, None]
    return d.T @ d


def taylor_vcov_gram(sums: np.ndarray, gram: np.ndarray, stage: Stage, *, lonely_psu: str,
                     present: np.ndarray | None = None) -> np.ndarray:
    """Stratified covariance (K x K) of a one-stage design from per-stratum sums of its
    units' score totals and of their outer products, without the units themselves.

    With ``S_h = sum_j T_j`` and ``G_h = sum_j T_j T_j'`` over the ``n_h`` units of stratum
    ``h`` (``stage.n_units``; units without rows in the (sub)design count, with ``T_j = 0``),
    ``sum_j (T_j - Tbar_h)(T_j - Tbar_h)' = G_h - S_h S_h' / n_h``, so::

        V = sum_h c_h (G_h - [centred_h] S_h S_h' / n_h)

    with ``c_h`` and the centring of :func:`stratum_rule` -- the fpc, certainty strata and
    the lonely-PSU rules of :func:`_stage_variance`, the same numbers.  This is the path of
    element sampling over an engine (every row its own unit; ``G_h`` summed in SQL, see
    :mod:`surveylib.backends._element`).  Unequal-probability units (``unit_pi``) and the
    domain-lonely rule need the units and are not handled here.

    Parameters
    ----------
    sums : (H, K) ndarray
        ``S_h``.
    gram : (H, K, K) ndarray
        ``G_h``.
    stage : Stage
        The stage (only its per-stratum ``n_units`` and ``popsize`` are read).
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}
    present : (H,) bool ndarray, optional
        Strata with rows in the (sub)design (the ``average`` rule counts them).
    """
    if stage.unit_pi is not None:
        raise ValueError("taylor_vcov_gram: unequal-probability units need the unit totals")
    H = stage.n_strata
    present = np.ones(H, dtype=bool) if present is None else np.asarray(present, dtype=bool)
    scale, centre = stratum_rule(stage, np.zeros(H, dtype=np.int64), 1, present, lonely_psu)
    n_h = stage.n_units.astype(np.float64)
    mean_part = np.where(centre, 1.0 / n_h, 0.0)
    outer = np.einsum("hk,hl->hkl", sums, sums)
    return np.einsum("h,hkl->kl", scale, gram - mean_part[:, None, None] * outer)


def finest_units(stages: tuple, multistage: bool) -> Stage:
    """The stage whose units the scores must be totalled over."""
    return stages[len(stages) - 1] if multistage else stages[0]


def taylor_vcov(
    scores: Scores,
    stages: tuple,
    *,
    lonely_psu: str,
    active: np.ndarray | None = None,
    multistage: bool = True,
    presence: np.ndarray | None = None,
    pps=None,
) -> np.ndarray:
    """Design-based covariance matrix (K x K) of the cells whose scores are given.

    Parameters
    ----------
    scores : Scores
        Weighted linearised scores (R's ``x * pweights / psum`` for a mean).
    stages : tuple of Stage
        The sampling stages, first stage first.
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}
    active : bool array, optional
        Rows in the (sub)design; used to count strata present under ``average``.
    multistage : bool
        Add later-stage contributions (only meaningful when every stage has an fpc).
    presence : (units x K) bool array, optional
        Units of the finest stage with rows in each cell's domain: applies the domain-lonely
        rule (R ``survey.adjust.domain.lonely``; module docstring).
    pps : PPSVariance, optional
        Unequal-probability sampling without replacement (:mod:`.pps`).
    """
    last = finest_units(stages, multistage)
    totals = scores.unit_totals(last.unit, last.n_psu)
    return taylor_vcov_from_totals(totals, stages, lonely_psu=lonely_psu, active=active,
                                   multistage=multistage, presence=presence, pps=pps)


def taylor_vcov_from_totals(
    totals: np.ndarray,
    stages: tuple,
    *,
    lonely_psu: str,
    active: np.ndarray | None = None,
    multistage: bool = True,
    presence: np.ndarray | None = None,
    pps=None,
) -> np.ndarray:
    """As :func:`taylor_vcov`, from the scores' totals within the units of the finest stage.

    ``pps`` (a :class:`~surveylib.variance.pps.PPSVariance`) replaces the stratified formula
    with the ``Dcheck`` quadratic form of the first stage.

    ``totals`` is (units of ``finest_units(stages, multistage)``) x K.  ``presence`` (same
    shape, bool), when given, flags the units with rows in each column's domain and applies
    the domain-lonely rule of the ``adjust`` and ``average`` treatments within each domain.
    """
    if pps is not None:
        return pps.vcov(totals)
    v = _recursive_vcov(totals, stages, lonely_psu=lonely_psu, active=active,
                        multistage=multistage)
    if presence is None or lonely_psu not in ("adjust", "average"):
        return v
    n_stages = len(stages) if multistage else 1
    patterns, which = np.unique(presence.T, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):  # one pass per distinct domain (not per PSU)
        units: list[Any] = [None] * n_stages
        units[n_stages - 1] = pattern.astype(np.float64)
        for s in range(n_stages - 1, 0, -1):
            units[s - 1] = (np.bincount(stages[s].unit_stratum, weights=units[s],
                                        minlength=stages[s - 1].n_psu) > 0).astype(np.float64)
        lonely_somewhere = any(
            np.any((np.bincount(stages[s].unit_stratum, weights=units[s],
                                minlength=stages[s].n_strata) == 1) & (stages[s].n_units > 1))
            for s in range(n_stages))
        if not lonely_somewhere:
            continue
        cells = np.flatnonzero(np.ravel(which) == p)
        v[np.ix_(cells, cells)] = _recursive_vcov(
            totals[:, cells], stages, lonely_psu=lonely_psu, active=active,
            multistage=multistage, domain_units=units)
    return v


def _recursive_vcov(totals, stages, *, lonely_psu, active, multistage,
                    domain_units=None) -> np.ndarray:
    """The stage-by-stage sum of :func:`_stage_variance` (R ``multistage``)."""
    n_stages = len(stages) if multistage else 1
    unit_totals: list[Any] = [None] * n_stages
    unit_totals[n_stages - 1] = totals
    for s in range(n_stages - 1, 0, -1):
        # a unit of stage s+1 lies in a stratum of stage s+1, which is a unit of stage s
        parent = stages[s].unit_stratum
        unit_totals[s - 1] = _rowsum(unit_totals[s], parent, stages[s - 1].n_psu)
    k = totals.shape[1]
    v = np.zeros((k, k))
    mult = np.ones(stages[0].n_strata)
    group = np.zeros(stages[0].n_strata, dtype=np.int64)
    n_groups = 1
    for s in range(n_stages):
        st = stages[s]
        if active is None or lonely_psu != "average":
            present = np.ones(st.n_strata, dtype=bool)  # only the 'average' rule uses it
        else:
            unit_rows = np.bincount(st.unit, weights=active, minlength=st.n_psu)
            present = np.bincount(st.unit_stratum, weights=unit_rows, minlength=st.n_strata) > 0
        v += _stage_variance(unit_totals[s], st, mult, group, n_groups, present, lonely_psu,
                             None if domain_units is None else domain_units[s])
        if s + 1 < n_stages:
            nxt = stages[s + 1]
            # strata of stage s+1 are the units of stage s
            if st.unit_pi is None:
                frac = st.n_units / st.popsize  # n_h / N_h of each stratum
                mult = (mult * frac)[st.unit_stratum]
            else:
                mult = mult[st.unit_stratum] * st.unit_pi
            if len(mult) != nxt.n_strata:
                raise RuntimeError("stage structure is inconsistent")
            group = np.arange(nxt.n_strata, dtype=np.int64)
            n_groups = nxt.n_strata
    return v
