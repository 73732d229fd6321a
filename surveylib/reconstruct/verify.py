"""Recompute every published figure from reconstructed (or any) microdata with surveylib itself.

The published figures behave like unweighted pooled counts (NOTES.md b5), so the default design is
``SurveyDesign(df, strata="stratum")`` with equal weights; ``weighted=True`` uses the design
weights and fpc instead (for information: the published figures are not expected to hold then).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import AssumptionWarning, ReconstructionError
from .config import coerce_config
from .model import EDU_ITEMS, INTEREST_ITEMS, item_sets
from .targets import load_targets

if TYPE_CHECKING:
    from ..design import SurveyDesign

VERIFY_COLUMNS = ("id", "wave", "statistic", "variable", "level", "domain_var", "domain_level",
                  "published", "reproduced", "lower", "upper", "tolerance_rule", "role", "pass",
                  "detail")
_SLACK = 1e-9


def _frames(microdata_frames) -> dict:
    if isinstance(microdata_frames, Mapping):
        items = list(microdata_frames.values())
    elif isinstance(microdata_frames, pd.DataFrame):
        items = [microdata_frames]
    else:
        items = list(microdata_frames)
    out = {}
    for df in items:
        if "wave" not in df.columns or df["wave"].nunique() != 1:
            raise ReconstructionError(
                "each microdata frame needs a 'wave' column holding a single wave (2007 or 2012)."
            )
        out[int(df["wave"].iloc[0])] = df
    return out


class _Wave:
    """One wave's design plus cached estimates of derived indicators."""

    design: SurveyDesign | None  # None until (re)built by _make_design

    def __init__(self, df: pd.DataFrame, wave: int, weighted: bool, cfg):
        self.wave = wave
        data = df.copy()
        att = data["attitude"].astype("float64")
        data["_att"] = att.where(att.between(1, 5))
        for name, cols in item_sets(wave, cfg).items():
            data[f"_fam_{name}"] = data[list(cols)].astype("float64").mean(axis=1)
        interest = [c for c in INTEREST_ITEMS if c in data.columns]
        if interest:
            data["_interest"] = data[interest].astype("float64").mean(axis=1)
        data["_age40"] = np.where(data["agegrp"] >= 4, 1, np.where(data["agegrp"] == 2, 2,
                                  np.where(data["agegrp"] == 3, 3, 0)))
        data["_g5"] = np.clip(data["agegrp"] - 2, 0, 4)
        data["_educ5"] = (data["educ"] == 5).astype("int64")
        data["_educ2p"] = (data["educ"] >= 2).astype("int64")
        data["_kaz"] = (data["ethnic"] == 1).astype("int64")
        self.data = data
        self.weighted = weighted
        self._means: dict = {}
        self._make_design()

    def add_indicator(self, name: str, variable: str, levels: list) -> str:
        col = f"_ind_{name}"
        if col not in self.data.columns:
            base = self.data[variable].astype("float64")
            if variable == "attitude":
                base = base.where(base.between(1, 5))
            ind = base.isin([float(v) for v in levels]).astype("float64").where(base.notna())
            self.data[col] = ind
            self.design = None  # rebuilt lazily with the new column
        return col

    def _make_design(self) -> None:
        from ..design import SurveyDesign

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssumptionWarning)
            if self.weighted:
                self.design = SurveyDesign(self.data, strata="stratum", weights="weight",
                                           fpc="fpc")
            else:
                self.design = SurveyDesign(self.data, strata="stratum")

    def mean(self, col: str, by: str | None = None) -> dict:
        """The design's mean of ``col``: ``{level of by: estimate}`` (``{None: estimate}``
        without ``by``).  Point values only (a published figure has no interval), computed
        once per ``(col, by)``, since many figures share one table."""
        key = (col, by)
        if key not in self._means:
            if self.design is None:
                self._make_design()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AssumptionWarning)
                res = self.design.mean(col, by=by, na_rm=True, deff=False)  # type: ignore[union-attr]  # built just above
            levels = [None] * len(res.values) if by is None else res.keys[by].astype("int64")
            self._means[key] = {k if k is None else int(k): float(v)
                                for k, v in zip(levels, res.values, strict=True)}
        return self._means[key]


def _estimate(w: _Wave, col: str, domain_var: str, domain_level: str) -> float:
    if domain_var:
        return w.mean(col, by=domain_var).get(int(domain_level), float("nan"))
    return w.mean(col)[None]


