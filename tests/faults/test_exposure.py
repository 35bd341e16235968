"""Exposure: secrets in reprs and logs, a dashboard server any local user could drive, cache files with mixed
modes. The attacker here is another local user, or a notebook output pasted into a chat."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
import uuid
import warnings
from pathlib import Path

import pytest

from quantdb_lab.config import file_mode
from quantdb_lab.store.shared.config import SharedConfig
from quantdb_lab.throttle import Throttle

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRETKEY"
TOKEN = "FQoGZXIvYXdzEBYaSESSIONTOKEN"


def config(**changes) -> SharedConfig:
    values = dict(bucket="team", prefix="p", endpoint="http://127.0.0.1:9", region="us-east-1",
                  access_key="AKIAEXAMPLE", secret_key=SECRET, session_token=TOKEN, virtual_hosted=False)  # fmt: skip
    return SharedConfig(**{**values, **changes})


def test_the_shared_configuration_never_shows_its_secrets(fault):
    fault.inject(2)
    shown = [repr(config()), str(config()), repr(config().storage_options()), str(config().storage_options())]
    for text in shown:
        assert SECRET not in text and TOKEN not in text
    assert config().storage_options()["AWS_SECRET_ACCESS_KEY"] == SECRET  # deltalake still gets it


def test_the_shared_store_logs_no_secret(tmp_path, fault, caplog, monkeypatch):
    pytest.importorskip("deltalake")
    pytest.importorskip("moto")
    from tests.support.s3 import CREDENTIALS, MotoServer
    from tests.support.team import team_lab

    with MotoServer() as moto:
        moto.create_bucket("team")
        for name, value in CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)  # moto accepts any key
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
        fault.inject()
        with caplog.at_level(logging.DEBUG):
            lab, _ = team_lab(tmp_path, "a", f"s3://team/{uuid.uuid4().hex}")
            lab.bars("600519", start="2024-01-01", end="2024-01-31")
            print(lab.stats(), repr(lab._engine.store.shared.config))
        assert caplog.records  # botocore did log at DEBUG
        assert SECRET not in caplog.text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is raised as an HTTPError, so a redirect to the login page is seen


def test_the_dashboard_server_refuses_anyone_without_its_token(tmp_path, fault):
    pytest.importorskip("voila")
    from quantdb_lab.ui.dashboards import notebooks_dir
    from quantdb_lab.ui.voila_server import VoilaServer, voila_env

    server = VoilaServer(notebooks_dir(), env=voila_env(os.environ, provider="simulated", cache_dir=str(tmp_path)))
    with server:
        fault.inject()
        opener = urllib.request.build_opener(NoRedirect)
        for page in (server.link(), server.link("cache_monitor.ipynb")):
            with pytest.raises(urllib.error.HTTPError) as refused:  # another local user, without the token
                opener.open(page, timeout=60)
            assert refused.value.code in (302, 401, 403), page  # refused, or sent to the login page
            assert "login" in refused.value.headers.get("Location", "/login") or refused.value.code != 302
        with opener.open(server.url(), timeout=60) as response:  # the owner, with the printed URL
            assert response.status == 200
        assert server.token in server.url() and server.token not in repr(server)
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().decode(errors="replace")
        assert server.token not in cmdline  # the command line is world-readable; the environment is not


def test_files_created_in_the_cache_by_the_throttle_and_the_sync_share_one_mode(tmp_path, fault):
    previous = os.umask(0o002)  # a group-shared cache: SQLite's own default (0644) would differ from the policy
    try:
        fault.inject()
        throttle = Throttle(tmp_path / "throttle")
        throttle.call("eastmoney_push2his", lambda: None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from quantdb_lab.store.layered import LayeredStore
            from quantdb_lab.store.series_store import SeriesStore

            layered = LayeredStore(SeriesStore(tmp_path / "cache"), shared=None)  # type: ignore[arg-type]
        assert file_mode() == 0o664
        files = [p for p in [*(tmp_path / "throttle").iterdir(), *(layered.local.base / "shared-sync").iterdir()]
                 if p.is_file() and not p.name.endswith(".lock")]  # fmt: skip
        assert files and {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: "0o664" for p in files}
    finally:
        os.umask(previous)
