# hostpulse %postun: on erase ($1 = 0) remove the system user; rpm keeps
# edited config files as *.rpmsave, as it does for every package.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ]; then
    rm -rf /var/lib/hostpulse
    getent passwd hostpulse >/dev/null && userdel hostpulse >/dev/null 2>&1 || :
    getent group hostpulse >/dev/null && groupdel hostpulse >/dev/null 2>&1 || :
fi
exit 0
