#!/usr/bin/env python3
"""Reference for pml's C LSTM (src/model/lstm.c, its layers in lstm-layers.c): the same
model built with torch.

Embedding -> nn.LSTM (gate order i, f, g, o; batch_first) -> Linear -> sigmoid per module,
loss = sum(mask * BCEWithLogits) / sum(mask). Weights, a fixed input, a nonzero entering
state (h0, c0), the outputs and every parameter gradient are written to one golden file
that tests/unit/test-model-torch.c reads and compares against the C code.

The C model has one bias per gate row where torch has two (b_ih + b_hh, always summed):
the file stores b = b_ih + b_hh and the gradient of b_ih (equal to that of b_hh).

Golden file format (little-endian): b"PMLGOLD1", u32 count, then per tensor
u32 name_len, name (ASCII), u32 dtype (0 float32, 1 int32), u32 ndim, u32 dims[ndim], data.

usage: lstm_ref.py [--layers N] [--seed S] OUT
"""
import argparse
import struct
import sys

import torch


def write_golden(path, tensors):
    with open(path, "wb") as f:
        f.write(b"PMLGOLD1")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            t = t.detach().contiguous().cpu()
            dtype = 1 if t.dtype in (torch.int32, torch.int64) else 0
            t = t.to(torch.int32 if dtype else torch.float32)
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb)
            f.write(struct.pack("<II", dtype, t.dim()))
            f.write(struct.pack("<%dI" % t.dim(), *t.shape))
            f.write(t.numpy().tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("out")
    a = ap.parse_args()

    V, E, H, L, M, B, T = 11, 5, 7, a.layers, 6, 3, 5
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    emb = torch.nn.Embedding(V, E)
    lstm = torch.nn.LSTM(E, H, num_layers=L, batch_first=True)
    head = torch.nn.Linear(H, M)
    with torch.no_grad():
        # spread the weights a little wider than torch's default so gates saturate unevenly
        for p in list(lstm.parameters()) + list(head.parameters()):
            p.mul_(1.5)

    tokens = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = (torch.rand(B, T, M) < 0.4).float()
    mask = (torch.rand(B, T, M) < 0.8).float()
    h0 = 0.5 * torch.randn(L, B, H)
    c0 = 0.5 * torch.randn(L, B, H)

    x = emb(tokens)
    out, (hT, cT) = lstm(x, (h0, c0))
    logits = head(out)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = (bce * mask).sum() / mask.sum()
    loss.backward()

    ts = [("config", torch.tensor([V, E, H, L, M, B, T], dtype=torch.int32)),
          ("tokens", tokens), ("targets", targets), ("mask", mask), ("h0", h0), ("c0", c0),
          ("emb", emb.weight)]
    for l in range(L):
        ts += [("wih%d" % l, getattr(lstm, "weight_ih_l%d" % l)),
               ("whh%d" % l, getattr(lstm, "weight_hh_l%d" % l)),
               ("b%d" % l, getattr(lstm, "bias_ih_l%d" % l) + getattr(lstm, "bias_hh_l%d" % l))]
    ts += [("wout", head.weight), ("bout", head.bias),
           ("loss", loss.reshape(1)), ("probs", torch.sigmoid(logits)), ("h_top", out),
           ("hT", hT), ("cT", cT), ("d_emb", emb.weight.grad)]
    for l in range(L):
        ts += [("d_wih%d" % l, getattr(lstm, "weight_ih_l%d" % l).grad),
               ("d_whh%d" % l, getattr(lstm, "weight_hh_l%d" % l).grad),
               ("d_b%d" % l, getattr(lstm, "bias_ih_l%d" % l).grad)]
    ts += [("d_wout", head.weight.grad), ("d_bout", head.bias.grad)]
    write_golden(a.out, ts)
    print("lstm_ref: torch %s, L=%d, loss %.6f -> %s" % (torch.__version__, L, loss.item(), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
