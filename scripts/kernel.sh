#!/usr/bin/env bash
# Jupyter starts this for the "TypeScript (gpt-from-scratch)" kernel. tslab's compiler uses the
# kernel's working folder as rootDir, so we start it from the repo root: every notebook, whatever
# its folder, then imports the library as `./lib`. kernel-guard.cjs lets the notebook runner see
# errors that no cell awaited (see that file).
cd "$(dirname "$0")/.." || exit 1
exec node --require ./scripts/kernel-guard.cjs node_modules/tslab/bin/tslab kernel --config-path "$1"
