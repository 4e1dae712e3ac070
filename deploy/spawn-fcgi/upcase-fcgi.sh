#!/bin/sh
# Start upcase-fcgi under spawn-fcgi, listening where the nginx server in
# deploy/nginx/upcase-fcgi.conf expects it.  Install as
# /usr/local/sbin/upcase-fcgi-spawn (mode 0755) and run it as root from
# your supervisor (runit, s6, daemontools, a systemd service with
# Type=simple): spawn-fcgi -n does not fork, so the supervisor's process
# becomes the worker's master, and SIGTERM/SIGHUP reach it directly.
#
# Every setting below can be overridden from the environment, e.g.
#   UPCASE_FCGI_CHILDREN=8 upcase-fcgi-spawn
# An empty user or group setting leaves that option out (needed when not
# run as root: spawn-fcgi changes owners and users only as root).
set -eu

# The programs.
: "${SPAWN_FCGI=spawn-fcgi}"
: "${UPCASE_FCGI=upcase-fcgi}"

# The socket: nginx's fastcgi_pass must name the same path, and nginx's
# user (www-data on Debian) must be able to write to it.
: "${UPCASE_FCGI_SOCKET=/run/upcase-fcgi/upcase-fcgi.sock}"
: "${UPCASE_FCGI_SOCKET_MODE=0660}"
: "${UPCASE_FCGI_SOCKET_USER=www-data}"
: "${UPCASE_FCGI_SOCKET_GROUP=www-data}"

# Who the worker runs as (spawn-fcgi drops root before starting it).
: "${UPCASE_FCGI_USER=www-data}"
: "${UPCASE_FCGI_GROUP=www-data}"

# The worker: children to prefork (empty: one per online CPU), the
# longest body (keep equal to nginx's client_max_body_size), and extra
# options such as "--ascii" or "-T 30".  Logs go to stderr (-f), for the
# supervisor to keep; set UPCASE_FCGI_SYSLOG=1 to use syslog instead.
: "${UPCASE_FCGI_CHILDREN=}"
: "${UPCASE_FCGI_MAX_BODY=1M}"
: "${UPCASE_FCGI_OPTIONS=}"
# The status page, at the path the nginx and lighttpd files restrict to
# 127.0.0.1 (man page, "Status page"); empty: none.
: "${UPCASE_FCGI_STATUS_PATH=/status}"
: "${UPCASE_FCGI_SYSLOG=0}"

# The socket's directory; /run is emptied at boot.
dir=$(dirname "$UPCASE_FCGI_SOCKET")
[ -d "$dir" ] || mkdir -p "$dir"

# Build the two argument lists in "$@", spawn-fcgi's first.
set --
[ -z "$UPCASE_FCGI_SOCKET_USER" ] || set -- "$@" -U "$UPCASE_FCGI_SOCKET_USER"
[ -z "$UPCASE_FCGI_SOCKET_GROUP" ] || set -- "$@" -G "$UPCASE_FCGI_SOCKET_GROUP"
[ -z "$UPCASE_FCGI_USER" ] || set -- "$@" -u "$UPCASE_FCGI_USER"
[ -z "$UPCASE_FCGI_GROUP" ] || set -- "$@" -g "$UPCASE_FCGI_GROUP"
set -- "$@" -- "$UPCASE_FCGI" -m "$UPCASE_FCGI_MAX_BODY"
[ "$UPCASE_FCGI_SYSLOG" = 1 ] || set -- "$@" -f
[ -z "$UPCASE_FCGI_CHILDREN" ] || set -- "$@" -c "$UPCASE_FCGI_CHILDREN"
[ -z "$UPCASE_FCGI_STATUS_PATH" ] ||
    set -- "$@" --status-path "$UPCASE_FCGI_STATUS_PATH"
# shellcheck disable=SC2086 # options are meant to be split into words
set -- "$@" $UPCASE_FCGI_OPTIONS

exec "$SPAWN_FCGI" -n -s "$UPCASE_FCGI_SOCKET" -M "$UPCASE_FCGI_SOCKET_MODE" "$@"
