#!/usr/bin/env bash
# Trains, or resumes where they stopped, the runs behind the shipped models: the lite DCD-GAN with
# the training-time colour anchor (runs/lite-anchor), the lite DCD-GAN of the reference objective
# (runs/lite), their supervised L1 baselines (runs/lite-supervised-anchor, runs/lite-supervised),
# the larger anchored DCD-GAN (runs/large), and the continuations of runs/lite-anchor and
# runs/large (lite-anchor-14k, lite-anchor-20k, lite-anchor-30k, large-11k, large-17k) and its supervised
# baseline (large-supervised-anchor, continued as large-supervised-anchor-30k). Names the runs to train (default:
# all, one after another); THREADS sets
# dcd-train --threads (default: every core), so two runs can share a 2-core machine:
#   THREADS=1 nohup tools/train_models.sh .build/release lite > runs/lite.log 2>&1 &
#   THREADS=1 nohup tools/train_models.sh .build/release lite-supervised > runs/lite-supervised.log 2>&1 &
# Kill it at any moment; run it again to continue (each run resumes from its latest checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release}; shift || true
RUNS=("$@"); [ ${#RUNS[@]} -gt 0 ] || RUNS=(lite-anchor lite-anchor-14k lite-anchor-20k lite-anchor-30k lite lite-supervised-anchor lite-supervised large large-11k large-17k large-supervised-anchor large-supervised-anchor-30k)
DATA=data/rain
[ -d "$DATA/trainA" ] || { echo "$DATA: missing (tools/rain/install_photos.sh, then tools/rain/make_dataset.py --out $DATA)" >&2; exit 2; }
mkdir -p runs
threads=(); [ -z "${THREADS:-}" ] || threads=(--threads "$THREADS")
train() {  # out, then dcd-train flags
  local out=$1; shift
  if [ -e "$out/latest_training_state.safetensors" ] || [ -d "$out/snapshots" ]; then
    "$BIN/dcd-train" --out "$out" --resume "${threads[@]}" "$@"
  else
    "$BIN/dcd-train" --out "$out" "${threads[@]}" "$@"
  fi
}
# A continuation's first start: a copy of its parent run's snapshot at `step` (the parent
# trained first if it lacks it) becomes the new run's only checkpoint.
fork() {  # run, parent run, step
  local snapshot; snapshot=$(printf 'step_%08d' "$3")
  [ ! -d "runs/$1" ] || return 0
  [ -e "runs/$2/snapshots/$snapshot" ] || "$0" "$BIN" "$2"
  mkdir -p "runs/$1/snapshots" && cp -r "runs/$2/snapshots/$snapshot" "runs/$1/snapshots/"
}
common=(--crop 128 --load-size 144 --save-every 500 --sample-every 500 --seed 1)
# The DCD-GAN runs raise the reference's identity weight and learning rate to CycleGAN's (identity
# 5, lr 2e-4) and keep its objective otherwise (no cycle term): see models/README.md for why.
gan=(--rainy $DATA/trainA --clean $DATA/trainB --lr 2e-4 --lambda-idt 5)
large_supervised=(--supervised --color-anchor --rainy $DATA/trainA --clean $DATA/trainA_clean --ngf 24 --n-blocks 6 "${common[@]}")
for run in "${RUNS[@]}"; do
  case $run in
    # runs/lite began on a 30000-step schedule (decay over the last 15000) and was cut at step
    # 5500 to 15000 steps so that it would finish within one stop: from step 5501 the learning
    # rates fall linearly from 0.63x to 0. --stop-at replays the cut (a no-op past step 5500).
    # runs/lite-anchor began as runs/lite did (30000 steps, decay over the last 15000) and was
    # cut at step 2500 to 7000 steps decaying over the last 4500: from step 2501 the rates fall
    # linearly from 1x to 0.
    lite-anchor) train runs/lite-anchor "${gan[@]}" --color-anchor --ngf 16 --n-blocks 4 --ndf 16 --steps 30000 --decay-steps 15000 --stop-at 2500 "${common[@]}"
      train runs/lite-anchor "${gan[@]}" --color-anchor --ngf 16 --n-blocks 4 --ndf 16 --steps 7000 --decay-steps 4500 "${common[@]}" ;;
    # The continuations of runs/lite-anchor, whose scores were still rising when its rates reached
    # 0 at step 7000: a copy of its step-7000 state trained on, the rates restarted at 1x and
    # decaying linearly to 0 over the remaining steps (a warm restart): to 14000 steps, and to 20000.
    lite-anchor-14k|lite-anchor-20k)
      total=${run#lite-anchor-}; total=$(( ${total%k} * 1000 ))
      fork $run lite-anchor 7000
      train runs/$run "${gan[@]}" --color-anchor --ngf 16 --n-blocks 4 --ndf 16 --steps $total --decay-steps $(( total - 7000 )) "${common[@]}" ;;
    # runs/lite-anchor-20k trained on: its step-20000 state with the rates restarted at half
    # the peak (--lr 1e-4, a gentler warm restart than the 1x ones above) and decaying linearly
    # to 0 over 10000 steps.
    lite-anchor-30k)
      fork lite-anchor-30k lite-anchor-20k 20000
      train runs/lite-anchor-30k --rainy $DATA/trainA --clean $DATA/trainB --lr 1e-4 --lambda-idt 5 --color-anchor --ngf 16 --n-blocks 4 --ndf 16 \
        --steps 30000 --decay-steps 10000 "${common[@]}" ;;
    lite) train runs/lite "${gan[@]}" --ngf 16 --n-blocks 4 --ndf 16 --steps 30000 --decay-steps 15000 --stop-at 5500 "${common[@]}"
      train runs/lite "${gan[@]}" --ngf 16 --n-blocks 4 --ndf 16 --steps 15000 "${common[@]}" ;;
    lite-supervised-anchor) train runs/lite-supervised-anchor --supervised --color-anchor --rainy $DATA/trainA --clean $DATA/trainA_clean \
      --ngf 16 --n-blocks 4 --steps 20000 --decay-steps 10000 "${common[@]}" ;;
    lite-supervised) train runs/lite-supervised --supervised --rainy $DATA/trainA --clean $DATA/trainA_clean --ngf 16 --n-blocks 4 \
      --steps 20000 --decay-steps 10000 "${common[@]}" ;;
    # ngf=24 with 6 blocks is ~2.8x the lite generator's MACs. A run must finish within one
    # session here (runs/ does not outlive it): 4000 steps, decaying over the last 2000, fit
    # beside the lite runs (ngf=32/6 blocks would be ~5x).
    large) train runs/large "${gan[@]}" --color-anchor --ngf 24 --n-blocks 6 --ndf 24 --steps 4000 --decay-steps 2000 "${common[@]}" ;;
    # runs/large's continuation, as lite-anchor-20k's: its step-4000 state trained on with the
    # rates restarted at 1x. Begun as a 16000-step run decaying over the last 8000 (2.5 hours on
    # 2 cores) and cut to fit the session at hand: at step 5000 to 9000 steps decaying over the
    # last 4000, then at step 5500 to 11000 steps decaying over the last 6000 (the rates fall
    # linearly from 1x at step 5001 to 0.88x at step 5500, then from 0.92x to 0 at step 11000).
    large-11k)
      fork large-11k large 4000
      large=("${gan[@]}" --color-anchor --ngf 24 --n-blocks 6 --ndf 24 "${common[@]}")
      train runs/large-11k "${large[@]}" --steps 16000 --decay-steps 8000 --stop-at 5000
      train runs/large-11k "${large[@]}" --steps 9000 --decay-steps 4000 --stop-at 5500
      train runs/large-11k "${large[@]}" --steps 11000 --decay-steps 6000 ;;
    # runs/large-11k trained on as lite-anchor-20k was from lite-anchor: its step-11000 state with
    # the rates restarted at 1x. Begun as 24000 steps decaying linearly to 0 over the last 13000
    # (about 2.7 hours on 2 cores), cut at step 11500 to 17500 steps decaying over the last 6500
    # so that it finishes within one session (from step 11501 the rates fall from 0.92x to 0).
    large-17k)
      fork large-17k large-11k 11000
      large=("${gan[@]}" --color-anchor --ngf 24 --n-blocks 6 --ndf 24 "${common[@]}")
      train runs/large-17k "${large[@]}" --steps 24000 --decay-steps 13000 --stop-at 11500
      train runs/large-17k "${large[@]}" --steps 17500 --decay-steps 6500 ;;
    # The supervised L1 baseline of the large DCD-GAN's size, as runs/lite-supervised-anchor.
    large-supervised-anchor) train runs/large-supervised-anchor "${large_supervised[@]}" --steps 20000 --decay-steps 10000 ;;
    # runs/large-supervised-anchor's step-20000 state trained on as lite-anchor-30k was: the rate
    # restarted at half the peak (5e-5) and falling linearly to 0 over 10000 steps.
    large-supervised-anchor-30k)
      fork large-supervised-anchor-30k large-supervised-anchor 20000
      train runs/large-supervised-anchor-30k "${large_supervised[@]}" --lr 5e-5 --steps 30000 --decay-steps 10000 ;;
    *) echo "unknown run '$run' (lite-anchor, lite-anchor-14k, lite-anchor-20k, lite-anchor-30k, lite, lite-supervised-anchor, lite-supervised, large, large-11k, large-17k, large-supervised-anchor, large-supervised-anchor-30k)" >&2; exit 64 ;;
  esac
done
