"""Two processes (kernels) filling the same series at once: one upstream call, nothing lost."""

from __future__ import annotations

import multiprocessing as mp
import warnings


def _fill(cache_dir: str, queue) -> None:
    warnings.simplefilter("ignore")
    from tests.support.sim import at
    from quantdb_lab.domain.clock import FixedClock
    from quantdb_lab.lab import Lab
    from quantdb_lab.providers.simulated import SimulatedProvider

    provider = SimulatedProvider(latency=0.5)  # real sleeps: the two fetches overlap in time
    lab = Lab(cache_dir, provider=provider, clock=FixedClock(at("2025-06-06 16:00")))
    frame = lab.bars("600519", start="2024-01-01", end="2024-12-31", adjust="")
    queue.put((provider.calls["fetch_daily_bars"], frame.height))


def test_second_kernel_waits_and_reuses_the_first_kernels_fetch(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_fill, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sorted(r[0] for r in results) == [0, 1]  # one fetched, the other found it filled
    assert results[0][1] == results[1][1] > 200
