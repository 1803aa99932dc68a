#!/usr/bin/python3
"""Prints, one hex line each, the IPVS generic-netlink messages pyroute2 builds for a fixed list of operations
(family id 0x20, sequence numbers from 1), for comparison with Vigil's encoder. No kernel is needed."""
import sys
from socket import AF_INET, IPPROTO_TCP, IPPROTO_UDP, htons

from pyroute2.ipvs import IPVSDest, IPVSService
from pyroute2.netlink.generic import ipvs
from pyroute2.netlink.nlsocket import NetlinkRequest

COMMANDS = {
    "service": {"add": (ipvs.IPVS_CMD_NEW_SERVICE, "create"), "set": (ipvs.IPVS_CMD_SET_SERVICE, "change"),
                "del": (ipvs.IPVS_CMD_DEL_SERVICE, "req")},
    "dest": {"add": (ipvs.IPVS_CMD_NEW_DEST, "create"), "set": (ipvs.IPVS_CMD_SET_DEST, "change"),
             "del": (ipvs.IPVS_CMD_DEL_DEST, "req")},
}

# What keepalived sends, which the kernel requires: the flags' mask all ones, and for IPv6 a netmask that is a
# prefix length as a host-order u32 (pyroute2 types the attribute as an IPv4 address: "128.0.0.0" is 128 in
# little-endian). A gue tunnel's port is sent in network order (pyroute2 types it as a host u16: pre-swapped).
ALL = 0xFFFFFFFF
web = IPVSService(addr="203.0.113.100", port=80, protocol=IPPROTO_TCP, sched_name="rr",
                  flags={"flags": 0, "mask": ALL})
sticky = IPVSService(addr="2001:db8::100", port=443, protocol=IPPROTO_TCP, sched_name="wlc", timeout=300,
                     flags={"flags": 1, "mask": ALL}, netmask="128.0.0.0")
dns = IPVSService(addr="203.0.113.53", port=53, protocol=IPPROTO_UDP, sched_name="sh",
                  flags={"flags": 0x4 | 0x8 | 0x10, "mask": ALL})
marked = IPVSService(af=AF_INET, fwmark=5, sched_name="wlc", timeout=100, flags={"flags": 1, "mask": ALL},
                     netmask="255.255.255.255")
sip = IPVSService(addr="203.0.113.60", port=5060, protocol=IPPROTO_UDP, sched_name="rr", timeout=60,
                  flags={"flags": 1, "mask": ALL}, netmask="255.255.255.0", pe_name="sip")
wide6 = IPVSService(addr="2001:db8::101", port=80, protocol=IPPROTO_TCP, sched_name="rr", timeout=30,
                    flags={"flags": 1, "mask": ALL}, netmask="64.0.0.0")
rs1 = IPVSDest(addr="198.51.100.11", port=80, weight=2, fwd_method=0)
rs1_quiet = IPVSDest(addr="198.51.100.11", port=80, weight=0, fwd_method=0)
rs6 = IPVSDest(addr="2001:db8::11", port=8443, weight=5, fwd_method=3)
dns1 = IPVSDest(addr="198.51.100.12", port=53, weight=1, fwd_method=2)
gue = IPVSDest(addr="198.51.100.13", port=0, weight=1, fwd_method=2, tun_type=1, tun_port=htons(6080), tun_flags=1,
               u_thresh=100, l_thresh=10)

operations = [
    ("service", "add", web, None), ("service", "add", sticky, None), ("service", "add", dns, None),
    ("dest", "add", web, rs1), ("dest", "set", web, rs1_quiet), ("dest", "add", sticky, rs6),
    ("dest", "add", dns, dns1), ("dest", "del", web, rs1), ("service", "del", web, None),
    ("service", "add", marked, None), ("dest", "add", marked, gue), ("service", "add", sip, None),
    ("service", "add", wide6, None),
]

for sequence, (kind, command, service, dest) in enumerate(operations, start=1):
    cmd, flags = NetlinkRequest.calculate_request_type(command, COMMANDS[kind])
    msg = ipvs.ipvsmsg()
    msg["cmd"] = cmd
    msg["version"] = ipvs.GENL_VERSION
    if kind == "service":
        msg["attrs"] = [("IPVS_CMD_ATTR_SERVICE", service.dump_nla())]
    else:
        msg["attrs"] = [("IPVS_CMD_ATTR_SERVICE", service.dump_key()), ("IPVS_CMD_ATTR_DEST", dest.dump_nla())]
    msg["header"]["type"] = 0x20
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = sequence
    msg["header"]["pid"] = 0
    msg.encode()
    print(msg.data.hex())
sys.stdout.flush()
