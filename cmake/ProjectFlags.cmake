# Flags for the project's own tests, benchmarks and examples (never for the
# eigenq interface target, whose consumers choose their own).
#
#   EIGENQ_ISA        native | avx2 | none : instruction set of the project's binaries
#   EIGENQ_FORCE_SCALAR                     : compile only the portable path
#   EIGENQ_SANITIZE   e.g. address;undefined
#   EIGENQ_WERROR                           : warnings are errors (CI)
set(EIGENQ_ISA "none" CACHE STRING "ISA flags for tests and benchmarks: none (baseline x86-64: run-time dispatch), avx2 or native")
option(EIGENQ_FORCE_SCALAR "Compile tests and benchmarks with only the portable path" OFF)
set(EIGENQ_SANITIZE "" CACHE STRING "Sanitizers for tests, e.g. address;undefined")
option(EIGENQ_WERROR "Treat warnings in the project's own binaries as errors" OFF)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

add_library(eigenq_project_flags INTERFACE)
target_compile_options(eigenq_project_flags INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(EIGENQ_WERROR)
  target_compile_options(eigenq_project_flags INTERFACE -Werror)
endif()
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  if(EIGENQ_ISA STREQUAL "avx2")
    target_compile_options(eigenq_project_flags INTERFACE -mavx2 -mfma -mf16c)
  elseif(EIGENQ_ISA STREQUAL "native")
    target_compile_options(eigenq_project_flags INTERFACE -march=native)
  endif()
endif()
if(EIGENQ_FORCE_SCALAR)
  target_compile_definitions(eigenq_project_flags INTERFACE EIGENQ_FORCE_SCALAR)
endif()
if(EIGENQ_SANITIZE)
  string(REPLACE ";" "," eigenq_sanitizers "${EIGENQ_SANITIZE}")
  target_compile_options(eigenq_project_flags INTERFACE
    -fsanitize=${eigenq_sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(eigenq_project_flags INTERFACE -fsanitize=${eigenq_sanitizers})
endif()
