"""Shared machinery of the replication scripts in ``analyses/``.

* :func:`load_data` reads the reconstructed microdata through the codebooks.
* :class:`Context` holds both waves and builds, per wave, the three designs every comparison
  is shown under, and the two universes:

  ========== ==================================================================================
  weighting  meaning
  ========== ==================================================================================
  unweighted as published: every respondent counts once (the published totals behave like an
             unweighted pooled sample, NOTES.md b5); variance from the stratified design with
             equal weights
  design     design weights ``weight`` = N_h / n_h with the finite-population correction ``fpc``
  calibrated the design raked to the census margins sex x age and ethnicity (frames/margins.csv)
             with ``surveylib.weighting``; variance residualised on the calibration
  ========== ==================================================================================

  ``universe="wave"`` is each wave's own population as published (2007 18+, 2012 15+);
  ``universe="common"`` is the 18+ population of both waves, estimated as a domain of the full
  design (``design.subset(universe_mask(...))``) so every stratum keeps its sample.

* :func:`audit_table` compares every published figure of an exhibit (``microdata/targets.csv``)
  with the reproduced value.

Nothing here computes a variance, an interval or a test: those come from the design object's
estimators, ``surveylib.inference`` and ``surveylib.weighting``.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

import surveylib as sl
from surveylib.inference import adjust_pvalues
from surveylib.report import AUDIT_COLUMNS, TEST_COLUMNS, ExhibitResult  # noqa: F401
from surveylib.study import StudyPaths, locate

#: This study's folders: the study root is the folder above this ``analyses/`` folder. Every
#: function below takes ``study=`` (a :class:`surveylib.study.StudyPaths`, e.g. the command
#: line's ``--microdata DIR``) and falls back to these.
STUDY = locate(Path(__file__).resolve().parents[1])
WAVES = (2007, 2012)
WEIGHTINGS = ("unweighted", "design", "calibrated")
UNIVERSES = ("wave", "common")
UNIVERSE_LABEL = {
    "wave": "as published (2007: 18+, 2012: 15+)",
    "common": "age-harmonised (18+ in both waves)",
}
WEIGHTING_LABEL = {
    "unweighted": "unweighted (as published)",
    "design": "design weights N_h/n_h",
    "calibrated": "calibrated to census sex x age and ethnicity",
}
LEVEL = 0.95
#: Columns of an estimate frame that ``Context.estimates(scale=...)`` multiplies.
SCALED = ("estimate", "se", "ci_low", "ci_high")
ALPHA = 0.05
#: Legend of the change markers on the diagrams (surveylib.report.FigureSpec.marker_labels).
MARKER_LABELS = (("increase", "\u25b2 a meaningful increase compared to 2007"),
                 ("decrease", "\u25bc a meaningful decrease compared to 2007"))

#: Items averaged by seed 004's "culture and history" figure (T170/T171); the reconstruction's
#: documented default (surveylib.reconstruct.config.ReconstructionConfig.culture_subset_items),
#: overridden by ``microdata/provenance.json`` when it records another list.
CULTURE_SEED004 = ("fam_history", "fam_traditions", "fam_literature", "fam_art")
INTEREST_ITEMS = ("edu_self", "edu_child", "sino_self", "sino_child")
EDU_ITEMS = ("edu_acq", "edu_self", "edu_child", "sino_self", "sino_child")


# ------------------------------------------------------------------------------------ data
def _study(study: StudyPaths | None) -> StudyPaths:
    return STUDY if study is None else study


def codebook(wave: int, study: StudyPaths | None = None):
    """The codebook of ``wave`` from the study's ``instruments/`` folder."""
    return sl.load_codebook(wave, instruments_dir=_study(study).require("instruments"))


def microdata_path(wave: int, study: StudyPaths | None = None) -> Path:
    return _study(study).require("microdata") / f"kz{wave}_reconstructed.csv"


def load_data(study: StudyPaths | None = None) -> dict[int, pd.DataFrame]:
    """Both waves' reconstructed respondent files, read and validated through the codebooks.

    Codes are kept (labels come from the codebook when displayed). Raises ``FileNotFoundError``
    with the expected path when a file is missing.
    """
    out = {}
    for wave in WAVES:
        path = microdata_path(wave, study)
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: the reconstructed microdata are built by "
                "surveylib.reconstruct (see microdata/PROVENANCE.md)."
            )
        out[wave] = sl.read_csv(path, codebook=codebook(wave, study))
    return out


