"""The codebook model: :class:`Variable`, :class:`ItemSet` and :class:`Codebook`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CodebookError
from ._schema import (
    CODED_TYPES,
    INTEGER_TYPES,
    ROLES,
    _format_counts,
    _freeze,
    _is_number,
    _norm_label,
    _suggest,
    validate_codebook,
)

# --------------------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Variable:
    """One column of a survey wave, as described by its codebook entry.

    Attributes
    ----------
    name, label, type : str
        See ``instruments/README.md`` for the meaning of each key.
    question, question_source, universe, status : str or None
        Provenance (required in a codebook of reconstructed data, else optional).
    codes : Mapping[int, str]
        Substantive codes and labels, in codebook order (empty for non-coded types).
    missing_codes : Mapping[int, str]
        Codes that mean "no substantive answer" (e.g. 8 "don't know").
    ordered : bool
        Whether the codes form an ordinal scale.
    valid_range : tuple of two numbers or None
        Allowed range of an integer or numeric variable.
    role : str or None
        ``strata``, ``weight``, ``fpc`` or ``id`` for design columns.
    group, mrset : str or None
        Name of the item group or multiple-response set the variable belongs to.
    source_lines : tuple of str
        ``file:line`` references into the source documents (empty when not recorded).
    note : str or None
        What is assumed, and why.
    """

    name: str
    label: str
    type: str
    codes: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    missing_codes: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    question: str | None = None
    question_source: str | None = None
    universe: str | None = None
    status: str | None = None
    source_lines: tuple[str, ...] = ()
    ordered: bool = False
    valid_range: tuple[float, float] | None = None
    role: str | None = None
    group: str | None = None
    mrset: str | None = None
    note: str | None = None

    @property
    def is_coded(self) -> bool:
        """True for categorical and binary variables."""
        return self.type in CODED_TYPES

    @property
    def all_codes(self) -> Mapping[int, str]:
        """Substantive codes followed by missing codes."""
        return MappingProxyType({**self.codes, **self.missing_codes})


@dataclass(frozen=True)
class ItemSet:
    """A named set of variables: an item ``group`` or a multiple-response set (``mrset``).

    Iterating over it yields the variable names, so ``df[list(cb.group("modern"))]`` works.
    """

    name: str
    label: str
    variables: tuple[str, ...]
    kind: str
    note: str | None = None
    source_lines: tuple[str, ...] = ()
    counted_value: int | None = None

    def __iter__(self):
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


@dataclass(frozen=True)
class Codebook:
    """A validated, read-only codebook of one survey wave.

    Build it with :func:`load_codebook` or :meth:`Codebook.from_dict`.

    Attributes
    ----------
    wave : Mapping
        Wave metadata (survey, year, universe, min_age, n, fieldwork, design facts...).
    variables : Mapping[str, Variable]
        Variables in codebook order.
    groups, mrsets : Mapping[str, ItemSet]
        Item groups and multiple-response sets.
    source : str
        Where the codebook was read from.

    Examples
    --------
    >>> cb = load_codebook(2012)
    >>> cb.year, cb.min_age
    (2012, 15)
    >>> list(cb.variables)[:3]
    ['resp_id', 'wave', 'stratum']
    """

    wave: Mapping[str, Any]
    variables: Mapping[str, Variable]
    groups: Mapping[str, ItemSet]
    mrsets: Mapping[str, ItemSet]
    source: str = "<codebook>"

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str = "<codebook>") -> Codebook:
        """Validate a parsed codebook (see :func:`validate_codebook`) and build the object.

        Examples
        --------
        >>> raw = {
        ...     "wave": {"survey": "demo", "year": 2020, "universe": "adults", "min_age": 18, "n": 10},
        ...     "variables": [{
        ...         "name": "q1", "label": "Trust", "question": "Do you trust people?",
        ...         "question_source": "reconstructed", "type": "binary",
        ...         "codes": {0: "no", 1: "yes"}, "universe": "all", "source_lines": [],
        ...         "status": "assumed", "note": "example"}],
        ... }
        >>> Codebook.from_dict(raw).value_labels("q1")
        {0: 'no', 1: 'yes'}
        """
        validate_codebook(raw, source=source)
        variables = {}
        for entry in raw["variables"]:
            vr = entry.get("valid_range")
            variables[entry["name"]] = Variable(
                name=entry["name"],
                label=entry["label"],
                question=entry.get("question"),
                question_source=entry.get("question_source"),
                type=entry["type"],
                universe=entry.get("universe"),
                status=entry.get("status"),
                source_lines=tuple(entry.get("source_lines") or ()),
                codes=MappingProxyType({int(k): v for k, v in (entry.get("codes") or {}).items()}),
                missing_codes=MappingProxyType(
                    {int(k): v for k, v in (entry.get("missing_codes") or {}).items()}
                ),
                ordered=bool(entry.get("ordered", False)),
                valid_range=(vr[0], vr[1]) if vr is not None else None,
                role=entry.get("role"),
                group=entry.get("group"),
                mrset=entry.get("mrset"),
                note=entry.get("note"),
            )

        def sets(section: str, kind: str) -> Mapping[str, ItemSet]:
            out = {}
            for name, spec in (raw.get(section) or {}).items():
                out[name] = ItemSet(
                    name=name,
                    label=spec["label"],
                    variables=tuple(spec["variables"]),
                    kind=kind,
                    note=spec.get("note"),
                    source_lines=tuple(spec.get("source_lines") or ()),
                    counted_value=int(spec.get("counted_value", 1)) if kind == "mrset" else None,
                )
            return MappingProxyType(out)

        return cls(
            wave=_freeze(raw["wave"]),
            variables=MappingProxyType(variables),
            groups=sets("groups", "group"),
            mrsets=sets("mrsets", "mrset"),
            source=source,
        )

    # ----------------------------------------------------------------- metadata
    @property
    def survey(self) -> str:
        """Survey identifier, e.g. ``'attitudes2007'``."""
        return self.wave["survey"]

    @property
    def year(self) -> int | None:
        """Year of the wave (``None`` when the codebook does not say)."""
        return self.wave.get("year")

    @property
    def min_age(self) -> int | None:
        """Lowest age in the wave's universe (``None`` when the codebook does not say)."""
        return self.wave.get("min_age")

    @property
    def n(self) -> int | None:
        """Published (or, for a codebook read from a file, the file's) sample size."""
        return self.wave.get("n")

    @property
    def title(self) -> str:
        """Human-readable title (falls back to the survey identifier)."""
        return self.wave.get("title", self.survey)

    def __repr__(self) -> str:
        return (
            f"Codebook(survey={self.survey!r}, year={self.year}, n={self.n}, "
            f"variables={len(self.variables)}, source={self.source!r})"
        )

    def variable_labels(self) -> dict[str, str]:
        """Variable name to variable label, in codebook order.

        Examples
        --------
        >>> load_codebook(2007).variable_labels()["stratum"]
        'Sampling stratum (region)'
        """
        return {name: var.label for name, var in self.variables.items()}

    def overlay(self, top: Codebook) -> Codebook:
        """This codebook with ``top`` laid over it.

        A variable ``top`` describes replaces this codebook's description of it (its labels,
        codes, missing codes, universe, group); variables only here are kept, in this
        codebook's order, then ``top``'s new ones. ``top``'s wave keys override these, and its
        groups and multiple-response sets are added. Use it to put a harmonisation codebook
        (common codes across waves, universes, sets) over a codebook read from a data file.

        Examples
        --------
        >>> cb = load_codebook(2007)
        >>> top = Codebook.from_dict({"wave": {"survey": "mine"}, "variables": [
        ...     {"name": "attitude", "label": "Attitude", "type": "categorical",
        ...      "codes": {1: "good", 2: "bad"}}]})
        >>> merged = cb.overlay(top)
        >>> merged.survey, merged.value_labels("attitude"), merged.n
        ('mine', {1: 'good', 2: 'bad'}, 588)
        """
        variables = {**self.variables, **top.variables}
        return Codebook(
            wave=MappingProxyType({**self.wave, **top.wave}),
            variables=MappingProxyType(variables),
            groups=MappingProxyType({**self.groups, **top.groups}),
            mrsets=MappingProxyType({**self.mrsets, **top.mrsets}),
            source=f"{self.source} + {top.source}",
        )

    # ----------------------------------------------------------------- lookups
    def variable(self, name: str) -> Variable:
        """The :class:`Variable` called ``name``.

        Raises
        ------
        CodebookError
            If the codebook has no such variable.

        Examples
        --------
        >>> load_codebook(2007).variable("ethnic").codes[2]
        'Russian'
        """
        try:
            return self.variables[name]
        except (KeyError, TypeError):
            raise CodebookError(
                f"variable {name!r} is not in codebook {self.survey}{_suggest(str(name), self.variables)}; "
                f"check the spelling or add it to {self.source}"
            ) from None

    def value_labels(self, name: str) -> dict[int, str]:
        """Code-to-label mapping of a variable, substantive codes first, then missing codes.

        Examples
        --------
        >>> load_codebook(2007).value_labels("labour")
        {1: 'tough competition for jobs', 2: 'only specific niches', 3: 'no noticeable impact', 4: 'positive: brings jobs/investment', 8: "don't know"}
        """
        return dict(self.variable(name).all_codes)

    def labels_for(self, name: str, codes: Iterable[Any]) -> list[str | None]:
        """Labels of a sequence of codes (missing codes included; NA gives ``None``).

        Raises
        ------
        CodebookError
            If a code is not in the codebook; the message lists every unknown code.

        Examples
        --------
        >>> load_codebook(2007).labels_for("attitude", [1, 5, 8])
        ['very good', 'very poor', "don't know"]
        """
        labels = self.value_labels(name)
        values = pd.Series(list(codes), dtype=object)
        na = values.isna()
        mapped = values.map(
            lambda v: labels.get(int(v)) if _is_number(v) and float(v).is_integer() else None
        )
        unknown = values[~na & mapped.isna()]
        if len(unknown):
            raise CodebookError(
                f"variable {name!r} has no label for code(s) {_format_counts(unknown.value_counts(sort=False))}; "
                f"its codes are {sorted(labels)}"
            )
        return [
            None if is_na else lab for lab, is_na in zip(mapped.tolist(), na.tolist(), strict=True)
        ]

    def code_for(self, name: str, label: str) -> int:
        """Code of a label (exact match first, then ignoring case and repeated spaces).

        Raises
        ------
        CodebookError
            If no code has that label; the message lists the variable's labels.

        Examples
        --------
        >>> cb = load_codebook(2007)
        >>> cb.code_for("attitude", "Indifferent")
        3
        >>> cb.code_for("attitude", "neutral")
        Traceback (most recent call last):
        ...
        surveylib.errors.CodebookError: variable 'attitude' has no code labelled 'neutral'; its labels are 1 'very good', 2 'good', 3 'indifferent', 4 'poor', 5 'very poor', 8 "don't know", 9 'refusal'
        """
        labels = self.value_labels(name)
        for code, lab in labels.items():
            if lab == label:
                return code
        wanted = _norm_label(label)
        for code, lab in labels.items():
            if _norm_label(lab) == wanted:
                return code
        listing = ", ".join(f"{c} {lab!r}" for c, lab in labels.items())
        raise CodebookError(
            f"variable {name!r} has no code labelled {label!r}; its labels are {listing or '(none)'}"
        )

    def group(self, name: str) -> ItemSet:
        """The item group called ``name`` (e.g. the familiarity items ``'modern'``).

        Examples
        --------
        >>> len(load_codebook(2007).group("culture"))
        9
        """
        try:
            return self.groups[name]
        except KeyError:
            raise CodebookError(
                f"group {name!r} is not in codebook {self.survey}; its groups are "
                f"{', '.join(self.groups) or '(none)'}"
            ) from None

    def mrset(self, name: str) -> ItemSet:
        """The multiple-response set called ``name``.

        Examples
        --------
        >>> load_codebook(2012).mrset("reasons").variables[:2]
        ('reason_work', 'reason_trade')
        """
        try:
            return self.mrsets[name]
        except KeyError:
            raise CodebookError(
                f"multiple-response set {name!r} is not in codebook {self.survey}; its sets are "
                f"{', '.join(self.mrsets) or '(none)'}"
            ) from None

    def design_columns(self) -> dict[str, str | None]:
        """Names of the design columns: ``{'strata': ..., 'weights': ..., 'fpc': ...}``.

        A role the codebook does not define maps to ``None``.

        Examples
        --------
        >>> load_codebook(2012).design_columns()["strata"]
        'stratum'
        """
        out: dict[str, str | None] = {"strata": None, "weights": None, "fpc": None}
        for var in self.variables.values():
            key = ROLES.get(var.role) if var.role else None
            if key is not None:
                out[key] = var.name
        return out

    # ----------------------------------------------------------------- frames
    def _present(self, df: pd.DataFrame) -> list[Variable]:
        return [v for name, v in self.variables.items() if name in df.columns]

    def validate_frame(
        self, df: pd.DataFrame, *, require_all: bool = False, require_design: bool = True
    ) -> None:
        """Check a frame of codes against the codebook.

        Checks, for every codebook variable present in ``df``: numeric dtype; whole numbers for
        coded, integer and id columns; codes listed in the codebook (offending values are reported
        with their counts); values inside ``valid_range``; unique, non-missing ids; complete,
        positive design columns; one ``fpc`` value per stratum. Columns the codebook does not
        describe are ignored. All problems are reported together.

        Parameters
        ----------
        df : pandas.DataFrame
            Codes, one row per respondent. It is not modified.
        require_all : bool, default False
            Also require every codebook variable to be present.
        require_design : bool, default True
            Require the design columns (strata, weight, fpc) to be present.

        Raises
        ------
        CodebookError
            Listing every problem found.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> cb.validate_frame(pd.DataFrame({"attitude": [1, 3, 7, 7]}), require_design=False)
        Traceback (most recent call last):
        ...
        surveylib.errors.CodebookError: frame does not match codebook attitudes2007 (...codebook_2007.yaml):
          - column 'attitude' has codes not in the codebook: 7 (2 rows); add them under attitude's codes or missing_codes, or recode them
        """
        if not isinstance(df, pd.DataFrame):
            raise CodebookError(f"validate_frame needs a pandas DataFrame, got {type(df).__name__}")
        problems: list[str] = []
        if df.columns.duplicated().any():
            dup = sorted(set(map(str, df.columns[df.columns.duplicated()])))
            problems.append(f"columns {dup} appear more than once; keep one of each")
        design = {
            v.name: v.role for v in self.variables.values() if v.role in ("strata", "weight", "fpc")
        }
        for name, role in design.items():
            if require_design and name not in df.columns:
                problems.append(
                    f"design column {name!r} (role {role}) is missing; add it to the frame, or pass "
                    "require_design=False for a frame without design variables"
                )
        if require_all:
            absent = [n for n in self.variables if n not in df.columns and n not in design]
            if absent:
                problems.append(
                    f"codebook variables {absent} are missing from the frame; add them or pass "
                    "require_all=False"
                )
        if not df.columns.duplicated().any():
            for var in self._present(df):
                problems.extend(self._column_problems(var, df[var.name]))
            strata, fpc = self.design_columns()["strata"], self.design_columns()["fpc"]
            if (strata is not None and fpc is not None and strata in df.columns
                    and fpc in df.columns and not problems):
                per = df.groupby(strata, dropna=False)[fpc].nunique(dropna=False)
                bad = per[per > 1]
                if len(bad):
                    problems.append(
                        f"column {fpc!r} (fpc) takes several values within stratum/strata "
                        f"{[int(s) for s in bad.index]}; N_h must be one number per stratum"
                    )
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise CodebookError(
                f"frame does not match codebook {self.survey} ({self.source}):\n{listing}"
            )

    def _column_problems(self, var: Variable, s: pd.Series) -> list[str]:
        name = var.name
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            return [
                f"column {name!r} has dtype {s.dtype}, not numbers; surveylib frames hold numeric "
                "codes: convert labels with Codebook.code_for, or read files with "
                "surveylib.io.read_csv / read_spss"
            ]
        out: list[str] = []
        values = s.astype("float64")
        present = values.notna()
        if var.type in INTEGER_TYPES:
            frac = values[present & (values % 1 != 0)]
            if len(frac):
                out.append(
                    f"column {name!r} ({var.type}) holds non-whole numbers: "
                    f"{_format_counts(frac.value_counts(sort=False))}; codes must be integers"
                )
                return out
        missing_codes = list(var.missing_codes)
        if var.is_coded:
            unknown = values[present & ~values.isin(list(var.all_codes))]
            if len(unknown):
                out.append(
                    f"column {name!r} has codes not in the codebook: "
                    f"{_format_counts(unknown.value_counts().sort_index())}; add them under "
                    f"{name}'s codes or missing_codes, or recode them"
                )
        if var.valid_range is not None:
            lo, hi = var.valid_range
            outside = values[
                present & ~values.isin(missing_codes) & ((values < lo) | (values > hi))
            ]
            if len(outside):
                out.append(
                    f"column {name!r} has values outside its valid range [{lo}, {hi}]: "
                    f"{_format_counts(outside.value_counts().sort_index())}; correct them or declare "
                    "them as missing_codes"
                )
        if var.type == "id":
            if (~present).any():
                out.append(
                    f"column {name!r} (id) has {int((~present).sum())} missing value(s); every row needs an id"
                )
            dup = values[present & values.duplicated(keep=False)]
            if len(dup):
                out.append(
                    f"column {name!r} (id) has repeated ids: "
                    f"{_format_counts(dup.value_counts().sort_index())}; ids must be unique"
                )
        if var.role in ("strata", "weight", "fpc"):
            if (~present).any():
                out.append(
                    f"design column {name!r} has {int((~present).sum())} missing value(s); every row "
                    "needs a value"
                )
            if var.role in ("weight", "fpc"):
                bad = values[present & ~(np.isfinite(values) & (values > 0))]
                if len(bad):
                    out.append(
                        f"design column {name!r} has non-positive or infinite values: "
                        f"{_format_counts(bad.value_counts().sort_index())}; {var.role} must be > 0"
                    )
        return out

    def missing_to_na(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``df`` with every missing-data code set to NA.

        Integer columns that receive NA become ``float64`` (``NaN``), so the result can be handed
        to numpy-based estimators; nullable ``Int64`` columns stay ``Int64``. Columns the codebook
        does not describe are copied unchanged. ``df`` itself is not modified.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> cb.missing_to_na(pd.DataFrame({"attitude": [1, 8, 9, 4]}))["attitude"].tolist()
        [1.0, nan, nan, 4.0]
        """
        out = df.copy()
        for var in self._present(df):
            if var.missing_codes:
                col = out[var.name]
                hit = col.isin(list(var.missing_codes))
                if hit.any():
                    out[var.name] = col.mask(hit)
        return out

    def apply_labels(self, df: pd.DataFrame, *, missing: str = "keep") -> pd.DataFrame:
        """Return a copy of ``df`` with coded columns turned into labelled ``Categorical`` columns.

        Ordinal variables (``ordered: true``) become ordered categoricals. Integer, numeric, id
        and weight columns, and columns not in the codebook, are copied unchanged.

        Parameters
        ----------
        df : pandas.DataFrame
            Codes; validated first for the columns being labelled.
        missing : {'keep', 'na'}, default 'keep'
            ``'keep'`` labels missing-data codes too (they become the last categories, after
            the substantive ones, so order comparisons involving them are meaningless);
            ``'na'`` turns them into NA.

        Raises
        ------
        CodebookError
            If a column holds codes the codebook does not know.

        Examples
        --------
        >>> import pandas as pd
        >>> cb = load_codebook(2007)
        >>> out = cb.apply_labels(pd.DataFrame({"attitude": [2, 3, 8]}))
        >>> out["attitude"].tolist()
        ['good', 'indifferent', "don't know"]
        >>> out["attitude"].cat.ordered
        True
        """
        if missing not in ("keep", "na"):
            raise CodebookError(f"missing must be 'keep' or 'na', got {missing!r}")
        coded = [v for v in self._present(df) if v.is_coded]
        if coded:
            self.validate_frame(df[[v.name for v in coded]], require_design=False)
        out = df.copy()
        for var in coded:
            mapping = dict(var.codes) if missing == "na" else dict(var.all_codes)
            labels = out[var.name].map(mapping)
            out[var.name] = pd.Categorical(
                labels, categories=list(mapping.values()), ordered=var.ordered
            )
        return out
