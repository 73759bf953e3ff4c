#!/usr/bin/env bash
# Creates the benches' Python reference environment in bench/.venv (git-ignored), from PyPI only,
# with the versions pinned in bench/python/requirements.txt. Running it again is cheap: pip
# skips what is already installed at the pinned version. Every bench uses bench/.venv/bin/python
# unless VEIL_PYTHON names another interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/../.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check --index-url https://pypi.org/simple \
  -r "$here/requirements.txt"
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
names = ["torch", "transformers", "opacus", "numpy", "safetensors", "prv-accountant", "dp-accounting"]
print("bench/.venv ready: " + ", ".join(f"{n} {m.version(n)}" for n in names))
PY
