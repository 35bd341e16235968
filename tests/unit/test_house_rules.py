"""The house rules of DESIGN.md, checked on the package itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import quantdb_lab

PACKAGE = Path(quantdb_lab.__file__).resolve().parent
REPO = PACKAGE.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_chinese_text_only_inside_the_akshare_adapter():
    offenders = [
        str(path.relative_to(REPO))
        for path in _sources()
        if "providers/akshare" not in path.as_posix() and CJK.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_only_the_akshare_adapter_imports_akshare():
    pattern = re.compile(r"^\s*(import akshare|from akshare)", re.M)
    offenders = [
        str(path.relative_to(REPO))
        for path in _sources()
        if "providers/akshare" not in path.as_posix() and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_pickle_and_no_eval_in_the_package():
    pattern = re.compile(r"^\s*(import pickle|from pickle|import dill|import cloudpickle)|\beval\(|\bexec\(", re.M)
    offenders = [str(p.relative_to(REPO)) for p in _sources() if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_import_layers_hold():
    """import-linter checks the layers and independence contracts declared in pyproject.toml."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


def test_public_names_are_guarded():
    assert sorted(quantdb_lab.__all__) == sorted(
        ["BACKTESTING", "RESEARCH", "TRADING", "ContextMode", "Lab", "bars", "detect_mode", "errors",
         "load_ipython_extension"]
    )
    for name in quantdb_lab.__all__:
        assert getattr(quantdb_lab, name) is not None


def test_import_is_light():
    """Importing the package (and building a Lab) must not import akshare, statsmodels or ipywidgets."""
    code = (
        "import sys, tempfile, quantdb_lab as ql; ql.Lab(tempfile.mkdtemp(), provider='simulated');"
        "print(','.join(m for m in ('akshare', 'statsmodels', 'ipywidgets', 'plotly') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_a_lab_never_writes_into_the_working_directory(tmp_path):
    """QuantDB wrote ./data and ./logs into the working directory and needed DATABASE_URL before import."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    cache = tmp_path / "cache"
    code = (
        "import warnings; warnings.simplefilter('ignore'); import quantdb_lab as ql;"
        f"lab = ql.Lab({str(cache)!r}, provider='simulated'); print(lab.bars('600519', start='2024-01-02', end='2024-01-31').height)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, check=True)
    assert int(result.stdout.strip()) > 10
    assert list(workdir.iterdir()) == []
    assert (cache / "v2").is_dir()


def test_the_distribution_installs_only_the_quantdb_lab_package():
    """QuantDB installs a top-level package named ``core``; we install only ``quantdb_lab`` and its JupyterLab
    extension's server part ``quantdb_lab_jupyterlab`` (jupyter-server extensions are top-level packages)."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert [p.rsplit("/", 1)[-1] for p in packages] == ["quantdb_lab", "quantdb_lab_jupyterlab"]
