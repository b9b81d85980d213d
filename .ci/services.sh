#!/usr/bin/env bash
# Make sure the servers the tests talk to answer: MariaDB and Redis on loopback.
# (The S3 and MongoDB wire-protocol servers are started by the test suite itself.)
set -euo pipefail

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do answers "$port" && { echo "$name answers on $port"; return 0; }; sleep 0.5; done
  echo "$name did not come up on port $port" >&2
  return 1
}

if ! answers 3306; then
  echo "starting MariaDB"
  if command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  else
    echo "MariaDB is not installed (apt-get install mariadb-server)" >&2; exit 1
  fi
fi
wait_for MariaDB 3306

if ! answers 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
fi
wait_for Redis 6379
