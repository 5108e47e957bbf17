# hostpulse %preun: stop and disable the unit when the package is erased ($1 = 0).
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now hostpulse.service >/dev/null 2>&1 || :
fi
exit 0
