#!/usr/bin/env bash
# Scores a trained generator on the held-out rain test sets: compiles it to float and int8 (int8
# calibrated on the rainy training tiles), derains data/rain/test/{light,heavy}/rainy with both,
# and prints dcd-eval's mean PSNR/SSIM (Y) of the rainy input and of the float and the int8 model,
# each without and with dcd-run --color-anchor (whatever the checkpoint asks for by default).
#   tools/eval_checkpoint.sh CHECKPOINT [BIN_DIR (.build/release)] [DATA (data/rain)] [WORK (/tmp/dcd-eval-<name>)]
set -euo pipefail
CKPT=$1; BIN=${2:-.build/release}; DATA=${3:-data/rain}
WORK=${4:-/tmp/dcd-eval-$(basename "$(dirname "$CKPT")")}
mkdir -p "$WORK"
"$BIN/dcd-compile" "$CKPT" --precision float -o "$WORK/float.dcdm" >/dev/null
"$BIN/dcd-compile" "$CKPT" --precision int8 --calibrate "$DATA/trainA" -o "$WORK/int8.dcdm" >/dev/null
echo "| rain | model | PSNR Y | SSIM Y | PSNR RGB | SSIM RGB |"
echo "|---|---|---|---|---|---|"
for strength in light heavy; do
  row() { "$BIN/dcd-eval" "$DATA/test/$strength/clean" "$1" --json | awk -v s="$strength" -v m="$2" -F'[:,}]' '/"mean"/ {
      for (i = 1; i <= NF; i++) { gsub(/[ "{]/, "", $i) } printf "| %s | %s | %.2f | %.4f | %.2f | %.4f |\n", s, m, $3, $5, $7, $9 }'; }
  row "$DATA/test/$strength/rainy" "rainy input"
  for run in float int8 float-anchored int8-anchored; do
    rm -rf "$WORK/$strength-$run"; mkdir -p "$WORK/$strength-$run"
    flag=--no-color-anchor; [ "${run%-anchored}" = "$run" ] || flag=--color-anchor
    "$BIN/dcd-run" --model "$WORK/${run%-anchored}.dcdm" $flag "$DATA/test/$strength/rainy" -o "$WORK/$strength-$run" >/dev/null 2>&1
    row "$WORK/$strength-$run" "${run/-anchored/ --color-anchor}"
  done
done
