#!/usr/bin/env bash
# Build the JupyterLab extension from source: labextension/ is its own npm package (its own lockfile,
# @jupyterlab/builder, TypeScript); `build-labextension` writes the prebuilt (federated) extension to
# labextension/tsprof/, which `tsprof install` copies into <jupyter data dir>/labextensions/tsprof.
# Installs the package's dependencies when missing or when the lockfile changed; skips the build when
# the output is newer than every source. About 15 s for npm ci and 7 s for the build here.
set -euo pipefail
cd "$(dirname "$0")/../labextension"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out=tsprof/package.json
if [ "${1:-}" != "--force" ] && [ -f "$out" ] && [ -z "$(find src style core-meta package.json tsconfig.json -newer "$out" -print -quit)" ]; then
  echo "labextension: up to date ($out)"
  exit 0
fi
npm run --silent build
test -f "$out" && grep -q '"_build"' "$out"
echo "labextension: built $(dirname "$(readlink -f "$out")")"
