# OpenBLAS, OpenMP build. tconv runs every GEMM from its own OpenMP threads; OpenBLAS's
# OpenMP build then stays on the calling thread (see src/blas.c), whereas its pthreads
# build (Debian's default libopenblas.so.0) would start threads of its own inside ours.
#
# libtconv.so carries a private copy of it: the static archive linked in with every
# symbol hidden. Both builds share the SONAME libopenblas.so.0 and a process maps a SONAME
# once, so linking the shared one would bind tconv to whichever build numpy, torch or the
# application loaded first, and would serve their libblas.so.3 from ours (a mix that hangs
# when the OpenMP thread count changes). A private copy touches nobody's BLAS, and nobody
# touches ours. The installed libtconv.a holds the same private copy (see
# cmake/TconvInstall.cmake); the build tree's tconv_static, which the tests and the
# benchmark link, uses the shared OpenMP build (TCONV_BLAS_LIBRARY).
set(_tconv_arch_dir "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp")
find_library(TCONV_BLAS_LIBRARY NAMES openblas PATHS "${_tconv_arch_dir}" NO_DEFAULT_PATH)
find_file(TCONV_BLAS_ARCHIVE NAMES libopenblas.a PATHS "${_tconv_arch_dir}" NO_DEFAULT_PATH)
find_path(TCONV_BLAS_INCLUDE_DIR cblas.h
  PATHS "/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp" NO_DEFAULT_PATH)
if(NOT TCONV_BLAS_LIBRARY OR NOT TCONV_BLAS_ARCHIVE OR NOT TCONV_BLAS_INCLUDE_DIR)
  message(FATAL_ERROR "OpenBLAS (OpenMP build) not found: install libopenblas-openmp-dev "
                      "(make deps does it)")
endif()
get_filename_component(TCONV_BLAS_LIBRARY_DIR "${TCONV_BLAS_LIBRARY}" DIRECTORY)
message(STATUS "tconv BLAS: ${TCONV_BLAS_ARCHIVE} (private in libtconv.so), "
               "${TCONV_BLAS_LIBRARY} (for the tests' tconv_static)")
