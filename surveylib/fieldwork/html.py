"""The fieldwork status as an HTML page with charts (PNG embedded), written atomically."""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["status_html", "write_atomic"]


def write_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bars(labels, series: dict, title: str, ylabel: str) -> str:
    fig = Figure(figsize=(7.5, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    pos = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, vals) in enumerate(series.items()):
        v = np.asarray(vals, dtype=float)
        ax.bar(pos + (i - (len(series) - 1) / 2) * width, np.where(np.isfinite(v), v, 0),
               width=width, label=name)
    ax.set_xticks(pos, [str(x) for x in labels], rotation=30, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _table(df) -> str:
    return df.to_html(float_format=lambda x: f"{x:.4f}", border=0, na_rep="")


def status_html(status, *, title: str = "Fieldwork status") -> str:
    """The page: rates by stratum (table and chart), R-indicator, precision, weights."""
    r = status.rates
    strata = [i for i in r.index if i != "(all)"] or list(r.index)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             "</title><style>body{font-family:sans-serif;max-width:960px;margin:auto}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 6px;"
             "text-align:right}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<h2>AAPOR outcome rates</h2>", _table(r)]
    parts.append(f"<img alt='response rates by stratum' src='data:image/png;base64,"
                 f"{_bars(strata, {k: r.loc[strata, k] for k in ('RR1', 'RR3', 'COOP1', 'CON1')}, 'Outcome rates by stratum', 'rate')}'>")
    if status.r_indicator is not None:
        ri = status.r_indicator
        parts += ["<h2>Representativeness</h2>", f"<p>{html.escape(str(ri))}</p>",
                  _table(ri.partial)]
        var = ri.partial[ri.partial["level"] != ""]
        parts.append(f"<img alt='partial R-indicators' src='data:image/png;base64,"
                     f"{_bars(list(var['variable'] + ':' + var['level']), {'unconditional partial': var['unconditional']}, 'Partial R-indicators by category', 'P_U')}'>")
    if status.moe is not None:
        m = status.moe
        parts += ["<h2>Margin of error reached</h2>", _table(m)]
        parts.append(f"<img alt='margin of error' src='data:image/png;base64,"
                     f"{_bars(list(m.index), {'planned': m['moe_planned'], 'now': m['moe_now'].where(np.isfinite(m['moe_now']))}, 'Margin of error (p = 0.5)', 'moe')}'>")
    if status.weights is not None:
        parts += ["<h2>Nonresponse-adjusted weights (preview)</h2>", _table(status.weights)]
    parts += [f"<p>note: {html.escape(n)}</p>" for n in status.notes]
    parts.append("</body></html>")
    return "\n".join(parts)
