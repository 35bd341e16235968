#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine of this kind, then the suite itself.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# The JupyterLab extension used to be a distribution of its own; it now ships inside quantdb_lab's wheel. A
# stale copy would shadow it (and its uninstall would later remove the shared labextension files): drop it first.
if python -m pip show quantdb_lab_jupyterlab >/dev/null 2>&1; then
    python -m pip uninstall --yes --quiet quantdb_lab_jupyterlab
fi
# Editable, with the test extra. The build hook builds the side panel with npm when its sources are newer than
# the build, and hatchling's editable wheel still places the labextension, the server extension's config and
# IPython's config in the environment, as a wheel install does.
python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# Browser tests: Debian's Chromium driven by playwright (from the test extra); never a downloaded browser.
# fonts-noto-cjk draws the Chinese names in the screenshots.
if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

# pytest exits 5 when it collects nothing: the non-zero exit fails this script, as it should.
python -m pytest "$@"
