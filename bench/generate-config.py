#!/usr/bin/env python3
"""Writes large keepalived configurations for the config-load benchmark.

usage: generate-config.py real-servers N OUT   (N real servers behind N/10 virtual servers)
       generate-config.py instances N OUT      (N VRRP instances over 5 interfaces)
"""
import sys


def real_servers(count, out):
    lines = ["global_defs {", "    router_id bench", "}", ""]
    per_vs = 10
    for vs in range(count // per_vs):
        a, b = divmod(vs, 250)
        lines.append(f"virtual_server 203.0.{113 + a}.{b + 1} 80 {{")
        lines += ["    delay_loop 6", "    lb_algo wrr", "    lb_kind NAT", "    protocol TCP", ""]
        for rs in range(per_vs):
            n = vs * per_vs + rs
            lines.append(f"    real_server 198.51.{100 + n // 250 % 100}.{n % 250 + 1} 8080 {{")
            lines.append(f"        weight {rs + 1}")
            if rs % 2:
                lines += ["        TCP_CHECK {", "            connect_timeout 3", "        }"]
            else:
                lines += ["        HTTP_GET {", "            url {", "                path /health",
                          "                status_code 200-299", "            }",
                          "            connect_timeout 3", "            retry 2", "        }"]
            lines.append("    }")
        lines += ["}", ""]
    out.write("\n".join(lines) + "\n")


def instances(count, out):
    lines = ["global_defs {", "    router_id bench", "}", ""]
    for i in range(count):
        interface = f"eth{i // 255}"
        vrid = i % 255 + 1
        lines += [f"vrrp_instance VI_{i} {{", "    state BACKUP", f"    interface {interface}",
                  f"    virtual_router_id {vrid}", f"    priority {100 + i % 100}", "    advert_int 1",
                  "    authentication {", "        auth_type PASS", "        auth_pass secret", "    }",
                  "    virtual_ipaddress {", f"        198.51.{100 + i // 250}.{i % 250 + 1}/24", "    }", "}", ""]
    out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "w") as out:
        (real_servers if kind == "real-servers" else instances)(n, out)
