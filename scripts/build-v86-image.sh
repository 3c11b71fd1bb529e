#!/usr/bin/env bash
# Builds the v86 guest image from Debian packages into build/v86-image/ (gitignored,
# never committed):
#   vmlinuz       Debian's 32-bit kernel (linux-image-686, the non-PAE flavour: v86's
#                 Pentium III-class CPU is all it needs)
#   initrd.img    a tiny uncompressed initramfs: busybox-static (i386), the NIC driver modules
#                 (ne2k-pci + 8390, and virtio-net with its virtio modules), and an
#                 /init that loads them, configures an address given on the kernel
#                 command line (vbus.ip=A.B.C.D/N) and gives a shell on ttyS0
#   bios.bin, vgabios.bin   SeaBIOS and its VGA BIOS (Debian's seabios)
#   manifest.json what went in (package versions), read by src/v86 to check the cache
# Idempotent: a complete image whose manifest names the same package versions and the
# same recipe is kept. Needs root (or sudo) once, for `dpkg --add-architecture i386`.
# Nothing is installed into the system except the i386 architecture and cpio; the
# packages are downloaded with `apt-get download` and unpacked here.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=build/v86-image
RECIPE=4 # bump when the initramfs contents or /init change
KPKG=linux-image-686
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! dpkg --print-foreign-architectures | grep -qx i386; then
  echo "== dpkg --add-architecture i386"
  $SUDO dpkg --add-architecture i386
  $SUDO apt-get update -qq || true # one stale mirror index must not stop the build
fi
if ! command -v cpio >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends cpio
fi

ver() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
if [ -z "$(ver "$KPKG:i386")" ] || [ "$(ver "$KPKG:i386")" = "(none)" ]; then
  $SUDO apt-get update -qq || true
fi
# linux-image-686 is a metapackage: the kernel is its linux-image-X.Y.Z-N-686 dependency.
KREAL=$(apt-cache depends "$KPKG:i386" | awk '/Depends: linux-image-[0-9]/ {sub(":i386","",$2); print $2; exit}')
[ -n "$KREAL" ] || { echo "cannot resolve $KPKG:i386 (is the i386 architecture's index fetched? apt-get update)" >&2; exit 1; }
KVER_PKG=$(ver "$KREAL:i386")
BB_VER=$(ver busybox-static:i386)
SB_VER=$(ver seabios)
STAMP="recipe=$RECIPE $KREAL=$KVER_PKG busybox-static=$BB_VER seabios=$SB_VER"

if [ -f "$OUT/manifest.json" ] && grep -qF "\"stamp\": \"$STAMP\"" "$OUT/manifest.json" \
  && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] && [ -s "$OUT/bios.bin" ] && [ -s "$OUT/vgabios.bin" ]; then
  echo "== v86 image is up to date ($OUT: $STAMP)"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "== downloading $KREAL:i386 $KVER_PKG, busybox-static:i386 $BB_VER, seabios $SB_VER"
(cd "$WORK" && apt-get download -q "$KREAL:i386" "busybox-static:i386" seabios 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/x"; done
X="$WORK/x"
KREL=$(ls "$X/lib/modules" | head -n1)
[ -n "$KREL" ] && [ -f "$X/boot/vmlinuz-$KREL" ] || { echo "the kernel package has no vmlinuz" >&2; exit 1; }

# ---- initramfs ---------------------------------------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules}
cp "$X/bin/busybox" "$R/bin/busybox"
for app in sh ash mount umount insmod ip ifconfig ping cat echo ls sleep uname dmesg mkdir; do
  ln -sf busybox "$R/bin/$app"
done
# Modules in load order (dependencies first), as modules.dep of this kernel says.
MODS=(
  kernel/drivers/net/ethernet/8390/8390.ko
  kernel/drivers/net/ethernet/8390/ne2k-pci.ko
  kernel/drivers/virtio/virtio.ko
  kernel/drivers/virtio/virtio_ring.ko
  kernel/drivers/virtio/virtio_pci_modern_dev.ko
  kernel/drivers/virtio/virtio_pci_legacy_dev.ko
  kernel/drivers/virtio/virtio_pci.ko
  kernel/net/core/failover.ko
  kernel/drivers/net/net_failover.ko
  kernel/drivers/net/virtio_net.ko
)
: > "$R/etc/modules"
for m in "${MODS[@]}"; do
  src="$X/lib/modules/$KREL/$m"
  if [ -f "$src.xz" ]; then xz -dc "$src.xz" > "$R/lib/modules/$(basename "$m")"; else cp "$src" "$R/lib/modules/"; fi
  echo "$(basename "$m")" >> "$R/etc/modules"
done
cat > "$R/init" <<'INIT'
#!/bin/sh
# vbus v86 guest: load the NIC drivers, take the address from vbus.ip=, shell on ttyS0.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /etc/modules); do insmod /lib/modules/$m 2>/dev/null; done
IP=""
for w in $(cat /proc/cmdline); do case "$w" in vbus.ip=*) IP="${w#vbus.ip=}";; esac; done
ip link set lo up
if [ -n "$IP" ]; then
  ip addr add "$IP" dev eth0 && ip link set eth0 up && echo "vbus-v86: eth0 $IP up"
fi
echo "vbus-v86: $(uname -r) ready"
while true; do
  setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1' 2>/dev/null || sh </dev/ttyS0 >/dev/ttyS0 2>&1
done
INIT
chmod +x "$R/init"
ln -sf busybox "$R/bin/setsid"

mkdir -p "$OUT"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$WORK/initrd.img" # uncompressed: inflating in the emulated CPU costs seconds
cp "$X/boot/vmlinuz-$KREL" "$WORK/vmlinuz"
cp "$X/usr/share/seabios/bios.bin" "$WORK/bios.bin"
cp "$X/usr/share/seabios/vgabios-stdvga.bin" "$WORK/vgabios.bin"
for f in vmlinuz initrd.img bios.bin vgabios.bin; do mv "$WORK/$f" "$OUT/$f"; done
cat > "$OUT/manifest.json" <<JSON
{
  "stamp": "$STAMP",
  "kernel": "$KREL",
  "packages": { "$KREAL": "$KVER_PKG", "busybox-static:i386": "$BB_VER", "seabios": "$SB_VER" },
  "files": ["vmlinuz", "initrd.img", "bios.bin", "vgabios.bin"]
}
JSON
echo "== v86 image built in $OUT ($STAMP)"
ls -l "$OUT"
