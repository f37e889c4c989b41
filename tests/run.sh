#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage_* functions are called by name
# Builds and runs every test of eigenq, installing what it needs first
# (Debian: apt-get as root, or through sudo). This is what CI runs.
#
# usage: tests/run.sh [STAGE...]        (default: every stage, in this order)
#   format    clang-format --dry-run -Werror on every C++ file in the repository
#   package   install to a temporary prefix; build and run a consumer through
#             find_package, one through add_subdirectory, one through pkg-config
#   native    Release, baseline x86-64 flags (run-time dispatch): tests, benchmarks and
#             examples built (the last two at -O1: compiled, not run; eigenq-compare: the
#             compare stage's); each test binary run once per kernel path the CPU supports
#   sanitize  Debug (-O1, assertions on), AddressSanitizer + UndefinedBehaviorSanitizer,
#             EIGENQ_FORCE_SCALAR=ON: the build with no SIMD code at all
#   tsan      Debug (-O1), ThreadSanitizer: parallel_test alone (executors, parallel entry points)
#   neon      AArch64 cross build, tests run under qemu-aarch64-static (tests/run-neon.sh)
#             (the header-by-header check is the native stage's: it does not depend on the ISA)
#   fuzz      libFuzzer for FUZZ_SECONDS in all (tests/fuzz/): SIMD against scalar, and the .npy parser
#   compare   the README's main job, examples/run-compare.sh, as a user runs it; then its
#             synthetic set written out, compared again, and every result recomputed
#             with NumPy (tests/conformance/check_compare.py)
# Every configuration's ctest run includes the -fno-exceptions program, and the
# native one the check that every public header compiles on its own; warnings
# are errors (EIGENQ_WERROR) in the native, sanitize and neon builds.
#
# env: JOBS (default 2), BUILD_ROOT (default <repo>/build; each stage uses
#      BUILD_ROOT/ci-<stage>), FUZZ_SECONDS (default 60, split between the fuzz
#      targets), FAIL_FAST=1 to stop at
#      the first failing stage (default: run them all, then report).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-"$src/build"}
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-60}
all_stages=(format package native sanitize tsan neon fuzz compare)

# --- stages -------------------------------------------------------------------

# Configures, builds and runs ctest in $1 with the remaining cmake arguments.
cmake_build_test() {
  local dir=$1
  shift
  cmake -S "$src" -B "$dir" -DEIGENQ_INSTALL=OFF -DEIGENQ_WERROR=ON "$@"
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$jobs" --timeout 900)
}

stage_format() {
  cd "$src"
  local files
  if git rev-parse --git-dir >/dev/null 2>&1; then
    files=$(git ls-files --cached --others --exclude-standard -- '*.hpp' '*.cpp' '*.h' '*.cc')
  else
    files=$(find include tests bench examples -name '*.hpp' -o -name '*.cpp' -o -name '*.h' -o -name '*.cc')
  fi
  echo "clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -n 1), $(echo "$files" | wc -l) files"
  # One clang-format for all files; its messages name each file it would change.
  local report
  # shellcheck disable=SC2086  # files is a list of repository paths without spaces
  if ! report=$(clang-format --dry-run -Werror $files 2>&1); then
    echo "not formatted (run: clang-format -i FILE):"
    echo "$report" | grep -o '^[^:]*:[0-9]*:[0-9]*: error' | cut -d: -f1 | sort -u | sed 's/^/  /'
    return 1
  fi
}

stage_package() {
  local dir=$build_root/ci-package
  rm -rf "$dir/prefix"
  cmake -S "$src" -B "$dir/eigenq" -DEIGENQ_BUILD_TESTS=OFF -DEIGENQ_BUILD_BENCHMARKS=OFF \
    -DEIGENQ_BUILD_EXAMPLES=OFF -DEIGENQ_INSTALL=ON
  cmake --install "$dir/eigenq" --prefix "$dir/prefix"

  echo "--- find_package(eigenq CONFIG REQUIRED) against $dir/prefix"
  cmake -S "$src/tests/package/installed" -B "$dir/installed" -DCMAKE_PREFIX_PATH="$dir/prefix"
  cmake --build "$dir/installed" -j "$jobs"
  "$dir/installed/consumer"

  # No -m flags: the consumer reaches the SIMD paths through run-time dispatch.
  echo "--- add_subdirectory(eigenq)"
  cmake -S "$src/tests/package/subdirectory" -B "$dir/subdirectory"
  cmake --build "$dir/subdirectory" -j "$jobs"
  "$dir/subdirectory/consumer"

  echo "--- pkg-config eigenq"
  local cflags
  cflags=$(PKG_CONFIG_PATH="$dir/prefix/share/pkgconfig" pkg-config --cflags eigenq)
  echo "cflags: $cflags"
  # shellcheck disable=SC2086  # cflags is a word list
  c++ -std=c++17 -O1 $cflags "$src/tests/package/consumer.cpp" -o "$dir/pkgconfig-consumer"
  "$dir/pkgconfig-consumer"
}

