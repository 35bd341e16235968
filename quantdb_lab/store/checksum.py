"""The store's checksum: CRC-32 (the zlib polynomial), computed by zlib-ng where it is installed.

Every stored file and segment carries a CRC-32, checked before its bytes are trusted. A whole-market read checks
about 250 MB of segments; the system zlib does 1-2 GB/s, zlib-ng's vectorised CRC about ten times that, with the
same values, so caches written with either are read by both.
"""

from __future__ import annotations

try:
    from zlib_ng.zlib_ng import crc32
except ImportError:  # the same function, slower
    from zlib import crc32

__all__ = ["crc32"]
