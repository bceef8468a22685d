#!/usr/bin/python3
"""PyTorch anchor of `npm run perf`: the same networks (small-cnn, cnn9, resnet32), operators,
steps, batch and timing, on PyTorch's CPU backend. Prints the same JSON shape:
{"backend": ..., "anchor": {configuration}, "results": [{"network", "operator", "step", "batch",
"imagesPerSecond", "rusage"}]}.

The allocator: glibc's default malloc returns PyTorch's large activation buffers to the
operating system after every step and pays the page faults again on the next (seconds of
system time per run); a PyTorch user in production runs a tuned allocator. By default the
script re-executes itself with glibc told to keep its memory (ALLOCATOR_ENV, read by glibc at
process start, so it has to be in the environment before Python starts); `--untuned` runs it
with glibc's defaults. The JSON records which ran, and each cell's system time and page faults
(getrusage) show whether the setting took effect.

Networks follow models/architectures.ts layer by layer (TF.js 'same' padding, which pads the
bottom/right more for stride 2; batch norm with epsilon 1e-3 and TF.js's momentum; no conv
biases; flatten in NHWC order), so that `--logits` gives the same logits as ours for the same
weights. Decoupled operators follow src/ops/decoupled.ts: unit filters, patch norm
|x| = sqrt(box(sum_c x^2) + 1e-4), cos = conv(x, w/|w|) / |x|, output h(|x|) * cos computed as
conv(x, w/|w|) * (h(|x|) / |x|), as there.
"""
import os
import sys

# glibc reads these at start: keep freed memory instead of unmapping and trimming it.
ALLOCATOR_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "MALLOC_TOP_PAD_": "268435456",
}


def _exec_with_allocator():
    """Re-executes this script once if the allocator environment is not the one asked for."""
    want = {} if "--untuned" in sys.argv[1:] else ALLOCATOR_ENV
    if all(os.environ.get(k) == want.get(k) for k in ALLOCATOR_ENV):
        return
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_ENV}
    env.update(want)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


if __name__ == "__main__":
    _exec_with_allocator()

import argparse  # noqa: E402  (after the re-exec: nothing heavy is loaded twice)
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

NORM_EPSILON = 1e-4
BN_EPSILON = 1e-3  # TF.js batchNormalization's default
BN_MOMENTUM = 0.01  # TF.js's momentum 0.99 in PyTorch's convention (weight of the new value)
SGD_LEARNING_RATE = 0.05  # as src/perf/steps.ts
FGSM_EPSILON = 8 / 255
STEPS = ("train", "forward", "inputGradient")
BETA = 0.5  # SegConv's slope above the radius and MixConv's log weight (src/ops/options.ts)
# h(n) of each magnitude function with the cosine angular activation, as src/ops/decoupled.ts
# computes it (radius rho, alpha); the quick profile's operators.
MAGNITUDES = {
    "sphere": lambda n, rho, alpha: alpha * torch.ones_like(n),
    "ball": lambda n, rho, alpha: alpha * (torch.clamp(n, max=rho) / rho),
    "tanh": lambda n, rho, alpha: alpha * torch.tanh(n / rho),
    "linear": lambda n, rho, alpha: alpha * n,
    "seg": lambda n, rho, alpha: alpha * torch.clamp(n, max=rho) + BETA * torch.relu(n - rho),
    "log": lambda n, rho, alpha: alpha * torch.log1p(n),
    "mix": lambda n, rho, alpha: alpha * n + BETA * torch.log1p(n),
}
OPERATORS = ("standard", *(f"{m}-cosine" for m in MAGNITUDES))
NETWORK_INPUT_SHAPE = {"small-cnn": (28, 28, 1), "cnn9": (32, 32, 3), "resnet32": (32, 32, 3)}


def same_padding(size, k, s):
    """TF's 'same' padding of one axis: (before, after); the odd pixel goes after."""
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def tf_conv(x, w, stride, padding):
    """conv2d with TF.js's padding semantics ('same' or 'valid'), NCHW."""
    if padding == "valid":
        return F.conv2d(x, w, stride=stride)
    k = w.shape[-1]
    ph, pw = same_padding(x.shape[2], k, stride), same_padding(x.shape[3], k, stride)
    if ph[0] == ph[1] and pw[0] == pw[1]:
        return F.conv2d(x, w, stride=stride, padding=(ph[0], pw[0]))
    return F.conv2d(F.pad(x, (pw[0], pw[1], ph[0], ph[1])), w, stride=stride)


