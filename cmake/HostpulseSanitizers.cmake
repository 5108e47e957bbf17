# hostpulse_enable_sanitizers(): instruments every target in the build.
#   -DHOSTPULSE_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer, failing hard on UB.
#   -DHOSTPULSE_TSAN=ON      ThreadSanitizer (scripts/tsan.sh). It cannot share a
#                            process with ASan, hence a build of its own.
#   -DHOSTPULSE_FUZZ=ON      libFuzzer coverage on every library plus ASan + UBSan
#                            (clang only; tests/fuzz, scripts/fuzz.sh). The fuzz
#                            targets themselves link -fsanitize=fuzzer, which
#                            brings libFuzzer's main().
function(hostpulse_enable_sanitizers)
  set(chosen "")
  foreach(option HOSTPULSE_SANITIZE HOSTPULSE_TSAN HOSTPULSE_FUZZ)
    if(${option})
      list(APPEND chosen ${option})
    endif()
  endforeach()
  list(LENGTH chosen count)
  if(count GREATER 1)
    message(FATAL_ERROR "${chosen}: pick one (ThreadSanitizer cannot be combined with AddressSanitizer, "
                        "and HOSTPULSE_FUZZ already builds with AddressSanitizer + UndefinedBehaviorSanitizer)")
  endif()

  if(HOSTPULSE_SANITIZE)
    set(flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    add_compile_options(${flags})
    add_link_options(${flags})
  elseif(HOSTPULSE_TSAN)
    set(flags -fsanitize=thread -fno-omit-frame-pointer)
    add_compile_options(${flags})
    add_link_options(${flags})
  elseif(HOSTPULSE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      message(FATAL_ERROR "HOSTPULSE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
    endif()
    # fuzzer-no-link: coverage counters in the libraries without a second main().
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
  endif()
endfunction()
