# hostpulse_embed_assets(OUTPUT file.cpp BASE_DIR dir FILES a b ...)
# Generates a C++ source that defines hostpulse::embedded_assets(): every file
# as bytes with its URL path and content type, so the binary serves the
# dashboard with nothing installed next to it.
function(hostpulse_embed_assets)
  cmake_parse_arguments(ARG "" "OUTPUT;BASE_DIR" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ARG_OUTPUT} -DBASE_DIR=${ARG_BASE_DIR}
            "-DFILES=${ARG_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${ARG_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "Embedding dashboard assets"
    VERBATIM)
endfunction()
