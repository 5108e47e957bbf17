# hostpulse_enable_sanitizers(): with -DHOSTPULSE_SANITIZE=ON, every target in the
# build gets AddressSanitizer + UndefinedBehaviorSanitizer, failing hard on UB.
function(hostpulse_enable_sanitizers)
  if(HOSTPULSE_SANITIZE)
    set(flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    add_compile_options(${flags})
    add_link_options(${flags})
  endif()
endfunction()
