#!/usr/bin/env bash
# The main job on a fresh machine: set everything up, then reconstruct the shipped sample clip
# with the embedded default model, write the reconstruction and print its PSNR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p demo
node bin/videovae.js reconstruct assets/sample/dandelions_256.mp4 -o demo/dandelions_reconstructed.mp4 "$@"
