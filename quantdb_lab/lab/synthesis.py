"""``lab.synthesize``: a series with its missing trading days filled (``quantdb_lab.synthesis``), as a namespace
over the Lab's core: the core's gap filler (``LabCore.gap_filler``, which the gap policy of ``bars`` uses too)
loads the series and its references through the cache; nothing is stored."""

from __future__ import annotations

import polars as pl

from quantdb_lab.domain.dates import DateLike, parse_range
from quantdb_lab.domain.symbols import Symbol
from quantdb_lab.lab.namespace import LabNamespace, register_lab_namespace
from quantdb_lab.loader.gapfill import ReferenceSpec
from quantdb_lab.loader.provenance import ResultProvenance, bind, provenance_of
from quantdb_lab.synthesis import SynthesisConfig


@register_lab_namespace("synthesis", flat=("synthesize",))
class Synthesis(LabNamespace):
    """Gap synthesis (``lab.synthesize``)."""

    def synthesize(
        self,
        frame_or_symbol: pl.DataFrame | str | Symbol,
        *,
        start: DateLike = None,
        end: DateLike = None,
        reference: ReferenceSpec = None,
        method: str = "statespace",
        draw: str = "mean",
        seed: int | None = None,
        level: float = 0.9,
        adjust: str | None = None,
        fill_suspensions: bool = False,
    ) -> pl.DataFrame:
        """The series with its missing trading days filled, flagged ``is_synthetic``, with ``close_lo``/``close_hi``
        (the band at ``level``) on synthetic rows. Real rows are returned unchanged; nothing is stored.

        ``reference``: a frame (``date``, ``close``), a symbol, ``"sector"``, ``"none"``, a list of frames,
        symbols and ``"sector"`` (one loading each), or None for the security's index and its sector, each
        where it can be had (the sector only from a security master already cached: ``"sector"`` fetches it).
        ``method``: ``"statespace"`` (a random walk around the references' moves, conditioned on both anchors
        and the right anchor's open) or ``"bridge"``. ``draw``: ``"mean"`` or ``"sample"`` (deterministic for a
        ``seed``); ``reference`` frames may carry an ``open`` for their overnight move.
        Refusal is per gap: a gap longer than the mode's ``max_gap_sessions`` or scoring below
        ``synthesis_threshold`` stays missing, a ``QualityWarning`` names it and its cause, and the other gaps
        are filled; every gap's report (score, cause, loadings) is in the result's
        ``filled.quantdb.provenance.synthesis``. See
        ``quantdb_lab.synthesis``.
        """
        config = SynthesisConfig(method=method, draw=draw, seed=seed, level=level, fill_suspensions=fill_suspensions,
                                 min_score=self.lab.mode.synthesis_threshold, max_gap=self.lab.mode.max_gap_sessions)  # fmt: skip
        filler = self.lab.gap_filler()
        first, last = parse_range(start, end)
        if isinstance(frame_or_symbol, pl.DataFrame):
            frame = frame_or_symbol
        else:
            request = self.lab.request(frame_or_symbol, start=start, end=end, adjust=adjust)
            frame = filler.padded(request.symbol, first, last, request.adjust, config.context)
        origin = provenance_of(frame) or ResultProvenance("bars")  # a frame of the user's own: no series
        filled, results = filler.fill(frame, reference=reference, config=config, keep=(first, last))
        return bind(filled, origin.with_(synthesis=tuple(r for result in results for r in result.reports)))
