#!/bin/sh
# The whole test suite from a fresh clone: dependencies, build, golden data, ctest, the installed package; then the
# concurrency test under TSan, the suite under ASan + UBSan + LSan, the fuzzers for a bounded time, and the suite
# cross-built for aarch64 under qemu. Prints each stage's wall time and the total at the end.
#
# Independent work overlaps where it leaves a core idle: the aarch64 sysroot downloads while the host builds, and
# the fuzzers (one core each, fixed wall time) run beside the sanitizer and aarch64 stages. ctest runs tests in
# parallel on every core.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc)
LOGS=build/logs
START=$(date +%s)
TIMES=""

record() {  # record NAME SECONDS [NOTE]: a line of the stage table
  TIMES="$TIMES$(printf '%-26s %5d s%s' "$1" "$2" "${3:-}")
"
}

stage() {  # stage NAME COMMAND...: runs it and records its wall time
  name=$1
  shift
  echo "== $name"
  begin=$(date +%s)
  "$@"
  record "$name" $(($(date +%s) - begin))
}

print_times() {
  status=$?
  echo "== stage times"
  printf '%s' "$TIMES"
  printf '%-26s %5d s%s\n' total $(($(date +%s) - START)) "$([ $status -eq 0 ] || echo ' (failed)')"
}
trap print_times EXIT

background() {  # background NAME COMMAND...: runs it apart, its output in $LOGS/NAME.log
  name=$1
  shift
  (begin=$(date +%s); status=0; "$@" >"$LOGS/$name.log" 2>&1 || status=$?
   echo "$(($(date +%s) - begin)) $status" >"$LOGS/$name.done") &
}

wait_for() {  # wait_for NAME: waits for a background stage, shows its log, records its time, fails with it
  name=$1
  echo "== $name (ran in the background)"
  wait
  cat "$LOGS/$name.log"
  read -r seconds status <"$LOGS/$name.done"
  record "$name" "$seconds" " (in the background)"
  [ "$status" -eq 0 ] || { echo "$name failed ($status)"; exit 1; }
}

stage "dependencies" cmake/install-deps.sh
mkdir -p $LOGS
background aarch64-sysroot cmake/make-aarch64-sysroot.sh build-aarch64/sysroot
stage "host build" sh -c "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build --parallel $JOBS"
stage "host ctest" ctest --test-dir build --output-on-failure --timeout 1800 --parallel "$JOBS"
stage "installed package" tests/examples/check_installed.sh build build/golden/per_task_small/model.adarun tests/data/scene.png
wait_for aarch64-sysroot

background fuzzers tests/fuzz/run_fuzz.sh
stage "TSan concurrency" tests/run_tsan.sh
stage "ASan+UBSan+LSan suite" tests/run_sanitizers.sh
stage "aarch64 under qemu" tests/run_aarch64.sh
wait_for fuzzers
