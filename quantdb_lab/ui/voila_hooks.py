"""Hooks the dashboards' Voila server runs on each page it renders."""

from __future__ import annotations

from typing import Any


def issue_xsrf_cookie(handler: Any, notebook: Any = None, cwd: str | None = None) -> None:  # noqa: ANN401
    """Give the page its ``_xsrf`` cookie before the kernel starts.

    Voila's ``beforeunload`` beacon sends that cookie's value with its kernel shutdown request. A page opened at its
    render address never got the cookie (only jupyter-server's own templates set it), so the request was refused
    (403) and a page left properly kept its kernel until the culler came. Tornado sets the cookie the first time
    a handler reads its token, while the response's headers are still unsent.
    """
    handler.xsrf_token  # noqa: B018 - read for its side effect, the Set-Cookie
    return None  # the notebook unchanged
