"""The store's CRC-32 is zlib's: caches written before zlib-ng was installed (or without it) stay readable."""

from __future__ import annotations

import mmap
import zlib

import numpy as np

from quantdb_lab.store.checksum import crc32
from quantdb_lab.store.frame_files import file_crc


def test_the_checksum_is_zlibs_crc32_on_bytes_buffers_and_chained_values(tmp_path):
    data = np.random.default_rng(3).integers(0, 256, 3_000_001, dtype=np.uint8).tobytes()
    assert crc32(data) == zlib.crc32(data)
    assert crc32(data[1000:], crc32(data[:1000])) == zlib.crc32(data)
    path = tmp_path / "blob"
    path.write_bytes(data)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        assert crc32(view) == zlib.crc32(data)
    assert file_crc(path) == zlib.crc32(data)
    (tmp_path / "empty").write_bytes(b"")
    assert file_crc(tmp_path / "empty") == 0
