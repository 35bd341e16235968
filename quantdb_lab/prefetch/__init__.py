"""Predictive cache warming: learn what a researcher asks next, and load it before it is asked.

::

    from quantdb_lab.prefetch import Warmer, predict, warm
    predict(lab.usage(), lab.calendar, lab.clock.now())       # scored predictions, with reasons (pure)
    warm(lab)                                                 # once, in the foreground (also lab.warm())
    warmer = Warmer(lab).start()                              # in the background; warmer.stop()
    Warmer(lab, daily_calls=200).plan()                       # each prediction's value, cost and choice

``quantdb-lab warm`` runs one pass from cron after the close. ``lab.stats()["warming"]`` measures the value.

The collector (``collect(lab)``, ``lab.collect()``, ``quantdb-lab collect``, ``Warmer(lab, collect=True)``)
captures every closed session of the followed datasets whose upstream forgets, before it does.
"""

from quantdb_lab.prefetch.budget import CallBudget
from quantdb_lab.prefetch.collector import CollectReport, Collector, collect
from quantdb_lab.prefetch.outcomes import Outcomes
from quantdb_lab.prefetch.peers import peers_from_provider, peers_from_securities
from quantdb_lab.prefetch.predict import Peers, Prediction, latest_closed, predict, predictions_frame
from quantdb_lab.prefetch.value import Valued
from quantdb_lab.prefetch.warmer import THRESHOLD, Warmer, WarmReport, read_state, warm

__all__ = [
    "THRESHOLD",
    "CallBudget",
    "CollectReport",
    "Collector",
    "Outcomes",
    "Peers",
    "Prediction",
    "Valued",
    "WarmReport",
    "Warmer",
    "collect",
    "latest_closed",
    "peers_from_provider",
    "peers_from_securities",
    "predict",
    "predictions_frame",
    "read_state",
    "warm",
]
