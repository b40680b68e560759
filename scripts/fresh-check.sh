#!/bin/sh
# Runs the README's two commands, `make demo` then `make test`, on a truly fresh Debian 12
# (then `make install` and a program built against it, as a library user would):
# a `debootstrap --variant=minbase bookworm` chroot (what a debian:12 container has: the
# required packages and apt) with only `make` added, and a clean environment. Whatever
# scripts/install-deps.sh forgets, this finds. Needs root and Debian's mirror; takes a
# while (it downloads and installs everything `make test` needs, then runs it).
#   scripts/fresh-check.sh [<dir>]        (default build-fresh)
# The chroot is <dir>/root, the log <dir>/fresh-check.log; the source is the commit HEAD
# of this repository (what a clone gets), not the working tree. The chroot is removed at
# the end unless FRESH_KEEP=1. FRESH_MIRROR picks another Debian mirror.
set -eu
dir=${1:-build-fresh}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-check: needs root (debootstrap, chroot, mount)" >&2
  exit 2
fi
src=$(git rev-parse --show-toplevel)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root="$dir/root"
log="$dir/fresh-check.log"

# What the chroot has mounted, deepest first (so each unmounts before its parent).
mounts() {
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}
cleanup() {
  for m in $(mounts); do umount "$m" 2>/dev/null || umount -l "$m"; done
  if [ -n "$(mounts)" ]; then
    echo "fresh-check: still mounted under $root, not removing it:" >&2
    mounts >&2
  elif [ "${FRESH_KEEP:-0}" != 1 ] && [ -d "$root" ]; then
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A leftover chroot (an interrupted run, FRESH_KEEP=1) would not be fresh.
[ -z "$(mounts)" ] || { echo "fresh-check: $root has mounts; unmount them first" >&2; exit 1; }
rm -rf --one-file-system "$root"

say() { echo "fresh-check: $*" | tee -a "$log"; }
: >"$log"
say "debootstrap --variant=minbase bookworm ($mirror)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; exit 1; }

# What the kernel and the network give any machine: /proc, /sys, devices (with a shared
# memory tmpfs for chromium), and a resolver. Debian's sources as an installed system has
# them: the release, its updates and its security fixes.
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
security=$(echo "$mirror" | sed 's|/debian$|/debian-security|')
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
# No service starts inside a chroot (a machine would start them; none is needed here).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

# in_root <command>: a login-like clean environment, as root in a fresh shell.
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c "$1"
}

say "apt-get install make (and upgrade to the current point release)"
in_root "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get upgrade -y -q &&
         apt-get install -y -q --no-install-recommends make" >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; exit 1; }

mkdir -p "$root/root/tconv"
git -C "$src" archive HEAD | tar -x -C "$root/root/tconv"
say "source: $(git -C "$src" log -1 --format='%h %s')"

# step <what> <command>: runs it in the chroot, timed, into the log; 1 if it failed.
status=0
step() {
  say "$1"
  start=$(date +%s)
  if in_root "cd /root/tconv && $2" >>"$log" 2>&1; then result=passed; else result=FAILED; fi
  took=$(($(date +%s) - start))
  say "$1: $result in $((took / 60)) min $((took % 60)) s"
  [ $result = passed ] && return 0
  tail -40 "$log" >&2
  status=1
  return 1
}
# The README's two commands; `make test` is worth running only on a finished `make demo`.
# Then as a library user: install into /usr/local, and build the README's example against
# it by pkg-config, with nothing else set (on a failed `make test` too: it is the last
# step of the set-up that a failing test stops).
if step "make demo" "make demo"; then
  step "make test" "make test" || true
  step "make install, then examples/quickstart.c against /usr/local" \
    "make install && tconv explain --example 1 >/dev/null &&
     cc examples/quickstart.c -o /tmp/quickstart \$(pkg-config --cflags --libs tconv) &&
     /tmp/quickstart | cmp - examples/quickstart.expected" || true
fi
# When apt-get ran (how much of each step's time was the packages'), and how many there are.
grep -E '^(Start-Date|Commandline|End-Date)' "$root/var/log/apt/history.log" |
  sed 's/^/   apt: /' | tee -a "$log"
say "packages in the chroot: $(in_root "dpkg-query -W -f='\${binary:Package}\n'" | wc -l)"
echo "log: $log"
exit $status
