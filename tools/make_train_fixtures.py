#!/usr/bin/env python3
"""PyTorch fixtures for the trainer (Tests/Fixtures/train/*.safetensors): the discriminator's
forward pass and gradients, PatchSampleF + PatchNCE loss and gradients, and Adam steps, each on
small random tensors, so that the Swift trainer's pieces are checked against the reference
definitions (../shared/design/dcd-gan.md).

    /tmp/torchvenv/bin/python tools/make_train_fixtures.py
"""
import os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import Downsample

OUT = os.path.join(os.path.dirname(__file__), '..', 'Tests', 'Fixtures', 'train')


class NLayerDiscriminator(nn.Module):
    """PatchGAN, n_layers=3, InstanceNorm, antialiased (the reference's default)."""
    def __init__(self, ndf):
        super().__init__()
        kw, padw = 4, 1
        seq = [nn.Conv2d(3, ndf, kw, stride=1, padding=padw), nn.LeakyReLU(0.2, True), Downsample(ndf)]
        mult_prev = 1
        for n in range(1, 3):
            mult = min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * mult_prev, ndf * mult, kw, stride=1, padding=padw, bias=True), nn.InstanceNorm2d(ndf * mult),
                    nn.LeakyReLU(0.2, True), Downsample(ndf * mult)]
            mult_prev = mult
        mult = min(2 ** 3, 8)
        seq += [nn.Conv2d(ndf * mult_prev, ndf * mult, kw, stride=1, padding=padw, bias=True), nn.InstanceNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True)]
        seq += [nn.Conv2d(ndf * mult, 1, kw, stride=1, padding=padw)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


def named(prefix, module):
    return {prefix + k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}


def grads(prefix, module):
    return {prefix + k: p.grad.detach().clone().contiguous() for k, p in module.named_parameters()}


def discriminator():
    torch.manual_seed(3)
    d = NLayerDiscriminator(ndf=4)
    x = torch.randn(1, 3, 40, 36, requires_grad=True)
    y = d(x)
    c = torch.randn_like(y)
    (y * c).sum().backward()
    t = named('', d)
    t.update({'input': x.detach(), 'probe': c, 'output': y.detach(), 'grad.input': x.grad.detach()})
    t.update(grads('grad.', d))
    save_file(t, os.path.join(OUT, 'discriminator.safetensors'))


def patch_nce():
    """NCE of one layer: q from F_q on query features, k from F_k on key features (detached), at
    the same positions; the reference's PatchSampleF MLP (Linear-ReLU-Linear) and L2 norm."""
    torch.manual_seed(4)
    c, h, w, nc, patches, T = 6, 5, 7, 8, 10, 0.07
    fq = torch.randn(1, c, h, w, requires_grad=True)
    fk = torch.randn(1, c, h, w, requires_grad=True)
    mlp_q = nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc))
    mlp_k = nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc))
    ids = torch.randperm(h * w)[:patches]

    def sample(feat, mlp):
        x = feat.permute(0, 2, 3, 1).flatten(1, 2)[:, ids, :].flatten(0, 1)  # (patches, C)
        x = mlp(x)
        return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5) + 1e-7)

    q, k = sample(fq, mlp_q), sample(fk, mlp_k).detach()
    l_pos = (q * k).sum(dim=1)[:, None]
    l_neg = torch.mm(q, k.t())
    l_neg.fill_diagonal_(-10.0)
    logits = torch.cat((l_pos, l_neg), dim=1) / T
    loss = F.cross_entropy(logits, torch.zeros(patches, dtype=torch.long))
    loss.backward()
    t = {'query_features': fq.detach(), 'key_features': fk.detach(), 'ids': ids.to(torch.float32), 'loss': loss.detach()[None],
         'grad.query_features': fq.grad.detach()}
    t.update(named('mlp_q.', mlp_q)); t.update(named('mlp_k.', mlp_k))
    t.update(grads('grad.mlp_q.', mlp_q))
    save_file(t, os.path.join(OUT, 'patch_nce.safetensors'))


def adam():
    """Two Adam steps as the reference's G/D optimizers (lr 1e-4, betas 0.5/0.999) and its F
    optimizer (lr 1e-3, betas 0.9/0.999), with given gradients."""
    torch.manual_seed(5)
    t = {}
    for name, lr, betas in (('gd', 1e-4, (0.5, 0.999)), ('f', 1e-3, (0.9, 0.999))):
        p = torch.randn(13, requires_grad=True)
        t[name + '.start'] = p.detach().clone()
        opt = torch.optim.Adam([p], lr=lr, betas=betas)
        for step in range(2):
            g = torch.randn(13)
            p.grad = g.clone()
            opt.step()
            t[f'{name}.grad{step}'] = g
            t[f'{name}.after{step}'] = p.detach().clone()
    save_file(t, os.path.join(OUT, 'adam.safetensors'))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    discriminator()
    patch_nce()
    adam()
    print(sorted(os.listdir(OUT)))
