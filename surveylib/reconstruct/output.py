"""Write reconstructed microdata, targets and provenance atomically and byte-identically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import ReconstructionError

NOTICE = "RECONSTRUCTED — not the original survey data"

# SPSS .sav header: "$FL2", product (60), layout (4), case size (4), compression (4), weight
# index (4), cases (4), bias (8), creation date (9), creation time (8), file label (64).
_SAV_DATE = slice(92, 101)
_SAV_TIME = slice(101, 109)
_SAV_LABEL = slice(109, 173)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Deterministic CSV (surveylib.io.write_csv: shortest round-trip floats, ``\\n``)."""
    from ..io import write_csv as _write_csv

    return _write_csv(df, path)


def write_sav(df: pd.DataFrame, path: Path, codebook) -> Path:
    """SPSS file with the codebook's labels, the RECONSTRUCTED file label, a fixed timestamp.

    ``surveylib.io.write_spss`` writes the labels; the header's file label is then set to
    :data:`NOTICE` and the creation date/time to a fixed value so regeneration is byte-identical.
    """
    from ..io import write_spss

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sav")
    os.close(fd)
    try:
        write_spss(df, tmp, codebook)
        raw = bytearray(Path(tmp).read_bytes())
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if raw[:4] != b"$FL2":
        raise ReconstructionError(f"{path}: unexpected SPSS header from the writer.")
    label = NOTICE.encode("utf-8")
    if len(label) > 64:
        raise ReconstructionError("internal: SPSS file label longer than 64 bytes.")
    raw[_SAV_LABEL] = label.ljust(64, b" ")
    raw[_SAV_DATE] = b"01 Jan 00"
    raw[_SAV_TIME] = b"00:00:00"
    return atomic_write_bytes(path, bytes(raw))


def write_json(obj, path: Path) -> Path:
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_text(text: str, path: Path) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def prepare_out_dir(out_dir) -> Path:
    """Create ``out_dir`` if needed and check it is a writable folder.

    Raises
    ------
    ReconstructionError
        One line naming the folder, if it is a file or cannot be created or written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReconstructionError(f"--out {out} is a file, not a folder; pass a folder.",
                                  parameter="out", value=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".write-test.", delete=True)
        probe.close()
    except OSError as exc:
        raise ReconstructionError(
            f"cannot write to {out} ({exc.strerror or exc}); pass a writable folder with --out.",
            parameter="out", value=str(out)) from None
    return out
