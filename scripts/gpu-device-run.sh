#!/usr/bin/env bash
# Issue 15's device run, on the accelerator machine after `source /tmp/gpu/assemble.sh` (see scripts/gpu-bundle.sh):
#   bash /tmp/gpu/rt/gpu-device-run.sh OUT_DIR
# Steps, each with its own time limit (their sum is more than one 10-minute device call: make two calls
# back to back, GPU_RUN_ONLY=train,generate and then GPU_RUN_ONLY=torch-timing,parity, ~5 min each):
#   1. cuda-check: a CUDA session runs on the staged onnxruntime-node + provider (stops here if not; always run);
#   2. train: tokens/s and MFU of the TinyStories model at B 128 for each K in GPU_RUN_K and each precision in
#      GPU_RUN_PRECISION (default fp32,fp16: fp16 mixed precision with dynamic loss scaling);
#   3. generate: tokens/s with the KV cache, greedy (baked vs fed weights) and top-p, step mode vs the decode
#      loop (KV cache kept in the runtime, GPU_RUN_DECODE_CHUNKS tokens per run), TinyStories model;
#   4. torch-timing: PyTorch's step on the same model at B 128 (fp32, tf32, bf16-sdpa, compile-bf16), also
#      when cuda-check failed (it needs no ORT); its JSON also goes to OUT_DIR/torch-timing.json;
#   5. parity: ours (fp32, and fp16 against it) and PyTorch trained from the same weights on the same windows
#      (loss-parity.mjs), curves + plot in OUT_DIR/parity/loss-parity-<device>.{json,svg,png}.
# GPU_RUN_ONLY=torch-timing,parity (a comma list of step names) runs just those, to split the run over calls.
# Writes OUT_DIR/cuda-run.json: {started, steps: {name: {rc, seconds, result | stderrTail}}}.
# Off the GPU (to test the script): GPU_RUN_DEVICE=cpu GPU_RUN_CONFIGS=small GPU_RUN_K=2 GPU_RUN_SKIP_CHECK=1
#   GPU_RUN_TORCH_CONFIG=tiny GPU_RUN_TORCH_BUDGET=1 GPU_RUN_PARITY_CONFIG=small GPU_RUN_PARITY_STEPS=20.
set -uo pipefail
OUT=${1:?usage: gpu-device-run.sh OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
DEVICE=${GPU_RUN_DEVICE:-cuda}
CONFIGS=${GPU_RUN_CONFIGS:-tinystories}
K=${GPU_RUN_K:-8,32}
mkdir -p "$OUT/steps"
step() { # name limit_s command...: runs it, keeps stdout as the result and the tail of stderr
  local name=$1 limit=$2; shift 2
  local start=$(date +%s%N)
  timeout "$limit" "$@" > "$OUT/steps/$name.out" 2> "$OUT/steps/$name.err"
  local rc=$?
  echo "$rc $(( ($(date +%s%N) - start) / 1000000 ))" > "$OUT/steps/$name.rc"
  echo "step $name: rc $rc" >&2
  return $rc
}
want() { [[ -z ${GPU_RUN_ONLY:-} || ",$GPU_RUN_ONLY," == *",$1,"* ]]; }
cd "$HERE"
if [[ -z ${GPU_RUN_SKIP_CHECK:-} ]]; then
  step cuda-check 60 node cuda-check.mjs || SKIP_REST=1
fi
if [[ -z ${SKIP_REST:-} ]]; then
  want train && step train 170 env BENCH_DEVICE="$DEVICE" BENCH_CONFIGS="$CONFIGS" BENCH_K="$K" BENCH_PRECISION="${GPU_RUN_PRECISION:-fp32,fp16}" \
    BENCH_RUNS=${GPU_RUN_RUNS:-2} BENCH_GENERATE=0 node train-bench.mjs
  want generate && step generate 120 env BENCH_DEVICE="$DEVICE" BENCH_CONFIGS="$CONFIGS" BENCH_TRAIN=0 BENCH_GENERATE_CONFIGS="$CONFIGS" \
    BENCH_DECODE_CHUNKS="${GPU_RUN_DECODE_CHUNKS:-32}" BENCH_DECODE_FIXED="${GPU_RUN_DECODE_FIXED:-0}" node train-bench.mjs
fi
want torch-timing && step torch-timing 150 python3 torch-timing.py --device "$DEVICE" --config "${GPU_RUN_TORCH_CONFIG:-tinystories}" \
  --budget "${GPU_RUN_TORCH_BUDGET:-10}" --out "$OUT/torch-timing.json"
if [[ -z ${SKIP_REST:-} ]] && want parity; then
  step parity 170 env PARITY_DEVICE="$DEVICE" PARITY_CONFIG="${GPU_RUN_PARITY_CONFIG:-tinystories}" PARITY_STEPS="${GPU_RUN_PARITY_STEPS:-100}" \
    PARITY_K=25 PARITY_OURS_FP16="${GPU_RUN_PARITY_FP16:-1}" PARITY_PRECISION="${GPU_RUN_PARITY_PRECISION:-fp32,tf32}" PARITY_TRAIN=parity-data/train.bin PARITY_VALID=parity-data/valid.bin \
    PARITY_OUT="$OUT/parity" node loss-parity.mjs
fi
# One JSON of every step (python3 is on the device machine; node is too, after assemble).
node -e '
const fs = require("fs"), path = require("path");
const dir = path.join(process.argv[1], "steps"), steps = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".rc")).sort()) {
  const name = f.slice(0, -3), [rc, seconds] = fs.readFileSync(path.join(dir, f), "utf8").trim().split(" ");
  const out = fs.readFileSync(path.join(dir, name + ".out"), "utf8").trim();
  let result; try { result = out && JSON.parse(out); } catch { result = out.slice(-2000); }
  steps[name] = { rc: Number(rc), seconds: Number((Number(seconds) / 1000).toFixed(1)), result, stderrTail: fs.readFileSync(path.join(dir, name + ".err"), "utf8").slice(-1500) };
}
const json = JSON.stringify({ finished: new Date().toISOString(), device: process.argv[2], steps }, null, 2);
fs.writeFileSync(path.join(process.argv[1], "cuda-run.json.tmp"), json);
fs.renameSync(path.join(process.argv[1], "cuda-run.json.tmp"), path.join(process.argv[1], "cuda-run.json"));
' "$OUT" "$DEVICE"
echo "wrote $OUT/cuda-run.json" >&2
