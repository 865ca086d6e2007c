#!/usr/bin/env python3
"""Independent reference calculator for the MRTD of a TDVF (OVMF) image.

Standard library only.  Written from the public descriptions of the
formats (TDVF design guide, OVMF reset-vector GUIDed table, TDX module
TDH.MEM.PAGE.ADD / TDH.MR.EXTEND measurement rules); it shares no code with
the C implementation and is meant as the cross-check in tests.

Usage:
    mrtd_reference.py [IMAGE] [--json] [--sections] [--hob RAM_SIZE]
    mrtd_reference.py --selftest

IMAGE defaults to /usr/share/ovmf/OVMF.fd.  RAM_SIZE accepts 2G, 512M,
0x80000000, ...

MRTD model
----------
The TDX module keeps one running SHA-384 over 128-byte blocks and
finalizes it in TDH.MR.FINALIZE, so MRTD = SHA384(concatenation of all
blocks in call order):

  TDH.MEM.PAGE.ADD(gpa):  block = "MEM.PAGE.ADD" (12 bytes) padded with zeros
                          to 16, gpa as u64 LE at offset 16, zeros to 128.
  TDH.MR.EXTEND(gpa):     block = "MR.EXTEND" (9 bytes) padded to 16, gpa as
                          u64 LE at 16, zeros to 128; then the 256 bytes of
                          page content at gpa (two more 128-byte blocks).

Every section is walked in metadata order, 4 KiB page by page.  A page gets
a PAGE.ADD block unless the section has PAGE_AUG (bit 1); it gets 16
MR.EXTEND records (256-byte chunks) if the section has MR_EXTEND (bit 0).

  interleaved ("single pass"): per page: PAGE.ADD, then its 16 MR.EXTENDs.
      Upstream KVM (Linux >= 6.16, KVM_TDX_INIT_MEM_REGION with
      KVM_TDX_MEASURE_MEMORY_REGION) + upstream QEMU >= 10.1.
  two-pass: per section: PAGE.ADD of all its pages, then MR.EXTEND of all its
      pages.  KVM v19-era API (KVM_MEMORY_MAPPING + KVM_TDX_EXTEND_MEMORY),
      e.g. intel qemu-tdx "tdx-qemu-upstream-v5" (8.2.50) and Canonical's
      QEMU 8.2.2 TDX build.
"""
import argparse
import hashlib
import json
import struct
import sys
import uuid

PAGE = 0x1000
CHUNK = 0x100

FOOTER_GUID = uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d").bytes_le
TDX_METADATA_OFFSET_GUID = uuid.UUID("e47a6535-984a-4798-865e-4685a7bf8ec2").bytes_le
TDVF_SIGNATURE = 0x46564454  # "TDVF" read as u32 LE

SECTION_TYPES = {0: "BFV", 1: "CFV", 2: "TD_HOB", 3: "TempMem",
                 4: "PermMem", 5: "Payload", 6: "PayloadParam"}
ATTR_MR_EXTEND = 1 << 0
ATTR_PAGE_AUG = 1 << 1


class TdvfError(Exception):
    pass


# --------------------------------------------------------------------------
# Image parsing
# --------------------------------------------------------------------------

def footer_table_entries(img):
    """Yield (guid_bytes, data_bytes, data_file_offset) walking backwards."""
    n = len(img)
    if n < 50 or img[n - 48:n - 32] != FOOTER_GUID:
        raise TdvfError("no OVMF GUIDed table footer 48 bytes before the end")
    total = struct.unpack_from("<H", img, n - 50)[0]
    body = total - 18          # minus the footer's own u16 length + GUID
    foot = n - 50              # one past the last byte of the last entry
    if body < 0 or body > foot:
        raise TdvfError("OVMF table has invalid size %d" % body)
    while body >= 18:
        guid = img[foot - 16:foot]
        elen = struct.unpack_from("<H", img, foot - 18)[0]
        if elen < 18 or elen > body:
            raise TdvfError("corrupt GUIDed table entry length %d" % elen)
        yield guid, img[foot - elen:foot - 18], foot - elen
        foot -= elen
        body -= elen


def find_descriptor_offset(img):
    for guid, data, _ in footer_table_entries(img):
        if guid == TDX_METADATA_OFFSET_GUID:
            if len(data) < 4:
                raise TdvfError("TDX metadata offset entry too short")
            dist = struct.unpack_from("<I", data, 0)[0]
            off = len(img) - dist
            if dist > len(img) or off + 16 > len(img):
                raise TdvfError("TDX metadata offset out of range")
            return off
    raise TdvfError("Cannot find TDX_METADATA_OFFSET_GUID")


