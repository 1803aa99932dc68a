#!/bin/sh
# In the VM lab (its kernel has ipvlan, the host lab's does not): use_ipvlan with a mixed pair, both ways.
# n1 (priority 200) and n2 (100) on a bridge with a client n3; each node's L2 ipvlan "vip50" carries its own
# address (the adverts' source). Prints RESULT lines; exits 1 at the first failed check.
set -u
VIP=198.51.100.100
fail() { echo "FAIL: $*"; for n in n1 n2; do echo "--- $n"; tail -20 /tmp/$n.log 2>/dev/null; ip -n $n -br addr; done; exit 1; }
wait_for() { limit=$1; shift; n=0; while ! "$@" >/dev/null 2>&1; do n=$((n + 1)); [ $n -ge $((limit * 10)) ] && return 1; sleep 0.1; done; }
# The VIP stays on the base interface (keepalived 2.2.7: only use_vmac moves addresses); vip50 carries the own one.
holds() { ip -n "$1" -o -4 addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
ip link add br0 type bridge; ip link set br0 up
index=0
for n in n1 n2 n3; do
    index=$((index + 1))
    ip netns add $n
    ip link add p$n type veth peer name eth0 netns $n
    ip link set p$n master br0 up
    ip -n $n link set lo up; ip -n $n link set eth0 up
    ip -n $n addr add 198.51.100.$index/24 dev eth0
done
conf() { # conf PRIORITY OWN-ADDRESS
    printf 'vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 50\n    priority %s\n    advert_int 1\n    use_ipvlan vip50 %s/24\n    virtual_ipaddress {\n        %s/24\n    }\n}\n' "$1" "$2" "$VIP"
}
start() { # start NODE DAEMON PRIORITY OWN-ADDRESS
    conf "$3" "$4" >/tmp/$1.conf
    mkdir -p /tmp/$1-run
    if [ "$2" = vigil ]; then
        ip netns exec $1 vigil -n -l -f /tmp/$1.conf --runtime-dir /tmp/$1-run >/tmp/$1.log 2>&1 &
    else
        ip netns exec $1 keepalived -n -l -G -P -f /tmp/$1.conf -p /tmp/$1-run/k.pid -r /tmp/$1-run/v.pid -c /tmp/$1-run/c.pid >/tmp/$1.log 2>&1 &
    fi
    echo $! >/tmp/$1.pid
}
stop() { kill "$(cat /tmp/$1.pid)"; wait_for 10 sh -c "! kill -0 $(cat /tmp/$1.pid)"; }
for pair in "vigil keepalived" "keepalived vigil"; do
    set -- $pair
    label="$1 (n1) and $2 (n2)"
    start n1 $1 200 198.51.100.11
    start n2 $2 100 198.51.100.12
    wait_for 10 holds n1 || fail "$label: n1 never held the VIP on vip50"
    holds n2 && fail "$label: both hold the VIP"
    ip -n n2 -d link show vip50 | grep -q "ipvlan.*mode l2" || fail "$label: n2's vip50 is not an L2 ipvlan: $(ip -n n2 -d link show vip50)"
    ip -n n2 -o -4 addr show dev vip50 | grep -q " 198.51.100.12/" || fail "$label: the backup's own address is not on vip50"
    wait_for 5 ip netns exec n3 ping -c 1 -W 1 $VIP || fail "$label: the client cannot reach the VIP"
    # Adverts leave from the ipvlan's own address.
    timeout 3 ip netns exec n3 python3 -c "
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton('224.0.0.18') + socket.inet_aton('198.51.100.3'))
print(socket.inet_ntoa(s.recv(2048)[12:16]))" >/tmp/source 2>&1
    grep -qx 198.51.100.11 /tmp/source || fail "$label: the master's adverts come from $(cat /tmp/source), not its ipvlan address"
    stop n1
    wait_for 6 holds n2 || fail "$label: n2 did not take over"
    wait_for 5 ip netns exec n3 ping -c 1 -W 1 $VIP || fail "$label: the client cannot reach the new master"
    stop n2
    ip -n n2 link show vip50 >/dev/null 2>&1 && fail "$label: vip50 left behind on stop"
    ip -n n1 link show vip50 >/dev/null 2>&1 && fail "$label: n1's vip50 left behind on stop"
    echo "RESULT ok $label"
done
echo "RESULT done"
