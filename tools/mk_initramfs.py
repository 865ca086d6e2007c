#!/usr/bin/env python3
"""Build the Linux TD's initramfs (gzip'd newc cpio) from Debian packages unpacked by qemu-build.py.

Contents: busybox-static as /bin/busybox, guest/linux/init as /init, the tdx-guest and tsm modules
(and configfs, which tsm needs), virtio_blk and virtio_net (with failover and net_failover) of
the kernel package (decompressed: busybox insmod cannot read .ko.xz), and the project's static
tdreport program. Files are written with fixed owners and times so the image is reproducible.
"""
import argparse
import gzip
import io
import lzma
import os
import sys


class Cpio:
    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * ((4 - len(data) % 4) % 4))

    def dir(self, name):
        self._entry(name, 0o040755, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def trailer(self):
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        sys.exit("mk_initramfs: %s" % e)


def module(kroot, kver, rel):
    base = os.path.join(kroot, "usr", "lib", "modules", kver, "kernel", rel)
    for ext, unpack in ((".ko.xz", lzma.decompress), (".ko", lambda b: b)):
        if os.path.isfile(base + ext):
            return unpack(read(base + ext))
    sys.exit("mk_initramfs: no module %s(.ko|.ko.xz) in the kernel package" % base)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kernel-root", required=True, help="unpacked linux-image .deb")
    ap.add_argument("--kver", required=True)
    ap.add_argument("--busybox", required=True, help="busybox-static's /bin/busybox")
    ap.add_argument("--init", required=True)
    ap.add_argument("--tdreport", required=True)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"):
        c.dir(d)
    c.file("init", read(a.init), 0o755)
    c.file("bin/busybox", read(a.busybox), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("bin/tdreport", read(a.tdreport), 0o755)
    # in load order: tsm needs configfs, tdx-guest needs tsm
    c.file("lib/modules/configfs.ko", module(a.kernel_root, a.kver, "fs/configfs/configfs"))
    c.file("lib/modules/tsm.ko", module(a.kernel_root, a.kver, "drivers/virt/coco/tsm"))
    c.file("lib/modules/tdx-guest.ko",
           module(a.kernel_root, a.kver, "drivers/virt/coco/tdx-guest/tdx-guest"))
    # virtio disks and NICs (virtio and virtio_pci are built in); virtio_net needs net_failover,
    # which needs failover
    c.file("lib/modules/virtio_blk.ko", module(a.kernel_root, a.kver, "drivers/block/virtio_blk"))
    c.file("lib/modules/failover.ko", module(a.kernel_root, a.kver, "net/core/failover"))
    c.file("lib/modules/net_failover.ko", module(a.kernel_root, a.kver, "drivers/net/net_failover"))
    c.file("lib/modules/virtio_net.ko", module(a.kernel_root, a.kver, "drivers/net/virtio_net"))
    data = gzip.compress(c.trailer(), compresslevel=6, mtime=0)
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
