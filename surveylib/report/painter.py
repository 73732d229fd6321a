"""The report's figures drawn to PNG while the exhibits run (``surveylib replicate``).

Drawing the figures (matplotlib's import, its constrained layout and the Agg draw) takes
about a third of a replication, and it needs nothing but each exhibit's
:class:`~surveylib.report.FigureSpec`. A :class:`FigurePainter` hands every exhibit's figures
to one worker process as soon as the exhibit has run, so they are drawn while the next
exhibits compute; the runner collects the PNG bytes at the end.  The worker is started by a
fork server (``multiprocessing``'s "forkserver" method: a fresh single-threaded process, so the
runner's BLAS threads are never forked), and it draws with the same
:func:`surveylib.plotting.to_png`, so the bytes are those drawn in the runner.  Where a fork
server is not available, or with one CPU, or if the worker fails, the figures are drawn in the
runner as before (a figure that cannot be drawn raises its error there).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import FigureSpec

__all__ = ["FigurePainter", "render"]


def render(spec) -> bytes:
    """PNG bytes of one figure (a :class:`~surveylib.report.FigureSpec`)."""
    from ..plotting import to_png

    return to_png(spec.plot())


def _worker_pool() -> ProcessPoolExecutor | None:
    """One worker from a fork server, or ``None`` where it cannot help (none, one CPU)."""
    method = "forkserver"
    if (os.cpu_count() or 1) < 2 or method not in multiprocessing.get_all_start_methods():
        return None
    try:
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method))
    except (OSError, ValueError):
        return None


class FigurePainter:
    """Figures of exhibit results drawn in a worker process, collected in submission order.

    Parameters
    ----------
    parallel : bool
        Draw in a worker process when a fork server can start one (default); ``False`` draws every
        figure in this process when :meth:`pngs` is called.

    Examples
    --------
    >>> from surveylib.report import ExhibitResult, FigureSpec, Series
    >>> spec = FigureSpec(key="f", title="t", categories=("a",), series=(Series("s", (1.0,)),))
    >>> painter = FigurePainter(parallel=False)
    >>> painter.submit(ExhibitResult(key="x", title="", source="", method="", figures=[spec]))
    >>> png = painter.pngs()["f"]
    >>> png[:4] == bytes([0x89]) + b"PNG"
    True
    """

    def __init__(self, *, parallel: bool = True):
        self._pool = _worker_pool() if parallel else None
        self._jobs: list[tuple[FigureSpec, Future | None]] = []
        self._done: set[int] = set()

    def submit(self, result) -> None:
        """Start drawing the figures of an exhibit result (a second call with it does nothing)."""
        if id(result) in self._done:
            return
        self._done.add(id(result))
        for spec in result.figures:
            future = None
            if self._pool is not None:
                try:
                    future = self._pool.submit(render, spec)
                except RuntimeError:  # the worker died: draw here from now on
                    self.close()
            self._jobs.append((spec, future))

    def pngs(self) -> dict[str, bytes]:
        """``{figure key: PNG bytes}`` of every submitted figure, in submission order.

        A figure the worker could not deliver is drawn here, so a plotting error is raised
        in this process as it would be without the worker.
        """
        out = {}
        try:
            for spec, future in self._jobs:
                png = None
                if future is not None:
                    try:
                        png = future.result()
                    except Exception:  # drawn again below: its error, if any, raised here
                        png = None
                out[spec.key] = png if png is not None else render(spec)
        finally:
            self.close()
        return out

    def close(self) -> None:
        """Stop the worker (pending figures are drawn by :meth:`pngs` in this process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
