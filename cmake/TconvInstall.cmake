# `cmake --install` (and `make install`): the shared library (with SONAME) and the static
# one, the public header, the `tconv` command, a pkg-config file and a CMake package:
#   pkg-config --cflags --libs tconv            (--static for libtconv.a)
#   find_package(tconv 1.0 REQUIRED)  ->  tconv::tconv (shared), tconv::tconv_static
include(CMakePackageConfigHelpers)

set(TCONV_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tconv")

# The installed libtconv.a (target tconv_archive; the build tree's tconv_static, with the
# internals the tests use, is not installed). With OpenBLAS it is one object that holds
# the library and the OpenBLAS members it calls, with only the public API global (see
# cmake/TconvStaticArchive.cmake): like libtconv.so, it carries a private, hidden OpenBLAS,
# so a static program needs neither libopenblas.so.0 nor libgfortran at run time, and its
# own BLAS (if any) never meets tconv's. What remains for the final link: oneDNN (Debian
# ships no static libdnnl), OpenMP, libm.
if(TCONV_WITH_OPENBLAS)
  set(_tconv_folded "${PROJECT_BINARY_DIR}/tconv_archive.o")
  file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/tconv_archive.objects"
       CONTENT "$<JOIN:$<TARGET_OBJECTS:tconv_objects>,\n>\n")
  add_custom_command(OUTPUT "${_tconv_folded}"
    COMMAND "${CMAKE_COMMAND}" "-DLINKER=${CMAKE_LINKER}" "-DNM=${CMAKE_NM}"
            "-DOBJCOPY=${CMAKE_OBJCOPY}" "-DOBJECTS=${PROJECT_BINARY_DIR}/tconv_archive.objects"
            "-DBLAS_ARCHIVE=${TCONV_BLAS_ARCHIVE}" "-DSHARED=$<TARGET_FILE:tconv>"
            "-DOUTPUT=${_tconv_folded}" -P "${PROJECT_SOURCE_DIR}/cmake/TconvStaticArchive.cmake"
    DEPENDS tconv tconv_objects $<TARGET_OBJECTS:tconv_objects> "${TCONV_BLAS_ARCHIVE}"
            "${PROJECT_SOURCE_DIR}/cmake/TconvStaticArchive.cmake"
    COMMENT "Folding OpenBLAS into libtconv.a, public API only" VERBATIM)
  add_library(tconv_archive STATIC "${_tconv_folded}")
else()
  add_library(tconv_archive STATIC $<TARGET_OBJECTS:tconv_objects>)
endif()
set_target_properties(tconv_archive PROPERTIES OUTPUT_NAME tconv EXPORT_NAME tconv_static
  LINKER_LANGUAGE C)
target_include_directories(tconv_archive INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# The link interface as flags, not targets: using the package needs no find_package(OpenMP)
# and works from C++-only projects too.
target_link_libraries(tconv_archive INTERFACE
  $<INSTALL_INTERFACE:${TCONV_ONEDNN_LIBRARY}>
  $<INSTALL_INTERFACE:$<$<BOOL:${TCONV_OPENMP}>:${OpenMP_C_FLAGS}>> $<INSTALL_INTERFACE:m>)

# The command finds the library beside it, wherever the prefix is (no run path where the
# loader looks anyway, e.g. PREFIX=/usr).
if(NOT CMAKE_INSTALL_FULL_LIBDIR IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
  file(RELATIVE_PATH _tconv_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}"
       "${CMAKE_INSTALL_FULL_LIBDIR}")
  set_target_properties(tconv_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_tconv_bin_to_lib}")
endif()

install(TARGETS tconv tconv_archive EXPORT tconvTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(TARGETS tconv_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
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
# Libs.private serves static links: oneDNN, OpenMP as the library was compiled with it,
# and libm (OpenBLAS is inside libtconv.a).
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
