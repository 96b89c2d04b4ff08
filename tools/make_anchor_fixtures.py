#!/usr/bin/env python3
"""Fixtures for ColorAnchorTests: pairs of (rainy input, derained output) PNG crops and what
tools/rain/colour_fit.py's NumPy anchor() makes of them.

    python3 tools/make_anchor_fixtures.py NAME RAINY.png DERAINED.png X Y W H [NAME RAINY DERAINED X Y W H ...]

writes Tests/Fixtures/anchor/NAME.rainy.png, NAME.derained.png (the W x H crops at X, Y) and
NAME.expected.txt: gain R G B, offset R G B (pixel units), rainy share, quantile. Used with a
light and a heavy test tile of data/rain and their dcd-run outputs (lite supervised int8 model),
at odd sizes so that the sampling grid's last row and column are partial.
"""
import os, sys
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'rain'))
from colour_fit import anchor

OUT = os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures', 'anchor')


def main():
    args = sys.argv[1:]
    if not args or len(args) % 7:
        sys.exit(__doc__)
    os.makedirs(OUT, exist_ok=True)
    for i in range(0, len(args), 7):
        name, rainy_path, out_path = args[i:i + 3]
        x, y, w, h = map(int, args[i + 3:i + 7])
        crops = [np.asarray(Image.open(p).convert('RGB'))[y:y + h, x:x + w] for p in (rainy_path, out_path)]
        for suffix, crop in zip(('rainy', 'derained'), crops):
            Image.fromarray(crop).save(os.path.join(OUT, f'{name}.{suffix}.png'))
        lines, share, quantile = anchor(crops[1] / 255.0, crops[0] / 255.0)
        values = [a for a, _ in lines] + [b * 255 for _, b in lines] + [share, quantile]
        with open(os.path.join(OUT, f'{name}.expected.txt'), 'w') as f:
            f.write(' '.join(repr(float(v)) for v in values) + '\n')
        print(name, ' '.join(f'{v:.6g}' for v in values))


if __name__ == '__main__':
    main()
