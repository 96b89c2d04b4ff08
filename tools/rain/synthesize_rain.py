#!/usr/bin/env python3
"""Procedural rain streaks in the style of the Rain100L / Rain100H benchmarks.

A streak layer is sparse random noise (density: the fraction of seeded pixels), softened by a
Gaussian of the streak width, smeared by a motion blur along a line of random angle and length,
and scaled back to the seeds' brightness. Light rain ("rain100l") is one layer of thin streaks in
one direction; heavy rain ("rain100h") is several layers in different directions, denser, longer
and brighter, with haze. Layers are blended into the photo additively (Rain100L) or with a screen
blend. Every random choice comes from one seeded generator: the same seed gives the same pixels.

    python3 tools/rain/synthesize_rain.py --strength light --seed 7 photo.png -o out/
    python3 tools/rain/synthesize_rain.py --strength heavy --angle 20 --haze 0.2 *.png -o out/

Requires numpy and Pillow (pip install numpy pillow).
"""
import argparse, hashlib, os, sys
import numpy as np
from PIL import Image

# Defaults per strength, for images around 320 x 240 (Rain100L's scale): ranges are (low, high)
# drawn uniformly per image, `layers` streak layers per image.
PRESETS = {
    'light': dict(layers=(1, 1), density=(0.0015, 0.003), length=(10, 20), angle_spread=15, layer_spread=0,
                  width=(0.4, 0.6), brightness=(0.3, 0.5), haze=(0.0, 0.0)),
    'heavy': dict(layers=(3, 4), density=(0.0018, 0.003), length=(20, 35), angle_spread=25, layer_spread=20,
                  width=(0.5, 0.8), brightness=(0.45, 0.7), haze=(0.05, 0.15)),
}


def gaussian_kernel(sigma):
    radius = max(1, int(3 * sigma + 0.5))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def line_kernel(length, angle_degrees):
    """A normalised anti-aliased line of `length` pixels through the centre; angle 0 is vertical,
    positive leans to the right at the top."""
    size = int(np.ceil(length)) | 1
    k = np.zeros((size, size))
    c = size // 2
    t = np.radians(angle_degrees)
    dx, dy = np.sin(t), -np.cos(t)
    for s in np.linspace(-length / 2, length / 2, int(length * 4) + 1):
        x, y = c + s * dx, c + s * dy
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for (xx, yy, w) in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)), (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
            if 0 <= xx < size and 0 <= yy < size:
                k[yy, xx] += w
    return k / k.sum()


def convolve_same(image, kernel):
    """2-D convolution by FFT, same size, the image zero-padded (the streak field has margins)."""
    h, w = image.shape
    kh, kw = kernel.shape
    shape = (h + kh, w + kw)
    out = np.fft.irfft2(np.fft.rfft2(image, shape) * np.fft.rfft2(kernel, shape), shape)
    return out[kh // 2:kh // 2 + h, kw // 2:kw // 2 + w]


def streak_layer(rng, h, w, density, length, angle, width, brightness):
    """One layer of streaks in [0, 1], h x w."""
    margin = int(length) + 4  # seeds outside the frame still draw streaks into it
    H, W = h + 2 * margin, w + 2 * margin
    seeds = (rng.random((H, W)) < density) * rng.uniform(0.5, 1.0, (H, W))
    g = gaussian_kernel(width)
    seeds = convolve_same(seeds, np.outer(g, g)) / (g.max() ** 2)  # soften to the width, peak kept
    streaks = convolve_same(seeds, line_kernel(length, angle)) * length  # smear, brightness kept
    return np.clip(streaks[margin:margin + h, margin:margin + w] * brightness, 0, 1)


def add_rain(clean, rng, strength='light', blend='additive', angle=None, density=None, length=None, width=None, haze=None):
    """clean: float RGB in [0, 1], H x W x 3. Returns the rainy image, same shape and range."""
    p = PRESETS[strength]
    h, w, _ = clean.shape
    layers = int(rng.integers(p['layers'][0], p['layers'][1] + 1))
    base = angle if angle is not None else rng.uniform(-p['angle_spread'], p['angle_spread'])
    rain = np.zeros((h, w))
    for i in range(layers):
        a = base + (rng.uniform(-p['layer_spread'], p['layer_spread']) if i else 0)
        layer = streak_layer(rng, h, w,
                             density if density is not None else rng.uniform(*p['density']),
                             length if length is not None else rng.uniform(*p['length']), a,
                             width if width is not None else rng.uniform(*p['width']),
                             rng.uniform(*p['brightness']))
        rain = 1 - (1 - rain) * (1 - layer)  # layers screen onto each other
    rain = rain[:, :, None]
    out = np.clip(clean + rain, 0, 1) if blend == 'additive' else 1 - (1 - clean) * (1 - rain)
    t = haze if haze is not None else rng.uniform(*p['haze'])
    if t > 0:
        airlight = rng.uniform(0.75, 0.95)
        out = out * (1 - t) + airlight * t
    return np.clip(out, 0, 1)


def seed_for(name, seed, strength):
    """A per-image seed from the run seed and the file name (images are independent of order)."""
    digest = hashlib.sha256(f'{seed}:{strength}:{name}'.encode()).digest()
    return int.from_bytes(digest[:8], 'little')


def load(path):
    return np.asarray(Image.open(path).convert('RGB'), dtype=np.float64) / 255


def save(path, image):
    tmp = path + '.tmp.png'
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('inputs', nargs='+', help='clean images (PNG or JPEG)')
    ap.add_argument('-o', '--out', required=True, help='output folder (PNG, same base names)')
    ap.add_argument('--strength', choices=sorted(PRESETS), default='light')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--blend', choices=['additive', 'screen'], default='additive')
    ap.add_argument('--angle', type=float, help='streak angle in degrees from vertical (default: random)')
    ap.add_argument('--density', type=float, help='fraction of seeded pixels per layer (default: random in the preset)')
    ap.add_argument('--length', type=float, help='streak length in pixels')
    ap.add_argument('--width', type=float, help='streak width (Gaussian sigma, pixels)')
    ap.add_argument('--haze', type=float, help='haze amount 0..1 (default: the preset; light has none)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for path in args.inputs:
        name = os.path.splitext(os.path.basename(path))[0] + '.png'
        try:
            clean = load(path)
        except Exception as e:
            sys.exit(f'{path}: cannot read the image: {e}')
        rng = np.random.default_rng(seed_for(name, args.seed, args.strength))
        save(os.path.join(args.out, name), add_rain(clean, rng, args.strength, args.blend, args.angle, args.density,
                                                   args.length, args.width, args.haze))


if __name__ == '__main__':
    main()
