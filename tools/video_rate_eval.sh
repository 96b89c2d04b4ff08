#!/bin/bash
# Video-rate mode (dcd-run --reuse-statistics T): what reusing a key frame's InstanceNorm
# statistics saves and what it costs, on two camera-like streams of 90 640x480 nv12 frames cut
# from the sample photo (upscaled 4x) with temporal sensor noise: "static" (a fixed camera) and
# "pan" (the window moving 4 px per frame).
# Prints frames per second and the PSNR (Y, by ffmpeg) of each mode's output against the
# exact output (every frame with its own statistics).
#   apt-get install ffmpeg; swift build -c release; tools/video_rate_eval.sh MODEL.dcdm [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1
THREADS=${2:-2}
RUN=${DCD_RUN:-.build/release/dcd-run}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for scene in static pan; do
speed=$([ $scene = pan ] && echo 4 || echo 0)
echo "$scene:"
ffmpeg -loglevel error -y -loop 1 -i models/sample-rainy.png -vf "scale=1280:-2,crop=640:480:x='n*$speed':y=40,noise=alls=6:allf=t,format=nv12" \
  -frames:v 90 -f rawvideo "$T/in.nv12"
"$RUN" -m "$MODEL" --raw 640x480 --pix-fmt nv12 --threads "$THREADS" "$T/in.nv12" -o "$T/exact.nv12" 2> "$T/exact.log"
echo "  exact:     $(tail -1 "$T/exact.log" | sed 's/^dcd-run: //')"
for threshold in 0.5 1 2 4 8; do
  "$RUN" -m "$MODEL" --raw 640x480 --pix-fmt nv12 --threads "$THREADS" --reuse-statistics $threshold "$T/in.nv12" -o "$T/reuse.nv12" 2> "$T/reuse.log"
  psnr=$(ffmpeg -loglevel info -f rawvideo -pix_fmt nv12 -s 640x480 -i "$T/reuse.nv12" -f rawvideo -pix_fmt nv12 -s 640x480 -i "$T/exact.nv12" \
    -lavfi "psnr" -f null - 2>&1 | grep -o 'y:[0-9.inf]*' | head -1)
  echo "  reuse $threshold: $(tail -1 "$T/reuse.log" | sed 's/^dcd-run: //'); PSNR vs exact $psnr dB"
done
done
