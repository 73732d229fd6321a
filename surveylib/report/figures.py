"""PNG figures in the style of the published diagrams: grouped bars with 95% CI error bars.

Rendering uses matplotlib's non-interactive Agg canvas directly (no pyplot state, no global
backend switch) and writes PNGs without metadata dates, so the bytes are identical run to run.
"""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import FigureSpec

#: Colours of the series (first wave, second wave, further series), grey/blue as in print.
PALETTE = ("#8c9fb8", "#1f4e79", "#c9822b", "#6b8e23", "#7f7f7f", "#b03a2e")
MARKER_SYMBOL = {"increase": "\u25b2", "decrease": "\u25bc"}
#: Default legend of the markers; a figure names its comparison in ``FigureSpec.marker_labels``.
MARKER_TEXT = {
    "increase": "\u25b2 a meaningful increase",
    "decrease": "\u25bc a meaningful decrease",
}


def _finite(x) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in x], dtype=float)


def render(spec: FigureSpec, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    cats = list(spec.categories)
    k = len(spec.series)
    long_labels = max((len(str(c)) for c in cats), default=0) > 14
    horizontal = spec.horizontal or (long_labels and len(cats) > 4)
    height = max(3.6, 0.42 * len(cats) * max(k, 1) * 0.6 + 1.6) if horizontal else 4.2
    fig = Figure(figsize=(8.0, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    pos = np.arange(len(cats), dtype=float)
    width = 0.8 / max(k, 1)
    top = 0.0
    for i, s in enumerate(spec.series):
        vals = _finite(s.values)
        off = pos + (i - (k - 1) / 2) * width
        colour = PALETTE[i % len(PALETTE)]
        err = None
        if s.low is not None and s.high is not None:
            lo, hi = _finite(s.low), _finite(s.high)
            err = np.vstack([np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)])
            err = np.where(np.isfinite(err), err, 0.0)
            top = max(top, float(np.nanmax(np.where(np.isfinite(hi), hi, vals))) if len(hi) else 0)
        top = max(top, float(np.nanmax(vals)) if np.isfinite(vals).any() else 0.0)
        kw = {"color": colour, "label": s.name, "edgecolor": "white", "linewidth": 0.5}
        ekw = {"ecolor": "#333333", "capsize": 2.5, "elinewidth": 0.9}
        if horizontal:
            ax.barh(off, np.nan_to_num(vals), height=width, xerr=err, error_kw=ekw, **kw)
        else:
            ax.bar(off, np.nan_to_num(vals), width=width, yerr=err, error_kw=ekw, **kw)
        for j, v in enumerate(vals):
            if not math.isfinite(v):
                continue
            pct = "percent" in spec.ylabel
            txt = (f"{v:.0f}%" if "power" in spec.ylabel else f"{v:.0f}") if pct \
                else f"{v:.2f}"
            if horizontal:
                base = spec.ylim[0] if spec.ylim else 0.0  # label inside the bar's left end
                ax.text(base + 0.02 * ((top or 1) - base), off[j], txt, va="center", ha="left",
                        fontsize=7, color="white" if v > base + 0.08 * ((top or 1) - base)
                        else "black")
            else:
                ax.text(off[j], v / 2 if v > 0 else 0, txt, ha="center", va="center", fontsize=7,
                        color="white" if i > 0 else "black")
        if s.published is not None:
            pub = _finite(s.published)
            ok = np.isfinite(pub)
            if ok.any():
                label = "published" if i == k - 1 or k == 1 else None
                if horizontal:
                    ax.scatter(pub[ok], off[ok], marker="|", s=120, color="#b03a2e", zorder=5,
                               label=label)
                else:
                    ax.scatter(off[ok], pub[ok], marker="_", s=150, color="#b03a2e", zorder=5,
                               linewidths=2, label=label)
    used = set()
    for si, ci, kind in spec.markers:
        s = spec.series[si]
        v = _finite(s.values)[ci]
        hi = _finite(s.high)[ci] if s.high is not None else v
        off = pos[ci] + (si - (k - 1) / 2) * width
        y = (hi if math.isfinite(hi) else v) + 0.03 * max(top, 1)
        if horizontal:
            ax.text(y, off, MARKER_SYMBOL[kind], va="center", ha="left", fontsize=9,
                    color="#b03a2e")
        else:
            ax.text(off, y, MARKER_SYMBOL[kind], ha="center", va="bottom", fontsize=9,
                    color="#b03a2e")
        used.add(kind)
    if horizontal:
        ax.set_yticks(pos)
        ax.set_yticklabels([str(c) for c in cats], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(spec.ylabel)
        if spec.ylim:
            ax.set_xlim(*spec.ylim)
        else:
            ax.set_xlim(0, top * 1.15 + 1e-9)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    else:
        ax.set_xticks(pos)
        ax.set_xticklabels([str(c) for c in cats], fontsize=8, rotation=0 if not long_labels else 20,
                           ha="center" if not long_labels else "right")
        ax.set_ylabel(spec.ylabel)
        if spec.ylim:
            ax.set_ylim(*spec.ylim)
        else:
            ax.set_ylim(0, top * 1.15 + 1e-9)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # the title spans the figure, not the axes (long category labels shift the axes right)
    fig.suptitle(textwrap.fill(spec.title, 100), fontsize=9.5, x=0.01, ha="left")
    # the legend sits outside the plotting area, clear of the bars and error bars
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    legend = {**MARKER_TEXT, **dict(spec.marker_labels)}
    footer = "  ".join(legend[u] for u in ("decrease", "increase") if u in used)
    note = " ".join(x for x in (footer, spec.note) if x)
    if note:
        fig.text(0.01, 0.01, textwrap.fill(note, 150), fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
