#!/usr/bin/env bash
# Sets up a checkout on Debian/Ubuntu: system packages, npm dependencies, build, models.
#   scripts/setup.sh          what the daemon needs (ffmpeg)
#   scripts/setup.sh --test   plus what the tests need (GStreamer RTSP server, Chromium, Mosquitto)
# Models come from VIGIL_MODEL_MIRROR, else ../shared/models beside the checkout when present,
# else their pinned upstream URLs.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Vigil needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(ffmpeg)
if [ "$want_test" -eq 1 ]; then
  pkgs+=(python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base
         gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
         chromium mosquitto systemd prometheus)
fi
# better-sqlite3 compiles from source (no prebuilt binary is reachable offline): python3, make, g++.
[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || pkgs+=(python3 make g++)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  # Another apt (unattended-upgrades, a second setup) may hold the lock: wait for it, up to 10 min.
  echo "== apt: installing ${missing[*]} (a minute or more; waits for another apt to finish)"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The test RTSP server's mosquitto must not run as a system service in the way of tests.
if [ "$want_test" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi

scripts/npm-ci.sh
# Every native module must load, or nothing else matters.
node -e "require('better-sqlite3')(':memory:').close(); require('onnxruntime-node'); require('sharp')" \
  || { echo "A native module failed to load after npm ci." >&2; exit 1; }

echo "== build"
npm run build --silent
# Native uWebSockets.js where a binary fits this Node and glibc, else the (slower) JavaScript fallback.
node -e "import('./dist/daemon/server/uws/loadUws.js').then((m) => console.log('   sockets: ' + m.uwsSummary()))"
# `vigil` on PATH, pointing at this checkout (VIGIL_BIN_DIR to link elsewhere).
bin_dir="${VIGIL_BIN_DIR:-/usr/local/bin}"
$SUDO ln -sf "$PWD/bin/vigil.js" "$bin_dir/vigil" && echo "== linked $bin_dir/vigil -> bin/vigil.js"

if [ -z "${VIGIL_MODEL_MIRROR:-}" ] && [ -d ../shared/models ]; then
  VIGIL_MODEL_MIRROR="$(cd ../shared/models && pwd)"
  export VIGIL_MODEL_MIRROR
fi
echo "== models${VIGIL_MODEL_MIRROR:+ (mirror: $VIGIL_MODEL_MIRROR)}"
node bin/vigil.js --data-dir "${VIGIL_DATA_DIR:-.data}" models fetch
echo "== setup done"
