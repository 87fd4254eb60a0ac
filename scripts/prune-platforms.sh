#!/usr/bin/env bash
# Removes other platforms' native binaries from a production node_modules: onnxruntime-node
# for other OS/arch, uWebSockets.js builds for other platforms and Node ABIs, sharp's other
# platforms, and build leftovers of better-sqlite3. Keeps what this machine's Node loads.
#   scripts/prune-platforms.sh DIR/node_modules
set -euo pipefail
nm="${1:?usage: scripts/prune-platforms.sh NODE_MODULES_DIR}"
[ -d "$nm" ] || { echo "prune-platforms.sh: $nm is not a directory" >&2; exit 1; }
os=$(node -p process.platform)
arch=$(node -p process.arch)
abi=$(node -p process.versions.modules)

ort="$nm/onnxruntime-node/bin/napi-v6"
if [ -d "$ort/$os/$arch" ]; then
  for d in "$ort"/*/*; do
    [ "$d" = "$ort/$os/$arch" ] || rm -rf "$d"
  done
  find "$ort" -mindepth 1 -type d -empty -delete
fi

# uWS: one binary per platform and ABI; keep this one's (the loader falls back loudly if Node changes).
keep="uws_${os}_${arch}_${abi}.node"
for f in "$nm"/uWebSockets.js/binaries/uws_*.node "$nm"/uWebSockets.js/dist/uws_*.node "$nm"/@btc-vision/uwebsockets.js/uws_*.node; do
  [ -e "$f" ] || continue
  [ "$(basename "$f")" = "$keep" ] || rm -f "$f"
done

# sharp: npm installs only the matching @img/sharp-* package, but a copied tree may hold more.
for d in "$nm"/@img/sharp-*; do
  [ -e "$d" ] || continue
  case "$(basename "$d")" in
    *"-$os-$arch"|*"-${os}-${arch}-"*|sharp-libvips-"$os"-"$arch") ;;
    *) rm -rf "$d" ;;
  esac
done

# better-sqlite3: the SQLite sources and object files are only needed to compile.
rm -rf "$nm/better-sqlite3/deps" "$nm/better-sqlite3/src" "$nm/better-sqlite3/build/Release/obj" "$nm/better-sqlite3/build/Release/obj.target" "$nm/better-sqlite3/build/Release/.deps"
rm -f "$nm/better-sqlite3/build/Release/test_extension.node"