def provenance(study: StudyPaths | None = None) -> dict:
    """``microdata/provenance.json`` ({} when absent)."""
    path = _study(study).require("microdata") / "provenance.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def load_targets(study: StudyPaths | None = None) -> pd.DataFrame:
    """Annotated published figures (``microdata/targets.csv``), all columns as text."""
    path = _study(study).require("microdata") / "targets.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (written by surveylib.reconstruct).")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            hit = _find_key(v, key)
            if hit is not None:
                return hit
    elif isinstance(obj, list):
        for v in obj:
            hit = _find_key(v, key)
            if hit is not None:
                return hit
    return None


def culture_seed004_items(prov: dict) -> tuple:
    hit = _find_key(prov, "culture_subset_items")
    return tuple(hit) if hit else CULTURE_SEED004


def prepare(df: pd.DataFrame, wave: int, prov: dict | None = None, *,
            study: StudyPaths | None = None) -> pd.DataFrame:
    """Analysis columns derived from the codes (the input frame is not modified).

    ``att`` attitude 1-5 (don't know / refusal -> NaN); ``att_pos`` (very good or good),
    ``att_neg`` (poor or very poor), ``att_pi`` (positive or indifferent) and ``att_1``..``att_5``
    as 0/1 with NaN where ``att`` is missing (valid percents, as Table 7.1); ``fam_all``,
    ``fam_modern``, ``fam_culture``, ``fam_culture_seed004``: each respondent's share of "yes"
    over the items of a group (its mean is the published mean over items); ``interest``: share of
    "yes" over the four Diagram 6.1 interest items; ``labour_1``..: labour-market answers over
    all respondents (don't know stays in the base, as published); ``unit_weight`` = 1;
    ``sex_agegrp`` and ``ethnic_name`` for calibration; ``age_band`` (15-29 for 2012 education
    claims), ``agecat`` (18-29 / 30-39 / 40+), ``higher_educ``, ``kazakh``.
    """
    cb = codebook(wave, study)
    prov = prov or {}
    d = df.copy()
    att = d["attitude"].astype("float64")
    d["att"] = att.where(att.between(1, 5))
    valid = d["att"].notna()
    for name, levels in {"att_pos": (1, 2), "att_neg": (4, 5), "att_pi": (1, 2, 3),
                         **{f"att_{k}": (k,) for k in range(1, 6)}}.items():
        d[name] = d["att"].isin(levels).astype("float64").where(valid)
    groups = {k: list(cb.group(k)) for k in ("modern", "culture")}
    groups["all"] = groups["modern"] + groups["culture"]
    groups["culture_seed004"] = list(culture_seed004_items(prov))
    for k, cols in groups.items():
        d[f"fam_{k}"] = d[cols].astype("float64").mean(axis=1)
    if all(c in d.columns for c in INTEREST_ITEMS):
        d["interest"] = d[list(INTEREST_ITEMS)].astype("float64").mean(axis=1)
    for code in (1, 2, 3, 4, 8):
        d[f"labour_{code}"] = (d["labour"] == code).astype("float64")
    d["unit_weight"] = 1.0
    agelab = cb.value_labels("agegrp")
    d["sex_agegrp"] = d["sex"].astype(int).astype(str) + ":" + d["agegrp"].map(agelab)
    d["ethnic_name"] = d["ethnic"].map(cb.value_labels("ethnic"))
    d["agecat"] = np.select([d["agegrp"] == 2, d["agegrp"] == 3, d["agegrp"] >= 4],
                            ["18-29", "30-39", "40+"], default="15-17")
    d["age_band"] = np.select([d["age"] <= 29, d["age"] <= 39, d["age"] <= 49, d["age"] <= 59],
                              ["15-29" if wave == 2012 else "18-29", "30-39", "40-49", "50-59"],
                              default="60+")
    d["higher_educ"] = (d["educ"] == 5).astype("int64")
    # two-group columns for within-wave t tests: 1 = the group named in a claim, 0 = reference
    d["g_almaty"] = (d["stratum"] == 6).astype("float64")
    d["g_1829_vs_40"] = np.select([d["agegrp"] == 2, d["agegrp"] >= 4], [1.0, 0.0], np.nan)
    d["g_3039_vs_40"] = np.select([d["agegrp"] == 3, d["agegrp"] >= 4], [1.0, 0.0], np.nan)
    d["g_higher"] = (d["educ"] == 5).astype("float64")
    d["g_russian_vs_kazakh"] = np.select([d["ethnic"] == 2, d["ethnic"] == 1], [1.0, 0.0], np.nan)
    d["g_other_vs_kazakh"] = np.select([d["ethnic"] == 3, d["ethnic"] == 1], [1.0, 0.0], np.nan)
    d["g_kazakh"] = (d["ethnic"] == 1).astype("float64")
    d["g_young"] = (d["age"] <= 29).astype("float64")
    d["g_educ2p"] = (d["educ"] >= 2).astype("float64")
    d["kazakh"] = (d["ethnic"] == 1).astype("int64")
    # one block per dtype instead of one per added column: every design.data access and
    # estimator call copies the frame's block list
    return d.copy()


