# Warnings apply to our own targets only; third-party headers come in as SYSTEM.
function(relais_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast)
endfunction()
