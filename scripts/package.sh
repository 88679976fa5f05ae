#!/usr/bin/env bash
# Builds the two Debian packages into target/deb/:
#   hostwatch-agent_VERSION_ARCH.deb      /usr/bin/hostwatch-agent, /usr/bin/hostwatch, the unit,
#                                         /etc/hostwatch-agent/config.json (conffile)
#   hostwatch-collector_VERSION_ARCH.deb  /usr/bin/hostwatch-collector, the unit,
#                                         /etc/hostwatch-collector/collector.toml (conffile)
#
# Usage: scripts/package.sh [--no-build | --bin-dir DIR] [--out DIR]
#   --no-build      package the binaries already in target/dist (cargo profile `dist`:
#                   release without debug info, since the packaged binaries are stripped)
#   --bin-dir DIR   package the binaries in DIR (built elsewhere; implies --no-build)
#
# Needs dpkg-dev (dpkg-shlibdeps computes the library dependencies) and binutils (strip).
# The version is the workspace version plus the Debian revision of packaging/changelog.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
out=target/deb
release=target/dist
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0 ;;
        --bin-dir) build=0; release="$2"; shift ;;
        --out) out="$2"; shift ;;
        *) echo "usage: $0 [--no-build | --bin-dir DIR] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done

out=$(realpath -m "$out")
maintainer="hostwatch developers <hostwatch@example.org>"
cargo_version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
deb_version=$(sed -n '1s/^hostwatch (\(.*\)).*/\1/p' packaging/changelog)
if [ "${deb_version%-*}" != "$cargo_version" ]; then
    echo "packaging/changelog is at $deb_version but Cargo.toml at $cargo_version: add a changelog entry" >&2
    exit 1
fi
arch=$(dpkg --print-architecture)

if [ "$build" = 1 ]; then
    cargo build --profile dist --locked --bin hostwatch-agent --bin hostwatch --bin hostwatch-collector
fi
for b in hostwatch-agent hostwatch hostwatch-collector; do
    [ -x "$release/$b" ] || { echo "$release/$b is missing: run without --no-build" >&2; exit 1; }
done

work="$out/work"
rm -rf "$work"
mkdir -p "$work" "$out"

# fill TEMPLATE KEY=FILE...: @PACKAGE@ replaced, and each line "@KEY@" replaced by FILE's lines.
fill() {
    local template=$1 package=$2
    shift 2
    local text
    text=$(sed "s/@PACKAGE@/$package/g" "$template")
    local pair key file
    for pair in "$@"; do
        key=${pair%%=*}
        file=${pair#*=}
        text=$(printf '%s\n' "$text" | awk -v key="@$key@" -v file="$file" \
            '$0 == key { while ((getline line < file) > 0) print line; next } { print }')
    done
    printf '%s\n' "$text"
}

# package NAME DIR CONFIG_SRC CONFIG_NAME BINARIES...
package() {
    local name=$1 dir=$2 config_src=$3 config_name=$4
    shift 4
    local root="$work/$name"
    install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/$name" \
        "$root/lib/systemd/system" "$root/usr/share/doc/$name" "$root/usr/share/lintian/overrides"
    local b
    for b in "$@"; do
        install -m 0755 "$release/$b" "$root/usr/bin/$b"
        strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$b"
    done
    for b in "$@"; do
        local page
        page=$(ls packaging/man/"$b".[18])
        local section=${page##*.}
        install -d -m 0755 "$root/usr/share/man/man$section"
        gzip -9nc "$page" > "$root/usr/share/man/man$section/$b.$section.gz"
        chmod 0644 "$root/usr/share/man/man$section/$b.$section.gz"
    done
    install -m 0644 "$config_src" "$root/etc/$name/$config_name"
    install -m 0644 "systemd/$name.service" "$root/lib/systemd/system/$name.service"
    install -m 0644 packaging/common/copyright "$root/usr/share/doc/$name/copyright"
    install -m 0644 "packaging/$dir/README.Debian" "$root/usr/share/doc/$name/README.Debian"
    fill packaging/common/lintian-overrides.in "$name" > "$root/usr/share/lintian/overrides/$name"
    chmod 0644 "$root/usr/share/lintian/overrides/$name"
    gzip -9nc packaging/changelog > "$root/usr/share/doc/$name/changelog.Debian.gz"
    chmod 0644 "$root/usr/share/doc/$name/changelog.Debian.gz"

    # Library dependencies, as dpkg-shlibdeps sees the stripped binaries.
    local shlibs="$work/shlibs-$name"
    mkdir -p "$shlibs/debian"
    printf 'Source: hostwatch\n\nPackage: %s\nArchitecture: any\n' "$name" > "$shlibs/debian/control"
    local bins=()
    for b in "$@"; do bins+=("$root/usr/bin/$b"); done
    local libs
    libs=$(cd "$shlibs" && dpkg-shlibdeps -O "${bins[@]}" | sed -n 's/^shlibs:Depends=//p')
    [ -n "$libs" ] || { echo "dpkg-shlibdeps found no library dependencies for $name" >&2; exit 1; }
    local depends="adduser, $libs"

    local size
    size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" -e "s/@MAINTAINER@/$maintainer/" \
        -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" "packaging/$dir/control.in" \
        > "$root/DEBIAN/control"
    echo "/etc/$name/$config_name" > "$root/DEBIAN/conffiles"
    fill packaging/common/postinst.in "$name" \
        "CONFIGURE_EXTRA=packaging/$dir/postinst-configure" \
        "START=packaging/$dir/postinst-start" > "$root/DEBIAN/postinst"
    fill packaging/common/prerm.in "$name" > "$root/DEBIAN/prerm"
    fill packaging/common/postrm.in "$name" > "$root/DEBIAN/postrm"
    chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
        | xargs -0 md5sum > DEBIAN/md5sums)
    chmod 0644 "$root/DEBIAN/md5sums"

    local deb="$out/${name}_${deb_version}_${arch}.deb"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
    echo "$deb"
}

package hostwatch-agent agent config/agent.json config.json hostwatch-agent hostwatch
package hostwatch-collector collector config/collector.toml collector.toml hostwatch-collector
rm -rf "$work"