class DecoupledConv(nn.Module):
    """DecoupledConv2D without bias: `standard` or a decoupled operator (radius 1, alpha 1)."""

    def __init__(self, cin, cout, k, operator, stride=1, padding="same", radius=1.0, alpha=1.0):
        super().__init__()
        if operator not in OPERATORS:
            raise SystemExit(f"pytorch_anchor: operator '{operator}' is not implemented here "
                             f"({', '.join(OPERATORS)})")
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        self.register_buffer("box", torch.ones(1, 1, k, k))
        self.operator, self.stride, self.padding = operator, stride, padding
        self.radius, self.alpha = radius, alpha

    def forward(self, x):
        if self.operator == "standard":
            return tf_conv(x, self.weight, self.stride, self.padding)
        w_norm = torch.sqrt((self.weight ** 2).sum(dim=(1, 2, 3), keepdim=True) + NORM_EPSILON)
        energy = (x ** 2).sum(dim=1, keepdim=True)
        x_norm = torch.sqrt(tf_conv(energy, self.box, self.stride, self.padding) + NORM_EPSILON)
        projection = tf_conv(x, self.weight / w_norm, self.stride, self.padding)  # |x| cos(theta)
        h = MAGNITUDES[self.operator.removesuffix("-cosine")](x_norm, self.radius, self.alpha)
        return projection * (h / x_norm)


class Net(nn.Module):
    """Keeps the convolutions and batch norms in the order models/architectures.ts creates them
    (the order `--logits` loads weights in)."""

    def __init__(self, operator):
        super().__init__()
        self.operator = operator
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()

    def conv(self, cin, cout, k, stride=1, padding="same", plain=False):
        c = DecoupledConv(cin, cout, k, "standard" if plain else self.operator, stride, padding)
        self.convs.append(c)
        return c

    def bn(self, c):
        b = nn.BatchNorm2d(c, eps=BN_EPSILON, momentum=BN_MOMENTUM)
        self.bns.append(b)
        return b


