#!/bin/sh
# In the VM: the same checker scenario against keepalived 2.2.7's checker and Vigil's, each in a namespace of its
# own with its own real servers. The script takes real servers down and up at fixed times; IPVS is read every
# 100 ms; each change of a real server's presence (or weight) is printed as "EVENT daemon seconds server state".
# Scenario (checker.conf, the times below): retry and delay_before_retry, alpha, quorum with hysteresis and the
# sorry server; an HTTP_GET with two URLs, one failing for a while (keepalived checks one URL per delay_loop, and
# only the failed one until it passes).
set -u
modprobe ip_vs
nx() { ns=$1; shift; ip netns exec "$ns" "$@"; }
cat >/tmp/listen.py <<'EOF'
import socket, sys, os, signal, time
# Listens on each address:port given while /tmp/up-ADDRESS exists; closes the listener while it does not.
targets = [a.split(":") for a in sys.argv[1:]]
sockets = {}
while True:
    for address, port in targets:
        want = os.path.exists(f"/tmp/up-{address}")
        if want and address not in sockets:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, int(port)))
            s.listen(64)
            sockets[address] = s
        elif not want and address in sockets:
            sockets.pop(address).close()
    for s in sockets.values():
        s.setblocking(False)
        try:
            while True:
                c, _ = s.accept()
                c.close()
        except BlockingIOError:
            pass
    time.sleep(0.02)
EOF
cat >/tmp/web.py <<'EOF'
import http.server, os, sys
# /a always answers 200; /b answers 200 while /tmp/up-b exists, 500 otherwise.
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/a" or (self.path == "/b" and os.path.exists("/tmp/up-b"))
        self.send_response(200 if ok else 500)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
EOF
for daemon in keepalived vigil; do
    ns=chk-$daemon
    ip netns add $ns
    ip -n $ns link set lo up
    for n in 1 2 3 4 5 9; do ip -n $ns addr add 203.0.113.$n/32 dev lo; done
    rm -f /tmp/up-*
    touch /tmp/up-203.0.113.1 /tmp/up-203.0.113.2 /tmp/up-203.0.113.3 /tmp/up-203.0.113.9 /tmp/up-b
    ip netns exec $ns python3 /tmp/listen.py 203.0.113.1:80 203.0.113.2:80 203.0.113.3:80 203.0.113.4:80 203.0.113.9:80 &
    listener=$!
    ip netns exec $ns python3 /tmp/web.py 203.0.113.5 8080 &
    web=$!
    sleep 1
    if [ $daemon = keepalived ]; then
        nx $ns keepalived -n -l -C -f /tmp/in/checker.conf -p /tmp/k.pid -c /tmp/c.pid >/tmp/$daemon.log 2>&1 </dev/null &
    else
        mkdir -p /tmp/run-vigil
        nx $ns vigil -n -l -C -f /tmp/in/checker.conf --runtime-dir /tmp/run-vigil >/tmp/$daemon.log 2>&1 &
    fi
    pid=$!
    start=$(date +%s.%N)
    previous=""
    # The loop's longest period: on an emulated CPU it is well above its 0.1 s sleep, and both when a change is
    # made and when it is seen are late by up to one period (the test widens its bound by that, for each daemon).
    raw=""
    longest=0
    while :; do
        set -- $(awk -v a="$(date +%s.%N)" -v b="$start" -v last="$raw" -v m="$longest" \
            'BEGIN { x = a - b; if (last != "" && x - last > m) m = x - last; printf "%.1f %.3f %.3f", x, m, x }')
        t=$1 longest=$2 raw=$3
        after() { awk -v t="$t" -v at="$1" 'BEGIN { exit !(t >= at) }'; }
        # rs2: down at 4 s (retry 2, delay_before_retry 1), up at 14 s; rs4 (alpha) up at 8 s; at 17 s rs1, rs3
        # and rs4 go (weight 2 left: quorum 2 holds), at 19 s rs2 too (quorum lost: the sorry server, once its
        # retries ran out, about 3 s later), at 25 s rs1 and rs2 are back (weight 3 = quorum + hysteresis: quorum
        # gained). rs2 stays down 6 s: twice its detection time, so a slow machine still sees the sorry server.
        up() { touch /tmp/up-203.0.113.$1; }
        down() { rm -f /tmp/up-203.0.113.$1; }
        if after 25; then up 1; up 2
        elif after 19; then down 2
        elif after 17; then down 1; down 3; down 4
        elif after 14; then up 2
        elif after 4; then down 2
        fi
        if after 8 && ! after 17; then up 4; fi
        # rs5 (HTTP_GET, two URLs, delay_loop 2): /b fails from 6 s to 16 s.
        if after 6 && ! after 16; then rm -f /tmp/up-b; else touch /tmp/up-b; fi
        state=$(nx $ns ipvsadm -Ln | awk '/->/ && $2 != "RemoteAddress:Port" { print $2 "=" $4 }' | sort | tr '\n' ' ')
        if [ "$state" != "$previous" ]; then
            echo "EVENT $daemon $t $state"
            previous=$state
        fi
        after 31 && break
        sleep 0.1
    done
    echo "PERIOD $daemon $longest"
    kill -TERM $pid
    wait $pid
    kill $listener $web
    ip netns del $ns
done
