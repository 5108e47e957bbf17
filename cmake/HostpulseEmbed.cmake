# hostpulse_embed_assets(OUTPUT file.cpp STAGING_DIR dir ENTRY index.html GZIP program FILES a b ...)
# Generates a C++ source that defines hostpulse::embedded_assets(): every file
# as bytes (and gzip -9 -n bytes) with its URL path, content type and ETag, so
# the binary serves the dashboard with nothing installed next to it. Every file
# but ENTRY is also served at a content-hash path (/assets/app.3f2a9c1b.js)
# that can be cached for a year; `{{asset:NAME}}` in a text file is replaced
# by NAME's hashed path. Processed files land in STAGING_DIR.
function(hostpulse_embed_assets)
  cmake_parse_arguments(ARG "" "OUTPUT;STAGING_DIR;ENTRY;GZIP" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ARG_OUTPUT} -DSTAGING_DIR=${ARG_STAGING_DIR} -DENTRY=${ARG_ENTRY}
            -DGZIP=${ARG_GZIP} "-DFILES=${ARG_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${ARG_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "Embedding dashboard assets (fingerprint, gzip)"
    VERBATIM)
endfunction()
