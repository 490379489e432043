"""Training throughput of the book's ST-GCNs on HDM05 clips at their natural lengths.

    python benchmarks/bench_training.py                  # both widths, CPU or CUDA (auto)
    python benchmarks/bench_training.py --quick          # quick width only, fewer repeats
    python benchmarks/bench_training.py --amp            # also with mixed precision
    python benchmarks/bench_training.py --json out.json  # the rows as JSON too

The workload is what training does: HDM05's training clips at 10 fps, centred and scaled,
augmented as the quick profile does (random 80-100% windows at 0.8 to 1.25 times their speed,
turned about the vertical axis), in random batches of 16 zero-padded to their longest clip. One
"epoch" of such batches is drawn once (seeded) and replayed for every contender, so all of them
see the same clips. A step is forward, cross-entropy, backward and an SGD step.

Contenders, for the quick (width 0.25) and paper (width 1) networks:

* ``ours``: :class:`helpers.nets.stgcn.STGCN` with ``lengths``, as :func:`helpers.training.fit`
  calls it; it packs the clips end to end (:mod:`helpers.nets.frame_packing`).
* ``ours, padded``: the same model with ``pack_frames = False``: masked batch statistics on the
  padded batch, what training ran before packing.
* ``reference``: the original st-gcn code's network (``tests/naive.py: ReferenceModel``, plain
  PyTorch, channels scaled by the width) on the padded batch. It has no masks, so its padding
  leaks into the clips (a different function on padded batches, the same parameters and the
  same FLOPs per padded frame).

Printed per width: clips per second, the ratio to the reference and to the padded model, the
FLOPs a step executes (counted by :class:`torch.utils.flop_counter.FlopCounterMode`), the
achieved rate beside the machine's peak (a large matrix product in float32, and in bfloat16
where the processor has it, measured here in the same run), and peak memory (on CUDA
``max_memory_allocated``; on CPU the growth of the resident set over one epoch, measured in a
fresh process per contender). Times are the best of ``--repeats`` epochs, contenders
alternating so that they share the machine's background load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.data.dataset import pad_sequences  # noqa: E402
from helpers.runtime.device import resolve_device  # noqa: E402
from helpers.studies.context import load_profile_dataset  # noqa: E402
from helpers.studies.models import build_model, split_dataset  # noqa: E402
from helpers.training.inputs import prepare_dataset  # noqa: E402
from helpers.training.profiles import get_profile  # noqa: E402

BATCH = 16
CONTENDERS = ("ours", "ours, padded", "reference")


def epoch_batches(profile: str, seed: int = 0):
    """One epoch of augmented, padded training batches, and the dataset.

    Returns ``(batches, dataset)``: batches are ``(x (N, C, T, V, M), lengths (N,))``.
    """
    prof = get_profile(profile)
    ds = load_profile_dataset(prof, progress=False)
    train, _ = split_dataset(ds, prof.data["split"])
    cfg = prof.train_config()
    prepared = prepare_dataset(train, cfg)
    aug = cfg.augmenter(train.up_axis)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(prepared))
    batches = [
        pad_sequences([aug(prepared.sequences[i], rng) for i in order[j : j + BATCH]])
        for j in range(0, len(order), BATCH)
    ]
    return batches, ds


def make_model(profile: str, contender: str, ds, device: torch.device):
    """The contender's network for ``profile`` and dataset ``ds``, on ``device``, training mode."""
    prof = get_profile(profile)
    num_classes = ds.num_classes
    if contender == "reference":
        import naive

        model = naive.ReferenceModel(
            3,
            num_classes,
            {"layout": "hdm05", "strategy": "spatial"},
            True,
            width=prof.model["width"],
            dropout=prof.model["dropout"],
        )
    else:
        model = build_model(prof, ds, seed=0)
        model.pack_frames = contender == "ours"
    return model.to(device).train()


