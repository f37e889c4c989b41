# Writes a C++ source that runs every ```cpp block of the documentation:
# each block becomes the body of a function called in order by main(), so
# the examples are compiled, run and warned about like any test. A block
# that must stay uncompiled is fenced as ```text instead. #line directives
# point compiler messages at the Markdown file.
#
#   cmake -DOUT=examples.cpp -DROOT=<repository> -DFILES="docs/api.md;docs/porting.md" -P extract_examples.cmake
#
# CMake lists split on ';' (and brackets protect them), so those characters
# are replaced by placeholders while the text is cut into lines, and put
# back in the output.
set(functions "")
set(calls "")
set(count 0)
foreach(file IN LISTS FILES)
  file(READ "${ROOT}/${file}" text)
  string(REPLACE "@" "@at@" text "${text}")
  string(REPLACE ";" "@semicolon@" text "${text}")
  string(REPLACE "[" "@open@" text "${text}")
  string(REPLACE "]" "@close@" text "${text}")
  string(REPLACE "\\" "@backslash@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(number 0)
  set(inside FALSE)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(NOT inside AND line STREQUAL "```cpp")
      set(inside TRUE)
      math(EXPR start "${number} + 1")
      string(APPEND functions "// ${file}:${start}\nstatic void example_${count}() {\n#line ${start} \"${file}\"\n")
      string(APPEND calls "  std::printf(\"%s\\n\", \"${file}:${start}\")@semicolon@\n  example_${count}()@semicolon@\n")
    elseif(inside AND line STREQUAL "```")
      set(inside FALSE)
      string(APPEND functions "}\n\n")
      math(EXPR count "${count} + 1")
    elseif(inside)
      string(APPEND functions "${line}\n")
    endif()
  endforeach()
  if(inside)
    message(FATAL_ERROR "${file}: the ```cpp block from line ${start} is not closed")
  endif()
endforeach()
set(source "// Generated from the documentation by tests/docs/extract_examples.cmake: do not edit.\n")
string(APPEND source "#include \"docs_prelude.hpp\"\n\n${functions}int main() {\n${calls}")
string(APPEND source "  std::printf(\"%d examples ran\\n\", ${count})@semicolon@\n  return 0@semicolon@\n}\n")
string(REPLACE "@semicolon@" ";" source "${source}")
string(REPLACE "@open@" "[" source "${source}")
string(REPLACE "@close@" "]" source "${source}")
string(REPLACE "@backslash@" "\\" source "${source}")
string(REPLACE "@at@" "@" source "${source}")
# Written only when it changes, so an unchanged document rebuilds nothing.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL source)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${source}")
