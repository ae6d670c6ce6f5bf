#!/usr/bin/env bash
# Builds editors/vscode/kpidsl.vsix from the packages pinned in package-lock.json; CI runs it
# through .ci/run before the tests, so tests/test_textmate.py finds vscode-tmgrammar-test.
# Exit 3 when the npm registry cannot be reached (nothing was built).
set -euo pipefail
cd "$(dirname "$0")"
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "npm ci failed: the npm registry may be out of reach" >&2
  exit 3
fi
npx --no-install vsce package --allow-missing-repository --skip-license -o kpidsl.vsix
