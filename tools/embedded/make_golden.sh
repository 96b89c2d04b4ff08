#!/bin/bash
# Golden frames for the C API and ARM64 tests: the trained ngf=8/2-block fixture compiled to int8
# and float32, two input frames (RGB24 and NV12 BT.601 limited, 24x20, from the fixture photo,
# converted by ffmpeg), and what this machine's dcd-run (the x86 build; its raw streams equal its
# PNG path, StreamAndFolderTests, which is tested against the reference executors and PyTorch)
# makes of them: plain, with --color-anchor (the per-channel anchor) and with --anchor-fit
# matrix (the colour-matrix one). The ARM64 build must reproduce the int8 outputs bit for bit
# and the float ones within the tolerance its test states.
#   apt-get install ffmpeg; swift build -c release; tools/embedded/make_golden.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=Tests/Fixtures/golden
BIN=.build/release
mkdir -p "$OUT"
"$BIN/dcd-compile" Tests/Fixtures/trained_ngf8_b2.pth --precision int8 --calibrate Tests/Fixtures -o "$OUT/trained8.int8.dcdm"
"$BIN/dcd-compile" Tests/Fixtures/trained_ngf8_b2.pth --precision float -o "$OUT/trained8.float.dcdm"
ffmpeg -loglevel error -y -i Tests/Fixtures/img_24x20.png -f rawvideo -pix_fmt rgb24 "$OUT/in.rgb24"
ffmpeg -loglevel error -y -i Tests/Fixtures/img_24x20.png -vf "scale=out_color_matrix=bt601:out_range=tv,format=nv12" -f rawvideo "$OUT/in.nv12"
for precision in int8 float; do
  for anchor in "" anchored matrix; do
    flags=()
    case $anchor in anchored) flags=(--color-anchor) ;; matrix) flags=(--anchor-fit matrix) ;; esac
    "$BIN/dcd-run" -m "$OUT/trained8.$precision.dcdm" --raw 24x20 --pix-fmt rgb24 --threads 1 "${flags[@]}" "$OUT/in.rgb24" \
      -o "$OUT/out.${anchor:+$anchor.}$precision.rgb24"
    "$BIN/dcd-run" -m "$OUT/trained8.$precision.dcdm" --raw 24x20 --pix-fmt nv12 --color-matrix bt601 --color-range limited --threads 1 \
      "${flags[@]}" "$OUT/in.nv12" -o "$OUT/out.${anchor:+$anchor.}$precision.nv12"
  done
done
ls -l "$OUT"
