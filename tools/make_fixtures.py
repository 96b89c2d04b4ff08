#!/usr/bin/env python3
"""Reference fixtures for the float path, computed by PyTorch.

Builds the DCD-GAN ResnetGenerator in PyTorch from ../shared/design/dcd-gan.md (our own code,
with the reference code's module indices so that state_dict keys match), saves checkpoints the
ways users have them, and records PyTorch's outputs on small images. The Swift tests compare
against these files; neither the Swift build nor the tests need Python.

Usage (in a throwaway venv outside the repository):
    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy safetensors
    /tmp/torchvenv/bin/python tools/make_fixtures.py            # writes Tests/Fixtures/
"""
import argparse, io, os, pickle, struct, zipfile, zlib
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def binomial(n):
    return {3: [1., 2., 1.], 4: [1., 3., 3., 1.]}[n]


def get_filter(n):
    a = np.array(binomial(n))
    f = torch.Tensor(a[:, None] * a[None, :])
    return f / torch.sum(f)


class Downsample(nn.Module):
    """Reflect pad 1, depthwise 3x3 binomial filter, stride 2 (blur-pool)."""
    def __init__(self, channels):
        super().__init__()
        self.register_buffer('filt', get_filter(3)[None, None, :, :].repeat((channels, 1, 1, 1)))
        self.pad = nn.ReflectionPad2d([1, 1, 1, 1])

    def forward(self, x):
        return F.conv2d(self.pad(x), self.filt, stride=2, groups=x.shape[1])


