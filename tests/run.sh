#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine of this kind, then the suite itself.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# pytest exits 5 when it collects nothing: treat that as the failure it is.
python -m pytest "$@"
