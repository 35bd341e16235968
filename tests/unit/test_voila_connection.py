"""A page closed while its kernel websocket is still being prepared leaves the kernel's connection count right,
so the culler can still reap that kernel once idle."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("jupyter_server")
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager  # noqa: E402
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler  # noqa: E402

from quantdb_lab.ui.voila_connection import CountedKernelConnection  # noqa: E402


def _handler() -> KernelWebsocketHandler:
    """A handler that never served a request: the connection only needs one to belong to."""
    return KernelWebsocketHandler.__new__(KernelWebsocketHandler)


def test_a_socket_closed_before_it_connected_does_not_count_as_a_disconnect():
    async def scenario() -> int:
        manager = AsyncMappingKernelManager()
        kernel_id = await manager.start_kernel()
        try:
            kernel = manager.get_kernel(kernel_id)
            # jupyter-server's handler closes the connection in on_close even when the page left during
            # prepare(), before connect() counted it: its count then went to -1 and the culler never reaped it
            early = CountedKernelConnection(parent=kernel, websocket_handler=_handler())
            early.disconnect()
            return manager.kernel_model(kernel_id)["connections"]
        finally:
            await manager.shutdown_kernel(kernel_id, now=True)

    # a loop of its own in its own thread: a test before this one (playwright's sync API) may leave the main
    # thread's event loop running, where asyncio.run() refuses to start
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, scenario()).result(timeout=120) == 0
