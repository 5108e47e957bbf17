#!/usr/bin/env bash
# Builds the .deb and the .rpm with CPack from a configured, built tree and
# checks them: the files each installs, computed dependencies, conffiles,
# maintainer scripts, lintian (no errors) and rpm -qlp.
#   package_build_test.sh BUILD_DIR OUTPUT_DIR WITH_CLI(0|1)
# Leaves the packages in OUTPUT_DIR for install_test.sh.
set -euo pipefail
build=$1 out=$2 with_cli=$3
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
expect() { # expect NAME COMMAND...: PASS when the command succeeds
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

rm -rf "$out" && mkdir -p "$out"
started=$SECONDS
if ! cpack --config "$build/CPackConfig.cmake" -G "DEB;RPM" -B "$out" >"$out/cpack.log" 2>&1; then
  cat "$out/cpack.log"
  echo "FAIL cpack"
  exit 1
fi
echo "cpack: $((SECONDS - started)) s"
shopt -s nullglob
debs=("$out"/hostpulse_*.deb) rpms=("$out"/hostpulse-*.rpm)
[[ ${#debs[@]} -eq 1 ]] || { echo "FAIL one .deb expected, found: ${debs[*]}"; exit 1; }
[[ ${#rpms[@]} -eq 1 ]] || { echo "FAIL one .rpm expected, found: ${rpms[*]}"; exit 1; }
deb=${debs[0]} rpm=${rpms[0]}
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) and $(basename "$rpm") ($(du -k "$rpm" | cut -f1) KiB)"

expected=(
  /usr/bin/hostpulse
  /usr/lib/hostpulse/libhostpulse-webhook.so
  /lib/systemd/system/hostpulse.service
  /etc/hostpulse/hostpulse.toml
  /etc/hostpulse/rules.d/stock.toml
  /usr/share/man/man1/hostpulse.1.gz
  /usr/share/man/man5/hostpulse.toml.5.gz
  /usr/share/doc/hostpulse/copyright
  /usr/share/doc/hostpulse/changelog.Debian.gz
)
((with_cli)) && expected+=(/usr/bin/hostpulse-cli /usr/share/man/man1/hostpulse-cli.1.gz)

# --- .deb
# Regular files only (directories come and go with the install rules).
deb_files=$(dpkg-deb --fsys-tarfile "$deb" | tar -tv | awk '$1 !~ /^d/ {print $NF}' | sed 's|^\./|/|')
for file in "${expected[@]}"; do
  expect "deb contains $file" grep -qx "$file" <<<"$deb_files"
done
expect "deb holds nothing else" diff <(sort <<<"$deb_files") <(printf '%s\n' "${expected[@]}" | sort)
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
expect "deb Depends computed by dpkg-shlibdeps (libc6, libstdc++6)" \
  bash -c '[[ $1 == *"libc6 (>="* && $1 == *"libstdc++6 (>="* ]]' _ "$depends"
# Only the webhook plugin needs cpp-httplib: dpkg-shlibdeps must have read it.
expect "deb Depends include libcpp-httplib (from the webhook plugin)" \
  bash -c '[[ $1 == *"libcpp-httplib"* ]]' _ "$depends"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
expect "deb conffiles: the config and the stock rules" \
  bash -c '[[ $(sort <<<"$1") == $(printf "%s\n" /etc/hostpulse/hostpulse.toml /etc/hostpulse/rules.d/stock.toml) ]]' _ "$conffiles"
for script in postinst prerm postrm; do
  expect "deb has a $script that passes sh -n" bash -c \
    'dpkg-deb --ctrl-tarfile "$1" | tar -xO ./$2 >"$3/$2" && sh -n "$3/$2"' _ "$deb" "$script" "$out"
done
expect "the unit in the deb is packaging/hostpulse.service" \
  bash -c 'cmp -s <(dpkg-deb --fsys-tarfile "$1" | tar -xO ./lib/systemd/system/hostpulse.service) "$2"' \
  _ "$deb" "$(dirname "$0")/../../packaging/hostpulse.service"
expect "the binary is stripped" bash -c \
  'dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/bin/hostpulse >"$2/hostpulse.bin" && ! file "$2/hostpulse.bin" | grep -q "not stripped"' \
  _ "$deb" "$out"
expect "the webhook plugin is stripped, mode 0644" bash -c \
  'dpkg-deb --fsys-tarfile "$1" | tar -tv | grep -q "^-rw-r--r-- .*/usr/lib/hostpulse/libhostpulse-webhook.so$" &&
   dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/lib/hostpulse/libhostpulse-webhook.so >"$2/plugin.so" &&
   ! file "$2/plugin.so" | grep -q "not stripped"' _ "$deb" "$out"
expect "the agent binary in the deb needs no libcpp-httplib, libssl, libcrypto" bash -c \
  '! readelf -d "$1/hostpulse.bin" | grep -E "NEEDED.*(libcpp-httplib|libssl|libcrypto)"' _ "$out"

# lintian: errors fail; warnings are shown for the record.
started=$SECONDS
lintian_output=$(lintian --allow-root --fail-on error --display-level '>=warning' "$deb" 2>&1) && lintian_ok=1 || lintian_ok=0
echo "lintian ($((SECONDS - started)) s):"
sed 's/^/  /' <<<"${lintian_output:-  (nothing to report)}"
if ((lintian_ok)) && ! grep -q '^E: ' <<<"$lintian_output"; then pass "lintian reports no errors"; else fail "lintian reports errors"; fi

# --- .rpm
rpm_files=$(rpm -qlp "$rpm" 2>/dev/null)
for file in "${expected[@]}"; do
  expect "rpm -qlp lists $file" grep -qx "$file" <<<"$rpm_files"
done
expect "rpm lists only the expected files and its own dirs" bash -c \
  'diff <(grep -v -x -e /etc/hostpulse -e /etc/hostpulse/rules.d -e /usr/share/doc/hostpulse -e /usr/lib/hostpulse <<<"$1" | sort) <(printf "%s\n" "${@:2}" | sort)' \
  _ "$rpm_files" "${expected[@]}"
expect "rpm config files are %config" bash -c \
  '[[ $(rpm -qcp "$1" 2>/dev/null | sort | tr "\n" " ") == "/etc/hostpulse/hostpulse.toml /etc/hostpulse/rules.d/stock.toml " ]]' _ "$rpm"
requires=$(rpm -qp --requires "$rpm" 2>/dev/null)
expect "rpm Requires computed (libc.so.6, libstdc++.so.6)" bash -c \
  'grep -q "^libc.so.6" <<<"$1" && grep -q "^libstdc++.so.6" <<<"$1"' _ "$requires"
expect "rpm Requires the plugin's libcpp-httplib" bash -c 'grep -q "^libcpp-httplib.so" <<<"$1"' _ "$requires"
expect "rpm Provides nothing for the private plugin" bash -c \
  '! rpm -qp --provides "$1" 2>/dev/null | grep -q libhostpulse-webhook' _ "$rpm"
expect "rpm scripts create the user and manage the unit" bash -c \
  'scripts=$(rpm -qp --scripts "$1" 2>/dev/null); [[ $scripts == *useradd* && $scripts == *"systemctl disable --now hostpulse.service"* ]]' _ "$rpm"

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all package checks passed"