def _by(w: _Wave, col: str, by: str) -> dict:
    return w.mean(col, by=by)


def _claims(waves: dict, cfg) -> dict:
    """id -> (pass, detail) for the qualitative claims with a checkable rule."""
    out: dict = {}
    w07, w12 = waves.get(2007), waves.get(2012)
    m = cfg.claim_margin
    if w12 is not None:
        mean12 = _by(w12, "_att", "stratum")
        out["T129"] = (all(mean12[h] > mean12[k] for h in (1, 4, 6) for k in (2, 5)),
                       f"2012 stratum means {_fmt(mean12)}")
        eth = _by(w12, "_att", "ethnic")
        out["T153"] = (eth[3] < eth[1], f"2012 means by ethnic {_fmt(eth)}")
        out["T154"] = (eth[2] < eth[1], f"2012 means by ethnic {_fmt(eth)}")
        age = _by(w12, "_att", "_age40")
        out["T155"] = (age[2] < age[1], f"2012 means: 18-29 {age[2]:.3f}, 40+ {age[1]:.3f}")
        out["T156"] = (age[3] < age[1], f"2012 means: 30-39 {age[3]:.3f}, 40+ {age[1]:.3f}")
        ed = _by(w12, "_att", "_educ5")
        out["T157"] = (ed[1] < ed[0], f"2012 means: higher {ed[1]:.3f}, other {ed[0]:.3f}")
        fam = _by(w12, "_fam_all", "_educ5")
        out["T158"] = (fam[1] > fam[0],
                       f"2012 familiarity: higher {fam[1]:.3f}, other {fam[0]:.3f}")
        if "_interest" in w12.data.columns:
            ok, parts = True, []
            for item in EDU_ITEMS:
                col = w12.add_indicator(item, item, [1])
                sh = _by(w12, col, "stratum")
                ok &= all(sh[6] >= sh[h] + m - _SLACK for h in range(1, 6))
                parts.append(f"{item}: Almaty {sh[6]:.3f} vs max other "
                             f"{max(sh[h] for h in range(1, 6)):.3f}")
            out["T197"] = (ok, "; ".join(parts))
            g = _by(w12, "_interest", "_g5")
            out["T203"] = (all(g[0] >= g[k] + m - _SLACK for k in range(1, 5)),
                           f"pooled interest by age (15-29, 30-39, ..., 60+) {_fmt(g)}")
            e2 = _by(w12, "_interest", "_educ2p")
            out["T204"] = (e2[1] > e2[0],
                           f"pooled interest: educ 2-5 {e2[1]:.3f}, educ 1 {e2[0]:.3f}")
            k = _by(w12, "_interest", "_kaz")
            ratio = k[1] / k[0] if k[0] > 0 else float("inf")
            lo, hi = cfg.kazakh_ratio
            out["T205"] = (lo - _SLACK <= ratio < hi, f"Kazakh/other pooled interest ratio "
                           f"{ratio:.3f}, interval [{lo}, {hi})")
    if w07 is not None and w12 is not None:
        neg07 = _by(w07, w07.add_indicator("neg", "attitude", [4, 5]), "stratum")
        neg12 = _by(w12, w12.add_indicator("neg", "attitude", [4, 5]), "stratum")
        pos07 = _by(w07, w07.add_indicator("pos", "attitude", [1, 2]), "stratum")
        pos12 = _by(w12, w12.add_indicator("pos", "attitude", [1, 2]), "stratum")
        d = {h: neg12[h] - neg07[h] for h in neg07}
        for tid, h in (("T123", 1), ("T124", 4), ("T125", 6)):
            out[tid] = (all(d[h] >= d[k] + m - _SLACK for k in (2, 3, 5)),
                        f"increase in negative share by stratum {_fmt(d)}")
        inc = {h: pos12[h] - pos07[h] for h in pos07}
        out["T130"] = (all(inc[h] > 0 for h in (2, 5))
                       and all(inc[h] <= _SLACK for h in (1, 3, 4, 6)),
                       f"change in positive share by stratum {_fmt(inc)}")
        e07, e12 = _by(w07, "_att", "ethnic"), _by(w12, "_att", "ethnic")
        out["T140"] = (all(e12[e] > e07[e] for e in (1, 2, 3)),
                       f"means by ethnic 2007 {_fmt(e07)} -> 2012 {_fmt(e12)}")
    return out


