#!/bin/sh
# Builds the binaries for an ARM device (aarch64 Linux with glibc >= 2.34) into one folder to copy over:
#   DEVICE/adarun, DEVICE/adarun_kernel_bench, DEVICE/lib/*.so.*
# Debian ships pthreadpool, XNNPACK, cpuinfo and Google Benchmark as shared libraries only, so the
# binaries cannot be fully static: they carry an $ORIGIN/lib rpath and the libraries they need (the
# C++ runtime included) are copied into lib/. Only glibc is taken from the device.
# usage: cmake/aarch64-device.sh [DEVICE]   (default build-aarch64/device)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEVICE=$(realpath -m "${1:-build-aarch64/device}")
BUILD=build-aarch64/device-build
SYSROOT=$ROOT/build-aarch64/sysroot
LIBS=$SYSROOT/usr/lib/aarch64-linux-gnu

cmake/make-aarch64-sysroot.sh "$SYSROOT"
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DADARUN_BUILD_TESTS=OFF -DCMAKE_SKIP_BUILD_RPATH=ON \
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath,\$ORIGIN/lib -Wl,--disable-new-dtags -Wl,-rpath-link,$LIBS" >/dev/null
cmake --build "$BUILD" --parallel "$(nproc)" --target adarun adarun_kernel_bench
rm -rf "$DEVICE"
mkdir -p "$DEVICE"
cp "$BUILD/engine/adarun" "$BUILD/bench/adarun_kernel_bench" "$DEVICE/"
aarch64-linux-gnu-strip "$DEVICE/adarun" "$DEVICE/adarun_kernel_bench"

# Copies the shared libraries an ELF file needs (and theirs) into lib/, glibc's own excepted.
bundle_needs() {
  for library in $(aarch64-linux-gnu-readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case "$library" in libc.so.* | libm.so.* | ld-linux-* | libpthread.so.* | libdl.so.* | librt.so.*) continue ;; esac
    [ -e "$DEVICE/lib/$library" ] && continue
    for dir in "$SYSROOT/usr/lib/aarch64-linux-gnu" /usr/aarch64-linux-gnu/lib; do
      [ -e "$dir/$library" ] || continue
      mkdir -p "$DEVICE/lib"
      cp -L "$dir/$library" "$DEVICE/lib/$library"
      aarch64-linux-gnu-strip --strip-unneeded "$DEVICE/lib/$library"
      bundle_needs "$DEVICE/lib/$library"
      continue 2
    done
    echo "adarun: $library (needed by $1) not found" >&2
    exit 1
  done
}
bundle_needs "$DEVICE/adarun"
bundle_needs "$DEVICE/adarun_kernel_bench"
ls -l "$DEVICE" "$DEVICE/lib"
