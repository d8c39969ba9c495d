#!/bin/sh
# Sets up the aarch64 cross build: the cross compiler and qemu (amd64 packages, as root), then a sysroot
# of Debian's arm64 library packages unpacked with `dpkg -x` into SYSROOT (default build-aarch64/sysroot).
# arm64 library packages are never installed: installing libxnnpack-dev:arm64 would remove the amd64
# one, and python3-torch with it.
set -eu
cd "$(dirname "$0")/.."
SYSROOT=$(realpath -m "${1:-build-aarch64/sysroot}")

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! installed g++-aarch64-linux-gnu || ! installed qemu-user; then
  echo "adarun: installing the aarch64 cross compiler and qemu-user"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu qemu-user
fi
# `apt-get download pkg:arm64` needs arm64 in dpkg's architectures and apt's lists.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi

# Libraries the build links (and their own shared dependencies), then architecture-independent headers.
ARM64_PACKAGES="libxnnpack-dev libxnnpack0 libpthreadpool-dev libpthreadpool0 libcpuinfo-dev libcpuinfo0
  libstb-dev libstb0 libbenchmark-dev libbenchmark1debian"
ALL_PACKAGES="libeigen3-dev doctest-dev"

stamp="$SYSROOT/.packages"
wanted=$(echo $ARM64_PACKAGES $ALL_PACKAGES)
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && exit 0

echo "adarun: building the aarch64 sysroot in $SYSROOT"
rm -rf "$SYSROOT"
debs="$SYSROOT.debs"
rm -rf "$debs" && mkdir -p "$debs" "$SYSROOT"
arm64_names=""
for package in $ARM64_PACKAGES; do arm64_names="$arm64_names $package:arm64"; done
(cd "$debs" && apt-get download -q $arm64_names $ALL_PACKAGES)
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
rm -rf "$debs"
echo "$wanted" >"$stamp"
