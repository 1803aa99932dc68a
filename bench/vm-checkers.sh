#!/bin/sh
# In the VM lab (the kernel has IPVS, so keepalived's checker runs): COUNT real servers (addresses of one namespace,
# answered by nginx) checked every second by Vigil's checker, keepalived 2.2.7's checker and HAProxy's health checks,
# with TCP connects or HTTP GETs. Checks are counted where they arrive (an nftables counter of SYNs in the servers'
# namespace); CPU and memory are those of every process of the checker's namespace.
# Prints "CHECKERS implementation kind checks/s cpu-s-per-1000-checks rss-MiB processes".
# usage: vm-checkers.sh COUNT SECONDS
set -u
count=$1
seconds=$2
modprobe ip_vs
nx() { ns=$1; shift; ip netns exec "$ns" "$@"; }
cpu() { # utime + stime (clock ticks) of every process of a namespace
    total=0
    for pid in $(ip netns pids "$1"); do
        ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    echo $total
}
rss() { # VmRSS in KiB of every process of a namespace
    total=0
    for pid in $(ip netns pids "$1"); do
        kib=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
    done
    echo $total
}
hz=$(getconf CLK_TCK)
for kind in TCP HTTP; do
    for implementation in vigil keepalived haproxy; do
        ip netns add lb
        ip netns add rs
        ip -n lb link set lo up
        ip -n rs link set lo up
        ip link add eth0 netns lb type veth peer name eth0 netns rs
        ip -n lb link set eth0 up
        ip -n rs link set eth0 up
        ip -n lb addr add 198.18.0.1/15 dev eth0
        : >/tmp/addresses.batch
        i=0
        while [ $i -lt "$count" ]; do
            echo "addr add 198.18.$((1 + i / 250)).$((1 + i % 250))/15 dev eth0" >>/tmp/addresses.batch
            i=$((i + 1))
        done
        ip -n rs -batch /tmp/addresses.batch
        nx rs nft "add table inet bench; add chain inet bench input { type filter hook input priority 0; }; add rule inet bench input tcp dport 80 tcp flags syn counter"
        mkdir -p /tmp/nginx-tmp
        cat >/tmp/nginx.conf <<NGINX
worker_processes 1;
pid /tmp/nginx.pid;
error_log /tmp/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path /tmp/nginx-tmp;
    server {
        listen 80 backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
NGINX
        ip netns exec rs nginx -c /tmp/nginx.conf -g "daemon off;" &
        nginx=$!
        sleep 1
        if [ $kind = TCP ]; then
            check="TCP_CHECK {
            connect_timeout 2
        }"
        else
            check="HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 2
        }"
        fi
        case $implementation in
            vigil|keepalived)
                { echo "virtual_server 203.0.113.100 80 {"
                  echo "    delay_loop 1"
                  echo "    lb_algo rr"
                  echo "    lb_kind NAT"
                  echo "    protocol TCP"
                  i=0
                  while [ $i -lt "$count" ]; do
                      echo "    real_server 198.18.$((1 + i / 250)).$((1 + i % 250)) 80 {"
                      echo "        $check"
                      echo "    }"
                      i=$((i + 1))
                  done
                  echo "}"; } >/tmp/checkers.conf
                if [ $implementation = vigil ]; then
                    mkdir -p /tmp/run-vigil
                    ip netns exec lb vigil -n -l -f /tmp/checkers.conf --runtime-dir /tmp/run-vigil >/tmp/impl.log 2>&1 &
                else
                    ip netns exec lb keepalived -n -C -f /tmp/checkers.conf -p /tmp/k.pid -c /tmp/c.pid >/tmp/impl.log 2>&1 &
                fi
                ;;
            haproxy)
                mode=tcp
                [ $kind = HTTP ] && mode=http
                { echo "global"; echo "    maxconn 8192"
                  echo "defaults"; echo "    mode $mode"
                  echo "    timeout connect 2s"; echo "    timeout client 5s"; echo "    timeout server 5s"
                  echo "    timeout check 2s"
                  echo "frontend web"; echo "    bind 203.0.113.100:80"; echo "    default_backend pool"
                  echo "backend pool"; echo "    balance roundrobin"
                  [ $kind = HTTP ] && { echo "    option httpchk GET /"; echo "    http-check expect status 200"; }
                  i=0
                  while [ $i -lt "$count" ]; do
                      echo "    server s$i 198.18.$((1 + i / 250)).$((1 + i % 250)):80 check inter 1s"
                      i=$((i + 1))
                  done; } >/tmp/haproxy.cfg
                ip -n lb addr add 203.0.113.100/32 dev lo
                ip netns exec lb haproxy -W -db -f /tmp/haproxy.cfg >/tmp/impl.log 2>&1 &
                ;;
        esac
        daemon=$!
        # Warm-up: each spreads its first checks over about one interval.
        sleep 8
        syns() { nx rs nft list table inet bench | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
        before=$(syns)
        cpu_before=$(cpu lb)
        start=$(date +%s.%N)
        sleep "$seconds"
        elapsed=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
        cpu_after=$(cpu lb)
        after=$(syns)
        memory=$(rss lb)
        processes=$(ip netns pids lb | wc -l)
        awk -v i=$implementation -v k=$kind -v n=$((after - before)) -v e="$elapsed" -v c=$((cpu_after - cpu_before)) \
            -v hz="$hz" -v m="$memory" -v p="$processes" \
            'BEGIN { s = c / hz; printf "CHECKERS %s %s %.1f %.4f %.1f %d\n", i, k, n / e, (n > 0 ? s / (n / 1000) : -1), m / 1024, p }'
        if [ $((after - before)) -eq 0 ]; then
            echo "vm-checkers: no checks from $implementation ($kind); its log:" >&2
            tail -20 /tmp/impl.log >&2
        fi
        kill -TERM $daemon
        wait $daemon 2>/dev/null
        kill $nginx
        wait $nginx 2>/dev/null
        ip netns del lb
        ip netns del rs
    done
done
