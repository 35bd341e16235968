"""``lab.warming``: predictive warming and collection as a namespace over the Lab's core (flat:
``lab.warm``, ``lab.collect``, ``lab.usage``, ``lab.tracking``, ``lab.load_in_background``). The prefetch layer
sits above the Lab: ``warm`` and ``collect`` import it on use only (see the import-linter contract)."""

from __future__ import annotations

from typing import Any

import polars as pl

from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.loader.plan import BarRequest
from quantdb_lab.loader.stats import Provenance
from quantdb_lab.loader.tracking import Tracker


@register_lab_namespace("warming", flat=("load_in_background", "tracking", "usage", "collect", "warm"))
class Warming(LabNamespace):
    """Warming loads, the usage log they learn from, and the collector of sessions the upstream forgets."""

    def load_in_background(
        self, request: BarRequest, *, confidence: float | None = None, reason: str = "", kind: str = "", pred: str = ""
    ) -> tuple[pl.DataFrame, Provenance]:
        """A warming load (``quantdb_lab.prefetch``): not logged as usage, not foreground, counted apart; upstream
        errors raise instead of serving stale data, and what it fetched is recorded to measure later use."""
        mode = self.lab.mode
        mode = mode if mode.on_provider_error == "raise" else mode.with_(on_provider_error="raise")
        frame, origin = self.engine.background.load(request, mode)
        self.engine.tracker.warmed(request, origin, confidence=confidence, reason=reason, kind=kind, pred=pred)
        return frame, origin

    @property
    def tracking(self) -> Tracker:
        """Usage log, foreground activity and warm ledger of this cache (read by ``quantdb_lab.prefetch``)."""
        return self.engine.tracker

    def usage(self) -> pl.DataFrame:
        """The usage log: one row per distinct request per day and kernel (``Lab(usage_log=False)`` or
        ``QUANTDB_LAB_USAGE_LOG=0`` stops recording)."""
        return self.engine.tracker.usage_frame()

    def collect(self, datasets: list[str] | None = None, symbols: list[str] | None = None, *,
                since: Any = None, max_calls: int | None = None) -> Any:
        """Capture every closed session of the followed datasets whose upstream forgets, now, once
        (``quantdb_lab.prefetch.collector``); returns its report (captured / present / forgotten)."""
        from quantdb_lab.domain.dates import parse_date
        from quantdb_lab.prefetch import collect  # above the Lab: imported on use only

        return collect(self.lab, datasets, symbols, since=parse_date(since) if since is not None else None,
                       max_calls=max_calls)  # fmt: skip

    def warm(self, *, threshold: float = 0.7, progress: bool = True, max_calls: int | None = None,
             daily_calls: int | None = None) -> Any:  # fmt: skip
        """Load the predicted next requests now, once, in the foreground (``quantdb_lab.prefetch.warm``): best
        value first, within ``daily_calls`` warming calls a day (default ``QUANTDB_LAB_WARM_BUDGET`` or 200)."""
        from quantdb_lab.prefetch import warm  # the prefetch layer sits above the Lab: imported on use only

        return warm(self.lab, threshold=threshold, progress=progress, max_calls=max_calls, daily_calls=daily_calls)
