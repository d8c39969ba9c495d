#!/bin/sh
# The whole suite again, built with AddressSanitizer (LeakSanitizer on) and UndefinedBehaviorSanitizer: any report
# fails its test. Impossible allocations return null, as without ASan (the API reports them as out of memory).
# Run after tests/run_all.sh's set-up (the same Debian packages).
set -eu
cd "$(dirname "$0")/.."
BUILD=build-asan

cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADARUN_SANITIZE=address,undefined -DADARUN_BUILD_BENCH=OFF >/dev/null
cmake --build $BUILD --parallel "$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir $BUILD --output-on-failure --timeout 1800 --parallel "$(nproc)"