def _fmt(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {v:.3f}" for k, v in sorted(d.items())) + "}"


def verify(microdata_frames, *, targets: pd.DataFrame | None = None, config=None,
           weighted: bool = False) -> pd.DataFrame:
    """Published versus reproduced value of every checkable published figure.

    Parameters
    ----------
    microdata_frames : mapping {wave: DataFrame}, DataFrame or sequence of DataFrames
        Respondent files with the agreed variable names (one wave per frame).
    targets : DataFrame, optional
        Annotated targets (default: the study's ``targets.csv`` with ``config``'s resolutions).
    config : ReconstructionConfig or mapping, optional
        The study's knobs (default: the located study's); needed for the item sets, the claim
        margin and the ratio interval.
    weighted : bool
        Use the design weights and fpc (default False: the published figures are unweighted).

    Returns
    -------
    DataFrame
        One row per target with role constraint/check/excluded, columns ``VERIFY_COLUMNS``:
        ``published`` and ``reproduced`` in the published unit (percent, mean points, count,
        years), ``lower``/``upper`` the tolerance interval ``[lower, upper)``, ``pass`` a bool.
        Excluded targets (documented conflicts) are reported but do not count as failures.
    """
    cfg = coerce_config(None, config)
    tab = targets if targets is not None else load_targets(config=cfg)
    frames = _frames(microdata_frames)
    waves = {w: _Wave(df, w, weighted, cfg) for w, df in frames.items()}
    claims = _claims(waves, cfg)
    rows = []
    checked = tab[tab["role"].isin(["constraint", "check", "excluded"])]
    for r in checked.to_dict("records"):
        wave = int(r["wave"])
        stat = r["statistic"]
        rec = {c: r.get(c, "") for c in VERIFY_COLUMNS}
        rec["published"] = float(r["value"]) if r["value"] not in ("", None) else np.nan
        rec["reproduced"] = np.nan
        rec["detail"] = ""
        lo = float(r["lower"]) if r["lower"] else -np.inf
        hi = float(r["upper"]) if r["upper"] else np.inf
        rec["lower"], rec["upper"] = lo, hi
        if stat == "claim":
            if r["id"] in claims:
                rec["pass"], rec["detail"] = claims[r["id"]]
            else:
                rec["pass"], rec["detail"] = False, "the waves needed for this claim are missing"
            rows.append(rec)
            continue
        if wave not in waves:
            rec["pass"], rec["detail"] = False, f"no microdata for wave {wave}"
            rows.append(rec)
            continue
        w = waves[wave]
        dv, dl = r["domain_var"], r["domain_level"]
        if stat == "count":
            d = w.data if not dv else w.data[w.data[dv].astype("int64") == int(dl)]
            val = float(len(d))
        elif stat == "min":
            val = float(w.data[r["variable"]].min())
        elif stat == "diff":
            if 2007 not in waves:
                rec["pass"], rec["detail"] = False, "needs both waves"
                rows.append(rec)
                continue
            levels = r["level"].split("|")
            a = _estimate(waves[2012], waves[2012].add_indicator("d" + r["level"], "attitude",
                                                                   levels), "", "")
            b = _estimate(waves[2007], waves[2007].add_indicator("d" + r["level"], "attitude",
                                                                   levels), "", "")
            val = 100 * (a - b)
            rec["detail"] = f"2012 {100 * a:.3f}% - 2007 {100 * b:.3f}%"
        elif stat == "mean":
            val = _estimate(w, "_att", dv, dl)
        elif r["variable"] == "familiarity":
            val = 100 * _estimate(w, f"_fam_{r['level']}", dv, dl)
        else:
            levels = r["level"].split("|")
            col = w.add_indicator(f"{r['variable']}_{r['level']}", r["variable"], levels)
            val = 100 * _estimate(w, col, dv, dl)
        rec["reproduced"] = val
        if stat in ("count", "min"):
            rec["pass"] = bool(abs(val - lo) < _SLACK)
        else:
            rec["pass"] = bool(lo - _SLACK <= val < hi - _SLACK)
        rows.append(rec)
    out = pd.DataFrame(rows, columns=list(VERIFY_COLUMNS))
    out["pass"] = out["pass"].astype(bool)
    return out


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a :func:`verify` table that fail and are not documented exclusions."""
    return table[(~table["pass"]) & (table["role"] != "excluded")]
