# Cross-compiling for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu. Libraries and headers come from a
# sysroot of Debian arm64 packages unpacked by cmake/make-aarch64-sysroot.sh (ADARUN_SYSROOT, default
# build-aarch64/sysroot). Tests run under qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

get_filename_component(adarun_source_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(ADARUN_SYSROOT "${adarun_source_dir}/build-aarch64/sysroot" CACHE PATH "Unpacked Debian arm64 packages")
set(CMAKE_FIND_ROOT_PATH "${ADARUN_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
