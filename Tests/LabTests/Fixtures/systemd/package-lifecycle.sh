#!/bin/sh
# Runs in the VM lab booted with systemd as PID 1 (scripts/vm-run --systemd). Node A is this system, node B a
# network namespace on a veth pair; both hold VRID 51 for 192.0.2.100 (A priority 150, B 100, advert_int 1).
# A goes keepalived.service -> Vigil's .deb (old) -> upgrade (new) -> keepalived again, B keepalived -> Vigil ->
# keepalived by hand, while a sampler records who holds the VIP and a sniffer in B every advert's priority.
# Prints RESULT lines; exits 1 at the first failed check.
set -u
OLD=$(ls /tmp/in/vigil_*old*.deb) NEW=$(ls /tmp/in/vigil_*new*.deb) KEEPALIVED=$(ls /tmp/in/keepalived_*.deb)
VIP=192.0.2.100
fail() { echo "FAIL: $*"; echo "--- journal"; journalctl -b --no-pager -n 60 -o short-monotonic; exit 1; }
step() { echo "== $*"; echo "mark $*" >>/tmp/samples; }
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
    limit=$1; shift; n=0
    while ! "$@" >/dev/null 2>&1; do n=$((n + 1)); [ $n -ge $((limit * 10)) ] && return 1; sleep 0.1; done
}
a_holds() { ip -o -4 addr show dev eth0 | grep -q " $VIP/"; }
b_holds() { ip -n b -o -4 addr show dev eth0 | grep -q " $VIP/"; }
main_pid() { systemctl show -p MainPID --value vigil.service; }

ip netns add b
ip link add eth0 type veth peer name eth0 netns b
ip addr add 192.0.2.1/24 dev eth0; ip link set eth0 up
ip -n b addr add 192.0.2.2/24 dev eth0; ip -n b link set eth0 up; ip -n b link set lo up
conf() { # conf PRIORITY
    printf 'global_defs {\n    router_id node%s\n}\nvrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority %s\n    advert_int 1\n    virtual_ipaddress {\n        %s/24\n    }\n}\n' "$1" "$1" "$VIP"
}
mkdir -p /etc/keepalived /tmp/b
conf 150 >/etc/keepalived/keepalived.conf
conf 100 >/tmp/b/keepalived.conf
dpkg-deb -x "$NEW" /tmp/b/vigil-root
# B's own copy: keepalived's package leaves this system while A runs Vigil.
cp /usr/sbin/keepalived /tmp/b/keepalived
b_keepalived() { ip netns exec b /tmp/b/keepalived -n -l -G -P -f /tmp/b/keepalived.conf -p /tmp/b/k.pid -r /tmp/b/kv.pid -c /tmp/b/kc.pid >/tmp/b/keepalived.log 2>&1 & echo $! >/tmp/b/keepalived.run; }
b_vigil() { ip netns exec b /tmp/b/vigil-root/usr/sbin/vigil -n -f /tmp/b/keepalived.conf --runtime-dir /tmp/b/run -p /tmp/b/v.pid -r /tmp/b/vv.pid -c /tmp/b/vc.pid >/tmp/b/vigil.log 2>&1 & echo $! >/tmp/b/vigil.run; }
b_stop() { kill "$(cat "/tmp/b/$1.run")"; wait_for 10 sh -c "! kill -0 $(cat "/tmp/b/$1.run")"; }

# Who holds the VIP, sampled as fast as ip runs; and every advert B sees: time, source, priority.
( while [ ! -f /tmp/stop ]; do
    a=0; b=0; a_holds && a=1; b_holds && b=1
    echo "$(date +%s.%N | cut -c1-14) $a $b" >>/tmp/samples
  done ) &
cat >/tmp/sniff.py <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
out = open(sys.argv[1], "a", buffering=1)
while True:
    frame = s.recv(2048)
    ip = frame[14:]
    if len(ip) < 28 or ip[9] != 112: continue
    out.write("%.3f %s %d\n" % (time.time(), socket.inet_ntoa(ip[12:16]), ip[(ip[0] & 15) * 4 + 2]))
PY
ip netns exec b python3 /tmp/sniff.py /tmp/adverts &
priority_zero_since() { awk -v t="$1" '$1 >= t && $2 == "192.0.2.1" && $3 == 0 { found = 1 } END { exit !found }' /tmp/adverts; }

step "keepalived on both nodes"
systemctl start keepalived.service || fail "keepalived.service does not start"
b_keepalived
wait_for 10 a_holds || fail "A (keepalived.service) never held the VIP"

step "B switched to Vigil by hand, as the backup"
b_stop keepalived; b_vigil
sleep 4
a_holds || fail "A lost the VIP while B switched"

