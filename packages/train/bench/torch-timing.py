"""PyTorch training-step throughput on CUDA (or the CPU), standalone: every variant in turn, each for a time
budget, one JSON at the end (issue 15's PyTorch side of the GPU numbers; the device run calls it with python3).

  python3 torch-timing.py [--device cuda|cpu] [--config tinystories|small|tiny|JSON] [--batch-size B]
                          [--variants fp32,tf32,bf16-sdpa,compile-bf16] [--budget SECONDS] [--warmup STEPS] [--out FILE]

The model and step are torch-reference.py's (the side-by-side bench's): @cs336/nn's architecture with one
fused QKV projection, mean cross-entropy, global-norm clip 1.0, torch.optim.AdamW (betas 0.9/0.95, eps 1e-8,
weight decay 0.1; fused=True on CUDA), on uniformly random token ids. Variants:
  fp32          eager, attention written out (QKᵀ/√dk, mask, softmax, ·V), TF32 off: the float32 reference
  tf32          the same with TF32 matmuls and cuDNN (torch.backends.cuda.matmul.allow_tf32 = True)
  bf16-sdpa     eager under autocast to bfloat16, attention by F.scaled_dot_product_attention, TF32 on
  compile-bf16  torch.compile of the bf16-sdpa model (needs Triton on CUDA, a C++ compiler on the CPU)
A variant that cannot run reports {"skipped": reason} or {"error": message} instead of stopping the rest.
Timing: `warmup` steps (compilation happens there), then chunks of steps of about a second each, with
torch.cuda.synchronize() before the clock starts and after each chunk, until `budget` seconds have passed;
tokens/s is B·T over the median seconds per step of the chunks. MFU uses the handout's accounting (training =
3 × the forward matmul FLOPs, see @cs336/nn's accounting.ts) against the MatMul peak measured here in the
variant's precision. With --out the JSON is also rewritten after every variant, so a run cut short by a
timeout keeps what it finished.
"""
import argparse
import gc
import importlib.util
import json
import math
import os
import shutil
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("torch_reference", os.path.join(HERE, "torch-reference.py"))
torch_reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(torch_reference)

CONFIGS = {
    "tinystories": {"vocabSize": 10000, "contextLength": 256, "dModel": 512, "numLayers": 4, "numHeads": 16, "dFf": 2048, "batchSize": 128},
    "small": {"vocabSize": 10000, "contextLength": 64, "dModel": 128, "numLayers": 2, "numHeads": 4, "dFf": 512, "batchSize": 16},
    "tiny": {"vocabSize": 256, "contextLength": 16, "dModel": 32, "numLayers": 1, "numHeads": 2, "dFf": 64, "batchSize": 2},
}
VARIANTS = ("fp32", "tf32", "bf16-sdpa", "compile-bf16")
PEAK_PRECISION = {"fp32": "fp32", "tf32": "tf32", "bf16-sdpa": "bf16", "compile-bf16": "bf16"}


def synchronize(device):
    if device == "cuda":
        torch.cuda.synchronize()


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def forward_flops_per_token(c):
    """The handout's matmul accounting for one token of a T-token sequence (accounting.ts)."""
    T, d, L, V, d_ff = c["contextLength"], c["dModel"], c["numLayers"], c["vocabSize"], c["dFf"]
    per_sequence = L * (3 * 2 * T * d * d + 2 * 2 * T * T * d + 2 * T * d * d + 2 * 2 * T * d * d_ff) + 2 * T * d * V
    return per_sequence / T


def matmul_peak(device, n, seconds=1.0):
    """Best FLOP/s of n×n matmuls in fp32 (TF32 off), tf32 and bf16."""
    out = {}
    for name, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, True)):
        set_tf32(tf32)
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        a @ b
        synchronize(device)
        best, deadline = math.inf, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            for _ in range(4):
                a @ b
            synchronize(device)
            best = min(best, (time.perf_counter() - start) / 4)
        out[name] = 2 * n**3 / best
        del a, b
    return out


def skip_reason(variant, device):
    if variant != "compile-bf16":
        return None
    if device == "cpu" and shutil.which("g++") is None and shutil.which("c++") is None:
        return "torch.compile on the CPU needs a C++ compiler (no g++ or c++ on PATH)"
    if device == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError as error:
            return f"torch.compile on CUDA needs Triton ({error})"
    return None