def parse_sections(img, strict=True):
    """Return (descriptor_file_offset, [section dicts])."""
    off = find_descriptor_offset(img)
    sig, length, version, count = struct.unpack_from("<IIII", img, off)
    if sig != TDVF_SIGNATURE:
        raise TdvfError("Invalid TDVF signature in metadata!")
    if off + length > len(img):
        raise TdvfError("TDVF metadata runs past the end of the image")
    if version != 1:
        raise TdvfError("unsupported TDVF metadata version %d" % version)
    if strict and count < 2:
        raise TdvfError("Invalid number of fw entries (%u) in TDVF Metadata" % count)
    if length != 16 + 32 * count:
        raise TdvfError("TDVF metadata len (0x%x) mismatch, expected (0x%x)"
                        % (length, 16 + 32 * count))
    secs = []
    for i in range(count):
        do, rs, ma, ms, ty, at = struct.unpack_from("<IIQQII", img, off + 16 + 32 * i)
        s = dict(index=i, data_offset=do, raw_size=rs, address=ma, size=ms,
                 type=ty, attributes=at)
        check_section(s, strict)
        secs.append(s)
    return off, secs


def check_section(s, strict):
    if s["size"] < s["raw_size"]:
        raise TdvfError("Broken metadata RawDataSize 0x%x MemoryDataSize 0x%x"
                        % (s["raw_size"], s["size"]))
    if s["address"] % PAGE:
        raise TdvfError("MemoryAddress 0x%x not page aligned" % s["address"])
    if s["size"] % PAGE:
        raise TdvfError("MemoryDataSize 0x%x not page aligned" % s["size"])
    if not strict:
        return
    # QEMU (hw/i386/tdvf.c) accepts only the four OVMF section types.
    if s["type"] in (0, 1):
        if s["raw_size"] == 0:
            raise TdvfError("%d section with RawDataSize == 0" % s["type"])
    elif s["type"] in (2, 3):
        if s["raw_size"] != 0:
            raise TdvfError("%d section with RawDataSize 0x%x != 0"
                            % (s["type"], s["raw_size"]))
    else:
        raise TdvfError("TDVF contains unsupported section type %d" % s["type"])


# --------------------------------------------------------------------------
# MRTD
# --------------------------------------------------------------------------

def page_add_block(gpa):
    return b"MEM.PAGE.ADD".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(104)


def mr_extend_records(gpa, data256):
    assert len(data256) == CHUNK
    return b"MR.EXTEND".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(104) + data256


def section_page_bytes(img, s, page_index):
    """Bytes KVM would copy for a page of a section (QEMU's source pointer).

    BFV/CFV: image bytes at DataOffset + page*4K (QEMU passes the image
    pointer for the whole MemoryDataSize; bytes past EOF read as zero here).
    TD_HOB/TempMem: fresh anonymous memory (zero; the HOB is written into
    the TD_HOB buffer but that section is not MR.EXTENDed by OVMF)."""
    if s["raw_size"] == 0:
        return bytes(PAGE)
    start = s["data_offset"] + page_index * PAGE
    chunk = img[start:start + PAGE]
    return chunk + bytes(PAGE - len(chunk))


