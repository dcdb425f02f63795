"""PyTorch side of the loss-parity bench (loss-parity.ts): the same model, from the same initial weights,
trained on the same windows with the same per-step learning rates, recording the same curves.

  python3 loss-parity.py INPUT_DIR OUT.json [--device cpu|cuda] [--precision fp32|tf32|bf16] [--threads N]

INPUT_DIR holds what loss-parity-inputs.ts writes: weights.safetensors (course parameter names) and
schedule.json (model, optimizer, learningRates[step], trainStarts[step][b], validStarts[batch][b], token files).

The model is @cs336/nn's transformerLm written in PyTorch, module for module under the course's names,
so the state dict loads with strict=True: token + learned position embeddings; pre-norm blocks
(RMSNorm x / sqrt(mean(x²) + eps) * g; separate q/k/v projections, causal softmax(QKᵀ/√dk)V, output
projection; exact-erf GELU feed-forward); final RMSNorm; untied head; no biases, no dropout.
The step is ours too: mean cross-entropy, global-norm clip (scale max/(norm + 1e-6) when norm > max),
then the handout's AdamW (Algorithm 1: bias-corrected step size on the raw moments with eps outside the
square root, decay θ ← θ − αλθ after the update), which differs from torch.optim.AdamW in eps placement
and in applying the decay before the update; written out so the two sides run the same algorithm.

Precision: fp32 (TF32 off, the reference), tf32 (TF32 matmuls and cuDNN; only changes anything on CUDA),
bf16 (autocast to bfloat16; parameters, optimizer and loss stay float32), fp64 (everything in float64, from the
same float32 weights: the exact-arithmetic yardstick that both float32 trainers' rounding is measured against).
Writes OUT.json: {trainLoss[step], gradNorm[step], validLoss: {step: loss}, seconds, torch, device, precision}.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

SAFETENSORS_DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    """The safetensors layout (u64 header length, JSON header, raw little-endian tensors), read without the package."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + length :]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in SAFETENSORS_DTYPES:
            raise SystemExit(f"loss-parity: {path}: tensor {name!r} is {info['dtype']}, expected F32")
        begin, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=SAFETENSORS_DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"]).float()
    return tensors


