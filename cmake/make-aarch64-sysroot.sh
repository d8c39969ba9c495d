#!/bin/sh
# Builds the aarch64 sysroot for cmake/aarch64-linux-gnu.cmake: Debian's arm64 packages of adarun's libraries,
# downloaded with `apt-get download` and unpacked with `dpkg -x` into DEST (default build-aarch64/sysroot).
# It never installs an arm64 package: `apt-get install` of arm64 xnnpack or pthreadpool would replace the amd64
# ones (and python3-torch with them). Also installs the cross compiler and qemu-user (amd64 packages).
# Header-only packages (Eigen, doctest, CLI11) are unpacked too: the cross build finds packages in the sysroot only.
# DEST/.complete holds the package list it was made with; another list unpacks them all again over it.
set -eu
cd "$(dirname "$0")/.."
DEST=${1:-build-aarch64/sysroot}
PACKAGES="libxnnpack-dev:arm64 libxnnpack0:arm64 libpthreadpool-dev:arm64 libpthreadpool0:arm64
  libcpuinfo-dev:arm64 libcpuinfo0:arm64 libstb-dev:arm64 libstb0:arm64 libbenchmark-dev:arm64
  libbenchmark1debian:arm64 libeigen3-dev doctest-dev libcli11-dev"

[ -f "$DEST/.complete" ] && [ "$(cat "$DEST/.complete")" = "$PACKAGES" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
tools=""
for tool in g++-aarch64-linux-gnu qemu-user; do
  dpkg-query -W -f='${Status}' "$tool" 2>/dev/null | grep -q "install ok installed" || tools="$tools $tool"
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64  # lets apt-get download arm64 packages; nothing arm64 is installed
  $SUDO apt-get update -qq
elif [ -n "$tools" ]; then
  $SUDO apt-get update -qq
fi
if [ -n "$tools" ]; then
  echo "adarun: installing$tools"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $tools
fi

downloads=$(mktemp -d)
chmod 777 "$downloads"  # apt's sandbox user writes the downloads
(cd "$downloads" && apt-get download $PACKAGES >/dev/null)
mkdir -p "$DEST"
for deb in "$downloads"/*.deb; do dpkg -x "$deb" "$DEST"; done
rm -rf "$downloads"
printf '%s\n' "$PACKAGES" >"$DEST/.complete"
echo "adarun: aarch64 sysroot in $DEST"
