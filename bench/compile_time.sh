#!/usr/bin/env bash
# CPU time (user + system) to compile each probe in bench/compile_time/,
# median of REPS (default 7) runs interleaved, so that a shared machine's
# load falls on every probe alike.
#
# usage: bench/compile_time.sh [CXX] [FLAGS...]   (default: c++ -std=c++17 -O2 -mavx2 -mfma)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cxx=${1:-c++}
shift || true
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-std=c++17 -O2 -mavx2 -mfma)
eigen=$(pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3)
reps=${REPS:-7}
probes=(matrix_only matrix_all raw_engine)
declare -A times
for ((r = 0; r < reps; ++r)); do
  for p in "${probes[@]}"; do
    # shellcheck disable=SC2086  # eigen is a flag list
    t=$( { /usr/bin/time -f "%U %S" "$cxx" "${flags[@]}" -ffp-contract=off -I"$src/include" ${eigen/-I/-isystem } \
      -c "$src/bench/compile_time/$p.cpp" -o /dev/null; } 2>&1 | tail -n 1 | awk '{printf "%.2f", $1 + $2}')
    times[$p]="${times[$p]:-} $t"
  done
done
for p in "${probes[@]}"; do
  # shellcheck disable=SC2086
  median=$(printf '%s\n' ${times[$p]} | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  printf '%-12s median %5s s   (%s )\n' "$p" "$median" "${times[$p]}"
done
