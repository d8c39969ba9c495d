# `cmake --install`: the C API headers, libadarun.so, the CLI, a CMake package (find_package(adarun),
# target adarun::adarun) and a pkg-config file (adarun.pc). Both are relocatable: they find the
# prefix from where they were installed, so `cmake --install build --prefix DIR` works anywhere.
include(CMakePackageConfigHelpers)

set(ADARUN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/adarun)

install(DIRECTORY engine/include/adarun DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS adarun_shared EXPORT adarunTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS adarun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT adarunTargets NAMESPACE adarun:: DESTINATION ${ADARUN_CMAKE_DIR})

configure_package_config_file(cmake/adarunConfig.cmake.in ${PROJECT_BINARY_DIR}/adarunConfig.cmake INSTALL_DESTINATION ${ADARUN_CMAKE_DIR})
# 0.x releases promise nothing across minor versions; from 1.0 on, the major version is the ABI.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(ADARUN_COMPATIBILITY SameMinorVersion)
else()
  set(ADARUN_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/adarunConfigVersion.cmake COMPATIBILITY ${ADARUN_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/adarunConfig.cmake ${PROJECT_BINARY_DIR}/adarunConfigVersion.cmake DESTINATION ${ADARUN_CMAKE_DIR})

# adarun.pc sits in LIBDIR/pkgconfig; the prefix is found relative to it.
file(RELATIVE_PATH ADARUN_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/adarun.pc.in ${PROJECT_BINARY_DIR}/adarun.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/adarun.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
