#!/usr/bin/env bash
# Builds onnxruntime with CUDA and TensorRT plus its Node.js binding on a Jetson (JetPack 6.1/6.2,
# L4T R36.4: CUDA 12.6, cuDNN 9.3, TensorRT 10.3), installs it as a package directory, and points
# Vigil at it through models.ort_module. The registry's onnxruntime-node for linux/arm64 is
# CPU-only; this is the way to the Jetson GPU. Runs on the Jetson itself, needs the network
# (GitHub for the source and onnxruntime's pinned dependencies, the npm registry) and hours.
#   sudo scripts/jetson/build-onnxruntime-node.sh [--prefix /opt/onnxruntime-node] [--config /etc/vigil/vigil.yaml]
# Pins: the onnxruntime tag must resolve to ORT_COMMIT (the git commit id is the checksum of the
# whole source tree); onnxruntime's own dependencies are fetched by CMake against the SHA1 sums
# in its cmake/deps.txt. Set ORT_COMMIT to the commit you reviewed; the script refuses a tag that
# resolves to anything else.
set -euo pipefail

ORT_VERSION=1.30.0
ORT_TAG="v$ORT_VERSION"
ORT_COMMIT="${ORT_COMMIT:-}"
CUDA_ARCH="${CUDA_ARCH:-87}"            # Orin (AGX, NX, Nano); Xavier is 72 but has no JetPack 6
PREFIX=/opt/onnxruntime-node
CONFIG=/etc/vigil/vigil.yaml
WORK="${WORK:-/var/tmp/vigil-ort-build}"
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift ;;
    --config) CONFIG="$2"; shift ;;
    *) echo "usage: $0 [--prefix DIR] [--config FILE]" >&2; exit 2 ;;
  esac
  shift
done
step() { echo "== $*"; }
die() { echo "build-onnxruntime-node.sh: $*" >&2; exit 1; }

step "checks"
[ "$(uname -m)" = aarch64 ] || die "this is for Jetson (aarch64); on x64 use scripts/install.sh --gpu cuda"
grep -q '^# R36' /etc/nv_tegra_release 2>/dev/null || die "needs JetPack 6 (L4T R36); found: $(head -1 /etc/nv_tegra_release 2>/dev/null || echo 'no /etc/nv_tegra_release')"
[ -x /usr/local/cuda/bin/nvcc ] || die "CUDA not found at /usr/local/cuda (apt install nvidia-jetpack)"
[ -f /usr/include/aarch64-linux-gnu/NvInfer.h ] || die "TensorRT headers missing (apt install nvidia-jetpack, or libnvinfer-dev)"
ls /usr/lib/aarch64-linux-gnu/libcudnn.so.9* >/dev/null 2>&1 || die "cuDNN 9 missing: onnxruntime $ORT_VERSION needs JetPack 6.1 or newer"
command -v node >/dev/null || die "Node.js missing (see the README's Jetson section: Node 24 from the npm registry)"
[ -n "$ORT_COMMIT" ] || die "set ORT_COMMIT to the commit of onnxruntime $ORT_TAG you trust (git ls-remote https://github.com/microsoft/onnxruntime refs/tags/$ORT_TAG^{})"

step "build tools"
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  git build-essential python3 python3-pip python3-venv libpython3-dev
python3 -m venv "$WORK/venv"
# CMake >= 3.28 (Ubuntu 22.04 has 3.22), pinned.
"$WORK/venv/bin/pip" install -q 'cmake==3.31.6' 'numpy<2' packaging wheel
export PATH="$WORK/venv/bin:/usr/local/cuda/bin:$PATH"

step "onnxruntime $ORT_TAG source"
if [ ! -d "$WORK/onnxruntime/.git" ]; then
  git clone --depth 1 --branch "$ORT_TAG" --recurse-submodules --shallow-submodules https://github.com/microsoft/onnxruntime "$WORK/onnxruntime"
fi
got=$(git -C "$WORK/onnxruntime" rev-parse HEAD)
[ "$got" = "$ORT_COMMIT" ] || die "$ORT_TAG resolves to $got, not the pinned $ORT_COMMIT"

step "building (hours on an Orin; progress from the build itself)"
cd "$WORK/onnxruntime"
./build.sh --config Release --update --build --parallel --build_shared_lib --build_nodejs --skip_tests \
  --use_cuda --cuda_home /usr/local/cuda --cudnn_home /usr/lib/aarch64-linux-gnu \
  --use_tensorrt --tensorrt_home /usr/lib/aarch64-linux-gnu \
  --allow_running_as_root \
  --cmake_extra_defines "CMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH" onnxruntime_BUILD_UNIT_TESTS=OFF

step "installing the package in $PREFIX"
rm -rf "$PREFIX.new"
mkdir -p "$PREFIX.new"
cp -a js/node/package.json js/node/dist js/node/bin "$PREFIX.new/"
cp -a js/common "$PREFIX.new/onnxruntime-common"
(cd "$PREFIX.new" && npm install --omit=dev --no-audit --no-fund --loglevel=error ./onnxruntime-common)
# The provider libraries sit beside the binding, where onnxruntime looks for them.
cp -a build/Linux/Release/libonnxruntime_providers_*.so "$PREFIX.new/bin/napi-v6/linux/arm64/"
node -e "const o=require('$PREFIX.new'); console.log('   onnxruntime', o.env.versions.node ?? o.env.versions.common)"
rm -rf "$PREFIX.old"; [ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"; mv "$PREFIX.new" "$PREFIX"; rm -rf "$PREFIX.old"

step "pointing Vigil at it"
if [ -f "$CONFIG" ]; then
  if grep -qE '^\s*ort_module:' "$CONFIG"; then
    sed -i -E "s|^(\s*)ort_module:.*|\1ort_module: $PREFIX|" "$CONFIG"
  else
    echo "   add 'ort_module: $PREFIX' under models: in $CONFIG"
  fi
  sed -i -E "s|^(\s*)providers: \[cpu\]|\1providers: [tensorrt, cuda, cpu]|" "$CONFIG"
fi
echo "Done. Check with: vigil doctor   (tensorrt and cuda should start a session), then systemctl restart vigil"
