#!/bin/sh
# The concurrency test (several sessions on one model from several threads) under ThreadSanitizer.
# Golden data: the main build's (tests/run_all.sh makes it first).
set -eu
cd "$(dirname "$0")/.."
BUILD=build-tsan

cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADARUN_SANITIZE=thread >/dev/null
cmake --build $BUILD --parallel "$(nproc)" --target api_test
ADARUN_GOLDEN_DIR=$PWD/build/golden TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  $BUILD/tests/api_test --test-case="*sessions on one model*"