def measure(img, secs, order, sink):
    """Feed every 128-byte block to sink(bytes) in the chosen order."""
    for s in secs:
        npages = s["size"] // PAGE
        add = not (s["attributes"] & ATTR_PAGE_AUG)
        ext = bool(s["attributes"] & ATTR_MR_EXTEND)

        def do_extend(p):
            content = section_page_bytes(img, s, p)
            base = s["address"] + p * PAGE
            for c in range(PAGE // CHUNK):
                sink(mr_extend_records(base + c * CHUNK, content[c * CHUNK:(c + 1) * CHUNK]))

        if order == "interleaved":
            for p in range(npages):
                if add:
                    sink(page_add_block(s["address"] + p * PAGE))
                if ext:
                    do_extend(p)
        elif order == "two-pass":
            if add:
                for p in range(npages):
                    sink(page_add_block(s["address"] + p * PAGE))
            if ext:
                for p in range(npages):
                    do_extend(p)
        else:
            raise ValueError(order)


def mrtd(img, secs, order):
    h = hashlib.sha384()
    measure(img, secs, order, h.update)
    return h.hexdigest()


def block_counts(secs):
    adds = sum(s["size"] // PAGE for s in secs if not s["attributes"] & ATTR_PAGE_AUG)
    exts = sum(s["size"] // CHUNK for s in secs if s["attributes"] & ATTR_MR_EXTEND)
    return adds, exts


# --------------------------------------------------------------------------
# TD HOB as QEMU (hw/i386/tdvf-hob.c + target/i386/kvm/tdx.c) builds it
# --------------------------------------------------------------------------

def q35_ram_split(ram):
    lowmem = 0x80000000 if ram >= 0xB0000000 else 0xB0000000
    if ram >= lowmem:
        return lowmem, ram - lowmem
    return ram, 0


def qemu_ram_entries(ram, secs):
    below, above = q35_ram_split(ram)
    ents = [[0, below, "U"]]
    if above:
        ents.append([1 << 32, above, "U"])
    for s in secs:
        if s["type"] not in (2, 3):
            continue
        a, l = s["address"], s["size"]
        hit = None
        for e in ents:
            if not (a + l <= e[0] or a >= e[0] + e[1]):
                hit = e
                break
        if hit is None or hit[0] > a or hit[0] + hit[1] < a + l:
            raise TdvfError("Failed to accept memory for TDVF section %d" % s["type"])
        if hit[2] == "A":
            continue
        old_a, old_l = hit[0], hit[1]
        hit[0], hit[1], hit[2] = a, l, "A"
        if a - old_a > 0:
            ents.append([old_a, a - old_a, "U"])
        if a + l < old_a + old_l:
            ents.append([a + l, old_a + old_l - (a + l), "U"])
    ents.sort(key=lambda e: e[0])
    return ents


def qemu_td_hob(ram, secs):
    hob_sec = next((s for s in secs if s["type"] == 2), None)
    if hob_sec is None:
        raise TdvfError("TDVF metadata doesn't specify TD_HOB location.")
    ents = qemu_ram_entries(ram, secs)
    attr = 0x7  # PRESENT | INITIALIZED | TESTED (both accepted and unaccepted)
    res = b""
    for a, l, kind in ents:
        rtype = 0 if kind == "A" else 7  # SYSTEM_MEMORY / MEMORY_UNACCEPTED
        res += struct.pack("<HHI16sIIQQ", 0x0003, 48, 0, bytes(16), rtype, attr, a, l)
    end = struct.pack("<HHI", 0xFFFF, 8, 0)
    total = 56 + len(res) + len(end)
    if total > hob_sec["size"]:
        raise TdvfError("TD_HOB overrun")
    phit = struct.pack("<HHIIIQQQQQ", 0x0001, 56, 0, 0x0009, 0, 0, 0, 0, 0,
                       hob_sec["address"] + total)
    return phit + res + end, ents


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def parse_size(text):
    t = text.strip().upper()
    mult = 1
    for suf, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if t.endswith(suf):
            t, mult = t[:-1], m
            break
    return int(t, 0) * mult


def selftest():
    # Tiny synthetic image: 64 KiB, BFV = last 32 KiB, CFV = 16 KiB before it,
    # TD_HOB and TempMem in low memory.  Checks the two orders against a
    # hand-concatenated one-shot hash.
    size = 0x10000
    img = bytearray((i * 7 + 3) & 0xFF for i in range(size))
    desc_off = 0x100
    secs = [(0x8000, 0x8000, (1 << 32) - size + 0x8000, 0x8000, 0, ATTR_MR_EXTEND),
            (0x4000, 0x4000, (1 << 32) - size + 0x4000, 0x4000, 1, 0),
            (0, 0, 0x809000, 0x2000, 2, 0),
            (0, 0, 0x800000, 0x6000, 3, 0)]
    struct.pack_into("<IIII", img, desc_off, TDVF_SIGNATURE, 16 + 32 * len(secs), 1, len(secs))
    for i, s in enumerate(secs):
        struct.pack_into("<IIQQII", img, desc_off + 16 + 32 * i, *s)
    entry = struct.pack("<I", size - desc_off) + struct.pack("<H", 22) + TDX_METADATA_OFFSET_GUID
    footer = struct.pack("<H", len(entry) + 18) + FOOTER_GUID
    tail = entry + footer
    img[size - 32 - len(tail):size - 32] = tail
    img = bytes(img)
    _, parsed = parse_sections(img)
    bfv = parsed[0]
    one_inter, one_two = b"", b""
    for p in range(bfv["size"] // PAGE):
        gpa = bfv["address"] + p * PAGE
        one_inter += page_add_block(gpa)
        for c in range(16):
            d = img[bfv["data_offset"] + p * PAGE + c * CHUNK:][:CHUNK]
            one_inter += mr_extend_records(gpa + c * CHUNK, d)
    for p in range(bfv["size"] // PAGE):
        one_two += page_add_block(bfv["address"] + p * PAGE)
    for p in range(bfv["size"] // PAGE):
        for c in range(16):
            gpa = bfv["address"] + p * PAGE + c * CHUNK
            one_two += mr_extend_records(gpa, img[bfv["data_offset"] + p * PAGE + c * CHUNK:][:CHUNK])
    rest = b"".join(page_add_block(s["address"] + p * PAGE)
                    for s in parsed[1:] for p in range(s["size"] // PAGE))
    ok = (hashlib.sha384(one_inter + rest).hexdigest() == mrtd(img, parsed, "interleaved")
          and hashlib.sha384(one_two + rest).hexdigest() == mrtd(img, parsed, "two-pass")
          and mrtd(img, parsed, "interleaved") != mrtd(img, parsed, "two-pass")
          and len(page_add_block(0)) == 128 and len(mr_extend_records(0, bytes(256))) == 384)
    hob, _ = qemu_td_hob(2 << 30, parsed)
    ok = ok and len(hob) == 56 + 48 * 5 + 8  # U A U A U below 2 GiB
    print("selftest", "PASS" if ok else "FAIL")
    print("synthetic interleaved", mrtd(img, parsed, "interleaved"))
    print("synthetic two-pass   ", mrtd(img, parsed, "two-pass"))
    return 0 if ok else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("image", nargs="?", default="/usr/share/ovmf/OVMF.fd")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--sections", action="store_true", help="list the TDVF sections")
    ap.add_argument("--hob", metavar="RAM_SIZE", help="also build the TD HOB QEMU would build")
    ap.add_argument("--lenient", action="store_true",
                    help="accept section types QEMU rejects (td-shim images)")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    img = open(a.image, "rb").read()
    try:
        desc_off, secs = parse_sections(img, strict=not a.lenient)
    except TdvfError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    adds, exts = block_counts(secs)
    out = {
        "image": a.image,
        "size": len(img),
        "sha256": hashlib.sha256(img).hexdigest(),
        "descriptor_offset": desc_off,
        "page_add_count": adds,
        "mr_extend_count": exts,
        "mrtd_interleaved": mrtd(img, secs, "interleaved"),
        "mrtd_two_pass": mrtd(img, secs, "two-pass"),
    }
    if a.sections or a.json:
        out["sections"] = secs
    if a.hob:
        hob, ents = qemu_td_hob(parse_size(a.hob), secs)
        out["hob_ram_size"] = parse_size(a.hob)
        out["hob_ram_entries"] = [dict(address=e[0], length=e[1],
                                       accepted=(e[2] == "A")) for e in ents]
        out["hob_len"] = len(hob)
        out["hob_hex"] = hob.hex()
        out["hob_sha384"] = hashlib.sha384(hob).hexdigest()
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    print("image            %s" % out["image"])
    print("size             %d (0x%x)" % (out["size"], out["size"]))
    print("sha256           %s" % out["sha256"])
    print("descriptor at    0x%x" % desc_off)
    if a.sections:
        for s in secs:
            print("  [%d] %-8s off=0x%08x raw=0x%08x gpa=0x%010x size=0x%08x attr=0x%x"
                  % (s["index"], SECTION_TYPES.get(s["type"], str(s["type"])),
                     s["data_offset"], s["raw_size"], s["address"], s["size"],
                     s["attributes"]))
    print("PAGE.ADD blocks  %d, MR.EXTEND records %d" % (adds, exts))
    print("MRTD interleaved %s" % out["mrtd_interleaved"])
    print("MRTD two-pass    %s" % out["mrtd_two_pass"])
    if a.hob:
        print("TD HOB for RAM 0x%x: %d bytes, sha384 %s"
              % (out["hob_ram_size"], out["hob_len"], out["hob_sha384"]))
        for e in out["hob_ram_entries"]:
            print("  0x%012x +0x%012x %s" % (e["address"], e["length"],
                                             "accepted" if e["accepted"] else "unaccepted"))
        print("  hex %s" % out["hob_hex"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
