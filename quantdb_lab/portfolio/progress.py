"""Progress of a portfolio fetch: one event type, and the sinks that show it (tqdm, a callback, nothing).

Every event is emitted from the calling thread (the pool's workers never touch a display), so a sink may
update widgets or a terminal without locks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from quantdb_lab.errors import InvalidRequestError

#: tqdm shows nothing for calls that finish sooner than this (seconds): warm reads stay silent.
SHOW_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class PortfolioProgress:
    """Counts so far; ``symbol``/``status`` name the series just settled, ``note`` says what is happening."""

    total: int
    from_cache: int = 0
    fetched: int = 0
    failed: int = 0
    symbol: str | None = None
    status: str | None = None
    note: str = ""

    @property
    def done(self) -> int:
        return self.from_cache + self.fetched + self.failed


class ProgressSink(Protocol):
    def update(self, event: PortfolioProgress) -> None: ...

    def tick(self) -> None:
        """Called while waiting, so a delayed bar can appear during a long first call."""
        ...

    def close(self) -> None: ...


class NullSink:
    def update(self, event: PortfolioProgress) -> None:
        pass

    def tick(self) -> None:
        pass

    def close(self) -> None:
        pass


class CallbackSink(NullSink):
    """Hands every event to ``callback`` (the fetch widget's hook)."""

    def __init__(self, callback: Callable[[PortfolioProgress], Any]) -> None:
        self._callback = callback

    def update(self, event: PortfolioProgress) -> None:
        self._callback(event)


class TqdmSink:
    """``tqdm.auto``: an ipywidgets bar in a notebook, a text bar in a terminal; shown only after SHOW_AFTER.

    A fetch that ends with failures ends red (the notebook's "danger" style, a red text bar), and is shown even
    when it was quick: a silent bar must never hide a failure.
    """

    def __init__(self, total: int, *, desc: str = "portfolio") -> None:
        from tqdm.auto import tqdm  # deferred: importing the package must stay light

        self._bar = tqdm(total=total, desc=desc, unit="symbol", delay=SHOW_AFTER, file=sys.stderr, leave=True)
        self._failed = 0

    def update(self, event: PortfolioProgress) -> None:
        self._failed = event.failed
        counts = {"cached": event.from_cache, "fetched": event.fetched, "failed": event.failed}
        self._bar.set_postfix(ordered_dict=counts, refresh=False)
        if event.note:
            self._bar.set_description_str(event.note, refresh=False)
        # Retries move symbols from failed back to pending, so the count can go down as well as up.
        self._bar.update(event.done - self._bar.n)

    def tick(self) -> None:
        self._bar.update(0)

    def close(self) -> None:
        if self._failed:
            self._bar.colour = "red"
            if hasattr(self._bar, "container"):  # tqdm.notebook: shown now if delayed, and kept red by close()
                self._bar.disp(bar_style="danger")
            else:
                self._bar.refresh()
        self._bar.close()


def make_sink(progress: bool | Callable[[PortfolioProgress], Any] | None, total: int) -> ProgressSink:
    """``None``/``True``: a tqdm bar (after a second); ``False``: nothing; a callable: called with each event."""
    if progress is None or progress is True:
        return TqdmSink(total)
    if progress is False:
        return NullSink()
    if callable(progress):
        return CallbackSink(progress)
    raise InvalidRequestError(f"progress must be None, True, False or a callable taking PortfolioProgress, not {progress!r}")