step "A switched: apt install vigil (old) removes keepalived and starts Vigil"
t=$(date +%s.%N)
apt-get install -y -q "$OLD" >/tmp/apt-old.log 2>&1 || { cat /tmp/apt-old.log; fail "apt install of the old .deb"; }
dpkg-query -W -f '${db:Status-Abbrev}' keepalived | grep -q '^rc' || fail "keepalived is not removed: $(dpkg-query -W -f '${db:Status-Abbrev}' keepalived)"
priority_zero_since "$t" || fail "keepalived on A did not resign with priority 0 when apt removed it"
systemctl is-enabled vigil.service | grep -q enabled || fail "vigil.service is not enabled on install"
[ "$(readlink /etc/systemd/system/keepalived.service)" = /lib/systemd/system/vigil.service ] || fail "no keepalived.service alias: $(ls -l /etc/systemd/system/)"
wait_for 20 a_holds || fail "Vigil on A never took the VIP back"
systemctl is-active vigil.service >/dev/null || fail "vigil.service is not active"
echo "RESULT installed $(dpkg-query -W -f '${Version}' vigil)"

step "watchdog: past three WatchdogSec intervals"
pid=$(main_pid)
sleep 32
[ "$(main_pid)" = "$pid" ] || fail "the service restarted (MainPID $pid -> $(main_pid))"
[ "$(systemctl show -p NRestarts --value vigil.service)" = 0 ] || fail "NRestarts $(systemctl show -p NRestarts --value vigil.service)"
[ "$(systemctl show -p WatchdogUSec --value vigil.service)" = 10s ] || fail "watchdog not armed: $(systemctl show -p WatchdogUSec --value vigil.service)"
a_holds || fail "A lost the VIP"
echo "RESULT watchdog-alive $pid"

step "reload keeps the VIP"
reload_start=$(date +%s.%N)
t=$(date +%s.%N)
for i in 1 2 3; do systemctl reload vigil.service || fail "systemctl reload"; sleep 1; done
sleep 2
[ "$(main_pid)" = "$pid" ] || fail "reload restarted the service"
priority_zero_since "$t" && fail "A sent priority 0 during reload"
step "reload done"
reload_end=$(date +%s.%N)

step "log identifiers"
journalctl -b -u vigil.service -t Vigil_vrrp --no-pager | grep -q "Entering MASTER STATE" || fail "no Vigil_vrrp lines in the journal"
echo 'VIGIL_ARGS="--keepalived-log-names"' >>/etc/default/vigil
t=$(date +%s.%N)
systemctl restart vigil.service || fail "restart"
restarted=$(( $(date +%s) + 1 ))  # whole seconds: past the old process's last line
wait_for 20 a_holds || fail "A did not take the VIP back after restart"
priority_zero_since "$t" || fail "restart did not resign with priority 0"
since="@${t%.*}"
wait_for 10 sh -c "journalctl -b -u vigil.service -t Keepalived_vrrp --since $since --no-pager | grep -q 'Entering MASTER STATE'" || fail "no Keepalived_vrrp lines from vigil.service with --keepalived-log-names"
# The old process logged its stop as Vigil_vrrp; once the restart returned, nothing is.
journalctl -b -u vigil.service -t Vigil_vrrp --since "@$restarted" --no-pager -o cat | grep -q . && fail "Vigil_vrrp lines after --keepalived-log-names"
echo "RESULT keepalived-log-names $(journalctl -b -u vigil.service -t Keepalived_vrrp --since "$since" --no-pager -o cat | grep -c .)"

step "the seed's check script stops keepalived: systemctl stop keepalived stops Vigil"
t=$(date +%s.%N)
systemctl stop keepalived || fail "systemctl stop keepalived"
systemctl is-active vigil.service >/dev/null && fail "vigil.service still active"
priority_zero_since "$t" || fail "no priority 0 on stop"
wait_for 5 b_holds || fail "B did not take over"
a_holds && fail "A kept the VIP after stop"
systemctl start vigil.service
wait_for 20 a_holds || fail "A did not take the VIP back"

step "upgrade (new) keeps the running service"
upgrade_start=$(date +%s.%N)
pid=$(main_pid)
apt-get install -y -q "$NEW" >/tmp/apt-new.log 2>&1 || { cat /tmp/apt-new.log; fail "apt install of the new .deb"; }
grep -q "still running the previous version" /tmp/apt-new.log || fail "the upgrade did not say the old version runs on: $(cat /tmp/apt-new.log)"
[ "$(main_pid)" = "$pid" ] || fail "the upgrade restarted the service"
grep -q 'keepalived-log-names' /etc/default/vigil || fail "the upgrade replaced the edited /etc/default/vigil"
sleep 3
a_holds || fail "A lost the VIP on upgrade"
step "upgrade done"
upgrade_end=$(date +%s.%N)
echo "RESULT upgraded $(dpkg-query -W -f '${Version}' vigil)"

