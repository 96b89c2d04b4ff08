#!/usr/bin/env python3
"""Fixtures for ColorAnchorTests: pairs of (rainy input, derained output) PNG crops and what
tools/rain/colour_fit.py's NumPy anchor() and matrix_anchor() make of them.

    python3 tools/make_anchor_fixtures.py NAME RAINY.png DERAINED.png X Y W H [NAME RAINY DERAINED X Y W H ...]
    python3 tools/make_anchor_fixtures.py --refit

writes Tests/Fixtures/anchor/NAME.rainy.png, NAME.derained.png (the W x H crops at X, Y),
NAME.expected.txt (per channel: gain R G B, offset R G B in pixel units, rainy share, quantile)
and NAME.matrix.txt (colour matrix: the rows of R, G and B, each the coefficients of R, G, B and
the offset in pixel units, then rainy share, quantile). Used with a light and a heavy test tile
of data/rain and their dcd-run outputs (lite supervised int8 model), at odd sizes so that the
sampling grid's last row and column are partial. --refit rewrites the .txt files from the
committed crops.
"""
import os, sys
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'rain'))
from colour_fit import anchor, matrix_anchor

OUT = os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures', 'anchor')


def write(name, values):
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(' '.join(repr(float(v)) for v in values) + '\n')
    print(name, ' '.join(f'{v:.6g}' for v in values))


def fit(name, rainy, derained):
    out, inp = derained / 255.0, rainy / 255.0
    lines, share, quantile = anchor(out, inp)
    write(f'{name}.expected.txt', [a for a, _ in lines] + [b * 255 for _, b in lines] + [share, quantile])
    rows, share, quantile = matrix_anchor(out, inp)
    write(f'{name}.matrix.txt', [v for row in rows for v in (*row[:3], row[3] * 255)] + [share, quantile])


def main():
    args = sys.argv[1:]
    if args == ['--refit']:
        for name in sorted({f.split('.')[0] for f in os.listdir(OUT) if f.endswith('.rainy.png')}):
            fit(name, *(np.asarray(Image.open(os.path.join(OUT, f'{name}.{s}.png')).convert('RGB'), np.float64) for s in ('rainy', 'derained')))
        return
    if not args or len(args) % 7:
        sys.exit(__doc__)
    os.makedirs(OUT, exist_ok=True)
    for i in range(0, len(args), 7):
        name, rainy_path, out_path = args[i:i + 3]
        x, y, w, h = map(int, args[i + 3:i + 7])
        crops = [np.asarray(Image.open(p).convert('RGB'))[y:y + h, x:x + w] for p in (rainy_path, out_path)]
        for suffix, crop in zip(('rainy', 'derained'), crops):
            Image.fromarray(crop).save(os.path.join(OUT, f'{name}.{suffix}.png'))
        fit(name, crops[0].astype(np.float64), crops[1].astype(np.float64))


if __name__ == '__main__':
    main()
