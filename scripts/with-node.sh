#!/usr/bin/env bash
# Runs a command under another Node.js major (CI's second run, or trying a release locally):
#   scripts/with-node.sh 24 npm test
# The Node binary comes from the npm registry (node-linux-<arch>, pinned version and sha512,
# cached in .cache/node/). ABI-specific native modules are handled here: better-sqlite3 is
# compiled for that ABI once (cached in .cache/better-sqlite3/ABI/) and swapped into
# node_modules for the command only, so the checkout's own Node keeps working afterwards.
# uWebSockets.js needs nothing: the server picks the binary per ABI (or its fallback) at start.
# onnxruntime-node, sharp and bufferutil are Node-API: one binary serves every Node version.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-}"
shift || true
if [ -z "$major" ] || [ $# -eq 0 ]; then echo "usage: scripts/with-node.sh 22|24 COMMAND..." >&2; exit 2; fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "with-node.sh: no registry Node build for $(uname -m)" >&2; exit 1 ;;
esac
# Pinned releases and their registry sha512 (npm view node-linux-ARCH@VERSION dist.integrity).
case "$major-$arch" in
  24-x64) version=24.22.3; integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
  22-x64) version=22.23.5; integrity='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' ;;
  24-arm64) version=24.22.3; integrity='sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' ;;
  22-arm64) version=22.23.5; integrity='sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==' ;;
  *) echo "with-node.sh: no pinned Node $major for $arch" >&2; exit 1 ;;
esac

cache="$PWD/.cache"
nodedir="$cache/node/$version-$arch"
if [ ! -x "$nodedir/bin/node" ]; then
  echo "== node $version ($arch) from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-$arch@$version" --json --loglevel=error > pack.json)
  got=$(node -p "require('$tmp/pack.json')[0].integrity")
  if [ "$got" != "$integrity" ]; then
    echo "with-node.sh: node-linux-$arch@$version has integrity $got, expected $integrity" >&2
    rm -rf "$tmp"; exit 1
  fi
  mkdir -p "$nodedir"
  tar xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$nodedir" --strip-components=1
  rm -rf "$tmp"
fi
node_bin="$nodedir/bin/node"
abi=$("$node_bin" -p process.versions.modules)

# better-sqlite3 for this ABI (no prebuilt binary is reachable offline: it compiles, ~5 min on 2 cores).
bs3=node_modules/better-sqlite3
built="$cache/better-sqlite3/$abi/better_sqlite3.node"
bs3_version=$(node -p "require('./$bs3/package.json').version")
if [ ! -f "$built" ] || [ "$(cat "$cache/better-sqlite3/$abi/version" 2>/dev/null)" != "$bs3_version" ]; then
  for tool in python3 make g++; do
    command -v "$tool" >/dev/null || { echo "with-node.sh: $tool is needed to compile better-sqlite3 (apt-get install python3 make g++)" >&2; exit 1; }
  done
  echo "== compiling better-sqlite3 $bs3_version for Node $version (ABI $abi); progress every 30 s"
  work=$(mktemp -d)
  cp -a "$bs3/." "$work/"
  rm -rf "$work/build"
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  start=$SECONDS
  (cd "$work" && "$node_bin" "$gyp" rebuild --release --nodedir="$nodedir" --jobs=max > "$work/gyp.log" 2>&1) &
  pid=$!
  next=30
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if [ $((SECONDS - start)) -ge "$next" ]; then echo "   still compiling ($((SECONDS - start)) s)"; next=$((next + 30)); fi
  done
  if ! wait "$pid"; then
    tail -20 "$work/gyp.log" >&2
    echo "with-node.sh: compiling better-sqlite3 for Node $version failed" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$built")"
  cp "$work/build/Release/better_sqlite3.node" "$built"
  echo "$bs3_version" > "$cache/better-sqlite3/$abi/version"
  rm -rf "$work"
  echo "   compiled in $((SECONDS - start)) s"
fi

# Swap the binary in for the command, and back afterwards whatever happens.
own="$bs3/build/Release/better_sqlite3.node"
saved="$cache/better-sqlite3/own.node"
# A run killed before its restore left the other ABI's binary in place: put the saved one back first.
if [ -f "$saved" ] && ! node -e "require('./$bs3')(':memory:').close()" 2>/dev/null; then cp "$saved" "$own"; fi
cp "$own" "$saved"
restore() { cp "$saved" "$own"; }
trap restore EXIT
cp "$built" "$own"

echo "== running under Node $("$node_bin" --version): $*"
PATH="$nodedir/bin:$PATH" "$@"
