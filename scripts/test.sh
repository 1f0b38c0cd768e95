#!/usr/bin/env bash
# The one test command (npm test): install the Debian judges if missing, build, run every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
# the JupyterLab extension (its own npm package under labextension/): `tsprof install` copies it
bash scripts/build-labextension.sh
npx tsc -p .
# the kernel's own realm (kernel/realm/): its main-thread code as one script
node scripts/bundle-kernel.mjs
# Suites start kernels and servers; run files one at a time so timings stay honest on 2 cores.
if [ $# -gt 0 ]; then files=("$@"); else files=(dist/test/*.test.js); fi
node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
