#!/usr/bin/env bash
# Installs Vigil as a systemd service: ffmpeg, the app in $PREFIX (/opt/vigil), the vigil
# user, /etc/vigil/vigil.yaml (kept if present), the models, and the unit, enabled.
# Safe to run again to upgrade.
#   --no-start        install and enable, but do not (re)start the service
#   --root DIR        install under DIR (packaging and tests; implies --no-start, no apt/user/systemctl)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
ROOT=""
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=0 ;;
    --root) ROOT="$2"; start=0; shift ;;
    *) echo "usage: scripts/install.sh [--no-start] [--root DIR]" >&2; exit 2 ;;
  esac
  shift
done
PREFIX="$ROOT/opt/vigil"
ETC="$ROOT/etc/vigil"
DATA="$ROOT/var/lib/vigil"
UNIT_DIR="$ROOT/etc/systemd/system"

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "scripts/install.sh must run as root (sudo scripts/install.sh)." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Vigil needs Node.js 20 or newer at /usr/bin/node (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

if [ -z "$ROOT" ]; then
  if ! command -v ffmpeg >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
  fi
  getent group vigil >/dev/null || groupadd --system vigil
  id vigil >/dev/null 2>&1 || useradd --system --gid vigil --groups video --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil
fi

echo "== building in $src"
(cd "$src" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build --silent)

echo "== installing the app in $PREFIX"
mkdir -p "$PREFIX"
# Only what runs: compiled JS, launcher, config example, unit, web pages, package files.
for item in dist bin web config systemd scripts package.json package-lock.json .npmrc README.md; do
  [ -e "$src/$item" ] || continue
  rm -rf "${PREFIX:?}/$item"
  cp -a "$src/$item" "$PREFIX/"
done
if [ -n "$ROOT" ]; then
  # Packaging: reuse the built native modules, keep only production dependencies.
  rm -rf "$PREFIX/node_modules" && cp -a "$src/node_modules" "$PREFIX/"
  (cd "$PREFIX" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
else
  (cd "$PREFIX" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$ROOT/usr/local/bin"
ln -sf /opt/vigil/bin/vigil.js "$ROOT/usr/local/bin/vigil"

mkdir -p "$ETC" "$DATA"
if [ ! -f "$ETC/vigil.yaml" ]; then
  token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  sed -e "s/change-me-admin-token/$token/" "$src/config/vigil.example.yaml" > "$ETC/vigil.yaml"
  echo "   wrote $ETC/vigil.yaml (admin token generated)"
else
  echo "   kept $ETC/vigil.yaml"
fi
chmod 0640 "$ETC/vigil.yaml"
[ -z "$ROOT" ] && chown root:vigil "$ETC/vigil.yaml" && chown -R vigil:vigil "$DATA"

echo "== models"
node "$PREFIX/bin/vigil.js" --data-dir "$DATA" models fetch
[ -z "$ROOT" ] && chown -R vigil:vigil "$DATA"

echo "== systemd unit"
mkdir -p "$UNIT_DIR"
cp "$src/systemd/vigil.service" "$UNIT_DIR/vigil.service"
if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  systemctl enable vigil.service
  if [ "$start" -eq 1 ]; then systemctl restart vigil.service; fi
fi
echo "Vigil installed. Status: systemctl status vigil · Logs: journalctl -u vigil -f · CLI: vigil status"
