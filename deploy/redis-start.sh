#!/bin/sh
# Starts Redis for docker compose with the password from $REDIS_PASSWORD given on its standard
# input (`redis-server … -` reads more configuration from stdin), never on a command line,
# where `ps` and /proc/<pid>/cmdline show it to anyone on the host.
#
#   redis-start.sh [docker-entrypoint.sh] redis-server <redis.conf> [--option value …]
#
# The password is also part of the workers' REDIS_URL, so it may hold only URL-safe
# characters: letters, digits and . _ ~ - (`openssl rand -hex 32` makes one).
set -eu
pass="${REDIS_PASSWORD:-}"
case "$pass" in
  '') echo 'redis-start: REDIS_PASSWORD is not set' >&2; exit 64 ;;
  *[!A-Za-z0-9._~-]*) echo 'redis-start: REDIS_PASSWORD may hold only letters, digits and . _ ~ - (it goes into the workers'"'"' REDIS_URL); e.g. openssl rand -hex 32' >&2; exit 64 ;;
esac
# Redis itself needs neither (the healthcheck's redis-cli gets REDISCLI_AUTH from the container).
unset REDIS_PASSWORD REDISCLI_AUTH
exec "$@" - <<EOF
requirepass $pass
EOF
