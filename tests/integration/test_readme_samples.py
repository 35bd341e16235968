"""Every ```python sample in README.md runs, as written, on the simulated market.

Each sample runs in its own interpreter with ``QUANTDB_LAB_PROVIDER=simulated`` and a temporary
``QUANTDB_LAB_CACHE_DIR`` shared by the samples of this module (so later samples read what earlier ones
cached, as a reader going down the page would). Samples that use ``lab`` run after the README's first sample,
which makes it. A sample that cannot run here (it needs the network or a team store) carries an HTML comment
on the line before its fence, ``<!-- readme-sample: skip <reason> -->``, and is reported as skipped with that
reason: never dropped silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SKIP = re.compile(r"<!--\s*readme-sample:\s*skip\s+(?P<reason>.+?)\s*-->")
TIMEOUT = 300

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Sample:
    line: int  # of the opening fence, 1-based
    section: str
    code: str
    skip: str | None


def samples(text: str) -> list[Sample]:
    found: list[Sample] = []
    lines = text.splitlines()
    section, i = "top", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.strip() == "```python":
            start = i
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            marker = SKIP.search(before)
            found.append(Sample(start + 1, section, "\n".join(body) + "\n", marker["reason"] if marker else None))
        i += 1
    return found


SAMPLES = samples(README.read_text(encoding="utf-8"))


def test_the_readme_has_samples_and_every_skip_says_why():
    assert len(SAMPLES) >= 10
    assert SAMPLES[0].skip is None and "lab = ql.Lab(" in SAMPLES[0].code
    for sample in SAMPLES:
        assert sample.skip is None or len(sample.skip) > 10, sample


def test_a_skip_marker_is_read_from_the_line_before_the_fence():
    text = "# A\n<!-- readme-sample: skip needs the network (live akshare) -->\n```python\nx = 1\n```\n```python\ny\n```\n"
    assert [(s.section, s.skip, s.code) for s in samples(text)] == [
        ("A", "needs the network (live akshare)", "x = 1\n"), ("A", None, "y\n")]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("readme-cache")


def _id(sample: Sample) -> str:
    return f"L{sample.line}-" + re.sub(r"\W+", "-", sample.section).strip("-")


@pytest.mark.parametrize("sample", SAMPLES, ids=[_id(s) for s in SAMPLES])
def test_readme_sample_runs_on_the_simulated_market(sample, cache_dir, tmp_path):
    if sample.skip:
        pytest.skip(f"README line {sample.line}: {sample.skip}")
    code = sample.code if sample is SAMPLES[0] else SAMPLES[0].code + "\n" + sample.code
    env = {**os.environ, "QUANTDB_LAB_PROVIDER": "simulated", "QUANTDB_LAB_CACHE_DIR": str(cache_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "MPLBACKEND": "Agg"}  # fmt: skip
    env.pop("QUANTDB_LAB_STORE", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)  # fmt: skip
    assert result.returncode == 0, f"README line {sample.line} ({sample.section}):\n{result.stderr[-4000:]}"