# ----------------------------------------------------------------------------- optional parts
def optional_module(name: str):
    """``surveylib.<name>`` if it is importable, else ``None`` (reported as a gap)."""
    try:
        return importlib.import_module(f"surveylib.{name}")
    except ImportError:
        return None


def margins(wave: int, study: StudyPaths | None = None) -> dict[str, pd.Series]:
    """Census population counts for calibration: {'sex_agegrp': Series, 'ethnic_name': Series}."""
    m = pd.read_csv(_study(study).file("frames", "margins.csv"))
    m = m[m["frame_year"] == wave]
    out = {}
    for margin, col in (("sex_agegrp", "sex_agegrp"), ("ethnic", "ethnic_name")):
        sel = m[m["margin"] == margin]
        out[col] = pd.Series(sel["count"].to_numpy(dtype=float), index=sel["level"].to_numpy(),
                             name=col)
    return out


def calibrate(design, wave: int, study: StudyPaths | None = None):
    """Rake ``design`` to the census margins with ``surveylib.weighting``.

    Returns ``(design, None)`` or ``(None, reason)`` when the weighting module is not available
    or has no raking function with a known signature.
    """
    weighting = optional_module("weighting")
    if weighting is None:
        return None, ("calibrated estimates not computed: surveylib.weighting is not available "
                      "yet (issue: weighting)")
    targets = margins(wave, study)
    rake = getattr(weighting, "rake", None)
    if rake is None:
        return None, "calibrated estimates not computed: surveylib.weighting has no rake()"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sl.AssumptionWarning)
            return rake(design, targets), None
    except TypeError as exc:  # unknown signature: report, do not guess further
        return None, f"calibrated estimates not computed: surveylib.weighting.rake failed ({exc})"


# ------------------------------------------------------------------------------------ context
class _Waves:
    """What every exhibit's :class:`Context` shares for one (data, study): the prepared
    frames, codebooks, designs, universe masks and estimates (all derived, never mutated)."""

    def __init__(self, raw: dict[int, pd.DataFrame], study: StudyPaths):
        self.raw = raw
        self.provenance = provenance(study)
        self.data = {w: prepare(df, w, self.provenance, study=study) for w, df in raw.items()}
        self.codebooks = {w: codebook(w, study) for w in raw}
        self.harmonization = sl.load_harmonization(instruments_dir=study.require("instruments"))
        self.designs: dict = {}
        self.design_gaps: dict = {}  # (wave, weighting) -> why the design is unavailable
        self.masks: dict = {}
        self.estimates: dict = {}  # see Context._estimate_cells
        self.frames: dict = {}  # see Context.estimate_frame (keyed on the designs above)


#: The state of the last ``Context(data, study=...)`` with ``data`` given: the exhibits of one
#: ``surveylib replicate`` run are handed the same ``data`` dict, and share one set of designs
#: and estimates. Keyed on the identity of the dict and of each frame (kept referenced, so an
#: id is not reused) and on ``study``; a frame changed in place after a run is not noticed.
_SHARED: list = []


