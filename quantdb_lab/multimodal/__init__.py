"""Multi-modal views: prices with news (and its sentiment), macro series and commodities, without look-ahead.

``build_view`` / ``view_sources`` (``view``), the relevance rules (``relevance``, data in ``relevance.json``)
and the offline sentiment scorer (``sentiment``, lexicon in ``lexicon.json``). Sits above the Lab; the Lab's
``view`` method imports it on use.
"""

from quantdb_lab.multimodal.relevance import Sources
from quantdb_lab.multimodal.view import View, build_view, view_sources

__all__ = ["Sources", "View", "build_view", "view_sources"]
