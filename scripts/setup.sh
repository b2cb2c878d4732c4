#!/usr/bin/env bash
# Idempotent setup of a fresh machine: system packages, the Python venv (build-time tools),
# npm dependencies and the native addon. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. System packages (Debian). Only what is missing; needs root or sudo.
need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
command -v g++ >/dev/null || need_apt+=(g++)
command -v make >/dev/null || need_apt+=(make)  # node-gyp's generator
command -v patchelf >/dev/null || need_apt+=(patchelf)  # npm run prebuild (the pack-install test)
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v redis-server >/dev/null || need_apt+=(redis-server)  # the queue tests (batch --queue, worker)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)  # the --report page test (headless, offline)
# SentencePiece C++ library: the caption tokenizer inside the addon.
[ -f /usr/include/sentencepiece_processor.h ] || [ -n "${SENTENCEPIECE_DIR:-}" ] || need_apt+=(libsentencepiece-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. Python venv with torch (libtorch comes with it). Re-installed when requirements change.
req_hash=$(sha256sum python/requirements.txt | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.req-hash 2>/dev/null)" != "$req_hash" ]; then
  log "creating .venv (torch, numpy, safetensors, ...)"
  python3 -m venv .venv
  .venv/bin/pip install -q --retries 0 --timeout 5 -r python/requirements.txt
  echo "$req_hash" > .venv/.req-hash
fi

# 3. npm dependencies (without running our own install script: the build is step 4).
lock_hash=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -d node_modules ] || [ "$(cat node_modules/.deps-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "npm install"
  npm install --ignore-scripts --no-audit --no-fund
  echo "$lock_hash" > node_modules/.deps-hash
fi

# 4. Native addon and TypeScript build.
log "building"
npm run --silent build
