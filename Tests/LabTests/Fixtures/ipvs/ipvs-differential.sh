#!/bin/sh
# In the VM: for each configuration given, what keepalived 2.2.7's checker programs into IPVS, and what Vigil's
# does, in a fresh network namespace each (IPVS is per namespace), as `ipvsadm -Sn` saves it; then whether each
# left IPVS empty on stop. Prints "== FILE", then SAME or the difference, and the cleanup.
modprobe ip_vs
status=0
for conf in "$@"; do
    name=$(basename "$conf")
    echo "== $name"
    for daemon in keepalived vigil; do
        ns=ipvs-$daemon
        ip netns add $ns
        ip -n $ns link set lo up
        # A service of someone else's: lvs_flush removes it at start, lvs_flush_on_stop on stop, nothing else.
        ip netns exec $ns ipvsadm -A -t 192.0.2.1:1 -s rr
        if [ $daemon = keepalived ]; then
            ip netns exec $ns keepalived -n -l -C -f "$conf" -p /tmp/k.pid -c /tmp/c.pid >/tmp/$daemon.log 2>&1 &
        else
            mkdir -p /tmp/run-vigil
            ip netns exec $ns vigil -n -l -C -f "$conf" --runtime-dir /tmp/run-vigil >/tmp/$daemon.log 2>&1 &
        fi
        pid=$!
        sleep 3
        { ip netns exec $ns ipvsadm -Sn | sort; ip netns exec $ns ipvsadm -Ln --timeout;
          ip netns exec $ns ipvsadm -Ln --daemon; } >/tmp/$daemon.ipvs
        kill -TERM $pid
        wait $pid
        left=$(ip netns exec $ns ipvsadm -Sn | wc -l)
        echo "$daemon left $left lines in IPVS on stop"
        ip netns del $ns
    done
    if diff -u /tmp/keepalived.ipvs /tmp/vigil.ipvs >/tmp/diff; then
        echo "SAME ($(wc -l </tmp/vigil.ipvs) lines)"
    else
        echo "DIFFERENT"
        cat /tmp/diff
        echo "-- vigil log"
        tail -20 /tmp/vigil.log
        status=1
    fi
done
exit $status
