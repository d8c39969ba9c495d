#!/bin/sh
# The installed package as an app sees it: install to a temporary prefix, build the examples against
# it with find_package(adarun) and the C one also with pkg-config, run them, and check that every
# task's output they print has the mean of `adarun infer`'s output for the same model, image and tasks.
# usage: tests/examples/check_installed.sh BUILD_DIR MODEL IMAGE   (from the repository root)
set -eu
build=$1 model=$2 image=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S tests/examples -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
cmake --build "$work/build" --parallel 2 > "$work/build.log"
pkgconfig_dir=$(dirname "$(find "$work/prefix" -name adarun.pc)")
libdir=$(PKG_CONFIG_PATH="$pkgconfig_dir" pkg-config --variable=libdir adarun)
# shellcheck disable=SC2046  # the flags are meant to split
"${CC:-cc}" -std=c99 -Wall -Wextra -Wpedantic -Werror tests/examples/run_model.c -o "$work/run_model_pkgconfig" \
  $(PKG_CONFIG_PATH="$pkgconfig_dir" pkg-config --cflags --libs adarun stb)

# The library exports the C API and nothing else (ADARUN_0 is its symbol version).
if nm -D --defined-only "$libdir/libadarun.so" | awk '{print $3}' | grep -v -e '^adarun_' -e '^ADARUN_0$'; then
  echo "libadarun.so exports symbols other than adarun_*" >&2
  exit 1
fi

"$work/build/run_model" "$model" "$image" > "$work/run_model.txt"
LD_LIBRARY_PATH="$libdir" "$work/run_model_pkgconfig" "$model" "$image" > "$work/run_model_pkgconfig.txt"
"$work/build/two_sessions" "$model" "$image" > "$work/two_sessions.txt"

# A "session a,b:" line says which tasks the following outputs ran with: with per-task policies the
# subset changes the gates, so each is compared with `adarun infer --tasks a,b`.
/usr/bin/python3 - "$work" "$model" "$image" <<'PYTHON'
import os, subprocess, sys
import numpy as np
work, model, image = sys.argv[1:]

def infer(tasks):
    out = os.path.join(work, "infer_" + (tasks or "all"))
    if not os.path.isdir(out):
        command = [os.path.join(work, "prefix/bin/adarun"), "infer", "--model", model, "--input", image, "--out", out]
        subprocess.run(command + (["--tasks", tasks] if tasks else []), check=True, stdout=subprocess.DEVNULL)
    return out

for name in ("run_model", "run_model_pkgconfig", "two_sessions"):
    tasks, checked = None, 0
    for words in (line.split() for line in open(os.path.join(work, name + ".txt"))):
        if words[0] == "session":
            tasks = words[1].rstrip(":")
        if words[0] == "task":
            expected = float(np.load(os.path.join(infer(tasks), words[1] + ".npy")).astype(np.float64).mean())
            assert abs(float(words[-1]) - expected) <= 1e-5 * max(1.0, abs(expected)), f"{name} {words[1]}: mean {words[-1]}, adarun infer {expected}"
            checked += 1
    assert checked, name + " printed no task outputs"
    print(f"{name}: {checked} task outputs match adarun infer")
PYTHON
