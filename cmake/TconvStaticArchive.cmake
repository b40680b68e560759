# cmake -P script: the one object file the installed libtconv.a holds. It makes the static
# library what the shared one is: the library's objects and the OpenBLAS archive members
# they use, linked into one relocatable object (ld -r), in which every symbol but the
# shared library's exports is then made local (objcopy). Internals and OpenBLAS's own
# cblas_*, sgemm_* ... are invisible to the program and cannot meet the program's BLAS.
#   cmake -DLINKER= -DNM= -DOBJCOPY= -DOBJECTS=<list file> -DBLAS_ARCHIVE= -DSHARED=<libtconv.so>
#         -DOUTPUT=<object> -P TconvStaticArchive.cmake
foreach(var LINKER NM OBJCOPY OBJECTS BLAS_ARCHIVE SHARED OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "TconvStaticArchive.cmake: -D${var}= missing")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "${cmd}: ${status}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(STRINGS "${OBJECTS}" objects)
set(linked "${OUTPUT}.linked.o")
# -d: common symbols get their storage here, so that they can be made local like the rest.
run("${LINKER}" -r -d -o "${linked}" ${objects} "${BLAS_ARCHIVE}")

# What stays global: exactly what libtconv.so exports (the public API, as cmake/tconv.map
# and tests/check_exports.sh define it).
run("${NM}" -D --defined-only "${SHARED}")
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(symbols "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[0-9a-fA-F]* *[A-Z] ([^@ ]+)")
    string(APPEND symbols "${CMAKE_MATCH_1}\n")
  endif()
endforeach()
if(symbols STREQUAL "")
  message(FATAL_ERROR "${SHARED} exports nothing")
endif()
file(WRITE "${OUTPUT}.symbols" "${symbols}")
run("${OBJCOPY}" "--keep-global-symbols=${OUTPUT}.symbols" "${linked}" "${OUTPUT}")
file(REMOVE "${linked}")
