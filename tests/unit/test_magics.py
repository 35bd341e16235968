"""The %qdb magics in an in-process IPython shell, on the simulated market."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from quantdb_lab.portfolio import PortfolioResult
from tests.support.sim import MARKET, d

START, END = "2024-01-02", "2024-03-29"


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDB_LAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QUANTDB_LAB_PROVIDER", "simulated")
    ip = InteractiveShell()
    ip.run_line_magic("load_ext", "quantdb_lab")
    yield ip
    InteractiveShell.clear_instance()


def rows(symbol: str) -> int:
    return MARKET.bars(symbol, d(START), d(END)).height  # the market at today's clock, like the magics' Lab


def test_fetch_returns_a_portfolio_result(shell, capsys):
    result = shell.run_line_magic("qdb", f"fetch 600519,000001 300750 --start {START} --end {END} --adjust none")
    assert isinstance(result, PortfolioResult)
    assert result.symbols == ("600519.SH", "000001.SZ", "300750.SZ")
    assert result.status["rows"].to_list() == [rows(s) for s in result.symbols]
    assert result.counts == {"from_cache": 0, "fetched": 3, "failed": 0}
    assert capsys.readouterr().out == ""  # nothing printed
    again = shell.run_line_magic("qdb", f"fetch 600519 --start {START} --end {END} --adjust none")
    assert again.counts["from_cache"] == 1


def test_cell_magic_takes_a_weighted_portfolio(shell):
    result = shell.run_cell_magic("qdb", f"--start {START} --end {END}", "600519 0.6  # core\n000001.SZ, 0.4\n")
    assert result.weights == {"600519.SH": 0.6, "000001.SZ": 0.4}
    assert result.frame.height == rows("600519.SH") + rows("000001.SZ")
    # the shell's Lab is in research mode: qfq by default, derived from the one unadjusted series per symbol
    assert result.status["upstream_calls"].to_list() == [1, 1]


def test_stats_mode_and_clear(shell, capsys):
    shell.run_line_magic("qdb", f"fetch 600519 000001 --start {START} --end {END} --adjust none")
    stats = shell.run_line_magic("qdb", "stats")
    assert stats["misses"] == 2 and stats["provider"] == "simulated"
    assert shell.run_line_magic("qdb", "mode").name == "research"
    assert shell.run_line_magic("qdb", "mode backtesting").name == "backtesting"
    assert shell.run_line_magic("qdb", "stats")["mode"] == "backtesting"
    capsys.readouterr()
    chosen = shell.run_line_magic("qdb", "mode auto --as-of 2024-06-28")
    assert chosen.name == "backtesting" and chosen.as_of == d("2024-06-28")
    assert "as_of=2024-06-28" in capsys.readouterr().out  # auto prints its reasons
    assert shell.run_line_magic("qdb", "mode auto").name == "research"
    assert shell.run_line_magic("qdb", "clear 600519") == 1
    assert shell.run_line_magic("qdb", "clear --all") == 1


def test_config_builds_the_shells_lab(shell, tmp_path):
    lab = shell.run_line_magic("qdb", f"config --cache-dir {tmp_path / 'other'} --mode trading")
    assert lab.cache_dir == tmp_path / "other" and lab.mode.name == "trading" and lab.provider.name == "simulated"
    assert shell.run_line_magic("qdb", "config") is lab


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "unknown command ''"),
        ("fetch", "%qdb fetch: the following arguments are required: symbols"),
        ("fetch 600519 --adjust xyz", "invalid choice: 'xyz'"),
        ("fetch zzz 12", "2 unrecognised symbol(s): zzz, 12"),
        ("fetch 600519 --start 2024-05-01 --end 2024-01-01", "end"),
        ("fetch 600519 --concurrency 0", "--concurrency must be at least 1"),
        ("mode sideways", "invalid choice: 'sideways'"),
        ("clear", "give SYMBOLS to remove, or --all"),
        ("clear 600519 --all", "not both"),
        ("stats now", "takes no arguments"),
        ("config --provider nowhere", "unknown provider 'nowhere'"),
    ],
)
def test_bad_arguments_raise_usage_errors(shell, line, message):
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("qdb", line)
    assert message in str(caught.value)


def test_bad_cell_raises_usage_error(shell):
    with pytest.raises(UsageError, match="weight for every symbol"):
        shell.run_cell_magic("qdb", "", "600519 0.5\n000001\n")
    with pytest.raises(UsageError, match="cell body must list"):
        shell.run_cell_magic("qdb", "", "\n")


def test_loading_the_extension_is_cheap_and_the_first_qdb_brings_the_magics(tmp_path):
    """The install loads the extension in every kernel: registering must not import the Lab (polars, akshare)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance();"
        "import quantdb_lab; quantdb_lab.load_ipython_extension(ip);"
        "heavy = [m for m in ('quantdb_lab.ui.magics', 'quantdb_lab.lab', 'polars', 'akshare') if m in sys.modules];"
        "print('registered', 'qdb' in ip.magics_manager.magics['line'], 'qdb' in ip.magics_manager.magics['cell'], heavy);"
        "print('stats', ip.run_line_magic('qdb', 'stats')['provider'])"
    )
    env = {"QUANTDB_LAB_PROVIDER": "simulated", "QUANTDB_LAB_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env)
    assert "registered True True []" in result.stdout, result.stdout + result.stderr
    assert "stats simulated" in result.stdout
