# Shared by the benchmarks: the checks config, and an nginx serving a static 3-byte /health ("OK\n") from a
# scratch directory, two workers, on 127.0.0.1.
#
# start_health_nginx WORK PORT [HTTP_LINES]
#   HTTP_LINES: extra lines for the http block (logging); default: access_log off.
#   Leaves the pid in WORK/nginx/nginx.pid; stop it with stop_health_nginx WORK.

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
  nginx -c "$work/nginx/nginx.conf"
  sleep 0.5
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null
}

stop_health_nginx() {
  local work=$1
  [ -f "$work/nginx/nginx.pid" ] && nginx -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true
}

# write_http_checks FILE COUNT PORT [DEFAULTS_LINE...]: a config of COUNT `http` checks of
# http://127.0.0.1:PORT/health, with the given [defaults] lines, and FILE's sibling
# one.toml holding a single such check.
write_http_checks() {
  local file=$1 count=$2 port=$3 i
  shift 3
  {
    echo '[defaults]'
    printf '%s\n' "$@"
    for i in $(seq -w 1 "$count"); do
      printf '[[check]]\nname = "c%s"\nplugin = "http"\ntarget = "http://127.0.0.1:%s/health"\n' "$i" "$port"
    done
  } > "$file"
  printf '[[check]]\nname = "one"\nplugin = "http"\ntarget = "http://127.0.0.1:%s/health"\n' "$port" \
    > "$(dirname "$file")/one.toml"
}
