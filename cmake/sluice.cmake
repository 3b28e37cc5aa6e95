# Helpers that turn each folder's CMakeLists.txt into a declaration (STYLE.md section 2).

add_library(sluice_build_flags INTERFACE)
target_compile_features(sluice_build_flags INTERFACE cxx_std_20)
target_compile_options(sluice_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wfloat-conversion
  -Wimplicit-fallthrough -Wmissing-declarations -Wcast-qual -Wformat=2 -Wundef -Werror
  # GCC 12 at -O3 reports std::string concatenations as overlapping memcpy (GCC bug 105651).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # Exact means exact: never contract a*b+c into an FMA, never relax IEEE semantics.
  -ffp-contract=off -fno-fast-math
  $<$<CONFIG:Debug>:-D_GLIBCXX_ASSERTIONS>)
if(SLUICE_SANITIZE)
  target_compile_options(sluice_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(sluice_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# sluice_add_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Creates sluice_<name> with the alias sluice::<name>. Includes are rooted at the repository.
function(sluice_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sluice_${name} STATIC ${ARG_SOURCES})
  add_library(sluice::${name} ALIAS sluice_${name})
  target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sluice_${name} PUBLIC sluice_build_flags ${ARG_DEPS}
                                       PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# sluice_add_test(<name> SOURCES ... [DEPS ...] [LABELS ...])
# One gtest binary per library, registered with gtest_discover_tests.
function(sluice_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name}_test ${ARG_SOURCES})
  target_link_libraries(${name}_test PRIVATE sluice_build_flags sluice::testsupport ${ARG_DEPS}
                                             GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}_test
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "SLUICE_SOURCE_DIR=${PROJECT_SOURCE_DIR};SLUICE_BINARY=$<TARGET_FILE:sluice>"
               LABELS "${name};${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()
