# Layers: each library's headers are reachable only by linking it.
#
# A library's include root is a folder of its own under the build tree that
# holds one symbolic link, named like the library's source folder, so
# `#include "agent/pipeline/history.hpp"` is the file's path in the repository
# and resolves only for targets that link hostpulse::pipeline (directly, or
# through a library above it). Libraries link only downward
#   base -> collectors -> pipeline -> alerts, stream -> api -> net, config -> agent
# so an include of a higher layer's header fails to compile
# ("No such file or directory"); tests/layering checks that it does.
function(hostpulse_expose_headers target folder)
  set(root "${PROJECT_BINARY_DIR}/include/${target}")
  get_filename_component(parent "${root}/${folder}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  if(NOT IS_SYMLINK "${root}/${folder}")
    file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${folder}" "${root}/${folder}" SYMBOLIC)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE "${root}")
  else()
    target_include_directories(${target} PUBLIC "${root}")
  endif()
endfunction()

# hostpulse_add_layer(<name> FOLDER <folder> SOURCES <files...> [PUBLIC <libs...>] [PRIVATE <libs...>])
# defines the static library hostpulse_<name> (alias hostpulse::<name>) from
# files of <folder> and exposes <folder>'s headers to whatever links it.
function(hostpulse_add_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "FOLDER" "SOURCES;PUBLIC;PRIVATE")
  set(target hostpulse_${name})
  list(TRANSFORM arg_SOURCES PREPEND "${PROJECT_SOURCE_DIR}/${arg_FOLDER}/")
  add_library(${target} STATIC ${arg_SOURCES})
  add_library(hostpulse::${name} ALIAS ${target})
  hostpulse_expose_headers(${target} ${arg_FOLDER})
  target_link_libraries(${target} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
  hostpulse_enable_warnings(${target})
endfunction()
