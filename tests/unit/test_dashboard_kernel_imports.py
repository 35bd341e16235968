"""A dashboard kernel's first chart does not pay for jsonschema's IRI grammars (compiled as they load: seconds in
a kernel that has read a portfolio), and nothing else loses the module."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from quantdb_lab.config import PLOTLY_ESM_ENV

pytestmark = pytest.mark.skipif(importlib.util.find_spec("rfc3987_syntax") is None,
                                reason="jsonschema's IRI grammars (rfc3987-syntax) are not installed here")  # fmt: skip

PROBE = """
import json, sys
import plotly.graph_objects as go
from quantdb_lab.ui.widgets.figure_view import figure_widget
figure_widget(go.Figure())
loaded = {name: name in sys.modules for name in ("jsonschema", "rfc3987_syntax")}
import rfc3987_syntax  # still importable by whoever asks for it
print(json.dumps(loaded))
"""


def _modules_after_a_chart(env: dict[str, str]) -> dict[str, bool]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_dashboard_kernel_charts_without_compiling_the_iri_grammars():
    env = {k: v for k, v in os.environ.items() if k != PLOTLY_ESM_ENV}
    assert _modules_after_a_chart(env) == {"jsonschema": True, "rfc3987_syntax": True}  # elsewhere: as plotly does
    env[PLOTLY_ESM_ENV] = "/voila/static/plotly-widget.js"  # what our Voila server gives its kernels
    assert _modules_after_a_chart(env) == {"jsonschema": True, "rfc3987_syntax": False}
