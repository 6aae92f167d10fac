#!/usr/bin/env bash
# testvectors/ is a byte-for-byte copy of the shared corpus of public attestation and protocol
# test vectors (real hardware evidence, RFC examples; provenance and licences in
# testvectors/README.md), vendored so that the tests run from any checkout, CI included.
# This script refreshes the copy from the shared corpus, or with --check only compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
source="${1:-../shared/testvectors}"
if [ "$source" = "--check" ]; then
  diff -r "${2:-../shared/testvectors}" testvectors && echo "testvectors/ matches the shared corpus"
  exit
fi
rm -rf testvectors
cp -a "$source" testvectors
echo "testvectors/ refreshed from $source"
