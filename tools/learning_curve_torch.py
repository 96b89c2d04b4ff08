#!/usr/bin/env python3
"""The PyTorch side of README's learning-curve comparison: the reference generator trained with
L1 on paired folders as `dcd-train --supervised` does (xavier-normal init, Adam betas 0.5/0.999,
random crops), printing the mean L1 per 300 steps.

    /tmp/torchvenv/bin/python tools/learning_curve_torch.py RAINY_DIR CLEAN_DIR [--lr 1e-4] [--gain 0.02] [--steps 3000]
    dcd-train --supervised --rainy RAINY_DIR --clean CLEAN_DIR --out RUN --ngf 8 --n-blocks 1 --crop 64 --load-size 144 --steps 3000 --threads 1
"""
import argparse, glob, os, random, sys
import numpy as np, torch, torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import ResnetGenerator

ap = argparse.ArgumentParser()
ap.add_argument('rainy'); ap.add_argument('clean')
ap.add_argument('--lr', type=float, default=1e-4); ap.add_argument('--gain', type=float, default=0.02)
ap.add_argument('--steps', type=int, default=3000); ap.add_argument('--ngf', type=int, default=8)
ap.add_argument('--blocks', type=int, default=1); ap.add_argument('--crop', type=int, default=64)
args = ap.parse_args()
torch.manual_seed(0); random.seed(0); torch.set_num_threads(1)


def load(path):
    return torch.tensor(np.asarray(Image.open(path).convert('RGB')), dtype=torch.float32).permute(2, 0, 1) / 127.5 - 1


pairs = [(load(f), load(os.path.join(args.clean, os.path.basename(f)))) for f in sorted(glob.glob(os.path.join(args.rainy, '*.png')))]
g = ResnetGenerator(ngf=args.ngf, n_blocks=args.blocks)
for m in g.modules():
    if isinstance(m, nn.Conv2d):
        nn.init.xavier_normal_(m.weight, gain=args.gain)
        nn.init.zeros_(m.bias)
opt = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.5, 0.999))
total = 0.0
for step in range(args.steps):
    a, b = pairs[step % len(pairs)]
    top, left = random.randint(0, a.shape[1] - args.crop), random.randint(0, a.shape[2] - args.crop)
    a, b = a[None, :, top:top + args.crop, left:left + args.crop], b[None, :, top:top + args.crop, left:left + args.crop]
    if random.random() < 0.5:
        a, b = a.flip(3), b.flip(3)
    loss = (g(a) - b).abs().mean()
    opt.zero_grad(); loss.backward(); opt.step()
    total += loss.item()
    if (step + 1) % 300 == 0:
        print(f'{step + 1}: {total / 300:.3f}', flush=True)
        total = 0.0
