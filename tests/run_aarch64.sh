#!/bin/sh
# The suite cross-built for aarch64 and run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR): the sysroot of
# Debian arm64 packages, the build, golden data from the host's Python, ctest.
set -eu
cd "$(dirname "$0")/.."
BUILD=build-aarch64

cmake/make-aarch64-sysroot.sh $BUILD/sysroot
cmake -S . -B $BUILD -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build $BUILD --parallel "$(nproc)"
ctest --test-dir $BUILD --output-on-failure --timeout 1800 --parallel "$(nproc)"
