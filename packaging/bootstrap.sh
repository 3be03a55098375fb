#!/usr/bin/env bash
# Set up YOLO Desk in ./.venv, then either open the window (run) or run the whole test suite (test).
#   bash packaging/bootstrap.sh run     # set up + launch
#   bash packaging/bootstrap.sh test    # set up + run every test
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
shift || true

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "YOLO Desk needs Python 3.11 or newer" >&2; exit 1; }

# System libraries Qt's X11 platform needs on a minimal Debian/Ubuntu (only when we may install them).
if [ "$mode" = run ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libegl1; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

# The remote-worker tests start a real OpenSSH server on 127.0.0.1 (they need sshd and ssh-keygen).
if [ "$mode" = test ] && [ ! -x /usr/sbin/sshd ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
if [ "$mode" = test ] && [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
# The Slurm-worker tests start a real single-node cluster (munged, slurmctld, slurmd: tests/cluster/conftest.py).
if [ "$mode" = test ] && ! command -v sbatch >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

stamp=".venv/.yolodesk-installed"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi

case "$mode" in
  run)
    exec .venv/bin/yolodesk "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash packaging/bootstrap.sh run|test [args...]" >&2
    exit 2
    ;;
esac
