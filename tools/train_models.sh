#!/usr/bin/env bash
# Trains, or resumes where they stopped, the runs behind the shipped models, one after another
# (each uses every core): the lite DCD-GAN, its supervised L1 baseline, then the larger DCD-GAN.
# Kill it at any moment; run it again to continue (each run resumes from its latest checkpoint).
#   nohup tools/train_models.sh [BIN_DIR (.build/release)] > runs/train_models.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}
DATA=data/rain
[ -d "$DATA/trainA" ] || { echo "$DATA: missing (tools/rain/install_photos.sh, then tools/rain/make_dataset.py --out $DATA)" >&2; exit 2; }
mkdir -p runs
train() {  # out, then dcd-train flags
  local out=$1; shift
  if [ -e "$out/latest_training_state.safetensors" ] || [ -d "$out/snapshots" ]; then
    "$BIN/dcd-train" --out "$out" --resume "$@"
  else
    "$BIN/dcd-train" --out "$out" "$@"
  fi
}
common=(--crop 128 --load-size 144 --save-every 500 --sample-every 500 --seed 1)
train runs/lite --rainy $DATA/trainA --clean $DATA/trainB --ngf 16 --n-blocks 4 --ndf 16 \
  --steps 20000 --decay-steps 10000 "${common[@]}"
train runs/lite-supervised --supervised --rainy $DATA/trainA --clean $DATA/trainA_clean --ngf 16 --n-blocks 4 \
  --steps 20000 --decay-steps 10000 "${common[@]}"
train runs/large --rainy $DATA/trainA --clean $DATA/trainB --ngf 32 --n-blocks 6 --ndf 32 \
  --steps 20000 --decay-steps 10000 "${common[@]}"