def _shared_waves(data: dict[int, pd.DataFrame] | None, study: StudyPaths) -> _Waves:
    if data is None:
        return _Waves(load_data(study), study)
    key = (id(data), tuple((w, id(df)) for w, df in data.items()))
    if _SHARED and _SHARED[0][0] == key and _SHARED[0][1] is data and _SHARED[0][2] == study:
        return _SHARED[0][3]
    waves = _Waves(data, study)
    _SHARED[:] = [(key, data, study, waves)]
    return waves


class Context:
    """Both waves, their three designs and two universes, built once per analysis run."""

    def __init__(self, data: dict[int, pd.DataFrame] | None = None, *,
                 study: StudyPaths | None = None, weightings=WEIGHTINGS,
                 universes=UNIVERSES):
        self.study = _study(study)
        #: the weightings and universes the exhibits' tests are run under (the robustness
        #: check over many reconstructions runs the as-published ones only)
        self.weightings, self.universes = tuple(weightings), tuple(universes)
        self._waves = _shared_waves(data, self.study)
        self.provenance = self._waves.provenance
        self.raw = self._waves.raw
        self.data = self._waves.data
        self.codebooks = self._waves.codebooks
        self.harmonization = self._waves.harmonization
        self.gaps: list[str] = []
        self.notes: list[str] = []
        self._designs = self._waves.designs
        self._masks = self._waves.masks

    @cached_property
    def targets(self) -> pd.DataFrame:
        return load_targets(self.study)

    def design(self, wave: int, weighting: str = "unweighted", universe: str = "wave"):
        """The design of ``wave`` under a weighting and universe (``None`` if unavailable)."""
        key = (wave, weighting)
        if key not in self._designs:
            df = self.data[wave]
            if weighting == "unweighted":
                d = sl.SurveyDesign(df, strata="stratum", weights="unit_weight")
            elif weighting == "design":
                d = sl.SurveyDesign(df, strata="stratum", weights="weight", fpc="fpc")
            elif weighting == "calibrated":
                base = self.design(wave, "design")
                d, why = calibrate(base, wave, self.study)
                self._waves.design_gaps[key] = why
            else:
                raise ValueError(f"weighting {weighting!r} is not one of {WEIGHTINGS}")
            self._designs[key] = d
        why = self._waves.design_gaps.get(key)
        if why and why not in self.gaps:
            self.gaps.append(why)
        d = self._designs[key]
        if d is None:
            return None
        if universe == "common":
            ckey = (wave, weighting, "common")
            if ckey not in self._designs:
                self._designs[ckey] = d.subset(self.common_mask(wave))
            return self._designs[ckey]
        if universe != "wave":
            raise ValueError(f"universe {universe!r} is not one of {UNIVERSES}")
        return d

    def common_mask(self, wave: int) -> np.ndarray:
        """Rows of ``wave`` in the universe common to both waves (18+), via universe_mask."""
        if wave not in self._masks:
            self._masks[wave] = sl.universe_mask(self.data[wave], wave,
                                                 harmonization=self.harmonization).to_numpy()
        return self._masks[wave]

    def label(self, wave: int, var: str, code) -> str:
        try:
            return self.codebooks[wave].variable(var).all_codes[int(float(code))]
        except (KeyError, ValueError, TypeError):
            return str(code)

    # -------------------------------------------------------------- estimates in all variants
    def estimates(self, fn, *, waves=WAVES, weightings=WEIGHTINGS, universes=UNIVERSES,
                  scale: float = 1.0) -> pd.DataFrame:
        """``fn(design)`` (an Estimate, or its ``to_frame(LEVEL)``) for every wave x weighting
        x universe, as one tidy frame.

        Columns: ``wave, weighting, universe`` + the Estimate's ``to_frame()`` columns;
        ``scale`` multiplies estimate, se and the interval (100 for percent).
        """
        frames = []
        for wave in waves:
            for weighting in weightings:
                for universe in universes:
                    if universe == "common" and wave == 2007 and "wave" in universes:
                        continue  # identical to the wave universe for 2007 (18+)
                    d = self.design(wave, weighting, universe)
                    if d is None:
                        continue
                    est = fn(d)
                    e = est if isinstance(est, pd.DataFrame) else est.to_frame(LEVEL)
                    scaled = {c: e[c] * scale if c in SCALED else e[c] for c in e.columns}
                    f = pd.DataFrame({"wave": wave, "weighting": weighting,
                                      "universe": universe, **scaled}, index=e.index)
                    frames.append(f)
                    if universe == "wave" and wave == 2007 and "common" in universes:
                        g = f.copy()
                        g["universe"] = "common"
                        frames.append(g)
        out = pd.concat(frames, ignore_index=True)
        return out

    def estimate_frame(self, d, method: str, var, *, by=None, **kw) -> pd.DataFrame:
        """``d.<method>(var, by=by, na_rm=True, **kw).to_frame(LEVEL)`` of a design of this
        context, computed once per run and shared by the exhibits and the audit (read only:
        copy it before changing it)."""
        key = (id(d), method, tuple(var) if isinstance(var, list) else var, by,
               tuple(sorted(kw.items())))
        frame = self._waves.frames.get(key)
        if frame is None:
            frame = getattr(d, method)(var, by=by, na_rm=True, **kw).to_frame(LEVEL)
            self._waves.frames[key] = frame
        return frame

    # ------------------------------------------------------------------- wave comparisons
    def _inference(self):
        inference = optional_module("inference")
        if inference is None or not hasattr(inference, "compare"):
            msg = ("between-wave and subgroup tests not computed: surveylib.inference is not "
                   "available yet (issue: wave comparisons)")
            if msg not in self.gaps:
                self.gaps.append(msg)
            return None
        return inference

    def compare(self, var: str, *, by=None, weighting="unweighted", universe="wave",
                stat="mean", adjust=None):
        """Change 2012 - 2007 of ``var`` with ``surveylib.inference.compare``.

        Independent samples, ``Var(b - a) = V_a + V_b``, t reference with ``min(df_a, df_b)``
        degrees of freedom, two-sided; ``adjust`` ("holm") adjusts over the rows of one call.
        Returns the comparison frame with ``difference`` renamed ``estimate`` and ``t``
        renamed ``statistic`` plus a ``method`` column, or ``None`` (gap recorded) when the
        inference module or a design is unavailable.
        """
        inference = self._inference()
        if inference is None:
            return None
        d07 = self.design(2007, weighting, universe)
        d12 = self.design(2012, weighting, universe)
        if d07 is None or d12 is None:
            return None
        res = inference.compare(d07, d12, var, by=by, stat=stat, adjust=adjust, na_rm=True,
                                level=LEVEL, alpha=ALPHA)
        f = res.to_frame().rename(columns={"difference": "estimate", "t": "statistic"})
        f["method"] = ("inference.compare: t, independent waves, V07+V12, df=min, 2-sided"
                       + (f", {adjust}" if adjust else ""))
        return f

    def ttest(self, wave: int, var: str, group: str, *, weighting="unweighted",
              universe="wave"):
        """Two-group design-based t test within a wave (``surveylib.inference.ttest``).

        ``group`` is a column with two codes (0 = reference, 1 = the group named in the claim)
        and NaN elsewhere; the estimate is mean(group 1) - mean(group 0).
        """
        inference = self._inference()
        if inference is None:
            return None
        d = self.design(wave, weighting, universe)
        if d is None:
            return None
        return inference.ttest(d, var, by=group, na_rm=True, level=LEVEL)

    # ----------------------------------------------------------------------- audit values
    def target_estimate(self, row: dict, weighting: str = "unweighted",
                        universe: str = "wave") -> dict:
        """Reproduced value (in the published unit) of one published figure, with SE and CI."""
        stat = row["statistic"]
        wave = int(row["wave"])
        dv, dl = row["domain_var"], row["domain_level"]
        nan = {"value": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
        if stat in ("count", "min"):
            if weighting != "unweighted":
                return nan
            df = self.data[wave]
            if universe == "common":
                df = df[self.common_mask(wave)]
            if dv:
                df = df[df[dv].astype("int64") == int(dl)]
            val = float(len(df)) if stat == "count" else float(df[row["variable"]].min())
            return {**nan, "value": val}
        if stat == "diff":
            a = self._cell(2012, row, weighting, universe)
            b = self._cell(2007, row, weighting, universe)
            if a is None or b is None:
                return nan
            return {**nan, "value": a["value"] - b["value"]}
        if stat not in ("share", "mean"):
            return nan
        out = self._cell(wave, row, weighting, universe)
        return out if out is not None else nan

    def _column(self, row: dict) -> tuple[str, float]:
        var, level = row["variable"], row["level"]
        if row["statistic"] in ("mean", "diff") and var == "attitude" and not level:
            return "att", 1.0
        if var == "familiarity":
            return f"fam_{level}", 100.0
        if var == "attitude":
            names = {"1|2": "att_pos", "4|5": "att_neg", "1|2|3": "att_pi"}
            return names.get(level, f"att_{level}"), 100.0
        if var == "labour":
            return f"labour_{level}", 100.0
        if level not in ("1", ""):
            raise ValueError(f"no analysis column for {var}={level}")
        return var, 100.0

    def _cell(self, wave: int, row: dict, weighting: str, universe: str):
        d = self.design(wave, weighting, universe)
        if d is None:
            return None
        col, scale = self._column(row)
        dv, dl = row["domain_var"], row["domain_level"]
        cells = self._estimate_cells(d, (wave, weighting, universe), col, dv,
                                     proportion=scale == 100.0 and not col.startswith("fam_"))
        r = cells.get(int(dl) if dv else None)
        if r is None:
            return None
        return {k: scale * v for k, v in r.items()}

    def _estimate_cells(self, d, variant: tuple, col: str, dv: str, *,
                        proportion: bool) -> dict:
        """``{domain code (None without a domain): {value, se, ci_low, ci_high}}`` of
        ``d.proportion(col)`` (level 1: a 0/1 indicator, logit interval) or ``d.mean(col)``
        by ``dv``; computed once per (variant, col, dv) and shared by the exhibits (the audit
        asks for the same estimate once per published figure)."""
        key = (variant, col, dv, proportion)
        cells = self._waves.estimates.get(key)
        if cells is not None:
            return cells
        f = self.estimate_frame(d, "proportion" if proportion else "mean", col, by=dv or None)
        if proportion:
            keep = f["level"].astype(float).to_numpy() == 1.0
        else:
            keep = np.ones(len(f), dtype=bool)
        columns = {"value": f["estimate"].to_numpy(), "se": f["se"].to_numpy(),
                   "ci_low": f["ci_low"].to_numpy(), "ci_high": f["ci_high"].to_numpy()}
        domains = (f[dv].astype("int64").to_numpy() if dv
                   else np.full(len(keep), None, dtype=object))
        cells = {}
        for i in np.flatnonzero(keep):  # the first row of each domain, as the frame gave
            code = None if domains[i] is None else int(domains[i])
            cells.setdefault(code, {k: float(v[i]) for k, v in columns.items()})
        self._waves.estimates[key] = cells
        return cells


# ------------------------------------------------------------------------------ group tables
def grouped(ctx: Context, method: str, var: str, by: str | None = None, *, scale: float = 1.0,
            total: bool = True, weightings=WEIGHTINGS, universes=UNIVERSES, waves=WAVES,
            **kw) -> pd.DataFrame:
    """``design.<method>(var, by=by, na_rm=True)`` in every variant, with a ``group`` column.

    ``group`` is "Total" for the whole universe and the codebook label of ``by`` otherwise;
    proportions get a ``level_label`` column with the codebook label of the level.
    """
    frames = []
    if total:
        f = ctx.estimates(lambda d: ctx.estimate_frame(d, method, var, **kw), scale=scale,
                          weightings=weightings, universes=universes, waves=waves)
        f.insert(3, "group", "Total")
        frames.append(f)
    if by:
        f = ctx.estimates(lambda d: ctx.estimate_frame(d, method, var, by=by, **kw),
                          scale=scale, weightings=weightings, universes=universes, waves=waves)
        f.insert(3, "group", [ctx.label(w, by, c) for w, c in zip(f["wave"], f[by], strict=True)])
        f = f.drop(columns=by)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    if method == "proportion":
        out.insert(out.columns.get_loc("level") + 1, "level_label",
                   [ctx.label(w, var, lv) for w, lv in zip(out["wave"], out["level"], strict=True)])
    return out


def pick(frame: pd.DataFrame, **eq) -> pd.DataFrame:
    """Rows of ``frame`` where every column equals the given value."""
    m = np.ones(len(frame), dtype=bool)
    for k, v in eq.items():
        m &= (frame[k] == v).to_numpy()
    return frame[m]


# ------------------------------------------------------------------------------------- audit
SLACK = 1e-9


def audit_table(ctx: Context, exhibit: str, ids) -> pd.DataFrame:
    """Published versus reproduced for the published figures ``ids`` of one exhibit.

    ``reproduced`` (with se and 95% CI) is the unweighted estimate in the wave's own universe,
    which is how the figures were published; it passes when it lies in the published rounding
    interval ``[lower, upper)`` of ``microdata/targets.csv`` (counts: exactly). Targets marked
    ``excluded`` there (figures that contradict another published figure, NOTES.md b4) get
    status ``conflict`` and do not count as failures. ``design_weighted``, ``calibrated`` and
    ``common_18plus`` (unweighted, 18+) are shown for comparison and not judged.
    """
    tab = ctx.targets.set_index("id")
    rows = []
    for tid in ids:
        r = tab.loc[tid].to_dict()
        r["id"] = tid
        if r["statistic"] in ("claim", "info", ""):
            continue
        pub = float(r["value"]) if r["value"] else np.nan
        lo = float(r["lower"]) if r["lower"] else -np.inf
        hi = float(r["upper"]) if r["upper"] else np.inf
        rep = ctx.target_estimate(r)
        val = rep["value"]
        if r["statistic"] in ("count", "min"):
            ok = abs(val - lo) < SLACK
        else:
            ok = (lo - SLACK) <= val < (hi - SLACK)
        status = "pass" if ok else "fail"
        if ok and r.get("resolution"):  # holds only under a documented reading (e.g. T171)
            status = "pass (assumed reading)"
        if r.get("role") == "excluded":
            status = "conflict"
        note = r.get("resolution", "") or ""
        domain = f"{r['domain_var']}={ctx.label(int(r['wave']), r['domain_var'], r['domain_level'])}" \
            if r["domain_var"] else "total"
        other = {}
        for col, (w, u) in {"design_weighted": ("design", "wave"),
                            "calibrated": ("calibrated", "wave"),
                            "common_18plus": ("unweighted", "common")}.items():
            other[col] = ctx.target_estimate(r, w, u)["value"]
        rows.append({
            "exhibit": exhibit, "target_id": tid, "wave": int(r["wave"]), "domain": domain,
            "quantity": r["quantity"], "unit": r["unit"], "published": pub, "reproduced": val,
            "se": rep["se"], "ci_low": rep["ci_low"], "ci_high": rep["ci_high"],
            "tolerance": r.get("tolerance_rule", ""), "diff": val - pub, "status": status,
            **other, "note": note,
        })
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def claim_row(exhibit: str, test_id: str, claim: str, *, weighting="unweighted",
              universe="wave", estimate=np.nan, statistic=np.nan, df_num=np.nan, df_denom=np.nan,
              p_value=np.nan, p_adjusted=np.nan, method="", null="", decision="",
              supported=None) -> dict:
    """One row of an exhibit's test table (:data:`surveylib.report.TEST_COLUMNS`)."""
    return {"exhibit": exhibit, "test_id": test_id, "claim": claim, "weighting": weighting,
            "universe": universe, "estimate": estimate, "statistic": statistic, "df_num": df_num,
            "df_denom": df_denom, "p_value": p_value, "p_adjusted": p_adjusted,
            "method": method, "null": null, "decision": decision, "supported": supported}


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (R ``p.adjust(method="holm")``); NaN stays NaN."""
    return adjust_pvalues(p_values, "holm")


def tests_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=TEST_COLUMNS)


def main(run) -> None:
    """``if __name__ == "__main__"`` body of every script: print the exhibit's text report."""
    res = run()
    print(res.to_text())
    sys.exit(0 if res.passed else 1)
