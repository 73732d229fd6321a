"""Replicate-weight columns read where they are stored: never copied into a second n x R array.

Agencies publish replicate weights as R columns of the data (``repw1`` ... ``repw80``).  A
:class:`StoredColumns` keeps the data frame's own float64 arrays and reads them in place:

* when the R columns sit at equal distances in memory (pandas keeps the float64 columns of a
  frame in one 2-D block, so columns that are adjacent in that block do), an n x R *view*
  with those strides serves every product directly (BLAS reads a column-major matrix whose
  leading dimension is the block's row length);
* otherwise blocks of rows are stacked, a block at a time, into a small (block x R) buffer.

Every reduction runs over blocks of rows (about :data:`BLOCK_ELEMENTS` values each), so its
temporaries are O(block x R) and O(n) at most; the only n x R arrays are the columns
themselves.  Each block is reduced by BLAS matrix-vector products (``x' W_block``) while it is
in cache, so the columns are read from memory once per call; numpy's axis reductions
(``W.sum(axis=0)``) are slower than a product with a vector of ones, and a product over all n
rows at once would read the columns once per vector (and need n-vectors of ones).  The block
is also kept below OpenBLAS's threshold for threading a matrix-vector product (460,800
values): threaded products of a few MiB each stall on a busy machine (tens of seconds per
call were measured with 8,192 x 80 blocks at load 15), single-threaded ones do not.  ``factor`` (n,) multiplies every row (replicate
*factors* given with ``combined_weights=False``), again a block at a time.
"""

from __future__ import annotations

import numpy as np

#: values per block of a pass over the columns (block rows x R): 2 MiB, which stays in cache
#: and below OpenBLAS's threshold for threading a matrix-vector product (see the module notes)
BLOCK_ELEMENTS = 1 << 18
#: value columns up to which a block's coefficients are a dense matrix (beyond: sparse)
DENSE_CELLS = 8
#: rows per chunk of a pass over n-vectors (weights, masks, values) whose temporaries must
#: stay O(chunk): 2 MiB per float64 temporary; data up to this size are one chunk
ROW_CHUNK = 1 << 18


def row_chunks(n: int, size: int | None = None) -> list:
    """Slices of ``size`` rows (default :data:`ROW_CHUNK`) covering ``0..n`` (one slice when
    ``n <= size``)."""
    size = ROW_CHUNK if size is None else size
    return [slice(a, min(a + size, n)) for a in range(0, max(n, 1), size)]


def _equal_stride_view(arrays: tuple) -> np.ndarray | None:
    """An n x R read-only view whose column j is ``arrays[j]``, or None when the arrays are
    not at equal distances in memory with equal strides.

    Element (i, j) of the view is at ``address(arrays[0]) + i * stride + j * step``, which is
    ``arrays[j][i]``: the view touches exactly the bytes of the arrays, so it is valid while
    they are alive (the object keeps them).
    """
    first = arrays[0]
    if len(arrays) == 1:
        return first[:, None]
    if any(a.strides != first.strides or len(a) != len(first) for a in arrays):
        return None
    addr = np.array([a.__array_interface__["data"][0] for a in arrays], dtype=np.int64)
    step = int(addr[1] - addr[0])
    if not np.all(np.diff(addr) == step):
        return None
    return np.lib.stride_tricks.as_strided(first, shape=(len(first), len(arrays)),
                                           strides=(first.strides[0], step), writeable=False)


