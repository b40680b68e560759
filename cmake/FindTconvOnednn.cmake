# oneDNN's C API, for the onednn GEMM provider (dnnl_sgemm). TCONV_WITH_ONEDNN: ON (must be
# found), OFF, or AUTO (used when found). Sets TCONV_HAVE_ONEDNN, TCONV_ONEDNN_LIBRARY and
# TCONV_ONEDNN_INCLUDE_DIR.
#
# libtconv.so links the system's libdnnl.so.2 (unlike OpenBLAS, not a private copy): it
# has one build and one SONAME, so the process may share it with PyTorch, which links the
# same library; each caller sizes its GEMMs by its own thread's OpenMP setting.
set(TCONV_HAVE_ONEDNN OFF)
set(TCONV_ONEDNN_LIBRARY "")
set(TCONV_ONEDNN_INCLUDE_DIR "")
if(NOT TCONV_WITH_ONEDNN STREQUAL "OFF")
  find_path(TCONV_ONEDNN_INCLUDE oneapi/dnnl/dnnl.h)
  find_library(TCONV_ONEDNN_LIB NAMES dnnl)
  if(TCONV_ONEDNN_INCLUDE AND TCONV_ONEDNN_LIB)
    set(TCONV_HAVE_ONEDNN ON)
    set(TCONV_ONEDNN_LIBRARY "${TCONV_ONEDNN_LIB}")
    set(TCONV_ONEDNN_INCLUDE_DIR "${TCONV_ONEDNN_INCLUDE}")
    message(STATUS "tconv onednn provider: ${TCONV_ONEDNN_LIB}")
  elseif(TCONV_WITH_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "oneDNN not found: install libdnnl-dev (make deps does it), or "
                        "configure with -DTCONV_WITH_ONEDNN=OFF")
  else()
    message(STATUS "tconv onednn provider: not built (oneDNN not found)")
  endif()
endif()
