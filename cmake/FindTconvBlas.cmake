# OpenBLAS, OpenMP build. tconv runs every GEMM from its own OpenMP threads; OpenBLAS's
# OpenMP build then stays on the calling thread (see src/blas.c), whereas its pthreads
# build (Debian's default libopenblas.so.0) would start threads of its own inside ours.
# Debian installs the OpenMP build beside the default one, so we link it by path and
# record that path as the library's run path.
set(_tconv_arch_dir "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
find_library(TCONV_BLAS_LIBRARY NAMES openblas
  PATHS "${_tconv_arch_dir}/openblas-openmp" NO_DEFAULT_PATH)
find_path(TCONV_BLAS_INCLUDE_DIR cblas.h
  PATHS "/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp" NO_DEFAULT_PATH)
if(NOT TCONV_BLAS_LIBRARY OR NOT TCONV_BLAS_INCLUDE_DIR)
  message(FATAL_ERROR "OpenBLAS (OpenMP build) not found: install libopenblas-openmp-dev "
                      "(make deps does it)")
endif()
get_filename_component(TCONV_BLAS_LIBRARY_DIR "${TCONV_BLAS_LIBRARY}" DIRECTORY)
message(STATUS "tconv BLAS: ${TCONV_BLAS_LIBRARY}")
