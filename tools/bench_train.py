#!/usr/bin/env python3
"""Seconds per DCD-GAN training step: dcd-train against PyTorch on the CPU, same configuration
(issue 5: ngf=16, 4 blocks, ndf=16, 128x128 crops, batch 1, NCE layers 4,8,12,15, 256
patches, MLP width 256), same thread count. PyTorch runs the reference step (tools/
make_train_fixtures.py's whole_step logic: D update, then G and F against the updated D);
dcd-train runs its own loop on a folder of PNGs; both time steps after a warm-up.

    /tmp/torchvenv/bin/python tools/bench_train.py --dcd .build/release --photos DIR [--steps 5] [--threads 2]
"""
import argparse, os, re, subprocess, sys, tempfile, time
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import ResnetGenerator
from make_train_fixtures import NLayerDiscriminator, encode, nce_loss, project


def torch_step_seconds(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers = [4, 8, 12, 15]
    gA, gB = ResnetGenerator(ngf=args.ngf, n_blocks=args.blocks), ResnetGenerator(ngf=args.ngf, n_blocks=args.blocks)
    dA, dB = NLayerDiscriminator(args.ndf), NLayerDiscriminator(args.ndf)
    realA, realB = torch.rand(1, 3, args.crop, args.crop) * 2 - 1, torch.rand(1, 3, args.crop, args.crop) * 2 - 1
    feats = encode(gA, realA, layers)
    f1 = nn.ModuleList([nn.Sequential(nn.Linear(f.shape[1], 256), nn.ReLU(), nn.Linear(256, 256)) for f in feats])
    f2 = nn.ModuleList([nn.Sequential(nn.Linear(f.shape[1], 256), nn.ReLU(), nn.Linear(256, 256)) for f in feats])
    sizes = [f.shape[2] * f.shape[3] for f in feats]
    opt_d = torch.optim.Adam(list(dA.parameters()) + list(dB.parameters()), lr=1e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(list(gA.parameters()) + list(gB.parameters()), lr=1e-4, betas=(0.5, 0.999))
    opt_f = torch.optim.Adam(list(f1.parameters()) + list(f2.parameters()), lr=1e-3, betas=(0.9, 0.999))

    def step():
        fakeB, fakeA = gA(realA), gB(realB)
        for p in list(dA.parameters()) + list(dB.parameters()):
            p.requires_grad_(True)
        opt_d.zero_grad()
        loss_d = 0.5 * (F.relu(1 - dA(realB)).mean() + F.relu(1 + dA(fakeB.detach())).mean()) \
            + 0.5 * (F.relu(1 - dB(realA)).mean() + F.relu(1 + dB(fakeA.detach())).mean())
        loss_d.backward()
        opt_d.step()
        for p in list(dA.parameters()) + list(dB.parameters()):
            p.requires_grad_(False)
        opt_g.zero_grad(); opt_f.zero_grad()
        ids1 = [torch.randperm(n)[:256] for n in sizes]
        ids2 = [torch.randperm(n)[:256] for n in sizes]
        qB, kA = encode(gB, fakeB, layers), encode(gA, realA, layers)
        nce1 = sum(nce_loss(project(f2[l], qB[l], ids1[l]), project(f1[l], kA[l], ids1[l])) for l in range(4)) / 4
        qA, kB = encode(gA, fakeA, layers), encode(gB, realB, layers)
        nce2 = sum(nce_loss(project(f1[l], qA[l], ids2[l]), project(f2[l], kB[l], ids2[l])) for l in range(4)) / 4
        total = 0.5 * (-dA(fakeB).mean() - dB(fakeA).mean()) + (nce1 + nce2) + 0.5 * (F.l1_loss(gA(realB), realB) + F.l1_loss(gB(realA), realA))
        total.backward()
        opt_g.step(); opt_f.step()

    step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    return (time.perf_counter() - start) / args.steps


def dcd_step_seconds(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([os.path.join(args.dcd, 'dcd-train'), '--rainy', args.photos, '--clean', args.photos, '--out', tmp,
                              '--ngf', str(args.ngf), '--n-blocks', str(args.blocks), '--ndf', str(args.ndf), '--crop', str(args.crop),
                              '--load-size', str(args.crop + args.crop // 8), '--nce-layers', '4,8,12,15', '--steps', str(args.steps + 1),
                              '--threads', str(args.threads), '--sample-every', '1000', '--save-every', '1000'],
                             check=True, capture_output=True, text=True)
        # Step lines carry steps/s averaged from the first step: time the later ones from the last two lines.
        rates = [float(m) for m in re.findall(r'([0-9.]+) steps/s', out.stderr)]
        n = len(rates)
        # seconds to finish step k = k / rate_k; steps 2..n took n/rate_n - 1/rate_1.
        return (n / rates[-1] - 1 / rates[0]) / (n - 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcd', default='.build/release')
    ap.add_argument('--photos', required=True)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--ngf', type=int, default=16)
    ap.add_argument('--blocks', type=int, default=4)
    ap.add_argument('--ndf', type=int, default=16)
    ap.add_argument('--crop', type=int, default=128)
    args = ap.parse_args()
    t = torch_step_seconds(args)
    d = dcd_step_seconds(args)
    print(f'ngf={args.ngf} blocks={args.blocks} ndf={args.ndf} crop={args.crop} threads={args.threads}, {args.steps} timed steps')
    print(f'| | s/step | PyTorch time / this |')
    print(f'|---|---|---|')
    print(f'| PyTorch {torch.__version__} | {t:.3f} | 1.00 |')
    print(f'| dcd-train | {d:.3f} | {t / d:.3f} |')


if __name__ == '__main__':
    main()
