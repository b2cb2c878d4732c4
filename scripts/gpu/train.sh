#!/usr/bin/env bash
# Runs on a lent GPU machine (PyTorch there; see scripts/gpu/pack.sh for the CUDA checks): trains
# the default model from a committed bundle for MINUTES, then writes the final weights (fp32, no
# optimizer state) to $OUT in 15 MiB parts (the run tool brings back files of 16 MiB at most),
# with the log and train.csv. Prepare here first:
#   PYTHONPATH=python .venv/bin/python -m training.data.subset_pool --out .cache/gpu-pool --budget-mib 31
# then: run carry [".cache/gpu-pool"], command "bash scripts/gpu/train.sh 8 [train.py options]".
# Back here: cat weights.pt.part-* > ckpt.pt; python -m training.export_default --checkpoint ckpt.pt
# Usage: scripts/gpu/train.sh MINUTES [training.train options]
# Starts from python/training/resume-point (unshipped progress) when it exists, else from the
# shipped assets/default-bundle; INIT_BUNDLE=DIR overrides.
set -uo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:?minutes}; shift
out=${OUT:-/tmp/gpu-train-out}
run=/tmp/gpu-train-run
mkdir -p "$out"
export PYTHONPATH=$PWD/python PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
if [ -z "${INIT_BUNDLE:-}" ]; then
  INIT_BUNDLE=assets/default-bundle
  [ -f python/training/resume-point/resume.json ] && INIT_BUNDLE=python/training/resume-point
fi
rm -rf "$run"
"$python" -m training.train --out "$run" --config small-gn4-t48 --resume \
  --init-bundle "$INIT_BUNDLE" --pool .cache/gpu-pool \
  --device "${DEVICE:-cuda}" --workers "${WORKERS:-14}" --bf16 --minutes "$minutes" \
  --fit-decay-to-deadline --schedule cosine --eval-minutes 0 --checkpoint-minutes 1000 \
  --print-every 100 "$@" 2>&1 | tee "$out/train.log"
status=${PIPESTATUS[0]}
# weights only: the optimizer state would triple what has to come back
"$python" - "$run/checkpoint.pt" /tmp/gpu-train-weights.pt <<'PY' || exit 1
import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
ck["optimizer"] = None
torch.save(ck, sys.argv[2])
print("weights at step", ck["state"]["step"])
PY
split -b 15M -d /tmp/gpu-train-weights.pt "$out/weights.pt.part-"
sha256sum /tmp/gpu-train-weights.pt | cut -d' ' -f1 > "$out/weights.sha256"
gzip -c "$run/train.csv" > "$out/train.csv.gz"
cp "$run/settings.json" "$out/"
ls -la "$out"
exit "$status"
