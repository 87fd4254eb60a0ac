#!/usr/bin/env bash
# npm ci for this checkout, saying what it does: better-sqlite3 has no prebuilt binary that is
# reachable offline and compiles from source (python3, make, g++: installed here when missing),
# which takes minutes on a small box, so a progress line is printed every 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

tools=()
command -v python3 >/dev/null 2>&1 || tools+=(python3)
command -v make >/dev/null 2>&1 || tools+=(make)
command -v g++ >/dev/null 2>&1 || tools+=(g++)
if [ "${#tools[@]}" -gt 0 ]; then
  echo "== apt: ${tools[*]} (to compile better-sqlite3; waits up to 10 min for another apt to finish)"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
fi

# node-gyp downloads Node's headers unless told where they are; the headers installed with Node
# (NodeSource's package, the registry tarball) make the compile work offline.
if [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] || [ -z "$(npm config get nodedir 2>/dev/null)" ]; then
  prefix=$(cd "$(dirname "$(node -p process.execPath)")/.." && pwd)
  if grep -q "define NODE_MAJOR_VERSION $(node -p 'process.versions.node.split(".")[0]')\$" "$prefix/include/node/node_version.h" 2>/dev/null; then
    export npm_config_nodedir="$prefix"
    echo "   Node headers: $prefix/include/node"
  fi
fi

echo "== npm ci (better-sqlite3 compiles from source: a few minutes on 2 cores)"
log=$(mktemp)
start=$SECONDS
npm ci --no-audit --no-fund --loglevel=error --foreground-scripts > "$log" 2>&1 &
pid=$!
next=30
while kill -0 "$pid" 2>/dev/null; do
  sleep 2
  if [ $((SECONDS - start)) -ge "$next" ]; then
    what="downloading and unpacking"
    grep -q 'node-gyp rebuild\|gyp info' "$log" && what="compiling better-sqlite3"
    grep -q 'gyp info ok' "$log" && what="install scripts"
    echo "   npm ci: $what ($((SECONDS - start)) s)"
    next=$((next + 30))
  fi
done
if ! wait "$pid"; then
  tail -30 "$log" >&2
  echo "npm ci failed (full log: $log)." >&2
  exit 1
fi
rm -f "$log"
echo "   npm ci done in $((SECONDS - start)) s"