class SmallCnn(Net):
    def __init__(self, operator, input_shape, classes):
        super().__init__(operator)
        h, w, c = input_shape
        self.c1, self.c2 = self.conv(c, 32, 3), self.conv(32, 64, 3)
        self.dense = nn.Linear(64 * (h // 4) * (w // 4), classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.dense(x.permute(0, 2, 3, 1).flatten(1))  # NHWC order, as TF.js flattens


class Cnn9(Net):
    def __init__(self, operator, input_shape, classes):
        super().__init__(operator)
        c = input_shape[2]
        self.stages = []
        for width in (128, 192, 256):
            stage = []
            for _ in range(3):
                stage.append((self.conv(c, width, 3), self.bn(width)))
                c = width
            self.stages.append(stage)
        self.last = (self.conv(256, 256, 4, padding="valid"), self.bn(256))
        self.classifier = self.conv(256, classes, 1, plain=True)

    def forward(self, x):
        for stage in self.stages:
            for conv, bn in stage:
                x = F.relu(bn(conv(x)))
            x = F.max_pool2d(x, 2, ceil_mode=True)  # TF.js 'same' pooling
        conv, bn = self.last
        return self.classifier(F.relu(bn(conv(x)))).flatten(1)


class Resnet32(Net):
    def __init__(self, operator, input_shape, classes):
        super().__init__(operator)
        self.root = (self.conv(input_shape[2], 96, 3), self.bn(96))
        self.units = []
        c = 96
        for stage, width in enumerate((96, 192, 384)):
            for unit in range(5):
                stride = 2 if stage > 0 and unit == 0 else 1
                conv1, bn1 = self.conv(c, width, 3, stride), self.bn(width)
                # architectures.ts creates the second batch norm before the second conv.
                bn2 = self.bn(width)
                conv2 = self.conv(width, width, 3)
                shortcut = self.conv(c, width, 1, stride, plain=True) if stride != 1 or c != width else None
                self.units.append((conv1, bn1, conv2, bn2, shortcut))
                c = width
        self.classifier = self.conv(384, classes, 1, plain=True)

    def forward(self, x):
        x = x * (255 / 128) - 127.5 / 128
        conv, bn = self.root
        x = F.relu(bn(conv(x)))
        for conv1, bn1, conv2, bn2, shortcut in self.units:
            y = bn2(conv2(F.relu(bn1(conv1(x)))))
            x = F.relu(y + (shortcut(x) if shortcut is not None else x))
        x = x.mean(dim=(2, 3), keepdim=True)
        return self.classifier(x).flatten(1)


NETWORKS = {"small-cnn": SmallCnn, "cnn9": Cnn9, "resnet32": Resnet32}


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


def measure(network, operator, kind, a):
    torch.manual_seed(a.seed)
    h, w, c = a.input_shape
    model = NETWORKS[network](operator, a.input_shape, 10)
    x = torch.rand(a.batch, c, h, w)
    y = torch.randint(0, 10, (a.batch,))
    step = make_step(kind, model, x, y)
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    for _ in range(a.warmup):
        step()
    seconds, faults = [], []
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(a.steps):
        start, start_faults = clock(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        step()
        seconds.append(clock() - start)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start_faults)
    after = resource.getrusage(resource.RUSAGE_SELF)
    # The median step, as src/perf/measure.ts (robust to a shared machine's slow steps).
    return {"network": network, "operator": operator, "step": kind, "batch": a.batch,
            "imagesPerSecond": a.batch / statistics.median(seconds),
            # Per timed step: a malloc that unmaps its buffers shows here as system time and
            # minor page faults. Faults of the median step: a kernel's own page scans (NUMA
            # balancing) fault in bursts that have nothing to do with malloc.
            "rusage": {"userSeconds": (after.ru_utime - before.ru_utime) / a.steps,
                       "systemSeconds": (after.ru_stime - before.ru_stime) / a.steps,
                       "minorFaults": statistics.median(faults)}}


def parse_convolution(spec):
    """N x H x W x C : KH x KW x CIN x COUT : stride : padding, as src/perf/convolutions.ts writes it."""
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)x(\d+):(\d+)x(\d+)x(\d+)x(\d+):s(\d+):(same|valid)", spec)
    if not m or int(m[4]) != int(m[7]) or any(int(m[i]) < 1 for i in range(1, 10)):
        raise SystemExit(f"pytorch_anchor: invalid --convolutions entry '{spec}': "
                         "give NxHxWxC:KHxKWxCxCOUT:sSTRIDE:same|valid, e.g. 128x14x14x32:3x3x32x64:s1:same")
    n, h, w, c, kh, kw, _, cout, stride = (int(m[i]) for i in range(1, 10))
    return {"spec": spec, "input": [n, h, w, c], "filter": [kh, kw, c, cout], "stride": stride, "padding": m[10]}


def measure_convolution(conv, a):
    """One convolution layer alone: forward, dL/dx and dL/dw (ATen's convolution and
    convolution_backward, which autograd calls), each the fastest of `a.steps` timed calls as in
    src/perf/convolutions.ts, NCHW as the anchor's networks run. TF's asymmetric 'same' padding is applied to the input beforehand
    (untimed); symmetric padding is the convolution's own."""
    torch.manual_seed(a.seed)
    n, h, w, c = conv["input"]
    kh, kw, _, cout = conv["filter"]
    s = conv["stride"]
    x = torch.rand(n, c, h, w)
    weight = torch.rand(cout, c, kh, kw) - 0.5
    pad = [0, 0]
    if conv["padding"] == "same":
        ph, pw = same_padding(h, kh, s), same_padding(w, kw, s)
        if ph[0] == ph[1] and pw[0] == pw[1]:
            pad = [ph[0], pw[0]]
        else:
            x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
    forward = lambda: F.conv2d(x, weight, stride=s, padding=pad)  # noqa: E731
    dy = torch.rand_like(forward()) - 0.5

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(dy, x, weight, None, [s, s], pad, [1, 1], False, [0, 0], 1, mask)
    passes = {"forward": forward, "inputGradient": backward([True, False, False]),
              "filterGradient": backward([False, True, False])}
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    out = []
    for name, run in passes.items():
        result = run()
        shape = list(result.shape) if name == "forward" else list((result[0] if name == "inputGradient" else result[1]).shape)
        for _ in range(a.warmup):
            run()
        seconds = []
        for _ in range(a.steps):
            start = clock()
            run()
            seconds.append(clock() - start)
        out.append({"convolution": conv["spec"], "pass": name, "ms": 1000 * min(seconds),
                    "outputShape": shape})
    return out


def load_weights(model, manifest):
    """Weights exported by test/perf-anchor.test.ts: TF.js layouts (kernels [kh, kw, cin, cout],
    dense [in, out]) in one float32 file, convolutions and batch norms in creation order."""
    with open(manifest["weights"], "rb") as f:
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    offset = 0

    def take(shape):
        nonlocal offset
        n = 1
        for d in shape:
            n *= d
        t = flat[offset:offset + n].reshape(shape)
        offset += n
        return t
    convs, bns = manifest["convs"], manifest["bns"]
    if len(convs) != len(model.convs) or len(bns) != len(model.bns):
        raise SystemExit(f"pytorch_anchor: {len(convs)} convs and {len(bns)} batch norms exported, "
                         f"the anchor's network has {len(model.convs)} and {len(model.bns)}")
    with torch.no_grad():
        for conv, shape in zip(model.convs, convs):
            kernel = take(shape).permute(3, 2, 0, 1)
            if kernel.shape != conv.weight.shape:
                raise SystemExit(f"pytorch_anchor: kernel {list(kernel.shape)} vs {list(conv.weight.shape)}")
            conv.weight.copy_(kernel)
        for bn, c in zip(model.bns, bns):
            for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
                t.copy_(take([c]))
        if "dense" in manifest:
            model.dense.weight.copy_(take(manifest["dense"]).t())
            model.dense.bias.copy_(take([manifest["dense"][1]]))
    if offset != flat.numel():
        raise SystemExit(f"pytorch_anchor: {flat.numel() - offset} exported values left unused")


def logits(path):
    """Inference-mode logits of the exported weights on the exported input (NHWC float32)."""
    with open(path) as f:
        m = json.load(f)
    model = NETWORKS[m["network"]](m["operator"], tuple(m["inputShape"]), m["classes"])
    load_weights(model, m)
    model.eval()
    h, w, c = m["inputShape"]
    with open(m["input"], "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(-1, h, w, c)
    with torch.no_grad():
        out = model(x.permute(0, 3, 1, 2).contiguous())
    return {"network": m["network"], "operator": m["operator"],
            "parameters": [p.numel() for p in model.parameters()],
            "logits": out.flatten().tolist()}


def positive(v):
    n = int(v)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{v} is not a positive integer")
    return n


def cpu_capability():
    """The vector instructions ATen dispatches to on this CPU (AVX2, AVX512, ...), from its build
    report; oneDNN's convolutions pick the same width."""
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return m[1] if m else "unknown"


def configuration(a):
    """What ran: recorded in the JSON so that a result says which anchor it is."""
    return {"torch": torch.__version__, "python": platform.python_version(), "threads": a.threads,
            "cpuCapability": cpu_capability(),
            "allocator": "untuned" if a.untuned else "tuned",
            "env": {k: os.environ.get(k) for k in ALLOCATOR_ENV}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--network", choices=sorted(NETWORKS), default="small-cnn")
    p.add_argument("--operators", default="standard,tanh-cosine,linear-cosine")
    p.add_argument("--only", default=",".join(STEPS))
    p.add_argument("--batch", type=positive, default=128)
    p.add_argument("--steps", type=positive, default=20, help="timed steps per cell (median reported)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=positive, default=1)
    p.add_argument("--untuned", action="store_true",
                   help="glibc's default allocator settings (returns memory to the OS every step)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: elapsed time; cpu: process CPU time (steadier on a shared machine)")
    p.add_argument("--input-shape", default=None, help="h,w,c (default: the network's)")
    p.add_argument("--logits", nargs="+", metavar="MANIFEST",
                   help="print, one JSON line each, the logits of exported weights (tests)")
    p.add_argument("--convolutions", default=None, metavar="SPECS",
                   help="time these convolution layers alone instead of the steps (comma-separated "
                        "NxHxWxC:KHxKWxCxCOUT:sSTRIDE:same|valid)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.logits:
        for path in a.logits:
            print(json.dumps(logits(path)))
        return
    a.input_shape = (tuple(int(d) for d in a.input_shape.split(","))
                     if a.input_shape else NETWORK_INPUT_SHAPE[a.network])
    kinds = [k for k in a.only.split(",") if k]
    for k in kinds:
        if k not in STEPS:
            p.error(f"invalid step '{k}' in --only; valid: {', '.join(STEPS)}")
    if a.warmup < 0:
        p.error("--warmup must be 0 or more")
    threads = f"{a.threads}-thread{'s' if a.threads > 1 else ''}"
    backend = f"pytorch-{torch.__version__}-cpu-{threads}{'-untuned' if a.untuned else ''}"
    if a.convolutions is not None:
        convs = [parse_convolution(v) for v in a.convolutions.split(",") if v]
        timed = [r for conv in convs for r in measure_convolution(conv, a)]
        if a.json:
            print(json.dumps({"backend": backend, "anchor": configuration(a), "convolutions": timed}))
        else:
            for r in timed:
                print(f"{r['convolution']:<32} {r['pass']:<15} {r['ms']:>8.2f} ms")
        return
    results = []
    for op in [o for o in a.operators.split(",") if o]:
        for kind in kinds:
            r = measure(a.network, op, kind, a)
            results.append(r)
            print(f"  {op} {kind}: {r['imagesPerSecond']:.0f} images/s, "
                  f"{r['rusage']['systemSeconds']:.3f} s system time per step", file=sys.stderr)
    if a.json:
        print(json.dumps({"backend": backend, "anchor": configuration(a), "results": results}))
    else:
        print(f"{a.network}, batch {a.batch}, {a.steps} timed steps per cell, {a.clock} clock; backend {backend}")
        for r in results:
            print(f"{r['operator']:<14} {r['step']:<14} {r['imagesPerSecond']:>8.0f} images/s  "
                  f"sys {r['rusage']['systemSeconds']:.3f} s/step  "
                  f"{r['rusage']['minorFaults']:.0f} page faults/step")


if __name__ == "__main__":
    main()