step "systemctl stop sends priority 0"
t=$(date +%s.%N)
systemctl stop vigil.service
priority_zero_since "$t" || fail "no priority 0 on systemctl stop"
wait_for 5 b_holds || fail "B did not take over after stop"
systemctl start vigil.service
wait_for 20 a_holds || fail "A did not take the VIP back"

step "B back to keepalived by hand"
b_stop vigil; b_keepalived
sleep 4

step "A back: apt install keepalived removes Vigil"
t=$(date +%s.%N)
apt-get install -y -q "$KEEPALIVED" >/tmp/apt-ka.log 2>&1 || { cat /tmp/apt-ka.log; fail "apt install keepalived"; }
priority_zero_since "$t" || fail "Vigil did not resign with priority 0 when apt removed it"
# B (keepalived, by hand) took over from the priority-0 advert.
grep -q "Entering MASTER STATE" /tmp/b/keepalived.log || fail "B did not take over when Vigil resigned: $(tail -20 /tmp/b/keepalived.log)"
dpkg-query -W -f '${db:Status-Abbrev}' vigil | grep -q '^rc' || fail "vigil is not removed"
[ -L /etc/systemd/system/keepalived.service ] && fail "the keepalived.service alias was left: $(readlink /etc/systemd/system/keepalived.service)"
systemctl cat keepalived.service | grep -q 'ExecStart=/usr/sbin/keepalived' || fail "keepalived.service is not keepalived's own unit"
systemctl is-active keepalived.service >/dev/null || systemctl start keepalived.service
wait_for 20 a_holds || fail "keepalived on A did not take the VIP back"
dangling=$(find /etc/systemd /lib/systemd -xtype l 2>/dev/null | grep -v -e /dev/null -e vigil-vm)
[ -z "$dangling" ] || fail "dangling links after remove: $dangling"
[ -f /etc/default/vigil ] || fail "remove took the conffile (only purge should)"

step "purge leaves nothing"
dpkg --purge vigil >/dev/null || fail "purge"
left=$(find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o -path /dev \) -prune -o -name '*vigil*' -print 2>/dev/null \
    | grep -v -e '/sbin/vigil-vm-init$' -e '^/etc/systemd/system/vigil-vm-command.service$' -e '^/run/systemd' -e '^/var/log/journal')
[ -z "$left" ] || fail "purge left: $left"
ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -q vigil && fail "deb-systemd-helper state left"

touch /tmp/stop; sleep 0.5
echo "RESULT samples $(grep -vc mark /tmp/samples)"
# The longest time no node held the VIP, and the longest both did, over the whole run; and A's hold through the
# reload and upgrade windows.
python3 - <<'PY'
gap = both = 0.0
gap_at = both_at = ""
window = step = None
held_in = {}
none_since = both_since = None
started = False
for line in open("/tmp/samples"):
    w = line.split()
    if w[0] == "mark":
        step = " ".join(w[1:])
        window = step if step in ("reload keeps the VIP", "upgrade (new) keeps the running service") else None
        if window: held_in[window] = True
        continue
    t, a, b = float(w[0]), w[1] == "1", w[2] == "1"
    started = started or a or b  # from the first holder on
    if window and not a:
        if held_in[window]: print("RESULT first-miss %s at %.2f" % (window, t))
        held_in[window] = False
    if started and not a and not b:
        none_since = t if none_since is None else none_since
        if t - none_since > gap: gap, gap_at = t - none_since, step
    else:
        none_since = None
    if a and b:
        both_since = t if both_since is None else both_since
        if t - both_since > both: both, both_at = t - both_since, step
    else:
        both_since = None
print("RESULT longest-without-holder %.2f (%s)" % (gap, gap_at))
print("RESULT longest-two-holders %.2f (%s)" % (both, both_at))
for name, held in held_in.items():
    print("RESULT held-through %s: %s" % (name, "yes" if held else "no"))
PY
# On the wire, through the reload and the upgrade: A kept advertising (its longest gap between adverts) and B
# never advertised (it advertises only as master), whatever the sampler's `ip` saw on a busy emulated machine.
for window in "reload $reload_start $reload_end" "upgrade $upgrade_start $upgrade_end"; do
    set -- $window
    awk -v name="$1" -v from="$2" -v to="$3" '
        $1 >= from && $1 <= to && $2 == "192.0.2.1" { if (last) { gap = $1 - last; if (gap > max) max = gap }; last = $1 }
        $1 >= from && $1 <= to && $2 == "192.0.2.2" && $3 > 0 { b++ }
        END { printf "RESULT wire-%s a-longest-gap %.2f b-adverts %d\n", name, max, b }' /tmp/adverts
done
systemd-analyze security --offline=true /tmp/b/vigil-root/lib/systemd/system/vigil.service 2>/dev/null | tail -1 | sed 's/^/RESULT exposure /'
echo "RESULT done"
