#!/usr/bin/env bash
# Builds the two .deb packages (one release build of the three binaries) and checks them:
#   1. the file list of each package (dpkg-deb -c) is exactly the expected one;
#   2. lintian reports no error and no warning (overrides: packaging/common/lintian-overrides.in);
#   3. systemd-analyze verify accepts both units;
#   4. as root, and only when neither package is installed already: installs both on this
#      machine (the maintainer scripts create the hostwatch user and the state directories),
#      runs the installed binaries' --version and --validate as the service user, writes a
#      config with the installed wizard, then purges both and checks that the state
#      directories, configs and unit links are gone.
# Called by scripts/test.sh; runs on its own too. The release build is most of its time; arguments
# go to scripts/package.sh (e.g. `--bin-dir target/debug` for a quick check of the packaging).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/.."

need=()
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

out=$(mktemp -d)
chmod 0755 "$out"  # the service user reads a config written here
cleanup() { rm -rf "$out"; }
trap cleanup EXIT

start=$(date +%s)
./scripts/package.sh --out "$out/debs" "$@"
echo "package-check: built the packages in $(( $(date +%s) - start )) s"
agent_deb=$(ls "$out"/debs/hostwatch-agent_*.deb)
collector_deb=$(ls "$out"/debs/hostwatch-collector_*.deb)

# 1. Contents.
files() { dpkg-deb -c "$1" | awk '{print $6}' | grep -v '/$' | sort; }
expect_files() {
    local deb=$1
    shift
    local want got
    want=$(printf '%s\n' "$@" | sort)
    got=$(files "$deb")
    if [ "$want" != "$got" ]; then
        echo "package-check: unexpected contents of $(basename "$deb"):" >&2
        diff <(echo "$want") <(echo "$got") >&2 || true
        exit 1
    fi
}
doc() { local f; for f in copyright changelog.Debian.gz README.Debian; do echo "./usr/share/doc/$1/$f"; done; }
mapfile -t agent_doc < <(doc hostwatch-agent)
mapfile -t collector_doc < <(doc hostwatch-collector)
expect_files "$agent_deb" ./usr/bin/hostwatch-agent ./usr/bin/hostwatch \
    ./usr/share/man/man8/hostwatch-agent.8.gz ./usr/share/man/man1/hostwatch.1.gz \
    ./etc/hostwatch-agent/config.json ./lib/systemd/system/hostwatch-agent.service \
    ./usr/share/lintian/overrides/hostwatch-agent "${agent_doc[@]}"
expect_files "$collector_deb" ./usr/bin/hostwatch-collector \
    ./usr/share/man/man8/hostwatch-collector.8.gz \
    ./etc/hostwatch-collector/collector.toml ./lib/systemd/system/hostwatch-collector.service \
    ./usr/share/lintian/overrides/hostwatch-collector "${collector_doc[@]}"
for deb in "$agent_deb" "$collector_deb"; do
    dpkg-deb -f "$deb" Depends | grep -q 'libc6' || { echo "package-check: $deb has no libc6 dependency" >&2; exit 1; }
done
echo "package-check: contents ok"

# 2. lintian.
lintian --fail-on error,warning "$agent_deb" "$collector_deb"
echo "package-check: lintian clean"

# 3. The packaged binaries and units.
root="$out/root"
dpkg-deb -x "$agent_deb" "$root"
dpkg-deb -x "$collector_deb" "$root"
"$root/usr/bin/hostwatch-agent" --version
"$root/usr/bin/hostwatch" --version
"$root/usr/bin/hostwatch-collector" --version
"$root/usr/bin/hostwatch-agent" --validate --config "$root/etc/hostwatch-agent/config.json"
"$root/usr/bin/hostwatch-collector" --validate --config "$root/etc/hostwatch-collector/collector.toml"
# verify wants the programs a unit runs to exist: check copies that point into the extracted
# package. Any message (an unknown key is only a warning to systemd) fails the check.
verify() {
    local msgs
    msgs=$(systemd-analyze verify "$@" 2>&1) || { echo "$msgs" >&2; return 1; }
    if [ -n "$msgs" ]; then echo "$msgs" >&2; return 1; fi
}
mkdir -p "$out/units"
for n in hostwatch-agent hostwatch-collector; do
    sed "s#/usr/bin/hostwatch#$root/usr/bin/hostwatch#g" "$root/lib/systemd/system/$n.service" \
        > "$out/units/$n.service"
done
verify "$out/units/hostwatch-agent.service" "$out/units/hostwatch-collector.service"
echo "package-check: systemd-analyze verify ok"

# 4. Install, use, purge.
if [ "$(id -u)" != 0 ]; then
    echo "package-check: not root, install test skipped"
    exit 0
fi
if dpkg -s hostwatch-agent >/dev/null 2>&1 || dpkg -s hostwatch-collector >/dev/null 2>&1; then
    echo "package-check: a hostwatch package is installed on this machine, install test skipped"
    exit 0
fi
purge() { dpkg --purge hostwatch-agent hostwatch-collector >/dev/null 2>&1 || true; }
trap 'purge; cleanup' EXIT
dpkg -i "$agent_deb" "$collector_deb"
getent passwd hostwatch >/dev/null
for d in /var/lib/hostwatch-agent /var/lib/hostwatch-collector; do
    [ "$(stat -c '%U:%G %a' "$d")" = "hostwatch:hostwatch 750" ] \
        || { echo "package-check: $d: $(stat -c '%U:%G %a' "$d")" >&2; exit 1; }
done
[ "$(stat -c '%U:%G %a' /etc/hostwatch-collector/collector.toml)" = "root:hostwatch 640" ]
hostwatch-agent --version
hostwatch --version
hostwatch-collector --version
runuser -u hostwatch -- hostwatch-agent --validate --config /etc/hostwatch-agent/config.json
runuser -u hostwatch -- hostwatch-collector --validate --config /etc/hostwatch-collector/collector.toml
hostwatch config-wizard --non-interactive --host on-prem --preset standard --collectd no \
    --log-file '/var/log/syslog;retention=7' --output "$out/config.json"
runuser -u hostwatch -- hostwatch-agent --validate --config "$out/config.json"
verify /lib/systemd/system/hostwatch-agent.service /lib/systemd/system/hostwatch-collector.service
dpkg --purge hostwatch-agent hostwatch-collector
for p in /var/lib/hostwatch-agent /var/lib/hostwatch-collector /etc/hostwatch-agent \
    /etc/hostwatch-collector /usr/bin/hostwatch /etc/systemd/system/multi-user.target.wants/hostwatch-agent.service; do
    if [ -e "$p" ]; then echo "package-check: $p is left after purge" >&2; exit 1; fi
done
trap cleanup EXIT
echo "package-check: install, validate and purge ok"
