#!/bin/sh
# The whole test suite from a fresh clone: dependencies, build, golden data, ctest; then the same suite under
# ASan + UBSan, and the fuzzers for a bounded time (FUZZ_SECONDS each, default 60).
set -eu
cd "$(dirname "$0")/.."

cmake/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --timeout 1800

tests/run_sanitizers.sh
tests/fuzz/run_fuzz.sh