class Upsample(nn.Module):
    """Replicate pad 1, depthwise transposed 4x4 binomial filter (x4), stride 2, padding 2,
    then drop the first and last row/column: output is exactly 2H x 2W."""
    def __init__(self, channels):
        super().__init__()
        self.register_buffer('filt', (get_filter(4) * 4)[None, None, :, :].repeat((channels, 1, 1, 1)))
        self.pad = nn.ReplicationPad2d([1, 1, 1, 1])

    def forward(self, x):
        y = F.conv_transpose2d(self.pad(x), self.filt, stride=2, padding=2, groups=x.shape[1])[:, :, 1:, 1:]
        return y[:, :, :-1, :-1]


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, padding=0, bias=True), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf=64, n_blocks=9, no_antialias=False, no_antialias_up=False):
        super().__init__()
        norm = nn.InstanceNorm2d
        m = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, padding=0, bias=True), norm(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            if no_antialias:
                m += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True), norm(ngf * mult * 2), nn.ReLU(True)]
            else:
                m += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=1, padding=1, bias=True), norm(ngf * mult * 2), nn.ReLU(True),
                      Downsample(ngf * mult * 2)]
        for _ in range(n_blocks):
            m += [ResnetBlock(ngf * 4)]
        for i in range(2):
            mult = 2 ** (2 - i)
            if no_antialias_up:
                m += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                      norm(ngf * mult // 2), nn.ReLU(True)]
            else:
                m += [Upsample(ngf * mult), nn.Conv2d(ngf * mult, ngf * mult // 2, 3, stride=1, padding=1, bias=True),
                      norm(ngf * mult // 2), nn.ReLU(True)]
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*m)

    def forward(self, x):
        return self.model(x)


def make_net(seed, **kw):
    torch.manual_seed(seed)
    net = ResnetGenerator(**kw).eval()
    # PyTorch's default init, then biases spread so that every bias matters to the output.
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith('bias'):
                p.uniform_(-0.5, 0.5)
    return net


def derain(net, img_u8):
    """The product's definition: x/255*2-1, reflect-pad bottom/right to a multiple of 4,
    run, crop back, (y+1)/2 as HxWx3 float32."""
    x = torch.from_numpy(img_u8.astype(np.float32)).permute(2, 0, 1)[None] / 255 * 2 - 1
    h, w = x.shape[2], x.shape[3]
    ph, pw = (-h) % 4, (-w) % 4
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode='reflect')
    with torch.no_grad():
        y = net(x)[:, :, :h, :w]
    return ((y[0].permute(1, 2, 0) + 1) / 2).numpy().astype(np.float32)


def test_image(width, height, seed):
    """Smooth colour gradients plus bright streaks: an image with structure at every scale."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([128 + 100 * np.sin(xx / 5 + c) * np.cos(yy / 7 - c) for c in range(3)], axis=2)
    img += rng.normal(0, 20, img.shape)
    for _ in range(max(1, width * height // 60)):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        for t in range(6):
            x, y = x0 + t // 3, y0 + t
            if 0 <= x < width and 0 <= y < height:
                img[y, x] = img[y, x] * 0.3 + 200
    return np.clip(img, 0, 255).astype(np.uint8)


def write_png(path, img):
    """Minimal PNG writer (8-bit RGB, no filter) so the script needs no imaging library."""
    h, w, _ = img.shape
    raw = b''.join(b'\x00' + img[y].tobytes() for y in range(h))
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
    data += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(data)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png_general(path, samples, color_type, bit_depth, palette=None, trns=None, interlace=False):
    """PNG of any colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA), 8 or 16 bits,
    optionally Adam7-interlaced, written by hand so the fixtures test libpng, not our writer.
    samples: HxWxC integer array (palette: HxWx1 indices)."""
    h, w, _ = samples.shape
    dtype = '>u2' if bit_depth == 16 else 'u1'
    def rows(img):
        return b''.join(b'\x00' + img[y].astype(dtype).tobytes() for y in range(img.shape[0]))
    if interlace:
        raw = b''
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += rows(sub)
    else:
        raw = rows(samples)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        data += chunk(b'PLTE', bytes(palette.astype('u1').flatten()))
    if trns is not None:
        data += chunk(b'tRNS', bytes(trns))
    data += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(data)


def png_fixtures(out):
    """One PNG per colour type and depth, with the RGBA samples a decoder must produce
    (uint16 HxWx4, alpha = max where the file has none)."""
    rng = np.random.default_rng(5)
    w, h = 13, 9
    def save(name, rgba):
        np.save(os.path.join(out, name + '.expected.npy'), rgba.astype('<u2'))
    rgb8 = rng.integers(0, 256, (h, w, 3))
    a8 = rng.integers(0, 256, (h, w, 1))
    g16 = rng.integers(0, 65536, (h, w, 1))
    rgb16 = rng.integers(0, 65536, (h, w, 3))
    g8 = rng.integers(0, 256, (h, w, 1))
    write_png_general(os.path.join(out, 'png_rgba8.png'), np.concatenate([rgb8, a8], 2), 6, 8)
    save('png_rgba8', np.concatenate([rgb8, a8], 2))
    write_png_general(os.path.join(out, 'png_gray16.png'), g16, 0, 16)
    save('png_gray16', np.concatenate([g16, g16, g16, np.full_like(g16, 65535)], 2))
    write_png_general(os.path.join(out, 'png_graya8.png'), np.concatenate([g8, a8], 2), 4, 8)
    save('png_graya8', np.concatenate([g8, g8, g8, a8], 2))
    write_png_general(os.path.join(out, 'png_rgb16_interlaced.png'), rgb16, 2, 16, interlace=True)
    save('png_rgb16_interlaced', np.concatenate([rgb16, np.full_like(g16, 65535)], 2))
    palette = rng.integers(0, 256, (7, 3))
    trns = [255, 0, 128, 255, 10, 255, 255]
    idx = rng.integers(0, 7, (h, w, 1))
    write_png_general(os.path.join(out, 'png_palette.png'), idx, 3, 8, palette=palette, trns=trns)
    save('png_palette', np.concatenate([palette[idx[:, :, 0]], np.array(trns)[idx]], 2))


class Hostile:
    """A pickle that would run a shell command if unpickled without restrictions."""
    def __reduce__(self):
        return (os.system, ('touch /tmp/dcd-hostile-pickle-ran',))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures'))
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    images = {'img_24x20': test_image(24, 20, 1), 'img_19x23': test_image(19, 23, 2)}
    for name, img in images.items():
        write_png(os.path.join(out, name + '.png'), img)

    png_fixtures(out)

    nets = {
        'aa_ngf8_b2': make_net(10, ngf=8, n_blocks=2),
        'noaa_ngf4_b3': make_net(11, ngf=4, n_blocks=3, no_antialias=True, no_antialias_up=True),
        'noaadown_ngf6_b1': make_net(12, ngf=6, n_blocks=1, no_antialias=True),
        'noaaup_ngf6_b1': make_net(13, ngf=6, n_blocks=1, no_antialias_up=True),
        'gb_ngf8_b2': make_net(14, ngf=8, n_blocks=2),
        # Small receptive field and few MACs: the tiled-execution tests run it on frames
        # larger than two halos in debug builds.
        'noaa_ngf2_b1': make_net(15, ngf=2, n_blocks=1, no_antialias=True, no_antialias_up=True),
    }
    cases = []
    def case(name, ckpt, network, net, image):
        expected = f'{name}.{image}.npy'
        np.save(os.path.join(out, expected), derain(net, images[image]))
        cases.append(f'{name} {ckpt} {network} {image}.png {expected}')

    aa = nets['aa_ngf8_b2']
    for n in ['aa_ngf8_b2', 'noaa_ngf4_b3', 'noaadown_ngf6_b1', 'noaaup_ngf6_b1', 'noaa_ngf2_b1']:
        torch.save(nets[n].state_dict(), os.path.join(out, n + '.pth'))
        case(n, n + '.pth', 'G_A', nets[n], 'img_19x23')
    case('aa_ngf8_b2_multiple4', 'aa_ngf8_b2.pth', 'G_A', aa, 'img_24x20')

    # DataParallel checkpoint: every key under 'module.'.
    torch.save({'module.' + k: v for k, v in aa.state_dict().items()}, os.path.join(out, 'module_prefixed.pth'))
    case('module_prefixed', 'module_prefixed.pth', 'G_A', aa, 'img_19x23')

    # A nested training checkpoint (Lightning-like): both generators under 'state_dict'.
    nested = {'epoch': 7, 'global_step': 1234, 'hparams': {'lr': 2e-4, 'name': 'rain'},
              'state_dict': {**{'netG_A.' + k: v for k, v in aa.state_dict().items()},
                             **{'netG_B.' + k: v for k, v in nets['gb_ngf8_b2'].state_dict().items()}}}
    torch.save(nested, os.path.join(out, 'nested.ckpt'))
    case('nested_G_A', 'nested.ckpt', 'G_A', aa, 'img_19x23')
    case('nested_G_B', 'nested.ckpt', 'G_B', nets['gb_ngf8_b2'], 'img_19x23')

    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in aa.state_dict().items()}, os.path.join(out, 'aa_ngf8_b2.safetensors'),
              metadata={'producer': 'tools/make_fixtures.py'})
    case('safetensors', 'aa_ngf8_b2.safetensors', 'G_A', aa, 'img_19x23')

    noaa = nets['noaa_ngf4_b3']
    torch.save(noaa.state_dict(), os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)
    case('legacy', 'legacy.pth', 'G_A', noaa, 'img_19x23')

    # float16 checkpoint; the reference runs in float32 on the float16-rounded weights.
    half = {k: v.half() for k, v in aa.state_dict().items()}
    torch.save(half, os.path.join(out, 'fp16.pth'))
    rounded = make_net(10, ngf=8, n_blocks=2)
    rounded.load_state_dict({k: v.float() for k, v in half.items()})
    case('fp16', 'fp16.pth', 'G_A', rounded, 'img_19x23')

    # The same zip with every entry deflated (as re-zipping tools produce).
    with zipfile.ZipFile(os.path.join(out, 'aa_ngf8_b2.pth')) as src, \
         zipfile.ZipFile(os.path.join(out, 'deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    case('deflated', 'deflated.pth', 'G_A', aa, 'img_24x20')

    # A hostile checkpoint: a torch-shaped zip whose data.pkl calls os.system.
    with zipfile.ZipFile(os.path.join(out, 'hostile.pth'), 'w') as z:
        z.writestr('hostile/data.pkl', pickle.dumps({'model.1.weight': Hostile()}, protocol=2))
        z.writestr('hostile/version', '3\n')

    with open(os.path.join(out, 'cases.txt'), 'w') as f:
        f.write('# name checkpoint network image expected(HxWx3 float32 (y+1)/2 from PyTorch)\n')
        f.write('\n'.join(cases) + '\n')

    print('torch', torch.__version__, 'wrote', len(cases), 'cases to', out)


if __name__ == '__main__':
    main()
