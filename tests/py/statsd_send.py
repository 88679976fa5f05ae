"""Send every StatsD metric type to a running agent: with the `statsd` package (PyPI) and with a
raw UDP socket (histograms, sample rates, DogStatsD tags, several metrics per packet, malformed
packets). Usage: statsd_send.py PORT. Prints a JSON summary of what was sent."""
import json
import socket
import sys

import statsd

PORT = int(sys.argv[1])
ADDR = ("127.0.0.1", PORT)

# --- the statsd package ---
c = statsd.StatsClient("127.0.0.1", PORT, prefix="py")
for _ in range(7):
    c.incr("requests")  # py.requests: 7
c.decr("requests", 2)  # -2 => 5
# Several metrics in one packet: the package's pipeline. The gauge ops share the packet so
# they land in one collection interval: 10, +5, -3 => 12.
with c.pipeline() as p:
    p.gauge("queue", 10)
    p.gauge("queue", 5, delta=True)
    p.gauge("queue", -3, delta=True)
    p.set("users", "alice")
    p.set("users", "bob")
    p.set("users", "alice")
    p.set("users", "carol")
for v in range(1, 101):
    c.timing("latency", v)  # py.latency: 1..100 ms

# --- raw socket ---
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
raw = [
    # sample rates: a counter of 1 at @0.1 counts 10; a timing at @0.5 counts twice
    b"raw.hits:1|c|@0.1",
    b"raw.hits:1|c|@0.1",
    b"raw.rated:4|ms|@0.5",
    # histograms, several values on one line, several lines in one packet
    b"raw.size:100|h:300|h\nraw.size:200|h",
    # DogStatsD tags
    b"raw.tagged:2|c|#env:prod,region:eu\nraw.tagged:3|c|#region:eu,env:prod",
    b"raw.tagged:5|c|#env:dev",
    # malformed: counted, never fatal; the valid line after the bad one in a packet is kept
    b"garbage",
    b"raw.bad:abc|c\nraw.after:1|c",
    b"\xff\xfe\x00\x01",
    b"raw.bad2:1|zz",
]
for pkt in raw:
    s.sendto(pkt, ADDR)

print(
    json.dumps(
        {
            "py.requests": 5,
            "py.queue": 12,
            "py.users": 3,
            "py.latency": {"count": 100, "sum": 5050, "min": 1, "max": 100},
            "raw.hits": 20,
            "raw.rated": {"count": 2, "sum": 8},
            "raw.size": {"count": 3, "sum": 600, "min": 100, "max": 300},
            "raw.tagged": {"prod": 5, "dev": 5},
            "malformed": 4,
        }
    )
)
