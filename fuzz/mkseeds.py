#!/usr/bin/python3
"""Write the seed corpora of the libFuzzer targets (fuzz/corpus/): run from the repository root.

tdvf:     2 parameter bytes (image size class, TD RAM size) + the tail of a firmware image
          (see fuzz/fuzz_tdvf.c): a synthetic TDVF, and the last 64 KiB of Debian's OVMF.fd.
seamcall: programs in the format described at the top of fuzz/fuzz_seamcall.c. Seeds name
          leaves by number (op 6) so that they stay valid when leaves are implemented.
"""
import os
import struct
import sys

PAGE = 4096
FOOTER_GUID = bytes([0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d])
TDX_META_GUID = bytes([0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2])


def tdvf_image(sections, size=4 * PAGE, desc_off=2 * PAGE):
    """A tiny image: the metadata descriptor at desc_off, the OVMF footer table at the end."""
    img = bytearray(size)
    desc = struct.pack("<4sIII", b"TDVF", 16 + 32 * len(sections), 1, len(sections))
    for s in sections:
        desc += struct.pack("<IIQQII", *s)
    img[desc_off:desc_off + len(desc)] = desc
    entry = struct.pack("<I", size - desc_off) + struct.pack("<H", 22) + TDX_META_GUID
    table = entry + struct.pack("<H", 18 + len(entry)) + FOOTER_GUID
    end = size - 32  # the reset vector's 32 bytes follow the table
    img[end - len(table):end] = table
    return bytes(img)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes")


def tdvf_seeds(d):
    # (data_offset, raw_size, gpa, mem_size, type, attributes)
    bfv = (0, 4 * PAGE, 0xFFFFC000, 4 * PAGE, 0, 1)
    hob = (0, 0, 0x809000, 0x2000, 2, 0)
    temp = (0, 0, 0x800000, 0x9000, 3, 0)
    perm = (0, 0, 0x900000, 0x10000, 4, 2)
    cfv = (PAGE, PAGE, 0xFFC00000, 2 * PAGE, 1, 0)
    write(f"{d}/synthetic", bytes([0, 15]) + tdvf_image([bfv, hob, temp, perm]))
    write(f"{d}/synthetic-cfv-highram", bytes([6, 0x9f]) + tdvf_image([bfv, cfv, temp, hob]))
    write(f"{d}/synthetic-no-hob", bytes([0, 3]) + tdvf_image([bfv, temp]))
    ovmf = "/usr/share/ovmf/OVMF.fd"
    if os.path.exists(ovmf) and os.path.getsize(ovmf) == 2 << 20:
        with open(ovmf, "rb") as f:
            f.seek(-65536, 2)
            tail = f.read()
        write(f"{d}/ovmf-tail-64k", bytes([4, 15]) + tail)  # a 2 MiB image, 2 GiB of RAM
    else:
        print(f"{ovmf} missing or not 2 MiB: OVMF seed skipped", file=sys.stderr)


# ---- SEAMCALL programs ------------------------------------------------------------------
def pool(i): return bytes([i])                  # tracked page i (24 src0, 25 src1, 26 params, 27 scratch)
def tdr(i=0): return bytes([0x20 | i])
def tdvpr(i=0): return bytes([0x40 | i])
def gpa(idx, level=0): return bytes([0x60 | level << 3 | idx])
def small(i): return bytes([0x80 | i])          # 0..7
GLOBAL_KEYID, TD_KEYID = bytes([0x88]), bytes([0x89])
def field(i): return bytes([0xa0 | i])          # 0..23 TD fields, 24..31 global fields
def variant(v, page=0): return bytes([0xc0 | v, page])
SRC0, PARAMS, SCRATCH = variant(6), variant(8), variant(9)
def tdmr_base(k): return variant(11, k)        # the page byte picks the TDMR
TDMR_ARRAY, NR_TDMRS = variant(14), variant(15)
def raw(v): return bytes([0xe0]) + struct.pack("<Q", v)
Z = small(0)


