"""The result of the wave-3 plan: :class:`PlanResult`, its figure and its files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from surveylib import planning

from ._wave3_markdown import render_markdown

__all__ = ["PlanResult"]


@dataclass(frozen=True, eq=False)
class PlanResult:
    """The recommended wave-3 design and the tables behind it.

    Attributes
    ----------
    inputs : Mapping
        The arguments of :func:`run` (read-only).
    deff : float
        Design effect used throughout; ``deff_source`` says where it comes from.
    sample_size : surveylib.planning.SampleSize
        National size for the target margin of error (``p = 0.5``).
    n_total : int
        Recommended completed interviews: ``sample_size.n_required``, or the sum of the regional
        floors when that is larger (``n_basis`` says which).
    n_to_contact : int
        Units to contact at the assumed response rate.
    frame : DataFrame
        Stratum frame used (index stratum).
    baseline : DataFrame
        Shares of every category in 2007 and 2012 and the change: index category (a key of
        :data:`CATEGORIES`), columns ``label, p_2007, p_2012, change``.
    allocations : DataFrame
        One row per allocation x stratum: ``allocation, stratum, N, n, moe, meets_regional``.
    allocation_summary : DataFrame
        One row per allocation: ``allocation, n, min_n, max_n, national_moe,
        max_regional_moe, meets_national, meets_regional, n_for_national_moe``.
    recommended : DataFrame
        The recommended allocation: ``stratum, N, floor, n, n_to_contact, share_of_n,
        share_of_N, moe, weight``.
    power : DataFrame
        One row per change x scenario: ``category, scenario, p1, p2, change, n1, n2, deff1,
        deff2, power``.
    power_n : DataFrame
        Interviews needed for the target power, per change: ``category, p1, p2, change,
        n_wave3_vs_2012`` (wave-3 size against 2012 as fielded; NaN when even a census of
        wave 3 cannot reach it because 2012's sample is too small) and ``n_per_wave_equal``
        (each of two future waves of equal size).
    mde : DataFrame
        One row per area x category: ``area, category, p_2012, n_2012, n_wave3, mde_increase,
        mde_decrease, observed_change``.
    power_curve : DataFrame
        ``category, comparison, p1, p2, change, n1, n2, power`` over a grid of wave-3 sizes.
    assumptions : tuple of str
        Every assumption the plan rests on.
    """

    inputs: Mapping[str, Any]
    deff: float
    deff_source: str
    sample_size: planning.SampleSize
    n_total: int
    n_basis: str
    n_to_contact: int
    frame: pd.DataFrame
    baseline: pd.DataFrame
    allocations: pd.DataFrame
    allocation_summary: pd.DataFrame
    recommended: pd.DataFrame
    power: pd.DataFrame
    power_n: pd.DataFrame
    mde: pd.DataFrame
    power_curve: pd.DataFrame
    assumptions: tuple[str, ...]

    def __str__(self) -> str:
        return self.to_markdown()

    # ----- display -------------------------------------------------------------------------
    def to_markdown(self, *, figure: str | None = "power_curve.png") -> str:
        """The plan as Markdown (rounding happens here only).

        ``figure`` is the file name of the power-curve PNG linked from section 5 (``None``: no
        link); the sections are written by :mod:`analyses._wave3_markdown`.
        """
        return render_markdown(self, figure=figure)

    # ----- figure and files ----------------------------------------------------------------
    def plot(self):
        """Power curves as a :class:`matplotlib.figure.Figure` (not registered with pyplot)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.5, 4.8))
        ax = fig.add_subplot()
        c = self.power_curve
        colours = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
        for k, cat in enumerate(dict.fromkeys(c["category"])):
            colour = colours[k % len(colours)]
            for comp, style in zip(dict.fromkeys(c["comparison"]), ("-", "--"), strict=False):
                part = c[(c["category"] == cat) & (c["comparison"] == comp)].sort_values("n2")
                label = None
                if style == "-":
                    first = part.iloc[0]
                    label = (
                        f"{cat}: {100 * first['p1']:.0f}% -> {100 * first['p2']:.0f}% "
                        f"({100 * first['change']:+.0f} pp)"
                    )
                ax.plot(part["n2"], part["power"], style, color=colour, label=label)
        ax.axhline(self.inputs["target_power"], color="grey", linestyle=":", linewidth=1)
        for n, text in ((self.inputs["n_2012"], "2012 n"), (self.n_total, "recommended n")):
            ax.axvline(n, color="black", linestyle=":", linewidth=1)
            ax.annotate(text, (n, 0.02), rotation=90, fontsize="small", ha="right", va="bottom")
        ax.set_xlabel("wave-3 completed interviews")
        ax.set_ylabel("power")
        ax.set_ylim(0, 1.02)
        ax.set_title(
            "Power to detect a 2007-2012-sized change from 2012\n"
            "(solid: vs 2012 as fielded; dashed: two waves of equal size)",
            fontsize="medium",
        )
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        return fig

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``plan.md`` and ``power_curve.png`` into ``out_dir`` (created if absent).

        Both files are written atomically and are byte-identical from run to run.
        """
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        png = folder / "power_curve.png"
        md = folder / "plan.md"
        fig = self.plot()
        _atomic(
            png, lambda tmp: fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None})
        )
        text = self.to_markdown(figure=png.name)
        _atomic(md, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return {"plan": md, "figure": png}


def _atomic(path: Path, writer) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