def train_step(model, opt, contender, x, lengths, y, amp_dtype) -> None:
    with torch.autocast(x.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        if contender == "reference":
            logits = model(x)
        else:
            logits = model(x, lengths=lengths)
        loss = F.cross_entropy(logits.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def device_batches(batches, num_classes, device):
    gen = torch.Generator().manual_seed(0)
    out = []
    for x, lengths in batches:
        y = torch.randint(0, num_classes, (len(x),), generator=gen)
        out.append((torch.from_numpy(x).to(device), torch.as_tensor(lengths), y.to(device)))
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_flops(model, contender, data) -> float:
    """FLOPs of one epoch of training steps (forward and backward; the optimiser's are few)."""
    from torch.utils.flop_counter import FlopCounterMode

    total = 0
    for x, lengths, y in data:
        with FlopCounterMode(display=False) as counter:
            logits = model(x) if contender == "reference" else model(x, lengths=lengths)
            F.cross_entropy(logits, y).backward()
        total += counter.get_total_flops()
        model.zero_grad(set_to_none=True)
    return float(total)


def peak_rate(device: torch.device, dtype: torch.dtype, n: int = 4096, reps: int = 10) -> float:
    """Best FLOP/s of an n x n matrix product in ``dtype`` (the machine's practical peak)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    best = float("inf")
    a @ b
    for _ in range(reps):
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def has_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(
            torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    except (AttributeError, RuntimeError):
        return False


def cpu_peak_memory(profile: str, contender: str, threads: int) -> float:
    """MB the resident set peaks above its level before one epoch of ``contender``.

    Measured in a fresh process: Linux's peak resident set (``VmHWM``) is reset (``clear_refs``
    5) after the data and the model are ready, and read after the epoch. NaN where that is
    not available.
    """
    if not Path("/proc/self/clear_refs").exists():
        return float("nan")
    code = (
        "import sys, torch; sys.argv = ['x'];"
        "kb = lambda key: int([l for l in open('/proc/self/status') if l.startswith(key)]"
        "[0].split()[1]);"
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
        "import bench_training as b;"
        f"torch.set_num_threads({threads});"
        f"batches, ds = b.epoch_batches({profile!r}); k = ds.num_classes;"
        "dev = torch.device('cpu');"
        f"m = b.make_model({profile!r}, {contender!r}, ds, dev);"
        "opt = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9);"
        "data = b.device_batches(batches, k, dev);"
        "b.train_step(m, opt, " + repr(contender) + ", *data[0], None);"  # optimiser state
        "rss0 = kb('VmRSS'); open('/proc/self/clear_refs', 'w').write('5');"
        f"[b.train_step(m, opt, {contender!r}, x, L, y, None) for x, L, y in data];"
        "print((kb('VmHWM') - rss0) / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(profile, device, repeats, amp_dtype, threads, memory) -> list[dict]:
    batches, ds = epoch_batches(profile)
    k = ds.num_classes
    data = device_batches(batches, k, device)
    clips = sum(len(x) for x, _, _ in data)
    valid = sum(int(lengths.sum()) for _, lengths, _ in data)
    padded = sum(x.shape[0] * x.shape[2] for x, _, _ in data)
    models, runners, flops = {}, {}, {}
    for contender in CONTENDERS:
        model = make_model(profile, contender, ds, device)
        models[contender] = model
        flops[contender] = step_flops(model, contender, data)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        runners[contender] = partial(
            lambda m, o, c: [train_step(m, o, c, x, L, y, amp_dtype) for x, L, y in data],
            model,
            opt,
            contender,
        )
    times = {c: [] for c in CONTENDERS}
    for fn in runners.values():  # warm-up: kernels, allocator, oneDNN primitives
        fn()
    for _ in range(repeats):
        for contender, fn in runners.items():
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            times[contender].append(time.perf_counter() - t0)
    rows = []
    for contender in CONTENDERS:
        best = min(times[contender])
        if device.type == "cuda":
            mem = float("nan")  # filled below, one contender at a time
        elif memory:
            mem = cpu_peak_memory(profile, contender, threads)
        else:
            mem = float("nan")
        rows.append(
            {
                "profile": profile,
                "contender": contender,
                "amp": str(amp_dtype).replace("torch.", "") if amp_dtype else "float32",
                "clips_per_s": clips / best,
                "epoch_s": best,
                "gflop_per_clip": flops[contender] / clips / 1e9,
                "gflop_per_s": flops[contender] / best / 1e9,
                "useful_gflop_per_s": flops["ours"] / best / 1e9,
                "peak_memory_mb": mem,
                "valid_frame_share": valid / padded,
            }
        )
    if device.type == "cuda":
        for row, contender in zip(rows, CONTENDERS):
            torch.cuda.reset_peak_memory_stats(device)
            runners[contender]()
            sync(device)
            row["peak_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick width only, 3 repeats")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--amp", action="store_true", help="also time mixed precision")
    parser.add_argument("--no-memory", action="store_true", help="skip the CPU memory runs")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    repeats = args.repeats or (3 if args.quick else 5)
    profiles = ("quick",) if args.quick else ("quick", "paper")

    peak32 = peak_rate(device, torch.float32)
    bf16 = has_bf16(device)
    peak16 = peak_rate(device, torch.bfloat16) if bf16 else float("nan")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name} ({device.type}), torch {torch.__version__}, {threads} threads")
    print(
        f"measured peak (matrix product 4096^2): float32 {peak32 / 1e9:.0f} GFLOP/s"
        + (f", bfloat16 {peak16 / 1e9:.0f} GFLOP/s" if bf16 else ", no bfloat16 support")
    )
    amp_dtypes = [None]
    if args.amp:
        amp_dtypes.append(torch.float16 if device.type == "cuda" else torch.bfloat16)
        if device.type == "cpu" and not bf16:
            print("--amp: this processor has no bfloat16 support; float32 only")
            amp_dtypes = [None]
    rows = []
    for profile in profiles:
        for amp_dtype in amp_dtypes:
            part = measure(profile, device, repeats, amp_dtype, threads, not args.no_memory)
            rows += part
            ref = {r["contender"]: r for r in part}
            label = part[0]["amp"]
            print(
                f"\n{profile} network ({label}), batches of {BATCH}, "
                f"{part[0]['valid_frame_share']:.0%} of the padded frames valid"
            )
            print(
                f"{'contender':<14} {'clips/s':>8} {'x ref':>6} {'x padded':>8} "
                f"{'GFLOP/clip':>10} {'GFLOP/s':>8} {'of peak':>7} {'peak MB':>8}"
            )
            peak = peak16 if amp_dtype is not None and bf16 else peak32
            for r in part:
                print(
                    f"{r['contender']:<14} {r['clips_per_s']:8.1f} "
                    f"{r['clips_per_s'] / ref['reference']['clips_per_s']:6.2f} "
                    f"{r['clips_per_s'] / ref['ours, padded']['clips_per_s']:8.2f} "
                    f"{r['gflop_per_clip']:10.2f} {r['gflop_per_s']:8.1f} "
                    f"{r['gflop_per_s'] * 1e9 / peak:7.1%} {r['peak_memory_mb']:8.0f}"
                )
    print(
        "\nGFLOP/s counts the FLOPs each contender executes (padding included); 'of peak' "
        "compares it with the matrix-product peak above."
    )
    if args.json:
        args.json.write_text(
            json.dumps({"device": name, "threads": threads, "peak_fp32": peak32, "rows": rows})
        )


if __name__ == "__main__":
    main()
