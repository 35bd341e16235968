"""The kernel websocket connection the dashboards' Voila server uses: jupyter-server's, with its count kept right.

jupyter-server's handler closes a connection in ``on_close`` even when the page left while the socket was still
being prepared, before ``connect()`` counted it. Its ``disconnect()`` then counts the kernel's connections down to
-1, and a culler that spares connected kernels never reaps it: seen as one or two kernels left behind per twenty
dashboard pages.
"""

from __future__ import annotations

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class CountedKernelConnection(ZMQChannelsWebsocketConnection):
    """A connection that, closed before it was counted in, releases only what ``prepare()`` took."""

    _counted = False

    def connect(self):  # noqa: ANN201 - jupyter-server's signature
        self._counted = True
        return super().connect()

    def disconnect(self) -> None:
        if self._counted:
            super().disconnect()
            return
        # prepare() took the session's slot and may have a kernel_info request in flight; connect() took the rest
        if self._open_sessions.get(self.session_key) is self.websocket_handler:
            self._open_sessions.pop(self.session_key)
        if self.kernel_info_channel is not None and not self.kernel_info_channel.closed():
            self.kernel_info_channel.close()
        self.kernel_info_channel = None
        pending = getattr(self, "_kernel_info_future", None)
        if pending is not None and not pending.done():
            pending.set_result({})  # a prepare() still waiting ends now instead of at its timeout
            if getattr(self.kernel_manager, "_kernel_info_future", None) is pending:
                del self.kernel_manager._kernel_info_future
