#!/usr/bin/env bash
# Token files for the loss-parity bench (loss-parity.ts): a 10k byte-level BPE learned by `cs336 bpe train`
# on the first 6 MB of gutenberg-children's train.txt, then that slice and the first 1 MB of valid.txt
# tokenized by `cs336 tokenize` (uint16 + sidecar). Small on purpose: the GPU device run carries them
# (about 3.5 MB together). Generated data: keep it out of git (default folder /tmp/loss-parity-data).
#
#   bash packages/train/bench/loss-parity-data.sh [OUT_DIR] [DATA_DIR]     (run `pnpm build` first)
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-/tmp/loss-parity-data}
DATA=${2:-../shared/data/gutenberg-children}
[[ -d $DATA ]] || DATA=/work/shared/data/gutenberg-children
CLI=apps/trainer/dist/cli.js
[[ -f $CLI ]] || { echo "loss-parity-data: $CLI is missing; run pnpm build first" >&2; exit 1; }
mkdir -p "$OUT"
head -c 6000000 "$DATA/train.txt" > "$OUT/train.txt"
head -c 1000000 "$DATA/valid.txt" > "$OUT/valid.txt"
node "$CLI" bpe train --input "$OUT/train.txt" --vocab-size 10000 --special-token '<|endoftext|>' --out "$OUT/tokenizer"
node "$CLI" tokenize --tokenizer "$OUT/tokenizer" --input "$OUT/train.txt" --out "$OUT/train.bin"
node "$CLI" tokenize --tokenizer "$OUT/tokenizer" --input "$OUT/valid.txt" --out "$OUT/valid.bin"
rm "$OUT/train.txt" "$OUT/valid.txt"
ls -l "$OUT"/*.bin