class StoredColumns:
    """n x R analysis replicate weights held as the data's own columns (or one owned array).

    Parameters
    ----------
    arrays : sequence of (n,) float64 arrays
        The columns, in replicate order (views of the frame's columns; not copied).
    factor : (n,) float64, optional
        A multiplier of every row (the full-sample weight, for replicate factors).
    names : sequence of str, optional
        Column names, for messages.
    """

    arrays: tuple  # the stored columns (views of the matrix when held as one owned array)
    matrix: np.ndarray | None  # an n x R view of them (or the owned matrix), if there is one
    factor: np.ndarray | None
    names: list
    shape: tuple

    def __init__(self, arrays, *, factor: np.ndarray | None = None, names=None):
        self.arrays = tuple(np.asarray(a, dtype=np.float64) for a in arrays)
        self.names = list(names) if names is not None else [f"rep{j + 1}"
                                                            for j in range(len(self.arrays))]
        self.factor = factor
        self.matrix = _equal_stride_view(self.arrays) if self.arrays else None
        self.shape = (len(self.arrays[0]) if self.arrays else 0, len(self.arrays))

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> StoredColumns:
        """Columns held as one n x R array (e.g. replicates re-weighted by calibration)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        new = cls.__new__(cls)
        new.arrays, new.factor, new.matrix = tuple(matrix.T), None, matrix
        new.names = [f"rep{j + 1}" for j in range(matrix.shape[1])]
        new.shape = matrix.shape
        return new

    @property
    def in_place(self) -> bool:
        """Whether products read an n x R view of the columns (rather than stacked blocks)."""
        return self.matrix is not None

    # ----- reading ---------------------------------------------------------------------------
    def rows(self, a: int, b: int, *, stored: bool = False) -> np.ndarray:
        """Rows ``a:b`` of the n x R analysis weights (a view where possible); with
        ``stored=True``, of the values as stored (before ``factor``)."""
        blk = (self.matrix[a:b] if self.matrix is not None
               else np.stack([c[a:b] for c in self.arrays], axis=1))
        return blk if self.factor is None or stored else blk * self.factor[a:b, None]

    def take(self, rows: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Analysis weights of replicates ``start:stop`` for ``rows`` (len(rows) x block)."""
        stop = self.shape[1] if stop is None else stop
        if self.matrix is not None:
            out = self.matrix[rows, start:stop]
        else:
            out = np.stack([c[rows] for c in self.arrays[start:stop]], axis=1)
        return out if self.factor is None else out * self.factor[rows, None]

    def dense(self) -> np.ndarray:
        """The n x R analysis weights as one array (a view of the columns when they are one
        block and carry no factor; otherwise a copy, so only for modest sizes)."""
        if self.matrix is not None and self.factor is None:
            return self.matrix
        return self.take(np.arange(self.shape[0]))

    @property
    def block_rows(self) -> int:
        """Rows per block of a pass over the columns (:data:`BLOCK_ELEMENTS` values)."""
        return max(64, BLOCK_ELEMENTS // max(self.shape[1], 1))

    def blocks(self, active: np.ndarray | None = None, block: int | None = None, *,
               stored: bool = False):
        """``(a, b, W)`` for successive blocks of rows (default :attr:`block_rows` rows);
        with ``active``, W keeps only the active rows of its block; ``stored`` as in
        :meth:`rows`."""
        block = self.block_rows if block is None else block
        for a in range(0, self.shape[0], block):
            b = min(a + block, self.shape[0])
            w = self.rows(a, b, stored=stored)
            if active is not None and not active[a:b].all():
                w = w[active[a:b]]
            yield a, b, w

    # ----- reductions --------------------------------------------------------------------------
    def scan(self) -> tuple[np.ndarray, np.ndarray]:
        """Each stored column's minimum and sum (before ``factor``), in one pass over blocks
        of rows (the sum a product with a vector of ones).  A NaN makes a column's minimum
        NaN, a negative value makes it negative and an infinite one (without a NaN or a
        negative) makes its sum infinite, so the columns are finite and >= 0 exactly when
        ``minimum >= 0`` and ``sum < inf`` (a sum that overflows is checked value by value
        in :meth:`bad_columns`)."""
        r = self.shape[1]
        lo, total = np.full(r, np.inf), np.zeros(r)
        ones = np.ones(self.block_rows)
        for a, b, w in self.blocks(stored=True):
            np.minimum(lo, w.min(axis=0), out=lo)
            total += ones[:b - a] @ w
        return lo, total

    def bad_columns(self, lo: np.ndarray, total: np.ndarray) -> list:
        """``(j, count, problem)`` of every column whose minimum and sum (from :meth:`scan`)
        show missing, infinite or negative values, counted in that column alone."""
        out = []
        for j in np.flatnonzero(~((lo >= 0) & (total < np.inf))):
            c = self.arrays[j]
            n_bad = int(np.count_nonzero(~np.isfinite(c)))
            n_neg = int(np.count_nonzero(c < 0))
            if n_bad or n_neg:  # else a finite sum that overflowed: nothing wrong
                out.append((int(j), n_bad, "missing or infinite") if n_bad
                           else (int(j), n_neg, "negative"))
        return out

    def gram(self, active: np.ndarray | None = None) -> np.ndarray:
        """``W'W`` (R x R) over the active rows, by blocks of rows."""
        r = self.shape[1]
        g = np.zeros((r, r))
        for _, _, w in self.blocks(active):
            g += w.T @ w
        return g

    def totals(self, blocks, k: int, n_values: int = 1) -> list:
        """Replicate totals (R x K each) of the value arrays of every block, in one pass.

        ``blocks`` holds ``(valid, cells, values_1, ..., values_m)`` with ``m = n_values``
        (``valid=None``: every row; ``values=None``: 1).  Each block of rows of the columns is
        read once, and reduced while it is in cache: with one cell, one vector-matrix product
        (``x' W``) per value array (the block's own slice of it when every row is valid: no
        copy); with a few cells, one product per cell and value; with many, one sparse
        (m K x rows) product (scipy).  Returns m arrays of shape (R, K).
        """
        m = n_values * k
        out = np.zeros((m, self.shape[1]))
        every = {id(v) for v, *_ in blocks if v is not None and v.all()}  # no masking needed
        dense = m <= DENSE_CELLS
        if not dense:
            from scipy import sparse  # imported on first use: `import surveylib` stays quick
        size = self.block_rows
        ones = np.ones(size)
        x = np.zeros((m, size)) if dense and k > 1 else None
        for a, b, w in self.blocks():
            nb = b - a
            if x is not None:
                x[:, :nb] = 0.0
            coo: tuple[list, list, list] = ([], [], [])
            for valid, cells, *values in blocks:
                ok = None if valid is None or id(valid) in every else valid[a:b]
                for j, v in enumerate(values):
                    if v is None:
                        vals = ones[:nb] if ok is None else ok.astype(np.float64)
                    else:
                        vals = v[a:b] if ok is None else np.where(ok, v[a:b], 0.0)
                    if dense and k == 1:  # every row's cell is 0: the product at once
                        out[j] += vals @ w
                    elif x is not None:  # dense with several cells
                        x[j * k + cells[a:b], np.arange(nb)] += vals  # one entry per row
                    else:
                        for part, arr in zip(coo, (vals, j * k + cells[a:b], np.arange(nb)),
                                             strict=True):
                            part.append(arr)
            if x is not None:
                for i in np.flatnonzero(x[:, :nb].any(axis=1)):  # empty cells cost nothing
                    out[i] += x[i, :nb] @ w
            elif not dense:
                xs = sparse.csr_matrix(tuple([np.concatenate(coo[0]),
                                              (np.concatenate(coo[1]), np.concatenate(coo[2]))]),
                                       shape=(m, nb))
                out += np.asarray(xs @ w)
        return [out[j * k:(j + 1) * k].T.copy() for j in range(n_values)]
