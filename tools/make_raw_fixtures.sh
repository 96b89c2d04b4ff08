#!/bin/bash
# Raw-frame fixtures for the YCbCr conversion tests (RawFrameTests), made by ffmpeg's swscale as
# the independent reference: a 128x64 RGB frame of 16x16 blocks of one colour each (the tests compare the chroma samples away from block edges, so that the subsampling filter and chroma siting
# do not matter), converted to nv12 and yuv420p with the BT.601 and
# BT.709 matrices in limited ("tv") and full ("pc") range, and each of those back to RGB.
#   apt-get install ffmpeg; tools/make_raw_fixtures.sh      (writes Tests/Fixtures/raw/)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=Tests/Fixtures/raw
mkdir -p "$OUT"
python3 - "$OUT/blocks_128x64.rgb24" <<'PY'
import sys, random
random.seed(7)
# 32 blocks: black, white, grays, primaries and secondaries at full and half strength, then random.
fixed = [(0,0,0),(255,255,255),(128,128,128),(64,64,64),(255,0,0),(0,255,0),(0,0,255),(255,255,0),
         (0,255,255),(255,0,255),(128,0,0),(0,128,0),(0,0,128),(224,172,140),(90,60,40),(16,235,128)]
colors = fixed + [tuple(random.randrange(256) for _ in range(3)) for _ in range(32 - len(fixed))]
w, h = 128, 64
frame = bytearray(w * h * 3)
for y in range(h):
    for x in range(w):
        c = colors[(y // 16) * (w // 16) + x // 16]
        frame[(y * w + x) * 3:(y * w + x) * 3 + 3] = bytes(c)
open(sys.argv[1], 'wb').write(frame)
PY
for fmt in nv12 yuv420p; do
  for matrix in bt601 bt709; do
    for range in limited full; do
      r=$([ $range = limited ] && echo tv || echo pc)
      ffmpeg -loglevel error -y -f rawvideo -pix_fmt rgb24 -s 128x64 -i "$OUT/blocks_128x64.rgb24" \
        -vf "scale=out_color_matrix=$matrix:out_range=$r:flags=accurate_rnd+full_chroma_int+bitexact,format=$fmt" \
        -f rawvideo "$OUT/blocks_128x64.$matrix.$range.$fmt"
      # And back: ffmpeg's RGB for that YCbCr frame (the reference for decoding).
      ffmpeg -loglevel error -y -f rawvideo -pix_fmt $fmt -s 128x64 -i "$OUT/blocks_128x64.$matrix.$range.$fmt" \
        -vf "scale=in_color_matrix=$matrix:in_range=$r:flags=accurate_rnd+full_chroma_int+bitexact,format=rgb24" \
        -f rawvideo "$OUT/blocks_128x64.$matrix.$range.$fmt.rgb24"
    done
  done
done
ls -l "$OUT"
