# Part of the RelaisSDK package (included by RelaisSDKConfig.cmake): the
# function that builds a relais plugin.

string(REGEX MATCH "^[0-9]+\\.[0-9]+" _relais_sdk_boost_series "${RELAIS_SDK_BOOST_VERSION}")
set(RELAIS_SDK_PLUGIN_MISSING
    "RelaisSDK::plugin needs the headers and the CMake package of Boost ${RELAIS_SDK_BOOST_VERSION} \
exactly, the Boost relaisd was built with (BOOST_VERSION is part of the plugin ABI stamp), and found none: \
install them (libboost${_relais_sdk_boost_series}-dev on Debian) or set Boost_DIR.")
unset(_relais_sdk_boost_series)

# relais_sdk_add_plugin(<name> [SOURCES] <source>...)
#
# The plugin <name>.so: a MODULE library compiled against RelaisSDK::plugin.
# Its symbols are hidden but for the descriptor the RELAIS_*_PLUGIN macro
# exports, so that two plugins never clash, and it is linked with
# --no-undefined, so that a missing symbol fails the build rather than the
# load. Name it as its macro names the plugin: relaisd loads a plugin
# named in relais.toml from <plugin dir>/<name>.so.
function(relais_sdk_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES")
  set(sources ${arg_SOURCES} ${arg_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "relais_sdk_add_plugin(${name}): no source files")
  endif()
  if(NOT TARGET RelaisSDK::plugin)
    message(FATAL_ERROR "relais_sdk_add_plugin(${name}): ${RELAIS_SDK_PLUGIN_MISSING}")
  endif()
  # The ABI stamp names the compiler and its major version too: relaisd
  # would refuse the plugin, so say it now.
  string(REGEX MATCH "^[0-9]+" major "${CMAKE_CXX_COMPILER_VERSION}")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL RELAIS_SDK_CXX_COMPILER_ID OR NOT major STREQUAL RELAIS_SDK_CXX_COMPILER_MAJOR)
    message(WARNING "relais_sdk_add_plugin(${name}): relaisd was built with ${RELAIS_SDK_CXX_COMPILER_ID} "
                    "${RELAIS_SDK_CXX_COMPILER_MAJOR}, this project compiles with ${CMAKE_CXX_COMPILER_ID} "
                    "${major}: relaisd will refuse the plugin (its ABI stamp names the compiler).")
  endif()

  add_library(${name} MODULE ${sources})
  target_link_libraries(${name} PRIVATE RelaisSDK::plugin)
  target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
