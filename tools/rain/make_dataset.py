#!/usr/bin/env python3
"""Builds the rain data set from the photos listed in tools/rain/photos.txt (installed by
tools/rain/install_photos.sh):

  OUT/trainA/        rainy 144 x 144 tiles (2/3 light, 1/3 heavy rain), for dcd-train --rainy
  OUT/trainB/        clean tiles from other places of the training photos, for --clean (unpaired)
  OUT/trainA_clean/  the clean originals of trainA, same names (the supervised baseline's targets)
  OUT/test/light/{rainy,clean}/, OUT/test/heavy/{rainy,clean}/
                     320 x 240 tiles of the test photos, paired, for dcd-eval

Training photos are tiled at three scales (widths 800, 1100, 1400 px); tiles alternate between
trainA and trainB, so the two domains never show the same place. Test photos are scaled to 960 px
wide and cut into six 320 x 240 tiles. Seeded: the same --seed gives the same files.

    python3 tools/rain/make_dataset.py --out data/rain [--seed 1]
"""
import argparse, glob, os, shutil, sys
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from synthesize_rain import add_rain, save, seed_for

TILE = 144
TEST_TILE = (320, 240)


def photo_path(entry):
    path = os.path.join('/usr/share', entry)
    if os.path.isfile(path):
        return path
    best = None
    for f in glob.glob(os.path.join(path, 'contents', 'images', '*')):
        w, h = Image.open(f).size
        if w >= h and (best is None or w * h > best[1]):
            best = (f, w * h)
    if best is None:
        sys.exit(f'{path}: no landscape image (run tools/rain/install_photos.sh)')
    return best[0]


def scaled(image, width):
    h = round(image.height * width / image.width)
    return np.asarray(image.resize((width, h), Image.LANCZOS), dtype=np.float64) / 255


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--photos', default=os.path.join(os.path.dirname(__file__), 'photos.txt'))
    args = ap.parse_args()
    entries = [l.split() for l in open(args.photos) if l.strip() and not l.startswith('#')]
    tmp = args.out + '.partial'
    shutil.rmtree(tmp, ignore_errors=True)
    folders = ['trainA', 'trainB', 'trainA_clean'] + [f'test/{s}/{k}' for s in ('light', 'heavy') for k in ('rainy', 'clean')]
    for f in folders:
        os.makedirs(os.path.join(tmp, f))
    counts = {f: 0 for f in folders}
    for split, entry in entries:
        path = photo_path(entry)
        name = os.path.splitext(os.path.basename(entry.rstrip('/')))[0]
        image = Image.open(path).convert('RGB')
        if split == 'train':
            index = 0
            for width in (800, 1100, 1400):
                a = scaled(image, width)
                for y in range(0, a.shape[0] - TILE + 1, TILE):
                    for x in range(0, a.shape[1] - TILE + 1, TILE):
                        tile = a[y:y + TILE, x:x + TILE]
                        file = f'{name}_{width}_{y}_{x}.png'
                        if index % 2 == 0:
                            rng = np.random.default_rng(seed_for(file, args.seed, 'train'))
                            strength = 'heavy' if rng.random() < 1 / 3 else 'light'
                            save(os.path.join(tmp, 'trainA', file), add_rain(tile, rng, strength))
                            save(os.path.join(tmp, 'trainA_clean', file), tile)
                            counts['trainA'] += 1
                        else:
                            save(os.path.join(tmp, 'trainB', file), tile)
                            counts['trainB'] += 1
                        index += 1
        else:
            a = scaled(image, 960)
            tw, th = TEST_TILE
            y0 = (a.shape[0] - 2 * th) // 2
            for r in range(2):
                for c in range(3):
                    tile = a[y0 + r * th:y0 + (r + 1) * th, c * tw:(c + 1) * tw]
                    file = f'{name}_{r}{c}.png'
                    for strength in ('light', 'heavy'):
                        rng = np.random.default_rng(seed_for(file, args.seed, strength))
                        save(os.path.join(tmp, 'test', strength, 'clean', file), tile)
                        save(os.path.join(tmp, 'test', strength, 'rainy', file), add_rain(tile, rng, strength))
                        counts[f'test/{strength}/rainy'] += 1
    shutil.rmtree(args.out, ignore_errors=True)
    os.replace(tmp, args.out)
    print(', '.join(f'{k}: {v}' for k, v in counts.items() if v))


if __name__ == '__main__':
    main()
