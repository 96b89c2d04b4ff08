#!/usr/bin/env python3
"""Contact sheets for models/README.md: what a run's report shows and what a model does to the
held-out test tiles, as one small PNG each.

  samples  RUN OUT.png [--last N]
      the last N sample grids of a dcd-train run (RUN/samples/step_*.png: real_A | fake_B |
      real_B | fake_A), one per row, each labelled with its step on the left
  test     OUT.png DIR... [--names a.png,b.png] [--scale S]
      the same test tiles from each folder side by side (e.g. rainy, derained, anchored,
      clean), one tile per row, scaled by S

Needs Pillow (tools/rain/install_photos.sh makes /tmp/dcd-rain-venv with it).
"""
import argparse
import glob
import os
import re

from PIL import Image, ImageDraw

LABEL = 64  # pixels of the step label column


def samples(run, out, last):
    files = sorted(glob.glob(os.path.join(run, 'samples', 'step_*.png')))[-last:]
    if not files:
        raise SystemExit(f'{run}/samples: no sample grids')
    grids = [Image.open(f).convert('RGB') for f in files]
    width = max(g.width for g in grids)
    sheet = Image.new('RGB', (LABEL + width, sum(g.height for g in grids)), 'white')
    draw, y = ImageDraw.Draw(sheet), 0
    for f, g in zip(files, grids):
        step = int(re.search(r'step_(\d+)', f).group(1))
        draw.text((4, y + g.height // 2 - 6), f'{step}', fill='black')
        sheet.paste(g, (LABEL, y))
        y += g.height
    sheet.save(out, optimize=True)


def test(out, dirs, names, scale):
    if not names:
        names = sorted(n for n in os.listdir(dirs[0]) if n.endswith('.png'))[:4]
    rows = []
    for name in names:
        tiles = [Image.open(os.path.join(d, name)).convert('RGB') for d in dirs]
        rows.append([t.resize((int(t.width * scale), int(t.height * scale)), Image.LANCZOS) for t in tiles])
    w, h = rows[0][0].size
    sheet = Image.new('RGB', (w * len(dirs), h * len(rows)), 'white')
    for r, tiles in enumerate(rows):
        for c, t in enumerate(tiles):
            sheet.paste(t, (c * w, r * h))
    sheet.save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='what', required=True)
    s = sub.add_parser('samples')
    s.add_argument('run')
    s.add_argument('out')
    s.add_argument('--last', type=int, default=6)
    t = sub.add_parser('test')
    t.add_argument('out')
    t.add_argument('dirs', nargs='+')
    t.add_argument('--names', default='')
    t.add_argument('--scale', type=float, default=0.5)
    a = ap.parse_args()
    if a.what == 'samples':
        samples(a.run, a.out, a.last)
    else:
        test(a.out, a.dirs, [n for n in a.names.split(',') if n], a.scale)


if __name__ == '__main__':
    main()
