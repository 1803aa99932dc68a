#!/bin/sh
# In the VM: traffic through Vigil's IPVS, as a client sees it. Prints "RESULT name value" lines.
#   nat, dr, tun      which real server answered through the VIP with each forwarding method
#   rr, persistent    the real servers ten requests reached, without and with persistence_timeout
#   sync, nosync      whether a TCP connection through the VIP survives the master director stopping, with and
#                     without lvs_sync_daemon, and the longest pause the client saw
# Topology: hub bridges br0 (client side, 198.51.100.0/24) and br1 (real-server side, 203.0.113.0/24); directors
# lb1, lb2 on both; a client on br0; NAT and TUN real servers on br1; DR real servers on br0.
set -u
modprobe ip_vs
modprobe ipip
nx() { ns=$1; shift; ip netns exec "$ns" "$@"; }
ip netns add hub
for br in br0 br1; do
    ip -n hub link add $br type bridge
    ip -n hub link set $br up
done
port=0
node() { # node NAME BRIDGE IFNAME ADDRESS/LEN
    ip netns list | grep -qw "$1" || { ip netns add "$1"; ip -n "$1" link set lo up; }
    port=$((port + 1))
    ip link add "$3" netns "$1" type veth peer name "p$port" netns hub
    ip -n hub link set "p$port" master "$2" up
    ip -n "$1" link set "$3" up
    ip -n "$1" addr add "$4" dev "$3"
}
node client br0 eth0 198.51.100.50/24
node lb1 br0 eth0 198.51.100.1/24
node lb1 br1 eth1 203.0.113.1/24
node lb2 br0 eth0 198.51.100.2/24
node lb2 br1 eth1 203.0.113.2/24
node rs1 br1 eth0 203.0.113.11/24
node rs2 br1 eth0 203.0.113.12/24
node rs3 br0 eth0 198.51.100.31/24
node rs5 br1 eth0 203.0.113.15/24
node rs5 br0 eth1 198.51.100.15/24
# Directors forward; a TUN real server's replies come back through them with the VIP as source.
for lb in lb1 lb2; do
    nx $lb sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0 \
        net.ipv4.conf.eth1.accept_local=1
done
for rs in rs1 rs2 rs5; do ip -n $rs route add default via 203.0.113.254; done
# DR: the VIP on lo, not answered for on the wire.
ip -n rs3 addr add 198.51.100.100/32 dev lo
nx rs3 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
# TUN: ipip decapsulation with the VIP; replies go straight to the client (its subnet is on rs5's second link).
nx rs5 ip link set tunl0 up
ip -n rs5 addr add 198.51.100.100/32 dev tunl0
nx rs5 sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 \
    net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
# Each real server answers HTTP with its name, and echoes lines on port 7000.
for rs in rs1 rs2 rs3 rs5; do
    mkdir -p /tmp/www-$rs
    echo $rs >/tmp/www-$rs/index.html
    nx $rs python3 -m http.server 80 --directory /tmp/www-$rs >/dev/null 2>&1 &
done
cat >/tmp/echo.py <<'EOF'
import socketserver
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", 7000), Echo).serve_forever()
EOF
nx rs1 python3 /tmp/echo.py >/dev/null 2>&1 &
cat >/tmp/client.py <<'EOF'
import socket, sys, time
s = socket.create_connection(("198.51.100.100", 7000), timeout=5)
s.settimeout(8)
f = s.makefile("rw")
last = time.monotonic()
worst = 0.0
try:
    for n in range(int(sys.argv[1])):
        f.write(f"{n}\n")
        f.flush()
        if f.readline().strip() != str(n):
            raise OSError("wrong echo")
        now = time.monotonic()
        worst = max(worst, now - last)
        last = now
        time.sleep(0.1)
    print(f"survived {worst * 1000:.0f}")
except OSError as error:
    print(f"broken {error}")
EOF
sleep 1
get() { nx client curl -s -m 3 "http://198.51.100.100:$1/" || echo none; }

