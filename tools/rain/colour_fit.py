#!/usr/bin/env python3
"""How much of a derained set's error is global colour: mean PSNR (Y, as dcd-eval) of

  rainy        the rainy input
  derained     the model's output
  oracle       the output after the per-channel affine map a*out+b (least squares) that best
               fits the CLEAN image: the error left once brightness, contrast and colour cast
               are right
  fit-to-input the same map fitted to the RAINY input instead, by least squares
  anchored     the map fitted to the RAINY input by dcd-run --color-anchor's rain-robust
               quantile fit (anchor() below; DCDRuntime's ColorAnchor is the same procedure)
  matrix oracle, matrix-anchored
               the same two with a 3x3 colour matrix and an offset (each output channel a
               plane over all three derained channels) in place of one line per channel
               (matrix_anchor() below: dcd-run --anchor-fit matrix)

DERAINED_DIR may hold NAME.npy (dcd-run -o NAME.npy: unrounded HxWx3 in [0, 1]) in place of
NAME.png.

The DCD-GAN generator cannot see an image's brightness, contrast or colour cast: InstanceNorm
without affine parameters follows the first convolution, so G(a*x + c) == G(x) for any scalar
a > 0 and any colour offset c; the gap between "derained" and "oracle" is what that costs.

    python3 tools/rain/colour_fit.py CLEAN_DIR RAINY_DIR DERAINED_DIR
"""
import os, sys
import numpy as np
from PIL import Image


def luma(im):  # BT.601 Y in [0, 1] from RGB in [0, 1], as MATLAB rgb2ycbcr / dcd-eval
    return (16 + 65.481 * im[..., 0] + 128.553 * im[..., 1] + 24.966 * im[..., 2]) / 255


def psnr_y(a, b):
    return 10 * np.log10(1 / np.mean((luma(a) - luma(b)) ** 2))


def as_png(v):  # what a PNG written by dcd-run would hold
    return np.clip(np.round(v * 255), 0, 255) / 255


def fitted(out, target):
    res = np.empty_like(out)
    for c in range(3):
        design = np.stack([out[..., c].ravel(), np.ones(out[..., c].size)], 1)
        (a, b), *_ = np.linalg.lstsq(design, target[..., c].ravel(), rcond=None)
        res[..., c] = a * out[..., c] + b
    return as_png(res)


SAMPLE_STEP, RAIN_MARGIN, ITERATIONS, RESIDUAL_FLOOR = 4, 0.05, 30, 1e-3


def quantile_line(x, y, quantile):
    """y ~ a*x + b at `quantile` by IRLS on the normal equations (as ColorAnchor.line)."""
    a, b = 1.0, 0.0
    for iteration in range(ITERATIONS):
        if iteration == 0:
            w = np.ones_like(x)
        else:
            r = y - (a * x + b)
            w = np.where(r >= 0, quantile, 1 - quantile) / np.maximum(np.abs(r), RESIDUAL_FLOOR)
        sw, swx, swxx, swy, swxy = w.sum(), (w * x).sum(), (w * x * x).sum(), (w * y).sum(), (w * x * y).sum()
        det = sw * swxx - swx * swx
        if det <= 1e-12 * sw * sw:
            a, b = 0.0, swy / sw
        else:
            a = (sw * swxy - swx * swy) / det
            b = (swy - a * swx) / sw
    return a, b


def samples(out, rainy):
    """The sampled pixels (every SAMPLE_STEP-th of every SAMPLE_STEP-th row) of both, N x 3."""
    return (v[::SAMPLE_STEP, ::SAMPLE_STEP].reshape(-1, 3) for v in (out, rainy))


def rain_robust(fit, residual):
    """Steps 2-4 of the anchor for any per-channel model: fit(c, quantile) fits channel c,
    residual(model, c) is the sampled input of channel c minus the model's prediction. The
    models at the rain-robust quantile, the rainy share and that quantile."""
    median = [fit(c, 0.5) for c in range(3)]
    above = np.mean([residual(median[c], c) for c in range(3)], axis=0)
    share = float(np.mean(above > RAIN_MARGIN))
    quantile = max(0.05, (1 - share) / 2)
    return [fit(c, quantile) for c in range(3)], share, quantile


def anchor(out, rainy):
    """Per-channel (gain, offset in [0, 1] units), rainy share and quantile of the rain-robust
    fit from the output to the rainy input (both HxWx3 in [0, 1])."""
    xs, ys = samples(out, rainy)
    return rain_robust(lambda c, q: quantile_line(xs[:, c], ys[:, c], q),
                       lambda line, c: ys[:, c] - (line[0] * xs[:, c] + line[1]))


