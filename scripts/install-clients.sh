#!/usr/bin/env bash
# Installs the real clients the gateway's tests drive (the openai and
# @anthropic-ai/sdk packages, Claude Code, Codex, OpenCode) at the versions
# pinned in gateway/realclients/testdata/clients/package-lock.json, into a
# cache directory outside the source tree, and prints that directory.
#
# The directory is $SWITCHYARD_CLIENTS_DIR, or
# ~/.cache/switchyard/clients/<first 12 hex of the lock file's SHA-256>, so a
# changed lock installs afresh and an unchanged one is a no-op. The Go tests
# compute the same path (gateway/realclients/clients_test.go).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/gateway/realclients/testdata/clients"
hash=$(sha256sum "$src/package-lock.json" | cut -c1-12)
dir=${SWITCHYARD_CLIENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/clients/$hash}
if [ "$(cat "$dir/.installed" 2>/dev/null)" = "$hash" ]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir"
cp "$src/package.json" "$src/package-lock.json" "$dir/"
echo "installing the pinned clients into $dir (once per lock file)" >&2
# npm install, not npm ci: opencode-ai lists its other platforms' binaries
# without versions, which npm ci's strict lock check refuses; install still
# takes every version from the lock.
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
for bin in claude codex opencode; do
  "$dir/node_modules/.bin/$bin" --version >/dev/null
done
echo "$hash" > "$dir/.installed"
echo "$dir"
