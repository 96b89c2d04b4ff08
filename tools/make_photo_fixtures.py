#!/usr/bin/env python3
"""Small photograph crops for the int8 tests, from Debian's mate-backgrounds (GPL-2+; authors
in /usr/share/doc/mate-backgrounds/copyright), and the trained ngf=8 fixture generator.

    apt-get install -y mate-backgrounds
    cd tools && /tmp/torchvenv/bin/python train_placeholder_default.py --out /tmp/tiny8 --minutes 5 --threads 1 --ngf 8 --blocks 2
    /tmp/torchvenv/bin/python make_photo_fixtures.py --generator /tmp/tiny8/default-weights.pth
"""
import argparse, os, shutil
import numpy as np
from PIL import Image
from make_fixtures import write_png

PHOTOS = '/usr/share/backgrounds/mate/nature'
# Calibration crops come from training photos; the held-out crop from the photo the placeholder
# trainer holds out (LadyBird.jpg), so it is in neither training nor calibration.
CROPS = {'photo_calibration_a.png': ('Garden.jpg', 128), 'photo_calibration_b.png': ('Dune.jpg', 128),
         'photo_heldout.png': ('LadyBird.jpg', 96)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--generator', required=True)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures'))
    args = ap.parse_args()
    for name, (photo, size) in CROPS.items():
        img = Image.open(os.path.join(PHOTOS, photo)).convert('RGB')
        s = 384 / min(img.size)
        img = img.resize((round(img.width * s), round(img.height * s)), Image.BICUBIC)
        a = np.asarray(img)
        y, x = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
        write_png(os.path.join(args.out, name), np.ascontiguousarray(a[y:y + size, x:x + size]))
    shutil.copy(args.generator, os.path.join(args.out, 'trained_ngf8_b2.pth'))


if __name__ == '__main__':
    main()