stage_native() {
  grep -o -w -E 'avx2|avx512f|avx512bw|avx512vl|avx512dq' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' |
    sed 's/^/cpu flags: /;s/$/\n/' || true
  cmake_build_test "$build_root/ci-native" -DCMAKE_BUILD_TYPE=Release -DEIGENQ_ISA=none \
    -DEIGENQ_FORCE_SCALAR=OFF -DEIGENQ_SANITIZE= -DEIGENQ_TEST_PATHS=ON \
    -DEIGENQ_BUILD_TESTS=ON -DEIGENQ_BUILD_BENCHMARKS=ON -DEIGENQ_BUILD_EXAMPLES=ON -DEIGENQ_BUILD_COMPARE=OFF \
    -DEIGENQ_COMPILE_CHECK_FLAGS=-O1
}

stage_sanitize() {
  # -O1 keeps the sanitized suite fast; Debug keeps EIGENQ_ASSERT on; -g1
  # (line tables, no variables) is all a sanitizer's report needs and
  # compiles a quarter faster than -g. The
  # portable path only (EIGENQ_FORCE_SCALAR: the build without any SIMD code,
  # every suite): with the AVX2 and AVX-512 kernels compiled in as well,
  # instrumenting the largest suites takes over 10 minutes and 5 GB each (the
  # SIMD paths' bounds are checked by the guard-byte tests of the native
  # stage). The compile-only checks (headers, strict warnings) are the native
  # stage's; the contraction-sensitive suites are compiled with the
  # interface's flags here (-ffp-contract=fast in the native and neon builds).
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    cmake_build_test "$build_root/ci-sanitize" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DEIGENQ_SANITIZE="address;undefined;float-cast-overflow" \
    -DEIGENQ_BUILD_TESTS=ON -DEIGENQ_BUILD_BENCHMARKS=OFF -DEIGENQ_BUILD_EXAMPLES=OFF \
    -DEIGENQ_FP_CONTRACT_TESTS=OFF -DEIGENQ_WARNINGS_CHECK=OFF -DEIGENQ_CHECK_HEADERS=OFF -DEIGENQ_FORCE_SCALAR=ON
}

# The parallel entry points under ThreadSanitizer: parallel_test only, on
# the portable path (the cut into tasks and the executors do not depend on
# the path), so the stage costs one instrumented test binary.
stage_tsan() {
  local dir=$build_root/ci-tsan
  cmake -S "$src" -B "$dir" -DEIGENQ_INSTALL=OFF -DEIGENQ_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DEIGENQ_SANITIZE=thread -DEIGENQ_FORCE_SCALAR=ON \
    -DEIGENQ_BUILD_TESTS=ON -DEIGENQ_BUILD_BENCHMARKS=OFF -DEIGENQ_BUILD_EXAMPLES=OFF \
    -DEIGENQ_FP_CONTRACT_TESTS=OFF -DEIGENQ_WARNINGS_CHECK=OFF -DEIGENQ_CHECK_HEADERS=OFF
  cmake --build "$dir" -j "$jobs" --target parallel_test
  TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} "$dir/tests/parallel_test"
}

stage_neon() {
  JOBS=$jobs EIGENQ_CMAKE_ARGS="-DEIGENQ_WERROR=ON -DEIGENQ_CHECK_HEADERS=OFF ${EIGENQ_CMAKE_ARGS:-}" "$src/tests/run-neon.sh" "$build_root/ci-neon"
}

stage_fuzz() {
  FUZZ_SECONDS=$fuzz_seconds JOBS=$jobs bash "$src/tests/fuzz/run.sh" "$build_root/ci-fuzz"
}

