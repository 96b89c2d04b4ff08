#!/usr/bin/env bash
# Installs the Debian wallpaper packages whose photographs tools/rain/photos.txt lists, and a
# Python environment with numpy and Pillow for the rain tools (in /tmp/dcd-rain-venv unless
# DCD_RAIN_VENV says otherwise). Then:  $VENV/bin/python tools/rain/make_dataset.py --out data/rain
set -euo pipefail
SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq plasma-workspace-wallpapers mate-backgrounds python3-venv >/dev/null
VENV=${DCD_RAIN_VENV:-/tmp/dcd-rain-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy pillow
fi
echo "photos installed; rain tools run with $VENV/bin/python"
