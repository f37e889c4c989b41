#!/usr/bin/env bash
# Installs the Debian packages a set of build stages needs, and nothing when
# they are all there already (so a warm machine pays only a dpkg query).
#
# usage: tests/install-deps.sh GROUP...
#   build    g++, cmake, Eigen                      (every build)
#   tests    GoogleTest, librsvg2-bin (rsvg-convert renders eigenq-compare's plot in its test)
#   compare  NumPy (the compare stage checks eigenq-compare's results with it)
#   e2e      NumPy, PIL and the DejaVu fonts (bench/ppocr/run.sh renders the OCR inputs)
#   bench    Google Benchmark (+ XNNPACK as the optional benchmark peer)
#   format   clang-format
#   package  pkg-config
#   neon     AArch64 cross compiler, qemu-user-static, GoogleTest for arm64
#   fuzz     clang with its libFuzzer runtime
#
# Runs apt-get as root, or through sudo otherwise; never asks questions.
set -euo pipefail

required=()
optional=()
want_arm64=0
for group in "$@"; do
  case "$group" in
    build) required+=(g++ make cmake libeigen3-dev) ;;
    tests) required+=(libgtest-dev librsvg2-bin) ;;
    compare) required+=(python3-numpy) ;;
    e2e) required+=(python3-numpy python3-pil fonts-dejavu-core) ;;
    bench)
      required+=(libbenchmark-dev)
      optional+=(libxnnpack-dev libpthreadpool-dev)
      ;;
    format) required+=(clang-format git) ;;
    package) required+=(pkg-config) ;;
    neon)
      required+=(g++-aarch64-linux-gnu qemu-user-static libgtest-dev:arm64)
      want_arm64=1
      ;;
    fuzz) required+=(clang libclang-rt-dev) ;;
    *)
      echo "install-deps.sh: unknown group '$group'" >&2
      exit 2
      ;;
  esac
done

# pkg or pkg:arch is installed (for the native architecture, or "all", when no
# arch is given: a multiarch package installed only for arm64 does not count).
native_arch=$(dpkg --print-architecture)
installed() {
  local name=${1%%:*} arch=${native_arch}
  [ "$name" = "$1" ] || arch=${1#*:}
  dpkg-query -W -f='${Architecture} ${Status}\n' "$name" 2>/dev/null |
    grep -Eq "^($arch|all) install ok installed$"
}
missing() { for p in "$@"; do installed "$p" || echo "$p"; done; }

mapfile -t need < <(missing "${required[@]}")
mapfile -t need_optional < <(missing "${optional[@]}")
add_arch=0
if [ "$want_arm64" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then add_arch=1; fi

if [ ${#need[@]} -eq 0 ] && [ ${#need_optional[@]} -eq 0 ] && [ "$add_arch" = 0 ]; then
  echo "install-deps.sh: all packages present (${*})"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps.sh: not root and no sudo; install: ${need[*]} ${need_optional[*]}" >&2
  exit 1
fi

apt_get=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)
if [ "$add_arch" = 1 ]; then
  echo "install-deps.sh: dpkg --add-architecture arm64"
  "${sudo[@]}" dpkg --add-architecture arm64
fi
echo "install-deps.sh: apt-get update"
"${apt_get[@]}" update </dev/null
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${need[*]}"
  "${apt_get[@]}" install --no-install-recommends "${need[@]}" </dev/null
fi
# Optional packages must not fail the run (XNNPACK is only a benchmark peer).
if [ ${#need_optional[@]} -gt 0 ]; then
  echo "install-deps.sh: installing optional ${need_optional[*]}"
  "${apt_get[@]}" install --no-install-recommends "${need_optional[@]}" </dev/null ||
    echo "install-deps.sh: optional packages not installed (${need_optional[*]}); continuing" >&2
fi
