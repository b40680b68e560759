# `cmake --install`: the shared library (with SONAME) and the static one, the public
# header, a pkg-config file and a CMake package:
#   pkg-config --cflags --libs tconv
#   find_package(tconv 0.1 REQUIRED)  ->  tconv::tconv (shared), tconv::tconv_static
include(CMakePackageConfigHelpers)

set(TCONV_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tconv")

install(TARGETS tconv tconv_static EXPORT tconvTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES include/tconv/tconv.h DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/tconv")

install(EXPORT tconvTargets NAMESPACE tconv:: DESTINATION "${TCONV_CMAKE_DIR}")
configure_package_config_file(cmake/tconvConfig.cmake.in
  "${PROJECT_BINARY_DIR}/tconvConfig.cmake" INSTALL_DESTINATION "${TCONV_CMAKE_DIR}")
# Same major version = same ABI (see TCONV_VERSION_* in the header).
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tconvConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tconvConfig.cmake"
              "${PROJECT_BINARY_DIR}/tconvConfigVersion.cmake"
  DESTINATION "${TCONV_CMAKE_DIR}")

# pkg-config. The prefix is found from the .pc file's own place, so the tree stays valid
# when `cmake --install --prefix` puts it somewhere else than the configured prefix.
# Libs.private serves static links: OpenBLAS's OpenMP build by its directory (with a run
# path, or the loader would pick Debian's default pthreads build of the same SONAME),
# OpenMP as the library was compiled with it, and libm.
set(TCONV_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(TCONV_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(TCONV_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(TCONV_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(TCONV_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _tconv_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
  string(REGEX REPLACE "/$" "" _tconv_up "${_tconv_up}")
  set(TCONV_PC_PREFIX "\${pcfiledir}/${_tconv_up}")
endif()
set(TCONV_ONEDNN_PC "")
if(TCONV_HAVE_ONEDNN)
  set(TCONV_ONEDNN_PC "-ldnnl")
endif()
configure_file(cmake/tconv.pc.in "${PROJECT_BINARY_DIR}/tconv.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/tconv.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
