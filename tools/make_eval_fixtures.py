#!/usr/bin/env python3
"""Fixtures for dcd-eval's tests: small reference/test PNG pairs and scikit-image's PSNR and SSIM
for them (Y as rgb2ycbcr's luma, and RGB), written to Tests/Fixtures/eval/.

    /tmp/torchvenv/bin/python tools/make_eval_fixtures.py   (needs numpy, pillow, scikit-image)
"""
import json, os
import numpy as np
from PIL import Image
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

out = os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures', 'eval')
rng = np.random.default_rng(5)
os.makedirs(os.path.join(out, 'reference'), exist_ok=True)
os.makedirs(os.path.join(out, 'test'), exist_ok=True)


def structured(h, w):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 100 * np.sin(x / 5 + c) * np.cos(y / 7 - c) for c in range(3)], -1)
    return np.clip(base + rng.normal(0, 10, (h, w, 3)), 0, 255)


cases = {
    # name: (reference, test) as float RGB 0..255 before rounding to 8 bits
    'noisy_40x32.png': (lambda r: (r, r + rng.normal(0, 12, r.shape)))(structured(32, 40)),
    'streaks_33x29.png': (lambda r: (r, np.where(rng.random(r.shape[:2])[..., None] < 0.05, 255, r)))(structured(29, 33)),
    'dark_shift_16x48.png': (lambda r: (r, r * 0.8 + 5))(structured(48, 16)),
}
expected = {}
for name, (ref, test) in cases.items():
    a = np.clip(np.round(ref), 0, 255).astype(np.uint8)
    b = np.clip(np.round(test), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(os.path.join(out, 'reference', name))
    Image.fromarray(b).save(os.path.join(out, 'test', name))
    ya, yb = rgb2ycbcr(a)[..., 0], rgb2ycbcr(b)[..., 0]
    ssim = dict(data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    expected[name] = {
        'psnr_y': peak_signal_noise_ratio(ya, yb, data_range=255),
        'ssim_y': structural_similarity(ya, yb, **ssim),
        'psnr_rgb': peak_signal_noise_ratio(a, b, data_range=255),
        'ssim_rgb': structural_similarity(a, b, channel_axis=2, **ssim),
    }
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1, sort_keys=True)
print(json.dumps(expected, indent=1))