def call(leaf, lp=0, rcx=Z, rdx=Z, r8=Z, r9=Z):
    return bytes([6, leaf, lp]) + rcx + rdx + r8 + r9


def host(kind, *ops):
    return bytes([7, kind]) + b"".join(ops)


L = dict(ADDCX=1, PAGE_ADD=2, SEPT_ADD=3, VP_ADDCX=4, KEY_CONFIG=8, CREATE=9, VP_CREATE=10, MNG_RD=11,
         MEM_RD=12, MNG_WR=13, MR_EXTEND=16, MR_FINALIZE=17, VPFLUSHDONE=19, KEY_FREEID=20, MNG_INIT=21,
         VP_INIT=22, RDMD=24, SEPT_RD=25, RECLAIM=28, SYS_KEY_CONFIG=31, SYS_INFO=32, SYS_INIT=33, SYS_RD=34,
         SYS_LP_INIT=35, SYS_CONFIG=45, PAGE_AUG=6, RANGE_BLOCK=7, MEM_WR=14, MEM_TRACK=38,
         PAGE_REMOVE=29, RANGE_UNBLOCK=39, VP_FLUSH=18, TDMR_INIT=36, SYS_RDALL=37, CACHE_WB=40)


def build_td(measure=True):
    p = call(L["CREATE"], 0, pool(0), TD_KEYID)
    p += call(L["KEY_CONFIG"], 0, tdr()) + call(L["KEY_CONFIG"], 1, tdr())
    for k in range(1, 7):
        p += call(L["ADDCX"], 0, pool(k), tdr())
    p += call(L["MNG_INIT"], 0, tdr(), PARAMS)
    for lvl, pg in ((3, 7), (2, 8), (1, 9)):
        p += call(L["SEPT_ADD"], 0, gpa(0, lvl), tdr(), pool(pg))
    p += call(L["PAGE_ADD"], 0, gpa(0), tdr(), pool(10), SRC0)
    p += call(L["PAGE_ADD"], 1, gpa(1), tdr(), pool(11), variant(7))
    if measure:
        p += call(L["MR_EXTEND"], 0, gpa(0), tdr()) + call(L["MR_EXTEND"], 1, gpa(1), tdr())
    return p


def vcpu_and_finalize():
    p = call(L["VP_CREATE"], 0, pool(12), tdr())
    for k in range(13, 18):
        p += call(L["VP_ADDCX"], 0, pool(k), tdvpr())
    p += call(L["VP_INIT"], 0, tdvpr(), raw(0x809000))
    p += call(L["MR_FINALIZE"], 0, tdr())
    p += call(L["MNG_RD"], 0, tdr(), field(3)) + call(L["MNG_RD"], 1, tdr(), field(12))
    p += call(L["MEM_RD"], 0, gpa(0), tdr()) + call(L["SEPT_RD"], 0, gpa(0, 1), tdr())
    p += call(L["MNG_WR"], 0, tdr(), field(12), raw(0), raw(UINT64_MAX))
    return p


UINT64_MAX = (1 << 64) - 1


def teardown():
    p = call(L["VPFLUSHDONE"], 0, tdr())
    p += call(L["CACHE_WB"], 0) + call(L["CACHE_WB"], 1)
    p += call(L["KEY_FREEID"], 0, tdr())
    for k in range(1, 18):
        p += call(L["RECLAIM"], 0, pool(k))
    p += call(L["RECLAIM"], 0, pool(0)) + call(L["RDMD"], 0, pool(0))
    return p


