"""Drive `hostwatch config-wizard` through a real pseudo-terminal, answering each prompt as it
appears, then build the same config with `--non-interactive` flags.

usage: wizard_pty.py HOSTWATCH_BIN SCENARIO INTERACTIVE_OUT FLAGS_OUT

EC2 scenarios run with an instance metadata stub on 127.0.0.1 (IMDSv2: token, then the
identity document), so the wizard's probe finds a region and offers EC2 as the default;
on-premises scenarios point the probe at a closed loopback port. Every step waits for its
question before answering; a step with `retry` first sends an invalid answer and waits for the
wizard to say so and ask the same question again.
"""

import http.server
import os
import socket
import subprocess
import sys
import threading

import pexpect

TIMEOUT = 20


class Imds(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path == "/latest/api/token":
            self.reply(200, "stub-token")
        else:
            self.reply(404, "")

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != "stub-token":
            self.reply(401, "")
        elif self.path == "/latest/dynamic/instance-identity/document":
            self.reply(200, '{"instanceId":"i-0123456789abcdef0","instanceType":"t3.micro",'
                            '"imageId":"ami-12345678","region":"eu-west-1",'
                            '"availabilityZone":"eu-west-1a"}')
        else:
            self.reply(404, "")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Question texts (prefixes are enough to recognise them).
HOST = "Are you using EC2 or On-Premises hosts?"
USER = "Which user are you planning to run the agent?"
OWN_USER = "Please specify your own user"
STATSD = "Do you want to turn on StatsD daemon?"
STATSD_PORT = "Which port do you want StatsD daemon to listen to?"
STATSD_COLLECT = "What is the collect interval for StatsD daemon?"
STATSD_AGG = "What is the aggregation interval for metrics collected by StatsD daemon?"
COLLECTD = "Do you want to monitor metrics from CollectD?"
HOST_METRICS = "Do you want to monitor any host metrics?"
PER_CORE = "Do you want to monitor cpu metrics per core?"
EC2_DIMS = "Do you want to add ec2 dimensions"
AGGREGATE = "Do you want to aggregate ec2 dimensions (InstanceId)?"
RESOLUTION = "Would you like to collect your metrics at high resolution"
PRESET = "Which default metrics config do you want?"
SATISFIED = "Are you satisfied with the above config?"
CPU = "Do you want to monitor CPU status?"
MEMORY = "Do you want to monitor memory status?"
DISK = "Do you want to monitor disk status?"
NETWORK = "Do you want to monitor network status?"
SWAP = "Do you want to monitor swap status?"
LOGS = "Do you want to monitor any log files?"
LOG_PATH = "Log file path:"
LOG_GROUP = "Log group name:"
LOG_CLASS = "Log group class:"
LOG_STREAM = "Log stream name:"
LOG_RETENTION = "Log Group Retention in days"
MORE_LOGS = "Do you want to specify any additional log files to monitor?"
STORE = "Do you want to store the config in the SSM parameter store?"
STORE_NAME = "What parameter store name do you want to use to store your config?"
STORE_REGION = "Which region do you want to store the config in the parameter store?"
STORE_ENDPOINT = "Which parameter store endpoint do you want to use?"

# name: (on EC2?, [(question, answer) or (question, answer, invalid answer first)], flags)
SCENARIOS = {
    "ec2-basic": (True, [
        # The probe found a region: EC2 is the default ([1]), taken with an empty answer.
        (HOST, "", None, "default choice: [1]:"),
        (USER, ""),
        (STATSD, ""), (STATSD_PORT, ""), (STATSD_COLLECT, ""), (STATSD_AGG, ""),
        (COLLECTD, "2"),
        (HOST_METRICS, ""), (PER_CORE, ""), (EC2_DIMS, ""), (AGGREGATE, ""), (RESOLUTION, ""),
        (PRESET, ""), (SATISFIED, ""),
        (LOGS, "2"),
        (STORE, "2"),
    ], ["--collectd", "no"]),  # no --host: the probe decides, as in the dialog
    "onprem-standard": (False, [
        (HOST, "", None, "default choice: [2]:"),
        (USER, "2", "7"),
        (STATSD, "2"),
        (COLLECTD, "2"),
        (HOST_METRICS, "1"), (PER_CORE, "2"), (RESOLUTION, "2"),
        (PRESET, "2"), (SATISFIED, "1"),
        (LOGS, "2"),
        # Stored in the collector the test started (HOSTWATCH_SSM_ENDPOINT is the default
        # endpoint); an invalid name is asked again.
        (STORE, ""), (STORE_NAME, "/fleet/interactive", "has space"), (STORE_REGION, ""),
        (STORE_ENDPOINT, ""),
    ], ["--host", "on-prem", "--run-as-user", "root", "--statsd", "no", "--collectd", "no",
        "--per-core", "no", "--resolution", "10", "--preset", "standard",
        "--use-parameter-store", "--parameter-store-name", "/fleet/flags"]),
    "ec2-advanced": (True, [
        (HOST, "1"),
        (USER, "3"), (OWN_USER, "svc_metrics", "Svc Metrics"),
        (STATSD, "1"), (STATSD_PORT, "8126", "99999"), (STATSD_COLLECT, "2"), (STATSD_AGG, "1"),
        (COLLECTD, "1"),
        (HOST_METRICS, "1"), (PER_CORE, "1"), (EC2_DIMS, "2"), (AGGREGATE, "2"),
        (RESOLUTION, "1"),
        # Not satisfied the first time: the preset question comes again.
        (PRESET, "3"), (SATISFIED, "2"), (PRESET, "3"), (SATISFIED, "1"),
        (LOGS, "2"),
        (STORE, "2"),
    ], ["--host", "ec2", "--run-as-user", "svc_metrics", "--statsd-port", "8126",
        "--statsd-collection-interval", "30", "--statsd-aggregation-interval", "0",
        "--collectd", "yes", "--ec2-dimensions", "no", "--aggregate-instance-id", "no",
        "--resolution", "1", "--preset", "advanced"]),
    "onprem-none-logs": (False, [
        (HOST, "2"),
        (USER, "1"),
        (STATSD, "2"),
        (COLLECTD, "2"),
        (HOST_METRICS, "1"), (PER_CORE, "1"), (RESOLUTION, "3"),
        (PRESET, "4"),
        (CPU, "1"), (MEMORY, "2"), (DISK, ""), (NETWORK, "2"), (SWAP, "1"),
        (LOGS, "1"),
        (LOG_PATH, "/var/log/syslog", "relative.log"),
        (LOG_GROUP, ""), (LOG_CLASS, ""), (LOG_STREAM, ""), (LOG_RETENTION, ""),
        (MORE_LOGS, "1"),
        (LOG_PATH, "/var/log/app/*.log"),
        (LOG_GROUP, "app-logs", "app logs"), (LOG_CLASS, "2"), (LOG_STREAM, "web-{hostname}"),
        (LOG_RETENTION, "7"),
        (MORE_LOGS, "2"),
        (STORE, "2"),
    ], ["--host", "on-prem", "--statsd", "no", "--collectd", "no", "--resolution", "30",
        "--preset", "none", "--memory", "no", "--network", "no",
        "--log-file", "/var/log/syslog",
        "--log-file",
        "/var/log/app/*.log;group=app-logs;class=INFREQUENT_ACCESS;stream=web-{hostname};retention=30"]),
}


def run_dialog(binary, steps, out_path, env):
    child = pexpect.spawn(binary, ["config-wizard", "--output", out_path], env=env,
                          encoding="utf-8", timeout=TIMEOUT, echo=False)
    child.logfile_read = sys.stdout
    for step in steps:
        question, answer = step[0], step[1]
        invalid = step[2] if len(step) > 2 else None
        expect_after = step[3] if len(step) > 3 else None
        child.expect_exact(question)
        if expect_after:
            child.expect_exact(expect_after)
        if invalid is not None:
            child.sendline(invalid)
            child.expect_exact("The value %s is not valid to this question" % invalid)
            child.expect_exact("Please retry to answer:")
            child.expect_exact(question)
        child.sendline(answer)
    child.expect_exact("Program exits now.")
    child.expect(pexpect.EOF)
    child.close()
    if child.exitstatus != 0:
        sys.exit("the interactive wizard exited with %s" % child.exitstatus)


def main():
    binary, name, interactive_out, flags_out = sys.argv[1:5]
    on_ec2, steps, flags = SCENARIOS[name]
    env = dict(os.environ)
    env.pop("AWS_EC2_METADATA_DISABLED", None)
    server = None
    if on_ec2:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Imds)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:%d" % server.server_address[1]
    else:
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:%d" % closed_port()
    try:
        run_dialog(binary, steps, interactive_out, env)
        subprocess.run([binary, "config-wizard", "--non-interactive", "--output", flags_out]
                       + flags, env=env, check=True)
    finally:
        if server:
            server.shutdown()


if __name__ == "__main__":
    main()
