"""Portfolio fetch: many symbols at the upstream's allowed pace, with progress, a status table and retry.

Layer: above ``loader``, below ``lab`` (it never imports ``quantdb_lab.lab``); ``lab.portfolio`` is the entry
point. The names below are public: results, progress events and the text format of a portfolio.
"""

from quantdb_lab.portfolio.engine import DEFAULT_CONCURRENCY, BarSource, PortfolioFetcher, is_retryable
from quantdb_lab.portfolio.performance import PORTFOLIO, compute_performance
from quantdb_lab.portfolio.progress import SHOW_AFTER, PortfolioProgress
from quantdb_lab.portfolio.result import (
    FAILED,
    FETCHED,
    FROM_CACHE,
    STATUSES,
    PortfolioResult,
    SymbolOutcome,
    status_html,
)
from quantdb_lab.portfolio.spec import PortfolioSpec, parse_portfolio_text, spec_from

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FAILED",
    "FETCHED",
    "FROM_CACHE",
    "PORTFOLIO",
    "SHOW_AFTER",
    "STATUSES",
    "BarSource",
    "PortfolioFetcher",
    "PortfolioProgress",
    "PortfolioResult",
    "PortfolioSpec",
    "SymbolOutcome",
    "compute_performance",
    "is_retryable",
    "parse_portfolio_text",
    "spec_from",
    "status_html",
]
