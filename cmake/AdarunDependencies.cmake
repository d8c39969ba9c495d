# Every dependency comes from a Debian package; nothing is downloaded.
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)  # the command line's parser (header only)

# stb: Debian's libstb-dev ships the implementations compiled into libstb.
find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
find_library(STB_LIBRARY stb REQUIRED)
add_library(adarun_stb INTERFACE)
target_include_directories(adarun_stb SYSTEM INTERFACE ${STB_INCLUDE_DIR})
target_link_libraries(adarun_stb INTERFACE ${STB_LIBRARY})

if(ADARUN_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
find_package(benchmark QUIET)  # kernel benches are built when Google Benchmark is installed

# pthreadpool: XNNPACK's thread pool, shared by our kernels.
find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h REQUIRED)
find_library(PTHREADPOOL_LIBRARY pthreadpool REQUIRED)
add_library(adarun_pthreadpool INTERFACE)
target_include_directories(adarun_pthreadpool SYSTEM INTERFACE ${PTHREADPOOL_INCLUDE_DIR})
target_link_libraries(adarun_pthreadpool INTERFACE ${PTHREADPOOL_LIBRARY} Threads::Threads)

# XNNPACK: a comparison backend for the kernel benches.
find_path(XNNPACK_INCLUDE_DIR xnnpack.h REQUIRED)
find_library(XNNPACK_LIBRARY XNNPACK REQUIRED)
add_library(adarun_xnnpack INTERFACE)
target_include_directories(adarun_xnnpack SYSTEM INTERFACE ${XNNPACK_INCLUDE_DIR})
target_link_libraries(adarun_xnnpack INTERFACE ${XNNPACK_LIBRARY} adarun_pthreadpool)
