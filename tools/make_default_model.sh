#!/usr/bin/env bash
# Builds models/default.dcdm and models/sample-rainy.png.
#
# Until dcd-train ships a trained deraining model, the default model is an ngf=16, n_blocks=4
# generator with PyTorch's seeded default initialisation: it exercises the whole pipeline
# (PyTorch checkpoint -> dcd-compile -> dcd-run) but does not remove rain.
#
# Needs PyTorch in a throwaway venv: PYTHON=/tmp/torchvenv/bin/python tools/make_default_model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/tmp/torchvenv/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$PYTHON" tools/make_fixtures.py --out "$scratch/fixtures" --default-model "$scratch"
swift build -c release --product dcd-compile
.build/release/dcd-compile "$scratch/default-weights.pth" -o models/default.dcdm --precision float
cp "$scratch/sample-rainy.png" models/sample-rainy.png
sha256sum models/default.dcdm
