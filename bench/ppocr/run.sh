#!/usr/bin/env bash
# The main job on a real model, PP-OCRv4 (the data folder ../shared/data/ppocr-v4
# beside the checkout): eigenq-compare's tables, plan and plot on its weights and
# activations, then end to end: the weights fake-quantized by eigenq under each
# scheme and each mixed plan, substituted into the ONNX models of the npm package
# the data came from, and text detection and recognition run with ONNX Runtime on
# the same rendered page and lines the activations were recorded on.
#
# usage: bench/ppocr/run.sh [DATA_DIR]
# env:   WORK     scratch (default <repo>/build/ppocr: npm packages, models, inputs, weights)
#        RESULTS  where the results go (default <repo>/bench/results/compare)
#        TARGETS  mixed-plan targets in dB for the end-to-end runs (default "20 25 30 35 40 45")
#        REPS     timed repetitions of the speed measurement (default 5)
# Needs: node and npm (the npm registry), /usr/bin/python3 with NumPy and PIL,
# fonts-dejavu-core (tests/install-deps.sh e2e), and what examples/run-compare.sh needs.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=$(cd "${1:-$src/../shared/data/ppocr-v4}" && pwd)
work=${WORK:-$src/build/ppocr}
results=${RESULTS:-$src/bench/results/compare}
targets=${TARGETS:-"20 25 30 35 40 45"}
reps=${REPS:-5}
here=$src/bench/ppocr
py=/usr/bin/python3

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (Node.js 18 or later)" >&2; exit 1; }
done
"$src/tests/install-deps.sh" build compare e2e

# The model package the data folder names, and ONNX Runtime (its CPU binary
# ships in the npm tarball; the install script only fetches CUDA parts).
package=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["source"]["npm"])' "$data/index.json")
mkdir -p "$work"
if [ ! -d "$work/package/assets" ]; then
  (cd "$work" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz)
fi
assets=$work/package/assets
if [ ! -d "$work/ort/node_modules/onnxruntime-node" ]; then
  mkdir -p "$work/ort"
  (cd "$work/ort" && npm init -y >/dev/null && npm install --silent --ignore-scripts onnxruntime-node@1.30.0 >/dev/null)
fi

# The page and lines of the recording, rendered again by the data folder's own
# script; the page must be the recorded detection input, bit for bit.
mkdir -p "$work/inputs"
(cd "$work/inputs" && "$py" "$data/tools/make_inputs.py" . >/dev/null)
"$py" -c '
import sys, numpy as np
x = np.fromfile(sys.argv[1], np.float32).reshape(1, 3, 320, 416)
if not np.array_equal(x, np.load(sys.argv[2])):
    sys.exit("run.sh: the rendered page differs from the recorded detection input")' \
  "$work/inputs/det_x.bin" "$data/activations/det__x.npy"

# The index with each convolution's strides, pads and dilations from the models.
"$py" "$here/layers.py" "$data" "$assets" "$work/data"

# eigenq-compare (built by the quick start's script).
BUILD_DIR=$src/build/compare "$src/examples/run-compare.sh" --help >/dev/null
exe=$src/build/compare/examples/compare/eigenq-compare
every=(--formats int8,uint8,int4,uint4,int2 --symmetry asym,sym,sym-narrow)
cd "$work"  # file names in the results are relative to it
echo "--- weights: every format, symmetry and scheme, layer outputs on the recorded inputs" >&2
"$exe" data/weights "${every[@]}" --reps "$reps" --out "$results/weights" --quiet >/dev/null
echo "--- activations: every observer, calibrated on batches, scored on a held-out one" >&2
"$exe" data/activations "${every[@]}" --act-symmetry asym,sym --no-speed --out "$results/activations" --quiet \
  >/dev/null
"$py" "$src/tests/conformance/check_compare.py" "$results/weights" --root "$work" --index data/index.json \
  --tensors 12 --quiet >"$results/weights/check.txt" || echo "check_compare.py: weights: mismatches" >&2
"$py" "$src/tests/conformance/check_compare.py" "$results/activations" --root "$work" --index data/index.json \
  --all --quiet >"$results/activations/check.txt" || echo "check_compare.py: activations: mismatches" >&2

echo "--- end to end: the signed formats under every scheme, and the mixed plans" >&2
rm -rf "$work/quantized" "$work/plans"
"$exe" data/weights --no-speed --quiet --write-weights "$work/quantized" --out "$work/quantized/out" >/dev/null
folders=()
for d in "$work"/quantized/*/; do [ "$(basename "$d")" = out ] || [ "$(basename "$d")" = plan ] || folders+=("$d"); done
for t in $targets; do
  "$exe" data/weights --no-speed --quiet --target-db "$t" --write-plan "$work/plans/$t" --out "$work/plans/$t/out" \
    >/dev/null
  folders+=("$work/plans/$t/plan")
done
"$py" "$here/e2e.py" --assets "$assets" --inputs "$work/inputs" --ort "$work/ort/node_modules" \
  --out "$results/e2e" "${folders[@]}"
