#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine of this kind, then the suite itself.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# Browser tests: Debian's Chromium driven by playwright (from the test extra); never a downloaded browser.
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The JupyterLab extension is built here (its build output is not committed) and installed non-editable.
bash tests/support/install_extension.sh

# pytest exits 5 when it collects nothing: treat that as the failure it is.
python -m pytest "$@"
