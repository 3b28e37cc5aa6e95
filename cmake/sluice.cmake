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
if(SLUICE_FUZZ)
  # Every library gets libFuzzer's coverage hooks and ASan + UBSan; only the fuzz binaries link
  # libFuzzer's main (sluice_add_fuzzer).
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++-14)")
  endif()
  if(SLUICE_SANITIZE)
    message(FATAL_ERROR "SLUICE_FUZZ already builds with ASan + UBSan; leave SLUICE_SANITIZE off")
  endif()
  target_compile_options(sluice_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    # Optimised a little for speed; line tables are all a crash report needs.
    -O1 -gline-tables-only)
  target_link_options(sluice_build_flags INTERFACE -fsanitize=address,undefined)
elseif(SLUICE_SANITIZE STREQUAL "thread")
  # -O1: ThreadSanitizer is 5-15x slower than plain code, unbearably so without optimisation.
  # -g1: line tables are all a report needs, and full debug info makes this build much slower.
  target_compile_options(sluice_build_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer -O1
                                                     -g1)
  # Debian's Abseil is not TSan-instrumented: wrap the absl::Mutex members we call so that TSan
  # sees their happens-before edges (tests/support/tsan_absl_mutex.cc says why and how).
  add_library(sluice_tsan_absl_mutex STATIC ${PROJECT_SOURCE_DIR}/tests/support/tsan_absl_mutex.cc)
  target_compile_options(sluice_tsan_absl_mutex PRIVATE -fsanitize=thread)
  target_link_libraries(sluice_tsan_absl_mutex PUBLIC absl::synchronization)
  target_link_libraries(sluice_build_flags INTERFACE sluice_tsan_absl_mutex)
  # --undefined pulls the wrappers in even where only Abseil's own libraries call Mutex.
  target_link_options(sluice_build_flags INTERFACE -fsanitize=thread)
  foreach(member _ZN4absl7debian35Mutex4LockEv _ZN4absl7debian35Mutex6UnlockEv
                 _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE
                 _ZN4absl7debian35Mutex10ReaderLockEv _ZN4absl7debian35Mutex12ReaderUnlockEv)
    target_link_options(sluice_build_flags INTERFACE
      LINKER:--wrap=${member} LINKER:--undefined=__wrap_${member})
  endforeach()
elseif(SLUICE_SANITIZE)
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

# sluice_add_test(<name> SOURCES ... [DEPS ...] [LABELS ...] [THREADED <gtest filter>])
# Every test gets 10 minutes at most (a test that hangs, say on a broker that died, fails
# instead of eating CI's budget).
# One gtest binary per library, registered with gtest_discover_tests and labelled <name> and
# LABELS. The tests that THREADED matches (a --gtest_filter pattern such as
# "Replay.*:Snapshotter.*") also get the label `threads`: the ThreadSanitizer build runs only
# those (make test-tsan).
function(sluice_add_test name)
  cmake_parse_arguments(ARG "" "THREADED" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name}_test ${ARG_SOURCES})
  target_link_libraries(${name}_test PRIVATE sluice_build_flags sluice::testsupport ${ARG_DEPS}
                                             GTest::gmock GTest::gtest_main)
  if(ARG_THREADED)
    # Discovered twice: the other tests, then the threaded ones.
    gtest_discover_tests(${name}_test WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      TEST_FILTER "-${ARG_THREADED}" TEST_LIST ${name}_TESTS DISCOVERY_TIMEOUT 60
      PROPERTIES TIMEOUT 600)
    gtest_discover_tests(${name}_test WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      TEST_FILTER "${ARG_THREADED}" TEST_LIST ${name}_THREADED_TESTS DISCOVERY_TIMEOUT 60
      PROPERTIES TIMEOUT 600)
  else()
    gtest_discover_tests(${name}_test WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      TEST_LIST ${name}_TESTS DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
  endif()
  # List-valued properties are set here, after discovery: gtest_discover_tests(PROPERTIES)
  # splits every list into separate arguments, so LABELS "a;b" or a two-variable ENVIRONMENT
  # would reach set_tests_properties() as stray property names.
  set(labels ${name} ${ARG_LABELS})
  set(environment "SLUICE_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "SLUICE_BINARY=$<TARGET_FILE:sluice>")
  set(properties_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_test_properties.cmake)
  file(GENERATE OUTPUT ${properties_file} CONTENT "
if(${name}_TESTS)
  set_tests_properties(\${${name}_TESTS} PROPERTIES
    LABELS \"${labels}\" ENVIRONMENT \"${environment}\")
endif()
if(${name}_THREADED_TESTS)
  set_tests_properties(\${${name}_THREADED_TESTS} PROPERTIES
    LABELS \"${labels};threads\" ENVIRONMENT \"${environment}\")
endif()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${properties_file})
endfunction()

# sluice_add_fuzzer(<name> [SOURCES ...] DEPS ...)   (SLUICE_FUZZ=ON builds only)
# Builds the libFuzzer binary <name>_fuzz from tests/fuzz/<name>_fuzz.cc (or SOURCES) and
# registers the ctest `fuzz.<name>` (label `fuzz`): scripts/run-fuzzer.sh fuzzes it from its
# seed corpus tests/fuzz/corpus/<name>/ for $SLUICE_FUZZ_SECONDS (10 by default).
function(sluice_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    set(ARG_SOURCES ${name}_fuzz.cc)
  endif()
  if(NOT TARGET sluice_fuzzers)
    add_custom_target(sluice_fuzzers)
  endif()
  add_executable(${name}_fuzz ${ARG_SOURCES})
  target_include_directories(${name}_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name}_fuzz PRIVATE sluice_build_flags ${ARG_DEPS})
  target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer)
  add_dependencies(sluice_fuzzers ${name}_fuzz)
  add_test(NAME fuzz.${name}
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/run-fuzzer.sh $<TARGET_FILE:${name}_fuzz>
                   ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name} ${CMAKE_BINARY_DIR}/fuzz/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz)
endfunction()
