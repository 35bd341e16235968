"""The base install is the whole toolkit: every third-party module quantdb_lab (or its JupyterLab extension)
imports is a base dependency in pyproject.toml, except the team store's, which stay in the ``team`` extra and
name it when missing. The wheel carries what JupyterLab, jupyter-server and IPython look for in an environment.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SOURCES = [REPO / "quantdb_lab", REPO / "extensions" / "quantdb_lab_jupyterlab" / "quantdb_lab_jupyterlab"]
OWN = {"quantdb_lab", "quantdb_lab_jupyterlab"}
TEAM_ONLY = {"deltalake", "boto3", "botocore"}  # the shared store on S3-compatible storage


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)).lower()


def _imported() -> dict[str, set[str]]:
    """Top-level modules imported anywhere (module level or inside functions) -> files importing them."""
    found: dict[str, set[str]] = {}
    for root in SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top not in OWN and top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(path.relative_to(REPO).as_posix())
    return found


def test_every_imported_third_party_module_is_a_base_dependency():
    base = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    team = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["team"]}
    owners = packages_distributions()
    missing = {}
    for module, files in sorted(_imported().items()):
        distributions = {_name(d) for d in owners.get(module, [module])}
        if module in TEAM_ONLY:
            assert distributions & team or module == "botocore", f"{module} belongs in the team extra"
            assert all(f.startswith("quantdb_lab/store/shared/") for f in files), (module, files)
            continue
        if not distributions & base:
            missing[module] = sorted(files)
    assert not missing, f"imported but not installed by `pip install .`: {missing}"


def test_the_notebook_stack_is_in_the_base_install():
    base = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert {"statsmodels", "ipywidgets", "plotly", "anywidget", "jupyterlab", "voila", "ipykernel"} <= base


def test_the_wheel_builds_the_labextension_and_places_what_jupyter_and_ipython_read():
    hook = PYPROJECT["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert hook["build-function"] == "hatch_jupyter_builder.npm_builder"
    assert "hatch-jupyter-builder" in " ".join(PYPROJECT["build-system"]["requires"])
    shared = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    placed = set(shared.values())
    assert "share/jupyter/labextensions/quantdb-lab-jupyterlab" in placed
    assert "etc/jupyter/jupyter_server_config.d" in placed
    assert "etc/ipython" in placed
    for source in shared:
        if not source.endswith("labextension"):  # the build output is made by the hook, never committed
            assert (REPO / source).exists(), source
    ipython = (REPO / "extensions/quantdb_lab_jupyterlab/jupyter-config/ipython/ipython_config.json").read_text()
    assert '"quantdb_lab"' in ipython


def test_every_widget_class_is_importable_from_the_widgets_package():
    """``from quantdb_lab.ui.widgets import CacheMonitorWidget`` (the README's) raised ImportError."""
    import quantdb_lab.ui.widgets as package

    defined = set()
    for path in (REPO / "quantdb_lab" / "ui" / "widgets").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined |= {n.name for n in tree.body if isinstance(n, ast.ClassDef) and n.name.endswith(("Widget", "Panel"))}
    assert defined and defined <= set(package.__all__), defined - set(package.__all__)
    for name in defined:
        assert isinstance(getattr(package, name), type)


def test_a_team_store_without_the_team_extra_says_which_extra_to_install(tmp_path):
    """deltalake and boto3 stay optional: without them the first use of a team store names the extra."""
    import subprocess

    code = (
        "import sys; sys.modules.update(deltalake=None, boto3=None, botocore=None);"
        "from quantdb_lab.errors import StoreError; from quantdb_lab.lab import Lab\n"
        f"Lab({str(tmp_path)!r}, provider='simulated')  # the local cache needs neither\n"
        "try:\n"
        f"    Lab({str(tmp_path)!r}, provider='simulated', store='s3://bucket/team')\n"
        "except StoreError as exc:\n"
        "    print('StoreError', exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert "StoreError" in result.stdout and "quantdb_lab[team]" in result.stdout, result.stdout + result.stderr