stage_compare() {
  local dir=$build_root/ci-compare
  BUILD_DIR=$dir JOBS=$jobs "$src/examples/run-compare.sh"
  echo "--- the synthetic set as files, every row recomputed with NumPy"
  rm -rf "$dir/synthetic" "$dir/out"
  BUILD_DIR=$dir JOBS=$jobs "$src/examples/run-compare.sh" --write-synthetic "$dir/synthetic"
  BUILD_DIR=$dir JOBS=$jobs "$src/examples/run-compare.sh" "$dir/synthetic" --no-speed --quiet --out "$dir/out" \
    >/dev/null
  /usr/bin/python3 "$src/tests/conformance/check_compare.py" "$dir/out" --all --quiet
}

# --- driver -------------------------------------------------------------------

deps_of() {
  case "$1" in
    format) echo format ;;
    package) echo build package ;;
    native) echo build tests bench ;;
    sanitize | tsan) echo build tests ;;
    neon) echo build neon ;;
    fuzz) echo build tests fuzz ;;
    compare) echo build compare ;;
  esac
}

usage() { sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
  case " ${all_stages[*]} " in
    *" $s "*) ;;
    *)
      case "$s" in
        -h | --help)
          usage
          exit 0
          ;;
      esac
      echo "unknown stage '$s'" >&2
      usage >&2
      exit 2
      ;;
  esac
done

# CPU seconds (user + system) of the processes this shell has waited for:
# unlike the wall time, it does not grow when other work shares the machine.
# `times` must run in this shell itself (not in a pipe or $(...), whose fork
# has no children), so it writes to a file first.
cpu_seconds() {
  times >"$cpu_file.times"
  awk 'NR == 2 {
    n = 0
    for (i = 1; i <= 2; ++i) { split($i, t, /[ms]/); n += 60 * t[1] + t[2] }
    printf "%d\n", n + 0.5 }' "$cpu_file.times"
}
cpu_file=$build_root/.ci-stage-cpu

names=()
results=()
seconds=()
cpus=()
record() {
  names+=("$1")
  results+=("$2")
  seconds+=("$3")
  cpus+=("${4:-0}")
}
summary() {
  echo
  echo "==== summary ($(nproc) cores, JOBS=$jobs; cpu = user + system seconds of the stage's processes)"
  printf '  %-9s %-8s %7s %7s\n' stage result wall cpu
  local i total=0 total_cpu=0
  for i in "${!names[@]}"; do
    printf '  %-9s %-8s %5d s %5d s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" "${cpus[$i]}"
    total=$((total + seconds[i]))
    total_cpu=$((total_cpu + cpus[i]))
  done
  printf '  %-9s %-8s %5d s %5d s\n' total "" "$total" "$total_cpu"
}
header() { printf '\n==== %s  [%s]\n' "$1" "$(date -u +%H:%M:%S)"; }

mkdir -p "$build_root"
start=$SECONDS
header "deps: ${stages[*]}"
groups=()
for s in "${stages[@]}"; do
  read -r -a g <<<"$(deps_of "$s")"
  groups+=("${g[@]}")
done
mapfile -t groups < <(printf '%s\n' "${groups[@]}" | sort -u)
if ! "$src/tests/install-deps.sh" "${groups[@]}"; then
  record deps FAILED $((SECONDS - start))
  summary
  exit 1
fi
record deps ok $((SECONDS - start))
echo "$(c++ --version | head -n 1); $(cmake --version | head -n 1); $(nproc) cores, JOBS=$jobs"

failed=0
for s in "${stages[@]}"; do
  header "$s"
  start=$SECONDS
  rm -f "$cpu_file" "$cpu_file.times"
  set +e
  (
    set -euo pipefail
    trap 'cpu_seconds >"$cpu_file"' EXIT
    "stage_$s"
  )
  rc=$?
  set -e
  result=ok
  if [ "$rc" != 0 ]; then
    result=FAILED
    failed=1
  fi
  record "$s" "$result" $((SECONDS - start)) "$(cat "$cpu_file" 2>/dev/null || echo 0)"
  printf -- '---- %s: %s in %d s\n' "$s" "$result" $((SECONDS - start))
  if [ "$failed" = 1 ] && [ "${FAIL_FAST:-0}" = 1 ]; then break; fi
done

summary
exit "$failed"