def affine_design(pixels):
    """HxWx3 (or N x 3) pixels as rows (r, g, b, 1)."""
    flat = pixels.reshape(-1, 3)
    return np.concatenate([flat, np.ones((len(flat), 1))], 1)


def matrix_fitted(out, target):
    design = affine_design(out)
    m, *_ = np.linalg.lstsq(design, target.reshape(-1, 3), rcond=None)
    return as_png((design @ m).reshape(out.shape))


SINGULAR_PIVOT = 1e-10


def nonsingular(a):
    """Whether the Cholesky factorisation of the symmetric 4x4 `a` meets no pivot at most
    SINGULAR_PIVOT of its diagonal entry (DCDRuntime's QuantilePlaneSums.solve decides alike)."""
    l = np.zeros_like(a)
    for j in range(len(a)):
        d = a[j, j] - l[j, :j] @ l[j, :j]
        if not d > SINGULAR_PIVOT * a[j, j]:
            return False
        l[j, j] = np.sqrt(d)
        l[j + 1:, j] = (a[j + 1:, j] - l[j + 1:, :j] @ l[j, :j]) / l[j, j]
    return True


def quantile_plane(design, y, quantile):
    """y ~ design @ beta at `quantile` by IRLS, as quantile_line with more columns; None when
    a pass's normal equations are singular."""
    w = np.ones(len(y))
    for iteration in range(ITERATIONS):
        wd = design * w[:, None]
        a = wd.T @ design
        if not nonsingular(a):
            return None
        beta = np.linalg.solve(a, wd.T @ y)
        r = y - design @ beta
        w = np.where(r >= 0, quantile, 1 - quantile) / np.maximum(np.abs(r), RESIDUAL_FLOOR)
    return beta


def matrix_anchor(out, rainy):
    """anchor()'s procedure with each channel a plane over all three output channels and 1
    (its line where the plane is singular): rows (R, G, B coefficients, offset in [0, 1]
    units) of the three channels, rainy share and quantile."""
    xs, ys = samples(out, rainy)
    design = affine_design(xs)

    def plane(c, q):
        beta = quantile_plane(design, ys[:, c], q)
        if beta is None:
            a, b = quantile_line(xs[:, c], ys[:, c], q)
            beta = np.zeros(4)
            beta[c], beta[3] = a, b
        return beta
    return rain_robust(plane, lambda beta, c: ys[:, c] - design @ beta)


def matrix_anchored(out, rainy):
    planes, _, _ = matrix_anchor(out, rainy)
    return as_png((affine_design(out) @ np.stack(planes, 1)).reshape(out.shape))


def anchored(out, rainy):
    lines, _, _ = anchor(out, rainy)
    return as_png(np.stack([a * out[..., c] + b for c, (a, b) in enumerate(lines)], -1))


def load(path):
    return np.asarray(Image.open(path).convert('RGB'), np.float64) / 255


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    clean_dir, rainy_dir, out_dir = sys.argv[1:]
    scores = {'rainy': [], 'derained': [], 'oracle': [], 'fit-to-input': [], 'anchored': [], 'matrix oracle': [], 'matrix-anchored': []}
    for name in sorted(os.listdir(clean_dir)):
        if not name.endswith('.png'):
            continue
        clean, rainy = (load(os.path.join(d, name)) for d in (clean_dir, rainy_dir))
        npy = os.path.join(out_dir, name[:-4] + '.npy')
        out = np.load(npy).astype(np.float64) if os.path.exists(npy) else load(os.path.join(out_dir, name))
        scores['rainy'].append(psnr_y(rainy, clean))
        scores['derained'].append(psnr_y(out, clean))
        scores['oracle'].append(psnr_y(fitted(out, clean), clean))
        scores['fit-to-input'].append(psnr_y(fitted(out, rainy), clean))
        scores['anchored'].append(psnr_y(anchored(out, rainy), clean))
        scores['matrix oracle'].append(psnr_y(matrix_fitted(out, clean), clean))
        scores['matrix-anchored'].append(psnr_y(matrix_anchored(out, rainy), clean))
    for k, v in scores.items():
        print(f'{k:15s} {np.mean(v):6.2f} dB PSNR(Y), {len(v)} images')


if __name__ == '__main__':
    main()
