#!/usr/bin/python3
"""PyTorch anchor of `npm run perf`: the same network (small-cnn), operators, steps, batch and
timing, on PyTorch's CPU backend with one thread by default. Prints the same JSON shape:
{"backend": ..., "results": [{"network", "operator", "step", "batch", "imagesPerSecond"}]}.

Decoupled operators follow src/ops/decoupled.ts (the DCNet authors' formulation): unit filters,
patch norm |x| = sqrt(box(sum_c x^2) + 1e-4), cos = conv(x, w/|w|) / |x|, output h(|x|) * cos
(computed as conv(x, w/|w|) * (h(|x|) / |x|), as there).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_EPSILON = 1e-4
SGD_LEARNING_RATE = 0.05  # as src/perf/steps.ts
FGSM_EPSILON = 8 / 255
STEPS = ("train", "forward", "inputGradient")


class DecoupledConv(nn.Module):
    """3x3 'same' convolution without bias; `standard` or a decoupled operator."""

    def __init__(self, cin, cout, operator, radius=1.0, alpha=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin, 3, 3))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        self.register_buffer("box", torch.ones(1, 1, 3, 3))
        self.operator, self.radius, self.alpha = operator, radius, alpha
        if operator not in ("standard", "tanh-cosine", "linear-cosine"):
            raise SystemExit(f"pytorch_anchor: operator '{operator}' is not implemented here "
                             "(standard, tanh-cosine, linear-cosine)")

    def forward(self, x):
        if self.operator == "standard":
            return F.conv2d(x, self.weight, padding=1)
        w_norm = torch.sqrt((self.weight ** 2).sum(dim=(1, 2, 3), keepdim=True) + NORM_EPSILON)
        x_norm = torch.sqrt(F.conv2d((x ** 2).sum(dim=1, keepdim=True), self.box, padding=1) + NORM_EPSILON)
        projection = F.conv2d(x, self.weight / w_norm, padding=1)  # |x| cos(theta)
        if self.operator == "tanh-cosine":
            h = self.alpha * torch.tanh(x_norm / self.radius)
        else:  # linear-cosine
            h = self.alpha * x_norm
        # h cos = projection * (h / |x|), as src/ops/decoupled.ts computes cosine operators.
        return projection * (h / x_norm)


def small_cnn(operator, input_shape, classes):
    h, w, c = input_shape
    return nn.Sequential(
        DecoupledConv(c, 32, operator), nn.ReLU(), nn.MaxPool2d(2, 2),
        DecoupledConv(32, 64, operator), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), classes),
    )


def make_step(kind, model, x, y):
    if kind == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=SGD_LEARNING_RATE)

        def train():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()
        return train
    model.eval()
    if kind == "forward":
        def forward():
            with torch.no_grad():
                return model(x).sum().item()
        return forward

    def input_gradient():
        xa = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(xa), y)
        (g,) = torch.autograd.grad(loss, xa)
        return (x + FGSM_EPSILON * g.sign()).clamp(0, 1).sum().item()
    return input_gradient


def measure(operator, kind, a):
    torch.manual_seed(a.seed)
    h, w, c = a.input_shape
    model = small_cnn(operator, a.input_shape, 10)
    x = torch.rand(a.batch, c, h, w)
    y = torch.randint(0, 10, (a.batch,))
    step = make_step(kind, model, x, y)
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    for _ in range(a.warmup):
        step()
    seconds = []
    for _ in range(a.steps):
        start = clock()
        step()
        seconds.append(clock() - start)
    # The median step, as src/perf/measure.ts (robust to a shared machine's slow steps).
    return {"network": "small-cnn", "operator": operator, "step": kind, "batch": a.batch,
            "imagesPerSecond": a.batch / statistics.median(seconds)}


def positive(v):
    n = int(v)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{v} is not a positive integer")
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--operators", default="standard,tanh-cosine,linear-cosine")
    p.add_argument("--only", default=",".join(STEPS))
    p.add_argument("--batch", type=positive, default=128)
    p.add_argument("--steps", type=positive, default=20, help="timed steps per cell (median reported)")
    p.add_argument("--warmup", type=positive, default=3)
    p.add_argument("--threads", type=positive, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: elapsed time; cpu: process CPU time (steadier on a shared machine)")
    p.add_argument("--input-shape", default="28,28,1")
    a = p.parse_args()
    a.input_shape = tuple(int(d) for d in a.input_shape.split(","))
    kinds = [k for k in a.only.split(",") if k]
    for k in kinds:
        if k not in STEPS:
            p.error(f"invalid step '{k}' in --only; valid: {', '.join(STEPS)}")
    torch.set_num_threads(a.threads)
    backend = f"pytorch-{torch.__version__}-cpu-{a.threads}-thread{'s' if a.threads > 1 else ''}"
    results = []
    for op in [o for o in a.operators.split(",") if o]:
        for kind in kinds:
            r = measure(op, kind, a)
            results.append(r)
            print(f"  {op} {kind}: {r['imagesPerSecond']:.0f} images/s", file=sys.stderr)
    if a.json:
        print(json.dumps({"backend": backend, "results": results}))
    else:
        print(f"small-cnn, batch {a.batch}, {a.steps} timed steps per cell, {a.clock} clock; backend {backend}")
        for r in results:
            print(f"{r['operator']:<14} {r['step']:<14} {r['imagesPerSecond']:>8.0f} images/s")


if __name__ == "__main__":
    main()
