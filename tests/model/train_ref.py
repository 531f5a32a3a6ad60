#!/usr/bin/env python3
"""Train torch's LSTM on the data and from the initial weights that bench-train wrote, the
same way (windows with the state carried, Adam lr 1e-2, clip 1.0, mean BCE), and report
tokens per second of wall and CPU time. Used by tests/model/train-vs-torch.sh.

usage: train_ref.py DATA CURVE [--threads N]
"""
import argparse
import struct
import sys
import time

import numpy as np
import torch

LAG, WINDOWS = 3, 8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("curve")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    raw = open(a.data, "rb").read()
    V, E, H, L, M, B, T, S = struct.unpack_from("<8I", raw, 0)
    off = 32
    length = T * WINDOWS
    ntok = (S // WINDOWS) * B * length
    streams = np.frombuffer(raw, dtype="<i4", count=ntok, offset=off).reshape(S // WINDOWS, B, length)
    off += ntok * 4
    weights = np.frombuffer(raw, dtype="<f4", offset=off)

    emb = torch.nn.Embedding(V, E)
    lstm = torch.nn.LSTM(E, H, num_layers=L, batch_first=True)
    head = torch.nn.Linear(H, M)
    # the C layout, tensor by tensor (lstm.h): emb, per layer wih whh b, wout, bout
    pos = 0

    def take(shape):
        nonlocal pos
        n = int(np.prod(shape))
        t = torch.from_numpy(weights[pos:pos + n].copy()).reshape(shape)
        pos += n
        return t

    with torch.no_grad():
        emb.weight.copy_(take((V, E)))
        for l in range(L):
            getattr(lstm, "weight_ih_l%d" % l).copy_(take((4 * H, E if l == 0 else H)))
            getattr(lstm, "weight_hh_l%d" % l).copy_(take((4 * H, H)))
            getattr(lstm, "bias_ih_l%d" % l).copy_(take((4 * H,)))
            getattr(lstm, "bias_hh_l%d" % l).zero_()
        head.weight.copy_(take((M, H)))
        head.bias.copy_(take((M,)))
    assert pos == len(weights), (pos, len(weights))

    # bias_hh stays at zero so the two models stay the same function: it is not trained
    params = [emb.weight, head.weight, head.bias]
    for l in range(L):
        params += [getattr(lstm, "weight_ih_l%d" % l), getattr(lstm, "weight_hh_l%d" % l),
                   getattr(lstm, "bias_ih_l%d" % l)]
        getattr(lstm, "bias_hh_l%d" % l).requires_grad_(False)
    opt = torch.optim.Adam(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    noise = V - M
    streams_t = torch.from_numpy(streams.astype(np.int64))
    curve = open(a.curve, "w")
    t0, c0 = time.perf_counter(), time.process_time()
    state = None
    loss = torch.tensor(0.0)
    for step in range(S):
        w = step % WINDOWS
        sb = streams_t[step // WINDOWS]
        if w == 0:
            state = None
        tok = sb[:, w * T:(w + 1) * T]
        # labels: module m needed at t iff the token LAG events before announced it
        y = torch.zeros(B, T, M)
        pos_idx = torch.arange(w * T, (w + 1) * T) - LAG
        valid = pos_idx >= 0
        prev = sb[:, pos_idx.clamp(min=0)]
        ann = (prev >= noise) & valid.unsqueeze(0)
        bi, ti = ann.nonzero(as_tuple=True)
        y[bi, ti, prev[bi, ti] - noise] = 1.0
        out, state = lstm(emb(tok), state)
        state = (state[0].detach(), state[1].detach())
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(out), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        curve.write("%d %.6f\n" % (step, loss.item()))
    el, cpu = time.perf_counter() - t0, time.process_time() - c0
    curve.close()
    n = S * B * T
    print("torch threads=%d: %d steps of %dx%d tokens: wall %.2f s = %.0f tokens/s, cpu %.2f s "
          "= %.0f tokens/cpu-s, final loss %.4f" % (a.threads, S, B, T, el, n / el, cpu, n / cpu,
                                                    loss.item()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