def seamcall_seeds(d):
    write(f"{d}/td-build", b"\0" + build_td() + vcpu_and_finalize())
    write(f"{d}/td-lifecycle", b"\0" + build_td() + vcpu_and_finalize() + teardown())
    # a host write into a private TD page poisons it: the next module access is a machine check
    write(f"{d}/td-poison-mce", b"\0" + build_td(False) + host(0, pool(10)) + call(L["MR_EXTEND"], 0, gpa(0), tdr()))
    # the host writes marker plaintext over private pages (poisoning them) and keeps going
    write(f"{d}/td-marker-overwrite", b"\0" + build_td() + host(1, pool(10)) + host(1, pool(1)) +
          call(L["MNG_RD"], 0, tdr(), field(4)) + call(L["RDMD"], 0, pool(10)) + host(2, bytes([9]), raw(7)))
    # a TD whose TD_PARAMS were edited by the host (max_vcpus 0, then 1)
    write(f"{d}/td-params", b"\0" + call(L["CREATE"], 0, pool(0), TD_KEYID) + call(L["KEY_CONFIG"], 0, tdr()) +
          call(L["KEY_CONFIG"], 1, tdr()) + b"".join(call(L["ADDCX"], 0, pool(k), tdr()) for k in range(1, 7)) +
          host(2, bytes([2]), small(0)) + call(L["MNG_INIT"], 0, tdr(), PARAMS) +
          host(2, bytes([2]), small(1)) + call(L["MNG_INIT"], 0, tdr(), PARAMS))
    # a debug TD at run time: PAGE.AUG, debug reads/writes, block + track + remove
    p = b"\0" + host(2, bytes([0]), small(1)) + build_td() + vcpu_and_finalize()
    p += call(L["SEPT_ADD"], 0, gpa(2, 1), tdr(), pool(18)) + call(L["PAGE_AUG"], 0, gpa(2), tdr(), pool(19))
    p += call(L["MEM_RD"], 0, gpa(0), tdr()) + call(L["MEM_WR"], 1, gpa(1), tdr(), raw(0x1122334455667788))
    p += call(L["RANGE_BLOCK"], 0, gpa(1), tdr()) + call(L["MEM_TRACK"], 0, tdr())
    p += call(L["PAGE_REMOVE"], 1, gpa(1), tdr()) + call(L["RANGE_BLOCK"], 0, gpa(2), tdr())
    p += call(L["RANGE_UNBLOCK"], 0, gpa(2), tdr()) + call(L["VP_FLUSH"], 0, tdvpr())
    p += call(L["MNG_WR"], 0, tdr(), field(20), raw(1), raw(UINT64_MAX))
    write(f"{d}/td-debug-runtime", p)
    # the kernel's bring-up, done by the program on a raw machine, then global metadata reads
    p = b"\1" + call(L["SYS_INIT"], 0) + call(L["SYS_LP_INIT"], 0) + call(L["SYS_LP_INIT"], 1)
    p += call(L["SYS_RD"], 0, field(24)) + host(3)
    p += call(L["SYS_CONFIG"], 0, TDMR_ARRAY, NR_TDMRS, GLOBAL_KEYID)
    p += call(L["SYS_KEY_CONFIG"], 0) + call(L["SYS_KEY_CONFIG"], 1)
    p += call(L["TDMR_INIT"], 0, tdmr_base(0)) + call(L["TDMR_INIT"], 1, tdmr_base(1))
    p += host(3)  # the kernel's TDMR.INIT loop
    p += call(L["SYS_RDALL"], 0, SCRATCH, field(24)) + call(L["SYS_INFO"], 1, SCRATCH, raw(1024), variant(9, 1), raw(32))
    p += call(L["RDMD"], 0, pool(0)) + call(L["CREATE"], 1, pool(0), TD_KEYID)
    write(f"{d}/raw-bringup", p)


def main():
    os.makedirs("fuzz/corpus/tdvf", exist_ok=True)
    os.makedirs("fuzz/corpus/seamcall", exist_ok=True)
    tdvf_seeds("fuzz/corpus/tdvf")
    seamcall_seeds("fuzz/corpus/seamcall")


if __name__ == "__main__":
    main()