def run_variant(variant, c, device, budget, warmup):
    set_tf32(variant != "fp32")
    B, T, V = c["batchSize"], c["contextLength"], c["vocabSize"]
    torch.manual_seed(0)
    model = torch_reference.TransformerLm(c, sdpa=variant != "fp32" and variant != "tf32").to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, **({"fused": True} if device == "cuda" else {}))
    forward = torch.compile(model) if variant == "compile-bf16" else model
    bf16 = variant in ("bf16-sdpa", "compile-bf16")
    generator = torch.Generator(device=device).manual_seed(7)

    def step():
        windows = torch.randint(0, V, (B, T + 1), device=device, generator=generator)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            logits = forward(windows[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, V), windows[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(warmup):
        loss = step()
    synchronize(device)
    warmup_seconds = time.perf_counter() - start

    start = time.perf_counter()
    step()
    synchronize(device)
    chunk = max(1, min(50, int(1.0 / max(time.perf_counter() - start, 1e-6))))
    per_step = []
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline or len(per_step) < 3:
        start = time.perf_counter()
        for _ in range(chunk):
            loss = step()
        synchronize(device)
        per_step.append((time.perf_counter() - start) / chunk)
    seconds = statistics.median(per_step)
    result = {
        "tokensPerSecond": round(B * T / seconds, 1),
        "secondsPerStepMedian": round(seconds, 6),
        "secondsPerStepBest": round(min(per_step), 6),
        "timedSteps": chunk * len(per_step),
        "warmupSteps": warmup,
        "warmupSeconds": round(warmup_seconds, 2),
        "lastLoss": round(loss.item(), 4),
    }
    if device == "cuda":
        result["maxMemoryGiB"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    del model, optimizer, forward
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--config", default="tinystories", help="tinystories, small, tiny, or a JSON object of the same fields")
    parser.add_argument("--batch-size", type=int, default=0, help="B (default: the config's; tinystories 128)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--budget", type=float, default=15.0, help="timed seconds per variant, after warm-up")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant (compilation happens here)")
    parser.add_argument("--peak-size", type=int, default=0, help="N of the N×N peak MatMul (default 8192 on CUDA, 1024 on the CPU; 0 keeps the default)")
    parser.add_argument("--peak-seconds", type=float, default=1.0, help="how long each precision's peak MatMul is measured")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    parser.add_argument("--out", help="also write the JSON here (temp + rename) after every variant")
    args = parser.parse_args()

    c = dict(CONFIGS[args.config]) if args.config in CONFIGS else json.loads(args.config)
    c.setdefault("rmsNormEps", 1e-5)
    if args.batch_size > 0:
        c["batchSize"] = args.batch_size
    missing = [k for k in ("vocabSize", "contextLength", "dModel", "numLayers", "numHeads", "dFf", "batchSize") if k not in c]
    if missing:
        raise SystemExit(f"torch-timing: --config lacks {', '.join(missing)}; give tinystories, small, tiny or a JSON object with every field")
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"torch-timing: unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch-timing: --device cuda but torch.cuda.is_available() is False")
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    report = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": args.device,
        "deviceName": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "config": c,
        "budgetSeconds": args.budget,
        "flopsPerTokenTraining": 3 * forward_flops_per_token(c),
        "variants": {},
    }

    def write():
        if args.out:
            with open(args.out + ".tmp", "w") as f:
                json.dump(report, f, indent=2)
            os.replace(args.out + ".tmp", args.out)

    peak_size = args.peak_size or (8192 if args.device == "cuda" else 1024)
    peaks = matmul_peak(args.device, peak_size, args.peak_seconds)
    report["matMulPeakTflops"] = {k: float(f"{v / 1e12:.4g}") for k, v in peaks.items()}
    report["matMulPeakSize"] = peak_size
    write()
    for variant in variants:
        reason = skip_reason(variant, args.device)
        if reason:
            report["variants"][variant] = {"skipped": reason}
        else:
            print(f"torch-timing: {variant}...", file=sys.stderr, flush=True)
            try:
                result = run_variant(variant, c, args.device, args.budget, args.warmup)
                achieved = result["tokensPerSecond"] * report["flopsPerTokenTraining"]
                result["achievedTflops"] = float(f"{achieved / 1e12:.4g}")
                result["mfu"] = float(f"{achieved / peaks[PEAK_PRECISION[variant]]:.4g}")
                if variant == "tf32" and args.device == "cpu":
                    result["note"] = "TF32 is a CUDA setting: on the CPU this is the fp32 step again"
                report["variants"][variant] = result
                print(f"torch-timing: {variant}: {result['tokensPerSecond']:.0f} tokens/s", file=sys.stderr, flush=True)
            except Exception as error:  # one variant failing (no compiler, out of memory) must not lose the others
                report["variants"][variant] = {"error": f"{type(error).__name__}: {str(error)[-1500:]}"}
                print(f"torch-timing: {variant} failed: {type(error).__name__}", file=sys.stderr, flush=True)
        gc.collect()
        if args.device == "cuda":
            torch.cuda.empty_cache()
        write()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
