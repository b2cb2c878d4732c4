#!/usr/bin/env bash
# bench/vae.ts's Node figures before and after, on this machine in one run: builds the addon of
# an older commit in a copy outside this checkout and runs bench/compare_run.ts on that copy (A)
# and on this checkout (B, as it is: build it first), alternately. > 1.00x: B is faster.
#
#   bash bench/compare_refs.sh OLD_REF [compare_run.ts options...]
#   e.g. bash bench/compare_refs.sh HEAD~1 --configs ch32-smoke --rounds 3
#        bash bench/compare_refs.sh main@{1} --configs ch32-256,full-128 --rounds 5
#
# The copy (/tmp/videovae-ref-<sha>, kept for later runs; COPY_DIR overrides) is `git archive`d
# (no git worktree: the repository's worktree list stays as it is), shares this checkout's
# node_modules, .venv and .cache through symlinks, and starts from a copy of build/ so that only
# what differs between OLD_REF and this checkout recompiles (JOBS, default 1, parallel jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: bash bench/compare_refs.sh OLD_REF [compare_run.ts options...]}
shift
sha=$(git rev-parse --verify "$ref^{commit}")
copy=${COPY_DIR:-/tmp/videovae-ref-${sha:0:12}}
[ -f build/Release/videovae.node ] || { echo "compare_refs: build this checkout first (npm run build:gyp)" >&2; exit 1; }

# The libtorch this checkout's objects were compiled against: the copy must use the same one,
# spelled the same way, or every object's recorded command line differs and all recompile.
libdir=$(grep -rhoE -- "-DVIDEOVAE_TORCH_LIBDIR=\"[^\"]+\"" build/Release/.deps 2>/dev/null | head -1 | sed -E 's/.*="([^"]+)"/\1/')
export LIBTORCH=${LIBTORCH:-$(dirname "${libdir:?compare_refs: no compiled object records its libtorch (build/Release/.deps)}")}

if [ ! -f "$copy/.compare-ref" ] || [ "$(cat "$copy/.compare-ref")" != "$sha" ]; then
  rm -rf "$copy" && mkdir -p "$copy"
  git archive "$sha" | tar -x -C "$copy"
  for shared in .venv .cache; do ln -s "$(readlink -f "$shared")" "$copy/$shared"; done
  # node_modules: a link per package, and node-addon-api's headers where the recorded compile
  # commands find them relative to build/ (gyp writes that path relative, from its real path).
  mkdir "$copy/node_modules"
  for pkg in node_modules/* node_modules/.bin; do ln -s "$(readlink -f "$pkg")" "$copy/$pkg"; done
  rel=$(grep -rhoE -- "-I[^ ]*node-addon-api" build/Release/.deps | head -1 | sed 's/^-I//')
  headers=$(realpath -m "$copy/build/${rel:-../node_modules/node-addon-api}")
  rm "$copy/node_modules/node-addon-api"
  mkdir -p "$(dirname "$headers")" && cp -a "$(readlink -f node_modules/node-addon-api)/." "$headers/"
  [ "$headers" = "$copy/node_modules/node-addon-api" ] || ln -s "$headers" "$copy/node_modules/node-addon-api"
  cp -a build "$copy/build"
  rm -f "$copy/build/Makefile"  # configured anew for the copy's directory (objects are kept)
  # Objects as new as now, then what differs between the refs newer still, so make rebuilds
  # exactly that (and whatever includes a changed header, through the recorded dependencies).
  find "$copy/build" -type f -exec touch {} +
  later=$(( $(date +%s) + 2 ))
  git diff --name-only "$sha" -- cpp binding.gyp | while read -r f; do
    [ -e "$copy/$f" ] && touch -d "@$later" "$copy/$f"
  done
  echo "$sha" > "$copy/.compare-ref"
fi
echo "[compare_refs] A = $ref ($sha) in $copy; B = $(git rev-parse --short HEAD)$(git diff --quiet -- cpp lib binding.gyp || echo ' + uncommitted changes') in $PWD"
(cd "$copy" && JOBS=${JOBS:-1} node scripts/build.js gyp > "$copy/build.log" 2>&1) || { tail -30 "$copy/build.log"; exit 1; }
echo "[compare_refs] A built: $(grep -c 'CXX(target)' "$copy/build.log" || true) file(s) recompiled"
node --import tsx bench/compare_run.ts --a "$copy" --b "$PWD" "$@"
