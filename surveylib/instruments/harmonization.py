"""Comparing waves: the harmonization map and the universes of a comparison."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..errors import CodebookError
from ._schema import (
    HARMONIZATION_METHODS,
    _format_counts,
    _freeze,
    _is_int,
    _nonempty_str,
    _read_yaml,
    _suggest,
)
from .loading import find_instruments_dir

# --------------------------------------------------------------------------------------- waves


@dataclass(frozen=True)
class HarmonizedItem:
    """How one variable is compared between waves.

    Attributes
    ----------
    name : str
    method : str
        ``identical``, ``recode``, ``2012_only`` or ``design``.
    recode : Mapping[int, Mapping[int, int | None]]
        For ``recode`` items: per wave, old code to new code (``None`` = leave the comparison).
    note : str
    """

    name: str
    method: str
    recode: Mapping[int, Mapping[int, int | None]]
    note: str

    @property
    def comparable(self) -> bool:
        """True when the item can be compared between waves (identical or recode)."""
        return self.method in ("identical", "recode")


@dataclass(frozen=True)
class Harmonization:
    """The harmonization map of the survey waves (read with :func:`load_harmonization`).

    Examples
    --------
    >>> h = load_harmonization()
    >>> h.item("attitude").method, h.item("edu_self").comparable
    ('identical', False)
    >>> h.min_age(2012), h.min_age(2012, universe="wave")
    (18, 15)
    """

    waves: tuple[int, ...]
    items: Mapping[str, HarmonizedItem]
    universe: Mapping[str, Any]
    source: str = "<harmonization>"

    def item(self, name: str) -> HarmonizedItem:
        """The harmonization entry of variable ``name``."""
        try:
            return self.items[name]
        except KeyError:
            raise CodebookError(
                f"variable {name!r} has no entry in the harmonization map {self.source}"
                f"{_suggest(name, self.items)}; add one saying how it compares between waves"
            ) from None

    def comparable_items(self) -> tuple[str, ...]:
        """Names of the items that can be compared between waves."""
        return tuple(n for n, it in self.items.items() if it.comparable)

    @property
    def age_variable(self) -> str:
        """Column holding age, used by the universe rule."""
        return self.universe["common"]["variable"]

    def min_age(self, wave: int, *, universe: str = "common") -> int:
        """Lowest age of ``universe`` (``'common'`` for comparisons or ``'wave'``) in ``wave``."""
        self._check_wave(wave)
        if universe == "common":
            return int(self.universe["common"]["min_age"])
        if universe == "wave":
            return int(self.universe["wave"][wave]["min_age"])
        raise CodebookError(f"universe must be 'common' or 'wave', got {universe!r}")

    def _check_wave(self, wave: Any) -> None:
        if not _is_int(wave) or int(wave) not in self.waves:
            raise CodebookError(
                f"wave {wave!r} is not in the harmonization map; its waves are "
                f"{', '.join(map(str, self.waves))}"
            )

    def apply_recodes(self, df: pd.DataFrame, wave: int) -> pd.DataFrame:
        """Return a copy of ``df`` with the wave's harmonization recodes applied.

        Codes mapped to ``None`` become NA; other codes are unchanged.

        Examples
        --------
        >>> import pandas as pd
        >>> h = load_harmonization()
        >>> h.apply_recodes(pd.DataFrame({"agegrp": [1, 2, 6]}), 2012)["agegrp"].tolist()
        [nan, 2.0, 6.0]
        """
        self._check_wave(wave)
        out = df.copy()
        for item in self.items.values():
            table = item.recode.get(int(wave))
            if not table or item.name not in out.columns:
                continue
            col = out[item.name]
            dropped = [old for old, new in table.items() if new is None]
            moved = {old: new for old, new in table.items() if new is not None}
            if moved:
                col = col.replace(moved)
            if dropped:
                col = col.mask(col.isin(dropped))
            out[item.name] = col
        return out


def _validate_harmonization(raw: Any, source: str) -> None:
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise CodebookError(f"{source}: the harmonization map must be a YAML mapping")
    waves = raw.get("waves")
    if not (isinstance(waves, list) and waves and all(_is_int(w) for w in waves)):
        problems.append("key 'waves': must be a list of wave years, e.g. [2007, 2012]")
        waves = []
    uni = raw.get("universe")
    if not isinstance(uni, Mapping):
        problems.append("key 'universe': must describe the 'common' and per-'wave' universes")
    else:
        common = uni.get("common")
        if not (
            isinstance(common, Mapping)
            and _is_int(common.get("min_age"))
            and _nonempty_str(common.get("variable"))
        ):
            problems.append(
                "universe.common: needs 'variable' (the age column) and an integer 'min_age'"
            )
        per_wave = uni.get("wave")
        for w in waves:
            entry = per_wave.get(w) if isinstance(per_wave, Mapping) else None
            if not (isinstance(entry, Mapping) and _is_int(entry.get("min_age"))):
                problems.append(f"universe.wave.{w}: needs an integer 'min_age'")
    items = raw.get("items")
    if not isinstance(items, Mapping) or not items:
        problems.append("key 'items': must map each variable to its method")
        items = {}
    for name, spec in items.items():
        where = f"item {name!r}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: must be a mapping with 'method' and 'note'")
            continue
        method = spec.get("method")
        if method not in HARMONIZATION_METHODS:
            problems.append(
                f"{where}, key 'method': {method!r} is not allowed; use one of {', '.join(HARMONIZATION_METHODS)}"
            )
        if not _nonempty_str(spec.get("note")):
            problems.append(f"{where}, key 'note': say what the comparison rests on")
        recode = spec.get("recode")
        if method == "recode":
            if not isinstance(recode, Mapping) or not recode:
                problems.append(
                    f"{where}, key 'recode': a recode item needs wave -> {{old: new}} tables"
                )
            else:
                for w, table in recode.items():
                    if w not in waves:
                        problems.append(f"{where}, key 'recode': wave {w!r} is not in 'waves'")
                    if not isinstance(table, Mapping) or not all(
                        _is_int(k) and (v is None or _is_int(v)) for k, v in table.items()
                    ):
                        problems.append(
                            f"{where}, key 'recode': wave {w} must map integer codes to integer codes or null"
                        )
        elif recode is not None:
            problems.append(f"{where}, key 'recode': only method 'recode' takes a recode table")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CodebookError(
            f"{source}: {len(problems)} problem(s) in the harmonization map:\n{listing}"
        )


def load_harmonization(
    path: str | os.PathLike[str] | None = None,
    *,
    instruments_dir: str | os.PathLike[str] | None = None,
) -> Harmonization:
    """Read and validate the harmonization map (``instruments/harmonization.yaml`` by default).

    Parameters
    ----------
    path : path-like, optional
        Explicit file; otherwise ``harmonization.yaml`` in the instruments folder.
    instruments_dir : path-like, optional
        Folder to look in when ``path`` is omitted.

    Examples
    --------
    >>> "attitude" in load_harmonization().comparable_items()
    True
    """
    if path is None:
        folder = Path(instruments_dir) if instruments_dir is not None else find_instruments_dir()
        path = folder / "harmonization.yaml"
    path = Path(path)
    raw = _read_yaml(path)
    _validate_harmonization(raw, str(path))
    items = {
        name: HarmonizedItem(
            name=name,
            method=spec["method"],
            recode=_freeze({int(w): dict(t) for w, t in (spec.get("recode") or {}).items()}),
            note=spec["note"],
        )
        for name, spec in raw["items"].items()
    }
    return Harmonization(
        waves=tuple(int(w) for w in raw["waves"]),
        items=MappingProxyType(items),
        universe=_freeze(raw["universe"]),
        source=str(path),
    )


def universe_mask(
    df: pd.DataFrame,
    wave: int,
    *,
    universe: str = "common",
    harmonization: Harmonization | None = None,
) -> pd.Series:
    """Boolean mask of the rows of a wave that fall in a universe.

    With ``universe='common'`` (the default for wave comparisons) this is "aged 18+" in every
    wave. Use it as a **domain** (``design.subset(mask)``) so that variances keep every stratum's
    full sample; :func:`common_universe` drops rows instead.

    Parameters
    ----------
    df : pandas.DataFrame
        One wave's frame with the age column (``age``).
    wave : int
        The wave's year.
    universe : {'common', 'wave'}
        ``'common'``: the universe shared by all waves; ``'wave'``: the wave's own universe.
    harmonization : Harmonization, optional
        Defaults to :func:`load_harmonization`.

    Raises
    ------
    CodebookError
        If the age column is missing or has missing values, or if rows lie below the wave's own
        minimum age (they cannot belong to the wave).

    Examples
    --------
    >>> import pandas as pd
    >>> universe_mask(pd.DataFrame({"age": [15, 17, 18, 40]}), 2012).tolist()
    [False, False, True, True]
    """
    h = harmonization if harmonization is not None else load_harmonization()
    cutoff = h.min_age(wave, universe=universe)
    own = h.min_age(wave, universe="wave")
    col = h.age_variable
    if col not in df.columns:
        raise CodebookError(
            f"column {col!r} is missing; the {universe} universe of wave {wave} is defined by age, "
            "so the frame needs it"
        )
    age = df[col]
    if not pd.api.types.is_numeric_dtype(age) or pd.api.types.is_bool_dtype(age):
        raise CodebookError(f"column {col!r} has dtype {age.dtype}; ages must be numbers")
    if age.isna().any():
        raise CodebookError(
            f"column {col!r} has {int(age.isna().sum())} missing value(s); those rows cannot be "
            "placed in or out of the universe: impute or drop them first"
        )
    below = age[age < own]
    if len(below):
        raise CodebookError(
            f"column {col!r} has ages below wave {wave}'s minimum of {own}: "
            f"{_format_counts(below.value_counts().sort_index())}; these rows are outside the "
            "survey's universe: check the wave or the data"
        )
    return (age >= cutoff).rename(f"universe_{universe}")


def common_universe(
    df: pd.DataFrame, wave: int, *, harmonization: Harmonization | None = None
) -> pd.DataFrame:
    """Rows of a wave inside the universe common to all waves (urban residents aged 18+).

    For 2012 this drops respondents aged 15-17; for 2007 it returns every row. The result is a
    new frame (the index is kept). For standard errors of wave comparisons prefer
    ``design.subset(universe_mask(df, wave))``, which keeps the full design.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [16, 18, 65], "attitude": [2, 3, 4]})
    >>> common_universe(df, 2012)["age"].tolist()
    [18, 65]
    """
    mask = universe_mask(df, wave, harmonization=harmonization)
    return df.loc[mask].copy()
