# shellcheck shell=bash
# Shared by the benchmarks: the checks config, and an nginx serving a static 3-byte /health ("OK\n") from a
# scratch directory, two workers, on 127.0.0.1.
#
# start_health_nginx WORK PORT [HTTP_LINES]
#   HTTP_LINES: extra lines for the http block (logging); default: access_log off.
#   Refuses a port something else already listens on, and checks after start that the
#   listener is the nginx it started (port_owned_by, which the other scripts use for
#   their own servers too). Leaves the pid in WORK/nginx/nginx.pid; stop it with
#   stop_health_nginx WORK.

start_health_nginx() {
  local work=$1 port=$2 http_lines=${3:-"access_log off;"}
  mkdir -p "$work/www" "$work/nginx"
  printf 'OK\n' > "$work/www/health"
  # nginx workers run unprivileged: let them read the document root.
  chmod 755 "$work" "$work/www"; chmod 644 "$work/www/health"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 8192; }
http {
  $http_lines
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port backlog=4096; root $work/www; }
}
CONF
  port_is_free "$port"
  nginx -c "$work/nginx/nginx.conf"
  sleep 0.5
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null
  port_owned_by "$port" "$(cat "$work/nginx/nginx.pid")"
}

# port_is_free PORT: fails, naming the process, when something already listens on
# 127.0.0.1:PORT (a leftover server there would be measured instead of ours).
port_is_free() {
  local port=$1 holder
  holder=$(ss -Htlnp "sport = :$port" 2>/dev/null || true)
  if [ -n "$holder" ]; then
    echo "bench: port $port is already taken: $holder" >&2
    echo "  stop that process or choose another port (the *_PORT variables)" >&2
    return 1
  fi
}

# port_owned_by PORT PID: fails unless every listener on 127.0.0.1:PORT is PID or one of
# its children (nginx's workers), so a benchmark never measures a server it did not start.
port_owned_by() {
  local port=$1 pid=$2 owners p ok
  owners=$(ss -Htlnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
  if [ -z "$owners" ]; then
    echo "bench: nothing listens on port $port after starting pid $pid" >&2
    return 1
  fi
  for p in $owners; do
    ok=
    [ "$p" = "$pid" ] && ok=1
    [ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "$pid" ] && ok=1
    if [ -z "$ok" ]; then
      echo "bench: port $port answers from pid $p ($(cat "/proc/$p/comm" 2>/dev/null)), not from the pid $pid this script started" >&2
      return 1
    fi
  done
}

stop_health_nginx() {
  local work=$1
  if [ -f "$work/nginx/nginx.pid" ]; then nginx -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true; fi
}

# write_checks FILE COUNT PLUGIN TARGET [DEFAULTS_LINE...]: a config of COUNT checks of
# PLUGIN against TARGET, with the given [defaults] lines, and FILE's sibling one.toml
# holding a single such check.
write_checks() {
  local file=$1 count=$2 plugin=$3 target=$4
  shift 4
  {
    echo '[defaults]'
    printf '%s\n' "$@"
    awk -v n="$count" -v plugin="$plugin" -v target="$target" 'BEGIN {
      fmt = "[[check]]\nname = \"c%0" length(n "") "d\"\nplugin = \"%s\"\ntarget = \"%s\"\n"
      for (i = 1; i <= n; i++) printf fmt, i, plugin, target
    }'
  } > "$file"
  printf '[[check]]\nname = "one"\nplugin = "%s"\ntarget = "%s"\n' "$plugin" "$target" \
    > "$(dirname "$file")/one.toml"
}

# write_http_checks FILE COUNT PORT [DEFAULTS_LINE...]: COUNT `http` checks of
# http://127.0.0.1:PORT/health (write_checks).
write_http_checks() {
  local file=$1 count=$2 port=$3
  shift 3
  write_checks "$file" "$count" http "http://127.0.0.1:$port/health" "$@"
}
