#!/usr/bin/env python3
"""Capture collectd network-protocol packets from a real collectd daemon into fixtures.

Usage: capture.py OUT_DIR

For each security level (none, sign, encrypt) this starts `collectd -f` twice with a network
plugin sending to a UDP listener on 127.0.0.1, and saves the datagrams it receives:

- `<level>-known.bin`: values written through the unixsock plugin with fixed times and values
  (see KNOWN below): every data-source type (counter, gauge, derive, absolute), a two-value
  type (if_octets), a three-value type (load), an empty plugin instance.
- `<level>-plugins-<n>.bin`: what the cpu, memory and load read plugins sent in ~3 s.

Signed and encrypted packets use user `alice` with password `wonderland` (auth file
`auth_file` beside this script).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

USER = "alice"
PASSWORD = "wonderland"
HOST = "fixture-host"
KNOWN = [
    f'PUTVAL "{HOST}/test-inst/counter-c" interval=10 1700000000:1234567890123',
    f'PUTVAL "{HOST}/test-inst/gauge-g" interval=10 1700000000.5:3.25',
    f'PUTVAL "{HOST}/test-inst/derive-d" interval=10 1700000001:987654321',
    f'PUTVAL "{HOST}/test-inst/absolute-a" interval=10 1700000001:77',
    f'PUTVAL "{HOST}/test-inst/if_octets-eth0" interval=10 1700000002:100:200',
    f'PUTVAL "{HOST}/other/load" interval=10 1700000002:0.5:0.25:0.125',
]


def collectd_binary():
    for p in ("/usr/sbin/collectd", shutil.which("collectd")):
        if p and os.path.exists(p):
            return p
    sys.exit("collectd is not installed")


def config(tmp, port, level, plugins):
    sec = ""
    if level != "none":
        sec = f'SecurityLevel {level.capitalize()}\n    Username "{USER}"\n    Password "{PASSWORD}"'
    reads = "".join(f"LoadPlugin {p}\n" for p in plugins)
    return f"""
Hostname "{HOST}"
FQDNLookup false
Interval 1
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{tmp}/collectd.log"
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "{tmp}/sock"
</Plugin>
{reads}
LoadPlugin network
<Plugin network>
  <Server "127.0.0.1" "{port}">
    {sec}
  </Server>
</Plugin>
"""


def unixsock(path, lines):
    deadline = time.time() + 10
    while not os.path.exists(path):
        if time.time() > deadline:
            sys.exit("collectd did not open its unix socket")
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rw")
    for line in lines:
        if line == "FLUSH":
            # Values reach the network plugin through collectd's write queue: let it drain.
            time.sleep(1)
        f.write(line + "\n")
        f.flush()
        reply = f.readline()
        if not reply.startswith("0 "):
            sys.exit(f"{line!r}: {reply!r}")
    s.close()


def run(level, plugins, seconds, putvals):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    port = rx.getsockname()[1]
    packets = []
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "collectd.conf")
        with open(conf, "w") as f:
            f.write(config(tmp, port, level, plugins))
        proc = subprocess.Popen([collectd_binary(), "-f", "-C", conf])
        try:
            if putvals:
                unixsock(os.path.join(tmp, "sock"), putvals + ["FLUSH"])
            end = time.time() + seconds
            while time.time() < end:
                try:
                    packets.append(rx.recv(65535))
                except socket.timeout:
                    pass
        finally:
            proc.terminate()
            proc.wait(10)
    return packets


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for level in ("none", "sign", "encrypt"):
        known = run(level, [], 2, KNOWN)
        if len(known) != 1:
            sys.exit(f"{level}: expected one packet of known values, got {len(known)}")
        with open(os.path.join(out, f"{level}-known.bin"), "wb") as f:
            f.write(known[0])
        got = run(level, ["cpu", "memory", "load"], 3, [])
        for i, p in enumerate(got[:4]):
            with open(os.path.join(out, f"{level}-plugins-{i}.bin"), "wb") as f:
                f.write(p)
        print(level, "known:", len(known[0]), "bytes; plugins:", [len(p) for p in got[:4]])


if __name__ == "__main__":
    main()
