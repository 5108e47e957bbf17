# hostpulse %post: the system user, then enable and (re)start the unit where
# systemd runs. $1 is 1 on install, 2 on upgrade.
getent group hostpulse >/dev/null || groupadd --system hostpulse
getent passwd hostpulse >/dev/null || useradd --system --gid hostpulse --no-create-home \
    --home-dir /nonexistent --shell /sbin/nologin --comment "hostpulse metrics agent" hostpulse
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable --now hostpulse.service >/dev/null 2>&1 || :
    else
        systemctl try-restart hostpulse.service >/dev/null 2>&1 || :
    fi
fi
exit 0
