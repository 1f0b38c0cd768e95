#!/usr/bin/env bash
# JupyterLab 4 and Notebook 7 for the real-UI tests (test/lab.test.ts): Debian packages neither, so pip
# installs them into a virtual environment at .venv-lab/ (git-ignored). Idempotent: a stamp file records
# what was installed; a second run only checks it. When pip is configured with a local file index
# (`pip config list` on these machines), PIP_INDEX_URL points at it so pip never waits on the default index.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-lab
want="jupyterlab>=4,<5 notebook>=7,<8"
stamp="$venv/.tsprof-installed"
if [ -x "$venv/bin/jupyter-lab" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install-lab: up to date ($venv)"
  exit 0
fi
# Debian's python3 (python3-venv is part of its install); any python3 with venv otherwise
py=/usr/bin/python3; [ -x "$py" ] || py=python3
start=$(date +%s)
"$py" -m venv "$venv"
# Local file indexes from pip's configuration: the first becomes the index, the rest stay extra indexes.
urls=$("$venv/bin/pip" config list 2>/dev/null | sed -n "s/^[^=]*\(index-url\|extra-index-url\)='\(.*\)'$/\2/p" | tr ' ' '\n' | grep '^file://' || true)
if [ -z "${PIP_INDEX_URL:-}" ] && [ -n "$urls" ]; then
  export PIP_INDEX_URL=$(echo "$urls" | head -1)
  export PIP_EXTRA_INDEX_URL=$(echo "$urls" | tail -n +2 | tr '\n' ' ')
fi
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet --disable-pip-version-check $want
echo "$want" > "$stamp"
echo "install-lab: installed $want into $venv in $(( $(date +%s) - start )) s ($("$venv/bin/jupyter-lab" --version))"
