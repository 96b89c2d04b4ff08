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
from make_fixtures import Downsample, ResnetGenerator

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


def project(mlp, feat, ids):
    """PatchSampleF on image 0: rows of feat at flat positions ids, the MLP, L2-normalised.
    The reference indexes feat.permute(0, 2, 3, 1).flatten(1, 2)[:, ids, :]; this takes the
    same rows as feat[0].reshape(C, H * W).t()[ids] because PyTorch 2.15's autograd through
    the permute/flatten/index chain, behind the generator's encoder, gave input gradients that
    disagree with finite differences (float64: 0.0222 against 0.0580 for d/dx[0] in
    whole_step's NCE1 layer 2), while this form agrees with them (and with the Swift trainer)."""
    x = mlp(feat[0].reshape(feat.shape[1], -1).t()[ids])
    return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5) + 1e-7)


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

    q, k = project(mlp_q, fq, ids), project(mlp_k, fk, ids).detach()
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


def encode(net, x, layers):
    """Outputs after the given module indices of the generator's Sequential."""
    feats, h = {}, x
    for i, layer in enumerate(net.model):
        h = layer(h)
        if i in layers:
            feats[i] = h
        if i >= max(layers):
            break
    return [feats[i] for i in layers]


def nce_loss(q, k, T=0.07):
    k = k.detach()
    l_pos = (q * k).sum(dim=1)[:, None]
    l_neg = torch.mm(q, k.t())
    l_neg.fill_diagonal_(-10.0)
    logits = torch.cat((l_pos, l_neg), dim=1) / T
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def whole_step():
    """One DCD-GAN training step as the reference runs it (small networks, 32x32 crops)."""
    torch.manual_seed(6)
    ngf, blocks, ndf, nc, layers, patches = 4, 2, 4, 8, [4, 8, 12, 13], 16
    gA, gB = ResnetGenerator(ngf=ngf, n_blocks=blocks), ResnetGenerator(ngf=ngf, n_blocks=blocks)
    dA, dB = NLayerDiscriminator(ndf), NLayerDiscriminator(ndf)
    realA, realB = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    channels = [f.shape[1] for f in encode(gA, realA, layers)]
    sizes = [f.shape[2] * f.shape[3] for f in encode(gA, realA, layers)]
    f1 = nn.ModuleList([nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)) for c in channels])
    f2 = nn.ModuleList([nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)) for c in channels])
    ids1 = [torch.randperm(n)[:patches] for n in sizes]
    ids2 = [torch.randperm(n)[:patches] for n in sizes]
    nets = {'G_A': gA, 'G_B': gB, 'D_A': dA, 'D_B': dB, 'F1': f1, 'F2': f2}
    t = {'real_A': realA, 'real_B': realB}
    for l in range(len(layers)):
        t[f'ids1.{l}'] = ids1[l].to(torch.float32)
        t[f'ids2.{l}'] = ids2[l].to(torch.float32)
    for name, net in nets.items():
        t.update(named(f'before.{name}.', net))

    opt_d = torch.optim.Adam(list(dA.parameters()) + list(dB.parameters()), lr=1e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(list(gA.parameters()) + list(gB.parameters()), lr=1e-4, betas=(0.5, 0.999))
    opt_f = torch.optim.Adam(list(f1.parameters()) + list(f2.parameters()), lr=1e-3, betas=(0.9, 0.999))
    fakeB, fakeA = gA(realA), gB(realB)
    opt_d.zero_grad()
    loss_da = 0.5 * (F.relu(1 - dA(realB)).mean() + F.relu(1 + dA(fakeB.detach())).mean())
    loss_db = 0.5 * (F.relu(1 - dB(realA)).mean() + F.relu(1 + dB(fakeA.detach())).mean())
    (loss_da + loss_db).backward()
    t.update(grads('grad.D_A.', dA)); t.update(grads('grad.D_B.', dB))
    opt_d.step()
    for p in list(dA.parameters()) + list(dB.parameters()):
        p.requires_grad_(False)
    opt_g.zero_grad(); opt_f.zero_grad()
    gan_a, gan_b = -dA(fakeB).mean(), -dB(fakeA).mean()
    qB, kA = encode(gB, fakeB, layers), encode(gA, realA, layers)
    nce1 = sum(nce_loss(project(f2[l], qB[l], ids1[l]), project(f1[l], kA[l], ids1[l])) for l in range(len(layers))) / len(layers)
    qA, kB = encode(gA, fakeA, layers), encode(gB, realB, layers)
    nce2 = sum(nce_loss(project(f1[l], qA[l], ids2[l]), project(f2[l], kB[l], ids2[l])) for l in range(len(layers))) / len(layers)
    idt_a, idt_b = F.l1_loss(gA(realB), realB), F.l1_loss(gB(realA), realA)
    total = 0.5 * (gan_a + gan_b) + 0.5 * 2 * (nce1 + nce2) + 0.5 * 1 * (idt_a + idt_b)
    total.backward()
    for name in ('G_A', 'G_B', 'F1', 'F2'):
        t.update(grads(f'grad.{name}.', nets[name]))
    opt_g.step(); opt_f.step()
    for name, net in nets.items():
        t.update(named(f'after.{name}.', net))
    for k, v in (('D_A', loss_da), ('D_B', loss_db), ('gan_A', gan_a), ('gan_B', gan_b), ('nce1', nce1), ('nce2', nce2),
                 ('idt_A', idt_a), ('idt_B', idt_b), ('G', total)):
        t['loss.' + k] = v.detach().reshape(1)
    save_file(t, os.path.join(OUT, 'step.safetensors'))


def reference_checkpoints():
    """A folder as the reference trainer leaves it (torch.save of each state_dict): G_A, G_B
    (ngf 2, 1 block), D_A, D_B (ndf 2), for dcd-train --init-from."""
    torch.manual_seed(7)
    folder = os.path.join(OUT, 'reference')
    os.makedirs(folder, exist_ok=True)
    for name, net in (('G_A', ResnetGenerator(ngf=2, n_blocks=1)), ('G_B', ResnetGenerator(ngf=2, n_blocks=1)),
                      ('D_A', NLayerDiscriminator(ndf=2)), ('D_B', NLayerDiscriminator(ndf=2))):
        torch.save(net.state_dict(), os.path.join(folder, f'latest_net_{name}.pth'))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    reference_checkpoints()
    discriminator()
    patch_nce()
    adam()
    whole_step()
    print(sorted(os.listdir(OUT)))
