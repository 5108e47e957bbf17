# Packaging: install rules for everything besides the binaries, and CPack for
# a .deb and an .rpm built from the same rules. Included last by the top-level
# CMakeLists.txt, so every target is known here.
#
#   cmake --build build && (cd build && cpack -G "DEB;RPM")
#
# What lands where, and the maintainer scripts: docs/packaging.md.

set(HOSTPULSE_PACKAGING_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(HOSTPULSE_PACKAGING_BINARY_DIR ${PROJECT_BINARY_DIR}/packaging)
set(HOSTPULSE_DEBIAN_RELEASE 1)

# Another client installs next to the agent whenever it exists (cli/ may land
# before or after this file; being included last, we see it either way).
set(compressed_sources man/hostpulse.1 man/hostpulse.toml.5 debian/changelog)
if(TARGET hostpulse-cli)
  install(TARGETS hostpulse-cli RUNTIME DESTINATION bin)
  list(APPEND compressed_sources man/hostpulse-cli.1)
  install(FILES ${HOSTPULSE_PACKAGING_BINARY_DIR}/hostpulse-cli.1.gz DESTINATION share/man/man1)
endif()

# Man pages and the Debian changelog, gzip -9 -n (reproducible) at build time:
# Debian wants them compressed.
find_program(HOSTPULSE_GZIP gzip REQUIRED)
set(compressed_files "")
foreach(source IN LISTS compressed_sources)
  get_filename_component(name ${source} NAME)
  if(name STREQUAL "changelog")
    set(name changelog.Debian)
  endif()
  set(output ${HOSTPULSE_PACKAGING_BINARY_DIR}/${name}.gz)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E copy ${HOSTPULSE_PACKAGING_SOURCE_DIR}/${source} ${HOSTPULSE_PACKAGING_BINARY_DIR}/${name}
    COMMAND ${HOSTPULSE_GZIP} -9 -n -f ${HOSTPULSE_PACKAGING_BINARY_DIR}/${name}
    DEPENDS ${HOSTPULSE_PACKAGING_SOURCE_DIR}/${source}
    COMMENT "Compressing ${name}"
    VERBATIM)
  list(APPEND compressed_files ${output})
endforeach()
add_custom_target(hostpulse_packaging_files ALL DEPENDS ${compressed_files})

# System paths are absolute: a package puts them there whatever its prefix.
install(FILES ${HOSTPULSE_PACKAGING_SOURCE_DIR}/hostpulse.service DESTINATION /lib/systemd/system)
install(FILES ${HOSTPULSE_PACKAGING_SOURCE_DIR}/hostpulse.toml DESTINATION /etc/hostpulse)
install(FILES ${HOSTPULSE_PACKAGING_SOURCE_DIR}/rules.d/stock.toml DESTINATION /etc/hostpulse/rules.d)
install(FILES ${HOSTPULSE_PACKAGING_BINARY_DIR}/hostpulse.1.gz DESTINATION share/man/man1)
install(FILES ${HOSTPULSE_PACKAGING_BINARY_DIR}/hostpulse.toml.5.gz DESTINATION share/man/man5)
install(FILES ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/copyright
              ${HOSTPULSE_PACKAGING_BINARY_DIR}/changelog.Debian.gz
        DESTINATION share/doc/hostpulse)

# The Debian changelog names the version it packages; a stale one is a bug.
file(STRINGS ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^hostpulse \\(${PROJECT_VERSION}-${HOSTPULSE_DEBIAN_RELEASE}\\) ")
  message(WARNING "packaging/debian/changelog starts with '${changelog_head}', "
                  "but the package version is ${PROJECT_VERSION}-${HOSTPULSE_DEBIAN_RELEASE}: add an entry")
endif()

set(CPACK_PACKAGE_NAME hostpulse)
set(CPACK_PACKAGE_VENDOR "hostpulse")
set(CPACK_PACKAGE_CONTACT "hostpulse maintainers <maintainers@users.noreply.b-seed-561963ac.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "live system-metrics agent with dashboard, REST API and WebSocket stream")
set(CPACK_PACKAGE_DESCRIPTION
  "hostpulse samples CPU, memory, swap, load and process counts from /proc on a\n"
  "precise timer, keeps an hour of history in fixed memory, evaluates alert\n"
  "rules, and serves a live dashboard, a REST API and a WebSocket stream on one\n"
  "port (127.0.0.1:9870 by default). It runs as a sandboxed systemd service.")
string(JOIN "" CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
find_program(HOSTPULSE_RPMBUILD rpmbuild)
if(HOSTPULSE_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()
# One package with the agent's components. Development files of the client
# library (install component client-dev: headers, static library, CMake
# config) are for `cmake --install --component client-dev`, not for hosts.
get_cmake_property(CPACK_COMPONENTS_ALL COMPONENTS)
list(REMOVE_ITEM CPACK_COMPONENTS_ALL client-dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
# Packages and CPack's scratch files stay inside the build tree.
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

# .deb: hostpulse_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${HOSTPULSE_DEBIAN_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps, not a hand-kept list. It reads
# every ELF file in the package: the agent and the webhook plugin (the only one
# that needs libcpp-httplib and, through it, OpenSSL).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/conffiles
  ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/postinst
  ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/prerm
  ${HOSTPULSE_PACKAGING_SOURCE_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# .rpm: hostpulse-0.1.0-1.x86_64.rpm; requirements come from rpmbuild's
# automatic ELF dependency generator.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_AUTOREQPROV ON)
set(CPACK_RPM_PACKAGE_REQUIRES_POST "shadow-utils")
# CPack marks every file with an absolute destination %config; the unit is not.
set(CPACK_RPM_USER_FILELIST
  "%config(noreplace) /etc/hostpulse/hostpulse.toml"
  "%config(noreplace) /etc/hostpulse/rules.d/stock.toml"
  "%attr(0644,root,root) /lib/systemd/system/hostpulse.service")
# Directories other packages own.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /lib /lib/systemd /lib/systemd/system /usr/share/man /usr/share/man/man1 /usr/share/man/man5)
set(CPACK_RPM_CHANGELOG_FILE ${HOSTPULSE_PACKAGING_SOURCE_DIR}/rpm/changelog)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${HOSTPULSE_PACKAGING_SOURCE_DIR}/rpm/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${HOSTPULSE_PACKAGING_SOURCE_DIR}/rpm/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${HOSTPULSE_PACKAGING_SOURCE_DIR}/rpm/postun.sh)
# No /usr/lib/.build-id links: the package holds the agent, not debug metadata.
# The webhook plugin (/usr/lib/hostpulse/libhostpulse-webhook.so, installed
# by agent/CMakeLists.txt) is private: its requirements are generated, but it
# provides nothing to other packages.
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none
%global __provides_exclude_from ^/usr/lib/hostpulse/.*$")

include(CPack)
