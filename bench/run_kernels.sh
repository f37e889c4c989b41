#!/usr/bin/env bash
# Builds kernels_bench the four ways users build it (-O2 and -O3, baseline
# x86-64 with run-time dispatch and -march=native), runs the four binaries in
# alternation (ROUNDS rounds; within a binary, repetitions are interleaved at
# random), then prints the tables of bench/README.md from the medians of all
# repetitions.
#
# usage: bench/run_kernels.sh [OUT_DIR]      (default: <build>/kernels-results)
# env:   BUILD_DIR (default <repo>/build/bench-variants), JOBS (2), ROUNDS (5),
#        REPS (3 per round), MIN_TIME (0.05 s), EXTRA: more binaries to run in
#        alternation, as name=path pairs (e.g. an older build for comparison;
#        it reads the same benchmark names).
# The -O2 baseline binary runs everything; the other three run what their
# comparison needs (per-tensor kernels on the default path, the AVX-512
# same-bytes loops and XNNPACK).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-"$src/build/bench-variants"}
out=${1:-"$build/kernels-results"}
jobs=${JOBS:-2}
rounds=${ROUNDS:-5}
reps=${REPS:-3}
min_time=${MIN_TIME:-0.05}
variants=(O2_baseline O3_baseline O2_native O3_native)
narrow='/per-tensor/(auto|avx2)/|ste_backward_masked/any/auto|baseline/.*/avx512/|xnnpack/'

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEIGENQ_BUILD_TESTS=OFF -DEIGENQ_BUILD_EXAMPLES=OFF \
  -DEIGENQ_INSTALL=OFF -DEIGENQ_BENCH_VARIANTS=ON >/dev/null
targets=()
for v in "${variants[@]}"; do targets+=("kernels_bench_$v"); done
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

mkdir -p "$out"
rm -f "$out"/*.json
run() {  # name binary filter round
  "$2" --benchmark_filter="$3" --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" --benchmark_out="$out/$1.$4.json" --benchmark_out_format=json >/dev/null
}
for r in $(seq "$rounds"); do
  echo "round $r of $rounds ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  for v in "${variants[@]}"; do
    filter=$narrow
    [ "$v" = O2_baseline ] && filter=.
    run "$v" "$build/bench/kernels_bench_$v" "$filter" "$r"
  done
  for pair in ${EXTRA:-}; do run "${pair%%=*}" "${pair#*=}" "$narrow" "$r"; done
done
/usr/bin/python3 "$src/bench/summarize_kernels.py" "$out"
