#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for FUZZ_SECONDS (default 60) from the
# committed seed corpus; a crash, leak or sanitizer report fails the run.
set -eu
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
BUILD=build-fuzz

CC=clang CXX=clang++ cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADARUN_BUILD_TESTS=OFF -DADARUN_FUZZ=ON \
  -DADARUN_SANITIZE=address,undefined >/dev/null
cmake --build $BUILD --parallel "$(nproc)" --target weight_file_fuzz image_fuzz

for target in weight_file image; do
  corpus=$BUILD/corpus/$target
  mkdir -p "$corpus"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  # The seeds are read from the committed corpus; what the fuzzer finds goes to the build folder only.
  ASAN_OPTIONS=detect_leaks=1 $BUILD/tests/fuzz/${target}_fuzz -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix=$BUILD/ "$corpus" tests/fuzz/corpus/$target 2>$BUILD/$target.log ||
    { tail -60 $BUILD/$target.log; exit 1; }
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" $BUILD/$target.log
done
