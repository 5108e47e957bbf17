# hostpulse_enable_warnings(target): the warning set every hostpulse target builds with.
function(hostpulse_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(HOSTPULSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
