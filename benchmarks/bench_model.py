"""Throughput of :class:`helpers.nets.stgcn.STGCN` against a plain, straightforward ST-GCN.

    python benchmarks/bench_model.py [--quick] [--device auto|cpu|cuda] [--repeats R] [--threads N]

The baseline below is the textbook formulation written without any care for speed: one 1x1
convolution to K*C channels, then a Python loop over the K partition subsets with one matmul each,
the same temporal unit, residuals and pooling. It has exactly our parameters (same names), so the
script first copies our weights into it and checks both give the same logits; any speed difference
is then the implementation, not the network.

Measured: training throughput (samples/s for forward + cross-entropy + backward + SGD step) and
inference throughput (eval mode, no grad), for the reference NTU network (full width, M=2 bodies)
and the quarter-width HDM05 network (M=1). Shapes: N=16, T=64 on CPU; N=64, T=300 on CUDA. Each
measurement alternates ours and baseline, repeats R times after warm-up, and reports the best
(least disturbed) time, because on a shared machine noise only ever adds time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.nets.stgcn import STGCN  # noqa: E402
from helpers.runtime.device import resolve_device  # noqa: E402


# --------------------------------------------------------------------------- baseline
class PlainGraphConv(nn.Module):
    """1x1 conv to K*C channels, then one (x_k @ A_k) per subset, summed in a Python loop."""

    def __init__(self, in_channels: int, out_channels: int, num_subsets: int):
        super().__init__()
        self.k, self.c = num_subsets, out_channels
        self.conv = nn.Conv2d(in_channels, out_channels * num_subsets, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.k, self.c, t, v)
        out = torch.zeros(n, self.c, t, v, dtype=y.dtype, device=y.device)
        for k in range(self.k):
            out = out + torch.matmul(y[:, k], A[k])
        return out


class PlainBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, first: bool):
        super().__init__()
        self.gcn = PlainGraphConv(c_in, c_out, k)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, (9, 1), (stride, 1), (4, 0)),
            nn.BatchNorm2d(c_out),
            nn.Dropout(0.0),
        )
        self.kind = "none" if first else ("identity" if c_in == c_out and stride == 1 else "conv")
        if self.kind == "conv":
            self.residual = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, (stride, 1)), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, A))
        if self.kind == "identity":
            y = y + x
        elif self.kind == "conv":
            y = y + self.residual(x)
        return F.relu(y)


class PlainSTGCN(nn.Module):
    """The network of ``STGCN(model.config)``, written plainly; built from one of our models."""

    def __init__(self, model: STGCN):
        super().__init__()
        A = model.A
        k, v = A.shape[0], A.shape[1]
        self.register_buffer("A", A.clone())
        self.data_bn = nn.BatchNorm1d(model.in_channels * v)
        c_in, blocks = model.in_channels, []
        for i, (c_out, stride) in enumerate(model.schedule):
            blocks.append(PlainBlock(c_in, c_out, k, stride, first=i == 0))
            c_in = c_out
        self.st_gcn_networks = nn.ModuleList(blocks)
        self.edge_importance = nn.ParameterList([nn.Parameter(torch.ones(k, v, v)) for _ in blocks])
        self.fcn = nn.Conv2d(c_in, model.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).contiguous().view(n * m, v * c, t)
        x = (
            self.data_bn(x)
            .view(n, m, v, c, t)
            .permute(0, 1, 3, 4, 2)
            .contiguous()
            .view(n * m, c, t, v)
        )
        for block, importance in zip(self.st_gcn_networks, self.edge_importance):
            x = block(x, self.A * importance)
        x = F.avg_pool2d(x, x.shape[2:]).view(n, m, -1, 1, 1).mean(dim=1)
        return self.fcn(x).view(n, -1)


# --------------------------------------------------------------------------- timing
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _train_step(
    model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> None:
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


@torch.no_grad()
def _infer(model: nn.Module, x: torch.Tensor) -> None:
    model(x)


def _time(fn, device: torch.device, clock=time.perf_counter) -> float:
    _sync(device)
    t0 = clock()
    fn()
    _sync(device)
    return clock() - t0


def measure(
    name: str,
    make_model,
    n: int,
    t: int,
    m: int,
    v: int,
    device: torch.device,
    repeats: int,
    warmup: int,
    clock=time.perf_counter,
) -> list[dict]:
    ours = make_model().to(device)
    base = PlainSTGCN(ours).to(device)
    missing = base.load_state_dict(ours.state_dict(), strict=False)
    assert not missing.missing_keys, missing.missing_keys
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, t, v, m, generator=gen).to(device)
    y = torch.randint(0, ours.num_classes, (n,), generator=gen).to(device)
    with torch.no_grad():
        a, b = ours.eval()(x), base.eval()(x)
        diff = ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()

    rows = []
    for mode in ("train", "inference"):
        runners = {}
        for label, model in (("ours", ours), ("baseline", base)):
            if mode == "train":
                model.train()
                opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
                runners[label] = partial(_train_step, model, opt, x, y)
            else:
                model.eval()
                runners[label] = partial(_infer, model, x)
        times = {label: [] for label in runners}
        for _ in range(warmup):
            for fn in runners.values():
                fn()
        for _ in range(repeats):  # alternate so both see the same background load
            for label, fn in runners.items():
                times[label].append(_time(fn, device, clock))
        best = {label: min(ts) for label, ts in times.items()}
        med = {label: statistics.median(ts) for label, ts in times.items()}
        rows.append(
            {
                "config": name,
                "device": device.type,
                "mode": mode,
                "shape": f"N={n} T={t} M={m}",
                "ours": n / best["ours"],
                "baseline": n / best["baseline"],
                "ours_median": n / med["ours"],
                "baseline_median": n / med["baseline"],
                "max_logit_diff": diff,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller GPU batch")
    parser.add_argument(
        "--device", default="auto", help="'auto' (CPU, and CUDA when present), 'cpu' or 'cuda'"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repetitions per measurement"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument(
        "--timer",
        choices=("wall", "cpu"),
        default="wall",
        help="'wall' (default) or 'cpu': process CPU time, steadier on a busy shared CPU "
        "(CPU runs only; with several threads it also counts their spin-waiting)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 10)
    warmup = 1 if args.quick else 2

    devices = [torch.device("cpu")]
    if args.device == "auto":
        if torch.cuda.is_available():
            devices.append(torch.device("cuda"))
    else:
        devices = [resolve_device(args.device)]

    clock = time.process_time if args.timer == "cpu" else time.perf_counter
    if args.timer == "cpu" and any(d.type == "cuda" for d in devices):
        parser.error("--timer cpu measures CPU runs only; add --device cpu")

    rows = []
    for device in devices:
        gpu = device.type == "cuda"
        n, t = (32 if args.quick else 64, 300) if gpu else (16, 64)
        configs = [
            ("NTU full width", partial(STGCN, 60, layout="ntu-rgb+d", random_state=0), 2, 25),
            (
                "HDM05 width 0.25",
                partial(STGCN, 11, layout="hdm05", width=0.25, random_state=0),
                1,
                31,
            ),
        ]
        for name, make, m, v in configs:
            print(f"measuring {name} on {device.type} ({repeats} repeats) ...", flush=True)
            rows += measure(name, make, n, t, m, v, device, repeats, warmup, clock)

    unit = "samples per CPU-second" if args.timer == "cpu" else "samples/s"
    print(
        f"\ntorch {torch.__version__}, {torch.get_num_threads()} CPU threads; {unit} from the best "
        "of "
        f"{repeats} runs (median in brackets); ratio = ours / baseline\n"
    )
    head = (
        f"{'config':<18} {'device':<6} {'mode':<10} {'shape':<16} "
        f"{'ours':>18} {'baseline':>18} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ours = f"{r['ours']:.1f} ({r['ours_median']:.1f})"
        base = f"{r['baseline']:.1f} ({r['baseline_median']:.1f})"
        print(
            f"{r['config']:<18} {r['device']:<6} {r['mode']:<10} {r['shape']:<16} {ours:>18} "
            f"{base:>18} "
            f"{r['ours'] / r['baseline']:>6.2f}"
        )
    print(
        f"\nours vs baseline with the same weights: max |logit difference| / max |logit| = "
        f"{max(r['max_logit_diff'] for r in rows):.1e}"
    )


if __name__ == "__main__":
    main()
