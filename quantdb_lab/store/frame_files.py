"""Self-verifying frame files: Parquet with the series' metadata in the footer and a checksum kept beside.

* Every file is written whole to a temporary name and moved into place with ``os.replace``, so a reader (or a
  process killed mid-write) sees the old file or the new one, never a half of each.
* The CRC-32 of the file's bytes is recorded in the catalog at write time and checked on every read from disk:
  a file that still decodes after damage (a flipped byte turns an amount into -35.6) is caught, not served.
* The footer carries the series' metadata as JSON (key ``quantdb_lab``), so the catalog can be rebuilt from the
  files alone when it is lost or damaged.
* Files are created with the cache's one mode (``config.file_mode``: ``0o666`` less the umask), not the
  ``0o600`` of ``tempfile.mkstemp``: several kernels, a cron warmer and the dashboard share the cache.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import polars as pl

from quantdb_lab.config import apply_file_mode
from quantdb_lab.store.checksum import crc32

FOOTER_KEY = "quantdb_lab"
TEMP_SUFFIX = ".tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same directory, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        apply_file_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def encode_frame(frame: pl.DataFrame, footer: dict, *, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, statistics=True, row_group_size=row_group_size,
                        metadata={FOOTER_KEY: json.dumps(footer, separators=(",", ":"))})  # fmt: skip
    return buffer.getvalue()


def write_frame_file(path: Path, frame: pl.DataFrame, footer: dict, *, row_group_size: int | None = None) -> tuple[int, int]:
    """Write ``frame`` with ``footer`` to ``path``; returns (bytes, crc32) of what was written."""
    data = encode_frame(frame, footer, row_group_size=row_group_size)
    atomic_write(path, data)
    return len(data), crc32(data)


class FrameFileError(Exception):
    """A frame file is missing, unreadable or not the one the catalog describes (the message says which)."""


def read_verified(path: Path, crc: int | None) -> pl.DataFrame:
    """The frame in ``path``, after checking its bytes against ``crc`` (None: not checked)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FrameFileError("missing file") from exc
    except OSError as exc:
        raise FrameFileError(f"unreadable file ({exc.strerror})") from exc
    if crc is not None and crc32(data) != crc:
        raise FrameFileError("checksum mismatch (the file changed after it was written)")
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any decode failure means the file cannot be trusted
        raise FrameFileError(f"undecodable file ({type(exc).__name__})") from exc


def read_footer(path: Path) -> dict:
    """The JSON metadata in ``path``'s footer ({} when it has none); raises FrameFileError when unreadable."""
    try:
        raw = pl.read_parquet_metadata(path).get(FOOTER_KEY)
        return json.loads(raw) if raw else {}
    except FileNotFoundError as exc:
        raise FrameFileError("missing file") from exc
    except Exception as exc:  # noqa: BLE001
        raise FrameFileError(f"unreadable footer ({type(exc).__name__})") from exc


def file_crc(path: Path) -> int:
    """CRC-32 of a file's bytes, through a memory map: no copy of the file into Python."""
    import mmap

    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return crc32(b"")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return crc32(view)


def content_crc(frame: pl.DataFrame, *, skip: tuple[str, ...] = ("symbol",)) -> int:
    """CRC-32 of a frame's values (not of any file): checks a series' rows read out of a shared segment file.

    Deterministic for the same values and dtypes whatever wrote them: each column contributes its null mask and
    its physical values (dates as day numbers, text as UTF-8 joined with a unit separator).
    """
    crc = 0
    for name in frame.columns:
        if name in skip:
            continue
        series = frame.get_column(name)
        crc = crc32(series.is_null().to_numpy().tobytes(), crc)
        if series.dtype == pl.String:
            crc = crc32(series.fill_null("").str.join("\x1f").item().encode(), crc)
            continue
        physical = series.to_physical()
        if physical.dtype == pl.Boolean:
            physical = physical.cast(pl.UInt8)
        values = physical.fill_null(0) if physical.dtype.is_numeric() else physical.cast(pl.String).fill_null("")
        crc = crc32(values.to_numpy().tobytes() if values.dtype.is_numeric() else "\x1f".join(values).encode(), crc)
    return crc
