#!/usr/bin/env bash
# The CUDA checks, on a lent GPU machine (PyTorch with CUDA there; no Node, no network), with
# what scripts/gpu/pack.sh put in .cache/gpu-carry. Builds the addon against that machine's
# PyTorch with node-gyp and runs, in order of importance, writing each result to $OUT as it goes:
#   1. env.txt                 GPU, driver, torch, compilers, ffmpeg; every step's time stamp
#   2. build.log               node-gyp build against the CUDA libtorch
#   3. test-native-cuda.txt    test/native/cuda.test.ts (transfers, modules, TF32 off, cuDNN
#                              benchmark switch, memory)
#   4. matrix.json, matrix.txt, matrix.log   bench/gpu_matrix.ts (issue 28): model-only encode/
#                              decode frames/s of Node, Python eager and Python torch.compile
#                              (full width 16x720x1280 bfloat16, ch32 16x256x256 float32 and
#                              bfloat16, full width float32 last), then `videovae reconstruct` and
#                              `videovae batch` frames/s on the same 720p clips, each with and
#                              without cuDNN benchmark mode; stops at the budget (BUDGET_S)
#   5. aoti (by name, in a call of its own: `check.sh aoti`)   bench/gpu_matrix.ts --only aoti
#                              (issue 29): exports a full-width bfloat16 AOTInductor bundle for
#                              the GPU (export time in matrix.json), then Node AOTInductor vs Node
#                              fast TorchScript vs Python eager vs torch.compile at 16x720x1280
#   Older steps, by name only: bench (bench/gpu.ts precision + throughput), api-cuda
#   (test/api/vae_cuda.test.ts), native-core (core tests on the CUDA build), bench-fp32.
# Usage (device): bash scripts/gpu/check.sh [STEP...]   Default: native-cuda matrix, within
#   BUDGET_S=530 seconds of the start (build included; the device's per-call limit is 600 s).
#   STEP: native-cuda matrix matrix-model matrix-cli aoti bench api-cuda native-core bench-fp32, or
#   quick (build, the native tests, the fast-bundle CUDA test and the precision bench: ~3 min).
# Rehearsal on a CPU (no carry, no build: this checkout's addon and Node; tiny sizes):
#   DEVICE=cpu bash scripts/gpu/check.sh     (results in $OUT, default .cache/gpu-out)
set -uo pipefail
cd "$(dirname "$0")/../.."
steps=" ${*:-native-cuda matrix} "
[ "$steps" = " quick " ] && steps=" native-cuda native-core api-cuda-fast bench-precision "
want() { [[ "$steps" == *" $1 "* ]]; }
DEVICE=${DEVICE:-cuda:0}
BUDGET_S=${BUDGET_S:-530}
OUT=${OUT:-$PWD/.cache/gpu-out}
mkdir -p "$OUT"
carry=.cache/gpu-carry
t0=$(date +%s)
# Steps go to stdout and env.txt (the run tool brings back at most 8 files).
stamp() { echo "[check +$(( $(date +%s) - t0 ))s] $*" | tee -a "$OUT/env.txt"; }

stamp "env"
{
  nvidia-smi 2>&1 | head -15
  for tool in python3 python g++ make cmake nvcc ffmpeg ffprobe; do printf '%s: %s\n' "$tool" "$(command -v $tool || echo missing)"; done
  g++ --version 2>&1 | head -1
  ldd --version 2>&1 | head -1
  cat /etc/os-release 2>/dev/null | grep PRETTY
} >> "$OUT/env.txt" 2>&1

if [ "$DEVICE" = cpu ]; then
  stamp "rehearsal on the CPU: no carry, no build (this checkout's Node, addon and .venv)"
else
py=$(command -v python3 || command -v python)
mkdir -p .cache/tools
tar -C .cache/tools -xJf "$carry/node.tar.xz"
export PATH="$PWD/.cache/tools/bin:$PATH"
tar -xJf "$carry/node_modules.tar.xz"
mkdir -p .cache/tools/spm && tar -C .cache/tools/spm -xJf "$carry/sentencepiece.tar.xz"
export SENTENCEPIECE_DIR=$PWD/.cache/tools/spm
mkdir -p .cache/shared && tar -C .cache/shared -xJf "$carry/parity.tar.xz"
export VIDEOVAE_SHARED=$PWD/.cache/shared
# The project's Python is .venv/bin/python everywhere: here a wrapper of the machine's own (a
# wrapper, not a link, so that Python still finds its own virtual environment).
if [ ! -x .venv/bin/python ]; then
  mkdir -p .venv/bin && printf '#!/bin/sh\nexec "%s" "$@"\n' "$py" > .venv/bin/python && chmod +x .venv/bin/python
