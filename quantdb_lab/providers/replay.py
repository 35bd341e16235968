"""``ReplayProvider``: recorded akshare frames served offline (see ``providers.akshare.replay``).

It lives beside the live provider because it reads the same akshare columns through the same transform.
"""

from quantdb_lab.providers.akshare.replay import ReplayProvider

__all__ = ["ReplayProvider"]
