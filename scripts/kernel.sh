#!/usr/bin/env bash
# Jupyter starts this for the "TypeScript (gpt-from-scratch)" kernel. tslab's compiler uses the
# kernel's working folder as rootDir, so we start it from the repo root: every notebook, whatever
# its folder, then imports the library as `./lib`.
cd "$(dirname "$0")/.." || exit 1
exec node node_modules/tslab/bin/tslab kernel --config-path "$1"