config() { # config SYNC(yes|no) PRIORITY
    syncline=""
    [ "$1" = yes ] && syncline="    lvs_sync_daemon eth1 inst VI_1"
    cat <<EOF
global_defs {
$syncline
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 50
    priority $2
    advert_int 1
    virtual_ipaddress {
        198.51.100.100/24 dev eth0
        203.0.113.254/24 dev eth1
    }
}
virtual_server 198.51.100.100 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.11 80 {
    }
}
virtual_server 198.51.100.100 81 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 198.51.100.31 81 {
    }
}
virtual_server 198.51.100.100 82 {
    lb_algo rr
    lb_kind TUN
    protocol TCP
    real_server 203.0.113.15 82 {
    }
}
virtual_server 198.51.100.100 83 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.11 80 {
    }
    real_server 203.0.113.12 80 {
    }
}
virtual_server 198.51.100.100 84 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    persistence_timeout 60
    real_server 203.0.113.11 80 {
    }
    real_server 203.0.113.12 80 {
    }
}
virtual_server 198.51.100.100 7000 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 203.0.113.11 7000 {
    }
}
EOF
}
# DR and TUN real servers listen on the service's port (the kernel does not change it).
nx rs3 python3 -m http.server 81 --directory /tmp/www-rs3 >/dev/null 2>&1 &
nx rs5 python3 -m http.server 82 --directory /tmp/www-rs5 >/dev/null 2>&1 &
# Python starts slowly under emulation: every server answers before the directors start.
up() { nx lb1 python3 -c "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)" "$1" "$2" 2>/dev/null; }
for target in "203.0.113.11 80" "203.0.113.12 80" "203.0.113.11 7000" "198.51.100.31 81" "203.0.113.15 82"; do
    for _ in $(seq 200); do up $target && break; sleep 0.1; done
done

start() { # start NODE SYNC PRIORITY
    config "$2" "$3" >/tmp/$1.conf
    mkdir -p /tmp/run-$1
    ip netns exec $1 vigil -n -l -f /tmp/$1.conf --runtime-dir /tmp/run-$1 >/tmp/$1.log 2>&1 &
    echo $! >/tmp/$1.pid
}
stop() { kill -TERM "$(cat /tmp/$1.pid)"; wait "$(cat /tmp/$1.pid)" 2>/dev/null; }
holds() { ip -n "$1" -o addr show dev eth0 | grep -q 198.51.100.100/; }
wait_for() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }

for sync in no yes; do
    start lb1 "$sync" 150
    start lb2 "$sync" 100
    wait_for holds lb1 || echo "lb1 never became master"
    sleep 2
    if [ $sync = no ]; then
        echo "RESULT nat $(get 80)"
        echo "RESULT dr $(get 81)"
        echo "RESULT tun $(get 82)"
        echo "RESULT rr $(for i in 1 2 3 4 5 6 7 8 9 10; do get 83; done | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"
        echo "RESULT persistent $(for i in 1 2 3 4 5 6 7 8 9 10; do get 84; done | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"
    fi
    ip netns exec client python3 /tmp/client.py 200 >/tmp/client-$sync.out 2>&1 &
    client=$!
    sleep 3
    if [ "$sync" = yes ]; then
        # The kernel's master sync thread sends a connection after its third packet, in buffers it flushes up to
        # 2 s later, and what it has not sent when it stops is lost: on emulated CPUs that can take longer than
        # the 3 s above. The failover is tested once the backup holds the connection (and says so).
        for _ in $(seq 150); do nx lb2 ipvsadm -Lnc | grep -q ':7000' && break; sleep 0.1; done
        echo "RESULT synced-before-stop $(nx lb2 ipvsadm -Lnc | grep -c ':7000')"
    fi
    [ "$sync" = yes ] && echo "RESULT daemons $(nx lb1 ipvsadm -L --daemon | tr '\n' ' ') / $(nx lb2 ipvsadm -L --daemon | tr '\n' ' ')"
    stop lb1
    wait_for holds lb2 || echo "lb2 never took over"
    wait $client
    [ $sync = yes ] && name=sync || name=nosync
    echo "RESULT $name $(cat /tmp/client-$sync.out)"
    echo "RESULT $name-connections-on-lb2 $(nx lb2 ipvsadm -Lnc | grep -c ':7000')"
    stop lb2
    sleep 1
done
echo "-- lb1 log"
tail -15 /tmp/lb1.log
echo "-- lb2 log"
tail -15 /tmp/lb2.log
