"""quantdb_lab: a Jupyter-first research toolkit for Chinese market data.

A smart cache in front of akshare: ``ql.Lab().bars("600519", start="2024-01-01", adjust="qfq")`` fetches only
the trading days it is missing and serves warm reads from memory. Heavy modules (akshare, statsmodels,
ipywidgets) are imported on first use, not here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BACKTESTING",
    "RESEARCH",
    "TRADING",
    "ContextMode",
    "Lab",
    "bars",
    "detect_mode",
    "errors",
    "load_ipython_extension",
]

_LAZY = {
    "Lab": ("quantdb_lab.lab", "Lab"),
    "bars": ("quantdb_lab.lab", "bars"),
    "ContextMode": ("quantdb_lab.domain.modes", "ContextMode"),
    "RESEARCH": ("quantdb_lab.domain.modes", "RESEARCH"),
    "TRADING": ("quantdb_lab.domain.modes", "TRADING"),
    "BACKTESTING": ("quantdb_lab.domain.modes", "BACKTESTING"),
    "detect_mode": ("quantdb_lab.domain.modes", "detect_mode"),
    "errors": ("quantdb_lab.errors", None),
}

if TYPE_CHECKING:  # pragma: no cover
    from quantdb_lab import errors
    from quantdb_lab.domain.modes import BACKTESTING, RESEARCH, TRADING, ContextMode, detect_mode
    from quantdb_lab.lab import Lab, bars


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'quantdb_lab' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext quantdb_lab`` registers the ``%qdb`` magics (the install's IPython config does it in every
    kernel). Registering costs nothing: the magics, and the Lab behind them, are imported on the first ``%qdb``,
    which then hands over to them."""

    def qdb(line: str, cell: str | None = None) -> Any:
        from quantdb_lab.ui.magics import register

        return register(ipython).qdb(line, cell)

    qdb.__doc__ = "quantdb_lab: %qdb fetch|stats|mode|clear|config|ask|quotes|watch, or a %%qdb portfolio cell."
    ipython.register_magic_function(qdb, magic_kind="line_cell", magic_name="qdb")
