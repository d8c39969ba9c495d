#!/bin/sh
# Installs adarun's build and test dependencies from Debian's packages (Debian 12), as root.
# Packages already present are not touched, so a prepared machine pays nothing.
set -eu

PACKAGES="cmake g++ make pkg-config
  libeigen3-dev libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libstb-dev doctest-dev libbenchmark-dev libcli11-dev
  python3 python3-numpy python3-yaml python3-torch libopenblas0-pthread
  clang libclang-rt-dev"

missing=""
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

echo "adarun: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
