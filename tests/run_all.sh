#!/bin/sh
# The whole test suite from a fresh clone: dependencies, build, golden data, ctest, the installed package; then the
# suite under ASan + UBSan, the concurrency test under TSan, the fuzzers for a bounded time, and the suite
# cross-built for aarch64 under qemu.
set -eu
cd "$(dirname "$0")/.."

cmake/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --timeout 1800
tests/examples/check_installed.sh build build/golden/per_task_small/model.adarun tests/data/scene.png

tests/run_tsan.sh
tests/run_sanitizers.sh
tests/fuzz/run_fuzz.sh
tests/run_aarch64.sh
