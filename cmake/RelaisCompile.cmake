# Warnings apply to our own targets only; third-party headers come in as SYSTEM.
function(relais_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast)
endfunction()

# Where built plugins go: the same layout as an install (lib/relais/plugins),
# so that `relaisd --plugin-dir build/lib/relais/plugins` finds them all.
set(RELAIS_PLUGIN_BUILD_DIR ${CMAKE_BINARY_DIR}/lib/relais/plugins)
set(RELAIS_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/relais/plugins)

# relais_add_plugin(NAME [SOURCES ...] [LIBS ...] [NO_INSTALL] [OUTPUT_DIR dir]):
# one plugin, <NAME>.so, built from the folder's *.cpp unless SOURCES says
# otherwise. Only the descriptor is exported; everything else is hidden, so
# that two plugins never clash.
function(relais_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT P_SOURCES)
    file(GLOB P_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  endif()
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${RELAIS_PLUGIN_BUILD_DIR})
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE relais_sdk_headers Boost::headers ${P_LIBS})
  target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  relais_target_defaults(${name})
  if(NOT P_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${RELAIS_PLUGIN_INSTALL_DIR} COMPONENT plugins)
  endif()
endfunction()
