"""Jupyter widgets over the Lab (importing this package imports ipywidgets and plotly)."""

from quantdb_lab.ui.widgets.ask import AskWidget
from quantdb_lab.ui.widgets.cache_monitor import CacheMonitorWidget
from quantdb_lab.ui.widgets.gaps import GapSynthesisWidget
from quantdb_lab.ui.widgets.live_watch import LiveWatchWidget
from quantdb_lab.ui.widgets.multimodal import MultiModalWidget
from quantdb_lab.ui.widgets.portfolio import PortfolioFetchWidget
from quantdb_lab.ui.widgets.quality import QualityReportWidget
from quantdb_lab.ui.widgets.warming import WarmingPanel

__all__ = [
    "AskWidget",
    "CacheMonitorWidget",
    "GapSynthesisWidget",
    "LiveWatchWidget",
    "MultiModalWidget",
    "PortfolioFetchWidget",
    "QualityReportWidget",
    "WarmingPanel",
]
