# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu. The compiler brings its own C
# library (/usr/aarch64-linux-gnu); the other libraries come from the sysroot that
# cmake/aarch64-setup.sh unpacks (ADARUN_AARCH64_SYSROOT, default build-aarch64/sysroot).
# Tests run under qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

get_filename_component(_adarun_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(ADARUN_AARCH64_SYSROOT "${_adarun_root}/build-aarch64/sysroot" CACHE PATH "arm64 packages unpacked by cmake/aarch64-setup.sh")
# try_compile projects see the toolchain again without the cache: hand the sysroot on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ADARUN_AARCH64_SYSROOT)

# Headers, libraries and CMake packages from the sysroot only; programs from the host.
set(CMAKE_FIND_ROOT_PATH "${ADARUN_AARCH64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The guest loader and C++ runtime come from the cross compiler's tree; the sysroot's libraries by path.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu
    -E LD_LIBRARY_PATH=${ADARUN_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu)
# The sysroot's shared libraries need each other at link time (XNNPACK needs cpuinfo). DT_RPATH, not
# RUNPATH: it is searched for the bundled libraries' own dependencies too.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${ADARUN_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,--disable-new-dtags")
# Installed (device) binaries find their shared libraries in lib/ beside them: cmake/aarch64-device.sh.
set(CMAKE_INSTALL_RPATH "\$ORIGIN/lib")
