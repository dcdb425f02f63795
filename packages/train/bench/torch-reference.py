"""PyTorch reference of @cs336/train's training step, for the side-by-side bench (torch-side-by-side.ts).

The same model as @cs336/nn's transformerLm: token + learned position embeddings, pre-norm blocks
(RMSNorm, causal softmax attention with one fused QKV projection, GELU (erf) feed-forward, no biases),
final RMSNorm, untied head. The same full step: forward, mean cross-entropy, backward, global-norm clip
at 1.0, AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on every tensor, lr 1e-3).

Variants: eager (attention written out: QK^T / sqrt(dk), mask, softmax, @V, as ours), sdpa
(F.scaled_dot_product_attention, is_causal), compile (torch.compile of the sdpa model; needs g++),
bf16 (eager sdpa under CPU autocast to bfloat16).

It is a worker: started with a config, it reads one command per line on stdin and answers one JSON
line on stdout, so the TypeScript side can alternate it with our step while both stay warm:
  warmup N   run N steps untimed (compile happens here)
  steps N    run N steps, answer their wall seconds and the last loss
  peak N     best of 5 N x N fp32 matmuls (and bf16), GFLOP/s
  profile N  N steps under torch.profiler, answer self-CPU time by op
  quit
Run alone: python3 torch-reference.py '{"vocabSize":10000,...}' THREADS VARIANT
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        d = c["dModel"]
        self.h = c["numHeads"]
        self.sdpa = sdpa
        self.ln1 = RMSNorm(d, c["rmsNormEps"])
        self.ln2 = RMSNorm(d, c["rmsNormEps"])
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.w1 = nn.Linear(d, c["dFf"], bias=False)
        self.w2 = nn.Linear(c["dFf"], d, bias=False)
        t = c["contextLength"]
        self.register_buffer("mask", torch.ones(t, t, dtype=torch.bool).triu(1), persistent=False)

    def attention(self, x):
        B, T, d = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)  # (B, h, T, dk) each
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.h)
            y = scores.masked_fill(self.mask[:T, :T], float("-inf")).softmax(-1) @ v
        return self.out(y.transpose(1, 2).reshape(B, T, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.w2(F.gelu(self.w1(self.ln2(x))))


class TransformerLm(nn.Module):
    def __init__(self, c, sdpa):
        super().__init__()
        self.tokens = nn.Embedding(c["vocabSize"], c["dModel"])
        self.positions = nn.Embedding(c["contextLength"], c["dModel"])
        self.blocks = nn.ModuleList(Block(c, sdpa) for _ in range(c["numLayers"]))
        self.ln_final = RMSNorm(c["dModel"], c["rmsNormEps"])
        self.head = nn.Linear(c["dModel"], c["vocabSize"], bias=False)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions.weight[: ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_final(x))


def matmul_peak(n):
    out = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.rand(n, n, dtype=dtype) - 0.5
        b = torch.rand(n, n, dtype=dtype) - 0.5
        a @ b
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
        out[name] = 2 * n**3 / best / 1e9
    return out


def main():
    config = json.loads(sys.argv[1])
    threads = int(sys.argv[2])
    variant = sys.argv[3]
    if variant not in ("eager", "sdpa", "compile", "bf16"):
        raise SystemExit(f"torch-reference: variant must be eager, sdpa, compile or bf16, got {variant!r}")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = {"rmsNormEps": 1e-5, **config}
    B, T, V = c["batchSize"], c["contextLength"], c["vocabSize"]
    model = TransformerLm(c, sdpa=variant != "eager")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    forward = torch.compile(model) if variant == "compile" else model
    generator = torch.Generator().manual_seed(7)

    def step():
        windows = torch.randint(0, V, (B, T + 1), generator=generator)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=variant == "bf16"):
            logits = forward(windows[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, V).float(), windows[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    def answer(value):
        print(json.dumps(value), flush=True)

    answer({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        n = int(argument or 1)
        if command == "warmup":
            start = time.perf_counter()
            for _ in range(n):
                step()
            answer({"seconds": time.perf_counter() - start})
        elif command == "steps":
            start = time.perf_counter()
            for _ in range(n):
                loss = step()
            answer({"seconds": time.perf_counter() - start, "loss": loss})
        elif command == "peak":
            answer(matmul_peak(n))
        elif command == "profile":
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
                start = time.perf_counter()
                for _ in range(n):
                    step()
                wall = time.perf_counter() - start
            rows = [
                {"op": e.key, "selfMs": e.self_cpu_time_total / 1000 / n, "calls": e.count / n, "flops": e.flops / n}
                for e in prof.key_averages()
                if e.self_cpu_time_total > 0
            ]
            rows.sort(key=lambda r: -r["selfMs"])
            answer({"wallMsPerStep": wall * 1000 / n, "ops": rows[:40]})
        elif command == "quit":
            return
        else:
            raise SystemExit(f"torch-reference: unknown command {command!r}")


if __name__ == "__main__":
    main()
