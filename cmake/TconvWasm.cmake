# tconv.wasm: the library's BLAS-free, thread-free core (every algorithm, multiplying with
# the reference GEMM provider; no OpenMP) and the `tconv` command, compiled from the same
# sources for WebAssembly (WASI, a reactor module) with clang, then embedded into the
# native `tconv` command: the page `tconv explain --html` writes carries it and recomputes
# any geometry in the browser (src/wasm/exports.c says what it exports).
#
# Debian's toolchain: clang-14, lld-14 (wasm-ld), wasi-libc and libclang-rt-14-dev-wasm32,
# found on their multiarch paths without --sysroot (scripts/install-deps.sh build installs
# them). TCONV_WASM=OFF builds without it; `tconv explain --html` then says it cannot.
#
# In:  TCONV_CORE_SOURCES, TCONV_CLI_SOURCES (the command without main.c).
# Out: TCONV_PAGE_SOURCES, the generated C files of the page's assets and module, for the
#      native command; the target tconv_wasm (part of `all`) and ${PROJECT_BINARY_DIR}/tconv.wasm.

option(TCONV_WASM "Build tconv.wasm and embed it into the page of tconv explain --html" ON)

set(_page_dir ${PROJECT_BINARY_DIR}/page)
file(MAKE_DIRECTORY ${_page_dir})

# <name>.c holding `input` as the array <symbol> (cmake/embed.cmake); empty input: empty.
function(tconv_embed name symbol input)
  set(out ${_page_dir}/${name}.c)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${out} -DNAME=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding ${symbol}" VERBATIM)
endfunction()

tconv_embed(page_css tconv_page_css ${PROJECT_SOURCE_DIR}/src/cli/page/page.css)
tconv_embed(page_js tconv_page_js ${PROJECT_SOURCE_DIR}/src/cli/page/page.js)
# tconv.wasm itself carries no module (it writes no page)
tconv_embed(page_no_wasm tconv_page_wasm "")
set(_assets ${_page_dir}/page_css.c ${_page_dir}/page_js.c)

if(TCONV_WASM)
  find_program(TCONV_WASM_CC NAMES clang-14 clang
               DOC "clang with the wasm32-wasi target, for tconv.wasm")
  set(_probe ${_page_dir}/probe)
  file(WRITE ${_probe}.c "#include <stdio.h>\nint main(void) { return puts(\"\") < 0; }\n")
  if(TCONV_WASM_CC)
    execute_process(COMMAND ${TCONV_WASM_CC} --target=wasm32-wasi ${_probe}.c -o ${_probe}.wasm
                    RESULT_VARIABLE _probe_status ERROR_VARIABLE _probe_error)
  endif()
  if(NOT TCONV_WASM_CC OR _probe_status)
    message(FATAL_ERROR "tconv.wasm: '${TCONV_WASM_CC}' cannot build for wasm32-wasi "
      "(${_probe_error}). Install Debian's clang-14 lld-14 wasi-libc "
      "libclang-rt-14-dev-wasm32 (scripts/install-deps.sh build), or configure with "
      "-DTCONV_WASM=OFF for a tconv whose explain writes no page.")
  endif()

  set(_wasm_sources ${TCONV_CORE_SOURCES} ${TCONV_CLI_SOURCES} src/wasm/exports.c)
  list(TRANSFORM _wasm_sources PREPEND ${PROJECT_SOURCE_DIR}/)
  list(APPEND _wasm_sources ${_assets} ${_page_dir}/page_no_wasm.c)
  file(GLOB_RECURSE _wasm_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.h
       ${PROJECT_SOURCE_DIR}/include/tconv/*.h)
  # As the library would be configured with TCONV_OPENMP=OFF, TCONV_WITH_OPENBLAS=OFF and
  # TCONV_WITH_ONEDNN=OFF: the pragmas are ignored, the reference provider multiplies.
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/tconv.wasm
    COMMAND ${TCONV_WASM_CC} --target=wasm32-wasi -mexec-model=reactor -std=c11 -O2
            -DTCONV_BUILDING -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/src
            -Wall -Wno-unknown-pragmas ${_wasm_sources}
            -Wl,-z,stack-size=1048576 -Wl,--strip-all
            -o ${PROJECT_BINARY_DIR}/tconv.wasm
    DEPENDS ${_wasm_sources} ${_wasm_headers}
    COMMENT "Building tconv.wasm (clang --target=wasm32-wasi)" VERBATIM)
  add_custom_target(tconv_wasm ALL DEPENDS ${PROJECT_BINARY_DIR}/tconv.wasm)
  tconv_embed(page_wasm tconv_page_wasm ${PROJECT_BINARY_DIR}/tconv.wasm)
else()
  tconv_embed(page_wasm tconv_page_wasm "")
endif()
set(TCONV_PAGE_SOURCES ${_assets} ${_page_dir}/page_wasm.c)
