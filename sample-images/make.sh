#!/usr/bin/env bash
# Rebuild the sample images (demo.tar, demo-oci/, demo.oci.tar) with the local
# Docker engine and skopeo. See README.md beside this script.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 sample-images/build.py "$@"
