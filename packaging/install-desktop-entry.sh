#!/usr/bin/env bash
# Put YOLO Desk in the desktop's application menu for this user (after bootstrap.sh has set up .venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$root/resources/icons/yolodesk.svg" "$icons/yolodesk.svg"
sed "s|^Exec=yolodesk|Exec=$root/.venv/bin/yolodesk|" "$root/packaging/yolodesk.desktop" > "$apps/yolodesk.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "installed $apps/yolodesk.desktop"