def read_tokens(path, expected_count):
    """A uint16 token file as int64 ids (torch has no general uint16 ops: read int16, mask to 16 bits)."""
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    ids = torch.frombuffer(raw, dtype=torch.int16).to(torch.int64) & 0xFFFF
    if ids.numel() != expected_count:
        raise SystemExit(f"loss-parity: {path} holds {ids.numel()} tokens, the schedule says {expected_count}; wrong file?")
    return ids


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.output_proj = nn.Linear(d, d, bias=False)

    def forward(self, x, sdpa):
        B, T, d = x.shape
        split = lambda y: y.view(B, T, self.heads, d // self.heads).transpose(1, 2)  # (B, h, T, dk)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        if sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)  # (B, h, T, T)
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            y = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
        return self.output_proj(y.transpose(1, 2).reshape(B, T, d))


class FeedForward(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.w1 = nn.Linear(d, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d, bias=False)

    def forward(self, x):
        return self.w2(F.gelu(self.w1(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1 = RMSNorm(c["dModel"], c["rmsNormEps"])
        self.attn = Attention(c["dModel"], c["numHeads"])
        self.ln2 = RMSNorm(c["dModel"], c["rmsNormEps"])
        self.ffn = FeedForward(c["dModel"], c["dFf"])

    def forward(self, x, sdpa):
        x = x + self.attn(self.ln1(x), sdpa)
        return x + self.ffn(self.ln2(x))


class TransformerLm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.token_embeddings = nn.Embedding(c["vocabSize"], c["dModel"])
        self.position_embeddings = nn.Embedding(c["contextLength"], c["dModel"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["numLayers"]))
        self.ln_final = RMSNorm(c["dModel"], c["rmsNormEps"])
        self.lm_head = nn.Linear(c["dModel"], c["vocabSize"], bias=False)
        self.sdpa = False

    def forward(self, ids):
        x = self.token_embeddings(ids) + self.position_embeddings.weight[: ids.shape[1]]
        for layer in self.layers:
            x = layer(x, self.sdpa)
        return self.lm_head(self.ln_final(x))


def load_weights(model, tensors, path):
    """Every parameter from the file and nothing else: a missing or extra tensor names itself."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise SystemExit(f"loss-parity: {path} does not match the model: missing {missing}, extra {extra}")
    for name, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise SystemExit(f"loss-parity: {path}: {name!r} has shape {list(tensor.shape)}, the model needs {list(expected[name].shape)}")
    model.load_state_dict(tensors, strict=True)
    return len(tensors)


def windows(tokens, starts, T, device):
    """(B, T+1) windows at the given offsets, on the device."""
    index = torch.tensor(starts, dtype=torch.int64).unsqueeze(1) + torch.arange(T + 1)
    return tokens[index].to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input_dir")
    parser.add_argument("out")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16", "fp64"])
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    parser.add_argument("--sdpa", action="store_true", help="F.scaled_dot_product_attention instead of the written-out attention")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("loss-parity: --device cuda but torch.cuda.is_available() is False")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    tf32 = args.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32

    with open(os.path.join(args.input_dir, "schedule.json")) as f:
        schedule = json.load(f)
    if schedule.get("format") != "cs336-loss-parity/1":
        raise SystemExit(f"loss-parity: {args.input_dir}/schedule.json has format {schedule.get('format')!r}, expected cs336-loss-parity/1")
    c, opt = schedule["model"], schedule["optimizer"]
    B, T, steps = schedule["batchSize"], schedule["contextLength"], schedule["steps"]
    if len(schedule["learningRates"]) != steps or len(schedule["trainStarts"]) != steps:
        raise SystemExit(f"loss-parity: schedule has {len(schedule['learningRates'])} learning rates and {len(schedule['trainStarts'])} batches for {steps} steps")
    device = torch.device(args.device)
    model = TransformerLm(c)
    weights_path = os.path.join(args.input_dir, "weights.safetensors")
    loaded = load_weights(model, read_safetensors(weights_path), weights_path)
    resolve = lambda p: p if os.path.isabs(p) else os.path.join(args.input_dir, p)
    train_tokens = read_tokens(resolve(schedule["trainTokens"]), schedule["trainTokenCount"])
    valid_tokens = read_tokens(resolve(schedule["validTokens"]), schedule["validTokenCount"])
    dtype = torch.float64 if args.precision == "fp64" else torch.float32
    model.to(device=device, dtype=dtype)
    model.sdpa = args.sdpa
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    b1, b2, eps, wd, clip = opt["beta1"], opt["beta2"], opt["eps"], opt["weightDecay"], opt["gradClip"]
    V = c["vocabSize"]
    autocast = lambda: torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def loss_of(batch):
        with autocast():
            logits = model(batch[:, :-1])
        return F.cross_entropy(logits.to(dtype).reshape(-1, V), batch[:, 1:].reshape(-1))

    @torch.no_grad()
    def validation_loss():
        total = 0.0
        for starts in schedule["validStarts"]:
            total += loss_of(windows(valid_tokens, starts, T, device)).item()
        return total / len(schedule["validStarts"])

    def step(t, lr, batch):
        """AdamW step t (from 1) at learning rate lr; returns the loss and the gradient norm before clipping."""
        for p in params:
            p.grad = None
        loss = loss_of(batch)
        loss.backward()
        with torch.no_grad():
            norm = torch.sqrt(sum((p.grad * p.grad).sum() for p in params))
            scale = torch.where(norm > clip, clip / (norm + 1e-6), torch.ones_like(norm)) if clip > 0 else torch.ones_like(norm)
            step_size = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            for p, mi, vi in zip(params, m, v):
                g = p.grad * scale
                mi.mul_(b1).add_(g, alpha=1 - b1)
                vi.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.addcdiv_(mi, vi.sqrt().add_(eps), value=-step_size)
                p.sub_(p * (lr * wd))
        return loss, norm

    eval_at = set(range(0, steps, schedule["evalEvery"])) | {steps}
    valid, train_loss, grad_norm = {}, [], []
    start = time.perf_counter()
    last_report = start
    for k in range(steps):
        if k in eval_at:
            valid[k] = validation_loss()
        loss, norm = step(k + 1, schedule["learningRates"][k], windows(train_tokens, schedule["trainStarts"][k], T, device))
        train_loss.append(loss.item())
        grad_norm.append(norm.item())
        now = time.perf_counter()
        if now - last_report > 10:
            rate = (k + 1) / (now - start)
            print(f"torch {k + 1}/{steps} steps, {rate:.2f} steps/s, ETA {(steps - k - 1) / rate:.0f} s, loss {train_loss[-1]:.4f}", file=sys.stderr, flush=True)
            last_report = now
    valid[steps] = validation_loss()
    if args.device == "cuda":
        torch.cuda.synchronize()
    result = {
        "torch": torch.__version__,
        "device": args.device,
        "deviceName": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "precision": args.precision,
        "attention": "sdpa" if args.sdpa else "written out",
        "threads": torch.get_num_threads(),
        "tensorsLoaded": loaded,
        "seconds": time.perf_counter() - start,
        "trainLoss": train_loss,
        "gradNorm": grad_norm,
        "validLoss": {str(k): loss for k, loss in sorted(valid.items())},
    }
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
