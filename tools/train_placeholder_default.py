#!/usr/bin/env python3
"""A stop-gap default model until dcd-train (issue 5/6) trains the shipped one.

Trains an ngf=16, n_blocks=4 (default) ResnetGenerator (tools/make_fixtures.py's PyTorch definition) for
a few minutes on the CPU, SUPERVISED (L1 against the clean image), on procedural rain added to
crops of the nature photographs of Debian's mate-backgrounds package, and writes a checkpoint
the way the reference code does (torch.save(net.state_dict())). One photo is held out: the
sample image in models/ is made from it, so the README's first command shows a photo the model
never saw.

    apt-get install -y mate-backgrounds
    /tmp/torchvenv/bin/pip install torch pillow numpy
    /tmp/torchvenv/bin/python tools/train_placeholder_default.py --out /tmp/placeholder
    .build/release/dcd-compile /tmp/placeholder/default-weights.pth -o models/default.dcdm --precision float
"""
import argparse, glob, math, os, time
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from make_fixtures import ResnetGenerator, write_png

PHOTOS = '/usr/share/backgrounds/mate/nature'
HELD_OUT = 'LadyBird.jpg'


def load_photos(size=512):
    photos = {}
    for path in sorted(glob.glob(os.path.join(PHOTOS, '*.jpg'))):
        img = Image.open(path).convert('RGB')
        scale = size / min(img.size)
        img = img.resize((max(size, round(img.width * scale)), max(size, round(img.height * scale))), Image.BICUBIC)
        photos[os.path.basename(path)] = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255
    return photos


def add_rain(clean, gen):
    """Rain100L-style streaks: sparse noise blurred along a random line, added and clipped."""
    b, _, h, w = clean.shape
    out = []
    for i in range(b):
        density = 0.002 + 0.01 * torch.rand(1, generator=gen).item()
        noise = (torch.rand(1, 1, h, w, generator=gen) < density).float()
        length = int(9 + 20 * torch.rand(1, generator=gen).item())
        angle = math.radians(-30 + 60 * torch.rand(1, generator=gen).item())
        k = torch.zeros(length, length)
        c = (length - 1) / 2
        for t in np.linspace(-c, c, length * 2):
            k[int(round(c + t * math.cos(angle))), int(round(c + t * math.sin(angle)))] = 1
        k = (k / k.sum())[None, None]
        streaks = F.conv2d(noise, k, padding=length // 2)[:, :, :h, :w] * (3 + 4 * torch.rand(1, generator=gen).item())
        out.append((clean[i:i + 1] + streaks.clamp(0, 1) * 0.8).clamp(0, 1))
    return torch.cat(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--minutes', type=float, default=12)
    ap.add_argument('--crop', type=int, default=128)
    ap.add_argument('--ngf', type=int, default=16)
    ap.add_argument('--blocks', type=int, default=4)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--lr', type=float, default=5e-4)
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--beta1', type=float, default=0.9)
    ap.add_argument('--augment', action='store_true', help='colour and flip augmentation')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    photos = load_photos()
    train = [v for k, v in photos.items() if k != HELD_OUT]
    net = ResnetGenerator(ngf=args.ngf, n_blocks=args.blocks)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    state_path = os.path.join(args.out, 'training-state.pt')
    step = 0
    if os.path.exists(state_path):
        # Resumable: a session that ends kills this job; the next one continues from here.
        state = torch.load(state_path)
        net.load_state_dict(state['net'])
        opt.load_state_dict(state['opt'])
        gen.set_state(state['gen'])
        step = state['step']
        print('resumed at step', step, flush=True)
    start = time.time()
    while time.time() - start < args.minutes * 60:
        batch = []
        for _ in range(args.batch):
            p = train[torch.randint(len(train), (1,), generator=gen).item()]
            y = torch.randint(p.shape[1] - args.crop + 1, (1,), generator=gen).item()
            x = torch.randint(p.shape[2] - args.crop + 1, (1,), generator=gen).item()
            c = p[:, y:y + args.crop, x:x + args.crop]
            # Colour augmentation (channel order, per-channel gain, flips), opt-in: eleven photos
            # are few, and InstanceNorm lets a generator memorise their palettes. (Measured: a
            # 30-minute augmented run was no better on the held-out photo.)
            if args.augment:
                c = c[torch.randperm(3, generator=gen)]
                c = (c * (0.7 + 0.6 * torch.rand(3, 1, 1, generator=gen))).clamp(0, 1)
                if torch.rand(1, generator=gen).item() < 0.5:
                    c = c.flip(2)
                if torch.rand(1, generator=gen).item() < 0.5:
                    c = c.flip(1)
            batch.append(c)
        clean = torch.stack(batch)
        rainy = add_rain(clean, gen)
        loss = F.l1_loss(net(rainy * 2 - 1), clean * 2 - 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f'step {step} L1 {loss.item():.4f} {time.time() - start:.0f}s', flush=True)
            tmp = state_path + '.tmp'
            torch.save({'net': net.state_dict(), 'opt': opt.state_dict(), 'gen': gen.get_state(), 'step': step}, tmp)
            os.replace(tmp, state_path)
    torch.save(net.state_dict(), os.path.join(args.out, 'default-weights.pth'))
    held = photos[HELD_OUT][None]
    h, w = held.shape[2], held.shape[3]
    crop = held[:, :, (h - 240) // 2:(h - 240) // 2 + 240, (w - 320) // 2:(w - 320) // 2 + 320]
    rainy = add_rain(crop, torch.Generator().manual_seed(7))
    write_png(os.path.join(args.out, 'sample-rainy.png'), (rainy[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
    write_png(os.path.join(args.out, 'sample-clean.png'), (crop[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
    print('steps', step, 'saved to', args.out)


if __name__ == '__main__':
    main()
