#!/usr/bin/env bash
# Builds a self-contained folder for the accelerator machine (see ../shared/gpu/README.md):
# the training bench and the cs336 CLI bundled by esbuild, beside a node_modules holding only
# onnxruntime-node 1.29.0 and its onnxruntime-common (the CUDA provider is added there by the kit).
#
#   bash scripts/gpu-bundle.sh [OUT_DIR]          (default /tmp/gpu-deploy; run `pnpm build` first)
#   bash ../shared/gpu/stage.sh /tmp/gpu-deploy 55   (4 parts), then the device calls it prints, then two run calls:
#   source /tmp/gpu/assemble.sh && GPU_RUN_ONLY=train,generate bash /tmp/gpu/rt/gpu-device-run.sh $OUT
#   source /tmp/gpu/env.sh && GPU_RUN_ONLY=torch-timing,parity bash /tmp/gpu/rt/gpu-device-run.sh $OUT
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/gpu-deploy}
ESBUILD=$(ls -d node_modules/.pnpm/esbuild@*/node_modules/esbuild/bin/esbuild | head -1)
ORT=$(cd packages/graph && node -p "require('path').dirname(require.resolve('onnxruntime-node/package.json'))")
COMMON=$(dirname "$ORT")/onnxruntime-common   # pnpm puts a package's dependencies beside it
rm -rf "$OUT" && mkdir -p "$OUT/node_modules"
# The bench imports the packages' built dist/ through their names; the bundle inlines them.
"$ESBUILD" packages/train/bench/train-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --external:@resvg/resvg-js --outfile="$OUT/train-bench.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
"$ESBUILD" packages/train/bench/cuda-check.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$OUT/cuda-check.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
# Issue 15's PyTorch side: the loss-parity bench (ours in Node, loss-parity.py) and torch-timing.py, the Python
# scripts beside the bundle (loss-parity.mjs finds loss-parity.py next to itself), the small token files from
# loss-parity-data.sh (made here when missing), and resvg for the parity plot.
"$ESBUILD" packages/train/bench/loss-parity.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --external:@resvg/resvg-js --outfile="$OUT/loss-parity.mjs" --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
cp packages/train/bench/{loss-parity.py,torch-timing.py,torch-reference.py} "$OUT/"
PARITY_DATA=${PARITY_DATA:-/tmp/loss-parity-data}
[[ -f $PARITY_DATA/train.bin && -f $PARITY_DATA/valid.bin ]] || bash packages/train/bench/loss-parity-data.sh "$PARITY_DATA" > /dev/null
mkdir -p "$OUT/parity-data" && cp "$PARITY_DATA"/{train,valid}.bin{,.json} "$OUT/parity-data/"
RESVG=$(cd packages/train && node -p "require('path').dirname(require.resolve('@resvg/resvg-js/package.json'))")
mkdir -p "$OUT/node_modules/@resvg"
cp -rL "$RESVG" "$OUT/node_modules/@resvg/resvg-js"
cp -rL "$(dirname "$RESVG")/resvg-js-linux-x64-gnu" "$OUT/node_modules/@resvg/resvg-js-linux-x64-gnu"
du -sh "$OUT/parity-data" "$OUT/node_modules/@resvg" "$OUT"/*.py | sed 's/^/  parity: /'
cp scripts/gpu-device-run.sh "$OUT/"
cp -rL "$ORT" "$OUT/node_modules/onnxruntime-node"
rm -rf "$OUT/node_modules/onnxruntime-node/bin/napi-v6/"{darwin,win32,linux/arm64}
cp -rL "$COMMON" "$OUT/node_modules/onnxruntime-common"
echo "{\"type\": \"module\"}" > "$OUT/package.json"
du -sh "$OUT"
echo "test here first: (cd $OUT && BENCH_RUNS=1 BENCH_CONFIGS=small node train-bench.mjs)"