fi
.venv/bin/python -c 'import safetensors' 2>/dev/null ||
  .venv/bin/python -m pip install -q --no-index --no-deps "$carry"/wheels/*.whl >> "$OUT/env.txt" 2>&1 ||
  .venv/bin/python -m pip install -q --no-index --no-deps --target .cache/tools/pylib "$carry"/wheels/*.whl >> "$OUT/env.txt" 2>&1
[ -d .cache/tools/pylib ] && export PYTHONPATH=$PWD/.cache/tools/pylib
{
  node -v
  .venv/bin/python -c 'import torch, sys; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
  .venv/bin/python -c 'import numpy, safetensors; print("numpy", numpy.__version__, "safetensors", safetensors.__version__)'
  node scripts/libtorch.js json
  # cuda.emptyCache() looks this up at run time
  sym=$(nm -D --defined-only "$(node scripts/libtorch.js libdir)/libtorch_cuda.so" 2>&1 | grep clearCublasWorkspaces)
  echo "${sym:-clearCublasWorkspaces: not found}"
} >> "$OUT/env.txt" 2>&1

# node-gyp needs make; without it, cmake-js with Ninja (the image has CMake and ninja).
export JOBS=${JOBS:-12}
export npm_config_node_gyp=$PWD/node_modules/node-gyp/bin/node-gyp.js
if command -v make >/dev/null; then
  stamp "build (node-gyp, JOBS=$JOBS)"
  node scripts/build.js gyp > "$OUT/build.log" 2>&1
else
  stamp "build (no make: cmake-js + Ninja, JOBS=$JOBS)"
  CMAKE_GENERATOR=Ninja node scripts/build.js cmake > "$OUT/build.log" 2>&1 &&
    mkdir -p build/Release && cp build-cmake/Release/*.node build-cmake/Release/*.so build/Release/
fi
if [ $? -ne 0 ]; then stamp "build FAILED (tail of build.log follows)"; tail -40 "$OUT/build.log"; exit 1; fi
fi
stamp "built: $(node --import tsx -e "const m = require('./lib/index.ts'); console.log(JSON.stringify({ ...m.libtorchInfo(), cuda: m.cuda.isAvailable(), devices: m.cuda.deviceCount() }))" 2>&1 | tail -1)"

runtest() { # name [node --test options] files...
  local name=$1; shift
  stamp "$name"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" > "$OUT/$name.txt" 2>&1
  stamp "$name: exit $? ($(grep -E '^ℹ (pass|fail|skipped)' "$OUT/$name.txt" | tr '\n' ' '))"
}

want native-cuda && runtest test-native-cuda test/native/cuda.test.ts
if want matrix || want matrix-model || want matrix-cli || want aoti; then
  parts=model,cli; want matrix || { parts=; want matrix-model && parts=model; want matrix-cli && parts=${parts:+$parts,}cli; }
  want aoti && parts=${parts:+$parts,}aoti
  preset=gpu; [ "$DEVICE" = cpu ] && preset=cpu
  stamp "bench/gpu_matrix.ts ($parts, preset $preset, until +${BUDGET_S}s)"
  node --import tsx bench/gpu_matrix.ts --out "$OUT" --preset $preset --device "$DEVICE" --only $parts \
    --deadline $(( t0 + BUDGET_S )) > "$OUT/matrix.log" 2>&1
  stamp "matrix: exit $?"; [ -f "$OUT/matrix.txt" ] && cat "$OUT/matrix.txt" || tail -20 "$OUT/matrix.log"
fi
if want bench || want bench-precision; then
  stamp "bench/gpu.ts"
  parts=precision,throughput; want bench || parts=precision
  node --import tsx bench/gpu.ts --parts $parts --dtypes bfloat16 --out "$OUT/gpu.json" > "$OUT/bench.txt" 2>&1
  stamp "bench: exit $?"; grep -E '^(precision|throughput)' "$OUT/bench.txt" | cut -c1-300
fi
want api-cuda && runtest test-api-cuda test/api/vae_cuda.test.ts
want api-cuda-fast && runtest test-api-cuda --test-name-pattern='fast bundle' test/api/vae_cuda.test.ts
want native-core && runtest test-native-core test/native/tensor.test.ts test/native/module.test.ts test/native/errors.test.ts test/native/memory.test.ts
if want bench-fp32; then
  stamp "bench/gpu.ts throughput float32"
  node --import tsx bench/gpu.ts --parts throughput --dtypes float32 --repeat 1 --out "$OUT/gpu-fp32.json" >> "$OUT/bench.txt" 2>&1
  stamp "bench float32: exit $?"
fi
stamp "done"
