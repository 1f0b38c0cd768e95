#!/usr/bin/env bash
# Debian packages the tests use as judges: real Jupyter clients, the official kernel conformance
# suite, a Jupyter Server, ipykernel (a bench peer), jupyterlab_server (JupyterLab's own discovery of
# installed extensions) and headless Chromium (the browser tests); the profilers' peers as judges of
# line semantics (line_profiler, memory_profiler); the consumers of exported profiles (valgrind's
# callgrind_annotate, go tool pprof); a real Prometheus; tmux to drive jupyter console; Debian's classic
# notebook. Idempotent: installs only what is missing.
set -euo pipefail
pkgs=(python3-jupyter-kernel-test jupyter-client jupyter-console python3-nbclient python3-nbformat
      python3-jupyter-server python3-ipykernel jupyter-nbconvert python3-jupyterlab-server chromium
      python3-line-profiler python3-memory-profiler valgrind golang-go prometheus tmux jupyter-notebook)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
