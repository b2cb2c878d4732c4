#!/usr/bin/env bash
# Fetch real photographs shipped in Debian packages and build the training
# image pool used by python/training/data (see python/training/DATA.md).
#
#   scripts/fetch-training-data.sh [--force] [--max-side N] [--update] [--drop-debs] [--list]
#
#   --force       rebuild the pool even when it is up to date
#   --max-side N  longest side of the pooled images (default 512)
#   --update      download the packages again (newer Debian versions)
#   --drop-debs   delete the downloaded .deb files once the pool is built
#   --list        print the Debian packages used and exit
#
# Idempotent: packages already in .cache/training-data/sources/deb are not
# downloaded again, and the pool is rebuilt only when the .debs, the source
# list or the builder changed.  Nothing here is committed (.cache/ is ignored).
# Needs apt-get (Debian/Ubuntu), python3 with numpy and Pillow.
# Environment: VIDEOVAE_TRAINING_CACHE (default <repo>/.cache/training-data),
# VIDEOVAE_TRAINING_POOL (default $VIDEOVAE_TRAINING_CACHE/pool), PYTHON.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VIDEOVAE_TRAINING_CACHE:-$ROOT/.cache/training-data}
DEBS=$CACHE/sources/deb
POOL=${VIDEOVAE_TRAINING_POOL:-$CACHE/pool}
MAX_SIDE=512
FORCE=0
UPDATE=0
DROP=0
LIST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --update) UPDATE=1 ;;
    --drop-debs) DROP=1 ;;
    --list) LIST=1 ;;
    --max-side) shift; MAX_SIDE=$1 ;;
    --max-side=*) MAX_SIDE=${1#*=} ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python3; fi
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"

PKGS=$("$PY" -c 'from training.data.sources import packages; print(" ".join(packages()))')
if [ "$LIST" = 1 ]; then echo "$PKGS" | tr ' ' '\n'; exit 0; fi

if ! "$PY" -c 'import PIL' 2>/dev/null; then
  echo "[fetch] installing Pillow" >&2
  "$PY" -m pip install --retries 0 --timeout 5 -r "$ROOT/python/training/requirements.txt" >&2
fi

mkdir -p "$DEBS"
need=()
for p in $PKGS; do
  if [ "$UPDATE" = 1 ] || ! compgen -G "$DEBS/${p}_*.deb" >/dev/null; then need+=("$p"); fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "[fetch] downloading ${#need[@]} package(s): ${need[*]}" >&2
  command -v apt-get >/dev/null || { echo "[fetch] apt-get not found (Debian/Ubuntu needed)" >&2; exit 1; }
  tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
  chmod 755 "$tmp"
  if ! (cd "$tmp" && apt-get download "${need[@]}" 2>&1 | grep -v 'unsandboxed' >&2); then :; fi
  missing=()
  for p in "${need[@]}"; do compgen -G "$tmp/${p}_*.deb" >/dev/null || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    echo "[fetch] apt-get update, then retrying: ${missing[*]}" >&2
    apt-get update -q >&2
    (cd "$tmp" && apt-get download "${missing[@]}" 2>&1 | grep -v 'unsandboxed' >&2) || true
  fi
  for p in "${need[@]}"; do
    if compgen -G "$tmp/${p}_*.deb" >/dev/null; then
      rm -f "$DEBS/${p}"_*.deb
      mv "$tmp/${p}"_*.deb "$DEBS/"
    else
      echo "[fetch] WARNING: could not download $p (its images are left out)" >&2
    fi
  done
  rm -rf "$tmp"
fi

# the pool is up to date when this stamp matches the one it was built with
stamp=$( { ls -l --time-style=+%s "$DEBS"/*.deb 2>/dev/null | awk '{print $5, $7}';
           cat "$ROOT/python/training/data/sources.py" "$ROOT/python/training/data/build_pool.py";
           echo "max_side=$MAX_SIDE"; } | sha256sum | cut -d' ' -f1)
if [ "$FORCE" = 0 ] && [ -f "$POOL/manifest.json" ] && [ "$(cat "$POOL/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "[fetch] pool up to date: $POOL" >&2
else
  echo "[fetch] building the image pool in $POOL (a few minutes)" >&2
  rm -f "$POOL/.stamp"
  "$PY" -m training.data.build_pool --debs "$DEBS" --out "$POOL" --max-side "$MAX_SIDE"
  echo "$stamp" > "$POOL/.stamp"
fi

if [ "$DROP" = 1 ]; then rm -f "$DEBS"/*.deb; echo "[fetch] .deb files removed" >&2; fi
"$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print("[fetch] pool:", m["count"], "images", m["counts"])' "$POOL/manifest.json" >&2
