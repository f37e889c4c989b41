#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) and
# runs each for a bounded time; a crash, sanitizer report, SIMD/scalar
# mismatch or broken .npy invariant exits non-zero and leaves the reproducer in
# the build directory (replay it with: <build>/tests/fuzz/<target> <crash-file>).
# Targets: every tests/fuzz/*_fuzz.cpp (kernels_fuzz: SIMD against scalar;
# minifloat_fuzz: the same for the minifloat runs; npy_fuzz: the .npy parser). A target NAME_fuzz is seeded from tests/data/NAME
# and uses the dictionary tests/fuzz/NAME_fuzz.dict when they exist.
#
# usage: tests/fuzz/run.sh [BUILD_DIR]       (default: <repo>/build/fuzz)
# env:   FUZZ_SECONDS (default 60: the total, split evenly between the targets),
#        JOBS (default 2), CXX (default clang++)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-"$src/build/fuzz"}
seconds=${FUZZ_SECONDS:-60}
jobs=${JOBS:-2}

# Line tables only (-g1): all a crash report needs, and a faster compile.
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DEIGENQ_BUILD_FUZZERS=ON \
  -DEIGENQ_BUILD_BENCHMARKS=OFF -DEIGENQ_BUILD_EXAMPLES=OFF -DEIGENQ_INSTALL=OFF
targets=()
for source in "$src"/tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" .cpp)"); done
cmake --build "$build" -j "$jobs" --target eigenq_fuzzers

each=$((seconds / ${#targets[@]}))
[ "$each" -ge 1 ] || each=1
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus"
  options=(-max_total_time="$each" -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/")
  [ -f "$src/tests/fuzz/$target.dict" ] && options+=(-dict="$src/tests/fuzz/$target.dict")
  # New inputs go to the first corpus folder; the seeds are only read.
  folders=("$corpus")
  [ -d "$src/tests/data/${target%_fuzz}" ] && folders+=("$src/tests/data/${target%_fuzz}")
  echo "== $target: fuzzing for ${each}s of ${seconds}s (corpus $corpus)"
  "$build/tests/fuzz/$target" "${options[@]}" "${folders[@]}"
done
