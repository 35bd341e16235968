#!/usr/bin/env bash
# Build the JupyterLab extension (npm ci + tsc + jupyter-builder) and install it non-editable, so its
# labextension and server config land in the prefix. Does nothing when the installed copy matches the sources.
set -euo pipefail
cd "$(dirname "$0")/../../extensions/quantdb_lab_jupyterlab"

built=quantdb_lab_jupyterlab/labextension/package.json
sources=(src style package.json package-lock.json tsconfig.json)
if [ ! -f "$built" ] || [ -n "$(find "${sources[@]}" -newer "$built" -print -quit)" ]; then
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
    fi
    npm run --silent build >/dev/null
fi

# Installed and identical to what was just built (front end and Python side)? Then skip pip.
if ! python - <<'PY'
import filecmp, pathlib, sys
try:
    import quantdb_lab_jupyterlab as ext
except ImportError:
    sys.exit(1)
installed = pathlib.Path(ext.__file__).parent
share = pathlib.Path(sys.prefix, "share/jupyter/labextensions/quantdb-lab-jupyterlab/package.json")
same = share.is_file() and filecmp.cmp(share, "quantdb_lab_jupyterlab/labextension/package.json", shallow=False)
for source in pathlib.Path("quantdb_lab_jupyterlab").glob("*.py"):
    same = same and (installed / source.name).is_file() and filecmp.cmp(source, installed / source.name, shallow=False)
sys.exit(0 if same else 1)
PY
then
    python -m pip install --quiet --disable-pip-version-check .
fi
