#!/usr/bin/env bash
# The CUDA checks, on a lent GPU machine (PyTorch with CUDA there; no Node, no network), with
# what scripts/gpu/pack.sh put in .cache/gpu-carry. Builds the addon against that machine's
# PyTorch with node-gyp and runs, in order of importance, writing each result to $OUT as it goes:
#   1. env.txt                 GPU, driver, torch, compilers
#   2. build.log               node-gyp build against the CUDA libtorch
#   3. test-native-cuda.txt    test/native/cuda.test.ts (transfers, modules, TF32 off, memory)
#   4. gpu.json, bench.txt     bench/gpu.ts: default model precision per dtype; 720p bfloat16
#   5. test-api-cuda.txt       test/api/vae_cuda.test.ts (parity cases on cuda:0, fast, dtypes)
#   6. test-native-core.txt    the core tensor/module/error tests on the CUDA build (CPU paths)
#   7. gpu-fp32.json           720p in float32 (no TF32): slow (~470 TFLOP per encode), so last
# Usage (device): bash scripts/gpu/check.sh [STEP...]   Budget: about 8 minutes on 16 cores.
#   STEP (default all): native-cuda bench api-cuda native-core bench-fp32, or quick (build, the
#   native tests, the fast-bundle CUDA test and the precision bench: about 3 minutes)
set -uo pipefail
cd "$(dirname "$0")/../.."
steps=" ${*:-native-cuda bench api-cuda native-core bench-fp32} "
[ "$steps" = " quick " ] && steps=" native-cuda native-core api-cuda-fast bench-precision "
want() { [[ "$steps" == *" $1 "* ]]; }
OUT=${OUT:-$PWD/.cache/gpu-out}
mkdir -p "$OUT"
carry=.cache/gpu-carry
t0=$(date +%s)
# Steps go to stdout and env.txt (the run tool brings back at most 8 files).
stamp() { echo "[check +$(( $(date +%s) - t0 ))s] $*" | tee -a "$OUT/env.txt"; }

stamp "env"
{
  nvidia-smi 2>&1 | head -15
  for tool in python3 python g++ make cmake nvcc; do printf '%s: %s\n' "$tool" "$(command -v $tool || echo missing)"; done
  g++ --version 2>&1 | head -1
  ldd --version 2>&1 | head -1
  cat /etc/os-release 2>/dev/null | grep PRETTY
} >> "$OUT/env.txt" 2>&1

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
stamp "built: $(node --import tsx -e "const m = require('./lib/index.ts'); console.log(JSON.stringify({ ...m.libtorchInfo(), cuda: m.cuda.isAvailable(), devices: m.cuda.deviceCount() }))" 2>&1 | tail -1)"

runtest() { # name [node --test options] files...
  local name=$1; shift
  stamp "$name"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" > "$OUT/$name.txt" 2>&1
  stamp "$name: exit $? ($(grep -E '^ℹ (pass|fail|skipped)' "$OUT/$name.txt" | tr '\n' ' '))"
}

want native-cuda && runtest test-native-cuda test/native/cuda.test.ts
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
