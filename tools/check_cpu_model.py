#!/usr/bin/env python3
"""Check a tdxemu CPU-model JSON against the TDX module's TDH.SYS.INIT /
TDH.SYS.LP.INIT CPUID and MSR requirements.

Usage: check_cpu_model.py [MODEL_JSON] [CPUID_VIRT_JSON]

Defaults: data/cpu-models/sapphire-rapids.json and
/work/shared/abi/cpuid-virtualization.json.  Exit status 0 only if every
check passes.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEF_MODEL = os.path.join(HERE, "..", "data", "cpu-models", "sapphire-rapids.json")
DEF_ABI = "/work/shared/abi/cpuid-virtualization.json"

REGS = ("eax", "ebx", "ecx", "edx")
HEX_RE = re.compile(r"^0x[0-9A-Fa-f]+$")
SUBLEAF_NA = 0xFFFFFFFF


def bit(v, n):
    return (v >> n) & 1


def field(v, hi, lo):
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.notes = []

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what)
        return cond


def parse_hex(c, s, where, width=32):
    if not isinstance(s, str) or not HEX_RE.match(s):
        c.check(False, "%s: value %r is not a hex string '0x...'" % (where, s))
        return 0
    v = int(s, 16)
    c.check(v < (1 << width), "%s: value %s wider than %d bits" % (where, s, width))
    return v


class Model:
    """CPUID as the TDX module would see it on one LP."""

    def __init__(self, c, doc):
        self.entries = {}      # (leaf, subleaf) -> [eax, ebx, ecx, edx]
        self.na = {}           # leaf -> regs for subleaf-independent leaves
        for i, e in enumerate(doc["leaves"]):
            where = "leaves[%d]" % i
            leaf = parse_hex(c, e.get("leaf"), where + ".leaf")
            sub = parse_hex(c, e.get("subleaf"), where + ".subleaf")
            regs = [parse_hex(c, e.get(r), "%s(leaf 0x%X.%X).%s" % (where, leaf, sub, r))
                    for r in REGS]
            extra = set(e) - {"leaf", "subleaf", "subleaf_na", *REGS}
            c.check(not extra, "%s: unexpected keys %s" % (where, sorted(extra)))
            if e.get("subleaf_na"):
                c.check(sub == 0, "%s: subleaf_na entry must use subleaf 0x0" % where)
                c.check(leaf not in self.na and not any(k[0] == leaf for k in self.entries),
                        "%s: leaf 0x%X has subleaf_na plus other entries" % (where, leaf))
                self.na[leaf] = regs
            else:
                c.check(leaf not in self.na, "%s: leaf 0x%X already subleaf_na" % (where, leaf))
                c.check((leaf, sub) not in self.entries,
                        "%s: duplicate leaf 0x%X subleaf 0x%X" % (where, leaf, sub))
                self.entries[(leaf, sub)] = regs
        self.max_basic = self.raw(0, 0)[0]
        self.max_ext = self.raw(0x80000000, 0)[0]

    def raw(self, leaf, sub):
        if leaf in self.na:
            return list(self.na[leaf])
        return list(self.entries.get((leaf, sub), [0, 0, 0, 0]))

    def cpuid(self, leaf, sub):
        """Native CPUID as sampled by the module: all-0 above the native max of its range."""
        if leaf < 0x80000000 and leaf > self.max_basic:
            return [0, 0, 0, 0]
        if leaf >= 0x80000000 and leaf > self.max_ext:
            return [0, 0, 0, 0]
        return self.raw(leaf, sub)


def lookup_table_checks(c, m, abi):
    print("== lookup_table verify_mask/verify_value (TDH.SYS.INIT) ==")
    n = 0
    for e in abi["lookup_table"]:
        if not e["valid"]:
            continue
        leaf = int(e["leaf"], 16)
        sub = int(e["subleaf"], 16)
        if sub == SUBLEAF_NA:
            # the module executes CPUID with ECX=0xFFFFFFFF for these leaves, so the
            # model must describe them as subleaf-independent (or not at all)
            c.check(not any(k[0] == leaf for k in m.entries),
                    "leaf 0x%X is sub-leaf-independent for the module but the model lists "
                    "per-sub-leaf entries (mark it subleaf_na)" % leaf)
        vals = m.cpuid(leaf, sub)
        for i, r in enumerate(REGS):
            mask = int(e["verify_mask"][r], 16)
            exp = int(e["verify_value"][r], 16)
            got = vals[i] & mask
            c.check(got == exp,
                    "lookup[%d] CPUID(0x%X,%s).%s: (0x%08X & mask 0x%08X) = 0x%08X, expected 0x%08X"
                    % (e["lookup_index"], leaf, "NA" if sub == SUBLEAF_NA else "0x%X" % sub, r,
                       vals[i], mask, got, exp))
        n += 1
    print("   %d valid entries checked" % n)


def lp_init_checks(c, m, abi, doc):
    """TDH.SYS.LP.INIT compares (native & verify_same) with the SYS.INIT sample.
    All LPs share this model except the per-LP topology fields, which the
    simulator rewrites at runtime; make sure those fields are outside verify_same."""
    print("== TDH.SYS.LP.INIT verify_same vs. per-LP topology fields ==")
    per_lp = {(1, SUBLEAF_NA): {"ebx": 0xFF000000}}
    for s in range(6):
        per_lp[(0x1F, s)] = {"edx": 0xFFFFFFFF}
    for e in abi["lookup_table"]:
        if not e["valid"]:
            continue
        key = (int(e["leaf"], 16), int(e["subleaf"], 16))
        for r, varying in per_lp.get(key, {}).items():
            same = int(e["verify_same"][r], 16)
            c.check(same & varying == 0,
                    "lookup[%d] CPUID(0x%X).%s: per-LP field 0x%08X overlaps verify_same 0x%08X"
                    % (e["lookup_index"], key[0], r, varying, same))


def fms_checks(c, m, abi):
    print("== F/M/S ==")
    eax = m.cpuid(1, 0)[0]
    fam = field(eax, 11, 8) + (field(eax, 27, 20) if field(eax, 11, 8) == 0xF else 0)
    model = field(eax, 7, 4) | (field(eax, 19, 16) << 4 if field(eax, 11, 8) in (6, 0xF) else 0)
    print("   CPUID(1).EAX=0x%08X family 0x%X model 0x%X stepping %d" % (eax, fam, model, eax & 0xF))
    ok = False
    for f in abi["fms"]["allowed_fms_table"]:
        nat = int(f["native_fms"], 16)
        if (eax & ~0xF) == nat:
            print("   matches allowed_fms_table entry %s (latest stepping %d)" % (f["name"], f["latest_stepping"]))
            ok = True
            c.check((eax & 0xF) <= f["latest_stepping"],
                    "stepping %d newer than the table's latest stepping %d" % (eax & 0xF, f["latest_stepping"]))
    c.check(ok, "CPUID(1).EAX F/M not in the module's allowed_fms_table")
    c.check(eax == 0x000806F8, "CPUID(1).EAX must be 0x000806F8 (SPR E-stepping 8)")


def basic_checks(c, m, doc):
    print("== leaf 0 / extended range / vendor / brand ==")
    a, b, cc, d = m.cpuid(0, 0)
    c.check(a >= 0x1F, "CPUID(0).EAX=0x%X < 0x1F (TDX_CPUID_LEAF_NOT_SUPPORTED)" % a)
    vendor = b.to_bytes(4, "little") + d.to_bytes(4, "little") + cc.to_bytes(4, "little")
    c.check(vendor == b"GenuineIntel", "vendor is %r" % vendor)
    c.check(m.max_ext >= 0x80000008, "CPUID(0x80000000).EAX=0x%X < 0x80000008" % m.max_ext)
    brand = b"".join(r.to_bytes(4, "little") for l in (0x80000002, 0x80000003, 0x80000004)
                     for r in m.cpuid(l, 0)).rstrip(b"\0").decode("ascii", "replace")
    print("   max basic 0x%X, max ext 0x%X, vendor %s, brand %r" % (a, m.max_ext, vendor.decode(), brand))
    c.check(brand == "Intel(R) Xeon(R) Platinum 8480+", "brand string is %r" % brand)
    # every listed leaf must be reachable (<= max of its range)
    for (leaf, sub) in list(m.entries) + [(l, 0) for l in m.na]:
        top = m.max_ext if leaf >= 0x80000000 else m.max_basic
        c.check(leaf <= top, "leaf 0x%X listed but above the max leaf of its range" % leaf)


def feature_checks(c, m, doc):
    print("== host feature bits ==")
    e1 = m.cpuid(1, 0)
    e7 = m.cpuid(7, 0)
    want = [
        ("CPUID(1).ECX[5] VMX", bit(e1[2], 5), 1),
        ("CPUID(1).ECX[6] SMX", bit(e1[2], 6), 1),
        ("CPUID(1).ECX[15] PDCM", bit(e1[2], 15), 1),
        ("CPUID(1).ECX[21] X2APIC", bit(e1[2], 21), 1),
        ("CPUID(1).ECX[24] TSC_DEADLINE", bit(e1[2], 24), 1),
        ("CPUID(1).ECX[26] XSAVE", bit(e1[2], 26), 1),
        ("CPUID(1).ECX[31] HYPERVISOR", bit(e1[2], 31), 0),
        ("CPUID(1).EDX[28] HTT", bit(e1[3], 28), 1),
        ("CPUID(1).EBX[15:8] CLFLUSH line 64B", field(e1[1], 15, 8), 8),
        ("CPUID(7,0).EBX[4]==EBX[11] (HLE==RTM)", bit(e7[1], 4), bit(e7[1], 11)),
        ("CPUID(7,0).ECX[13] TME_EN", bit(e7[2], 13), 1),
        ("CPUID(7,0).ECX[16] LA57", bit(e7[2], 16), 1),
        ("CPUID(7,0).ECX[23] KL (not on SPR)", bit(e7[2], 23), 0),
        ("CPUID(7,0).EDX[18] PCONFIG", bit(e7[3], 18), 1),
        ("CPUID(7,0).EDX[24] AMX_TILE", bit(e7[3], 24), 1),
        ("CPUID(7,0).EDX[29] ARCH_CAPABILITIES", bit(e7[3], 29), 1),
        ("CPUID(7,0).EDX[30] CORE_CAPABILITIES", bit(e7[3], 30), 1),
        ("CPUID(0x80000007).EDX[8] invariant TSC", bit(m.cpuid(0x80000007, 0)[3], 8), 1),
        ("CPUID(0x80000008).EBX[9] WBNOINVD", bit(m.cpuid(0x80000008, 0)[1], 9), 1),
    ]
    for name, got, exp in want:
        c.check(got == exp, "%s = %d, expected %d" % (name, got, exp))
    # max sub-leaf enumeration consistency
    c.check(e7[0] >= 2 and m.cpuid(7, 2)[3] != 0, "CPUID(7,0).EAX must enumerate sub-leaf 2")
    if bit(e7[1], 25):
        c.check(m.cpuid(0x14, 0)[0] == 1, "PT enumerated but CPUID(0x14,0).EAX != 1")
    if bit(e7[3], 24):
        c.check(m.cpuid(0x1D, 0)[0] >= 1, "AMX enumerated but CPUID(0x1D,0).EAX == 0")
        a, b, cc, _ = m.cpuid(0x1D, 1)
        c.check((a & 0xFFFF, a >> 16, b & 0xFFFF, b >> 16, cc & 0xFFFF) == (8192, 1024, 64, 8, 16),
                "CPUID(0x1D,1) palette 1 is not 8192B/1024B per tile/64B rows/8 names/16 rows")
        c.check(m.cpuid(0x1E, 0)[1] == 0x4010, "CPUID(0x1E).EBX != 0x4010 (tmul_maxk 16, maxn 64)")
    if bit(e7[3], 18):
        c.check(m.cpuid(0x1B, 0)[0] & 0xFFF == 1 and m.cpuid(0x1B, 0)[1] == 1,
                "PCONFIG enumerated but CPUID(0x1B,0) does not list the MKTME target")


def perfmon_checks(c, m):
    print("== leaf 0xA (perfmon) ==")
    a, _, cc, d = m.cpuid(0xA, 0)
    c.check(a & 0xFF >= 5, "CPUID(0xA).EAX version %d < 5" % (a & 0xFF))
    nfc = d & 0x1F
    fc_bitmap = ((1 << nfc) - 1) | cc
    c.check(fc_bitmap <= (1 << 7) - 1, "fixed-counter bitmap 0x%X exceeds MAX_FIXED_CTR" % fc_bitmap)
    print("   version %d, %d GP counters, fixed-counter bitmap 0x%X" % (a & 0xFF, field(a, 15, 8), fc_bitmap))
    lbr = m.cpuid(0x1C, 0)
    if bit(m.cpuid(7, 0)[3], 19):
        c.check(lbr[0] & 0xFF != 0, "arch LBR enumerated but CPUID(0x1C).EAX[7:0] (depth mask) is 0")


def xsave_checks(c, m, abi):
    print("== leaf 0xD (XSAVE) ==")
    user_mask = int(abi["constants"]["XCR0_USER_BIT_MASK"], 16)
    sup_mask = int(abi["constants"]["XCR0_SUPERVISOR_BIT_MASK"], 16)
    a0, b0, c0, d0 = m.cpuid(0xD, 0)
    a1, b1, c1, d1 = m.cpuid(0xD, 1)
    xcr0 = (d0 << 32 | a0)
    xss = (d1 << 32 | c1)
    c.check(xcr0 & xss == 0, "XCR0-supported 0x%X and IA32_XSS-supported 0x%X overlap" % (xcr0, xss))
    c.check(xcr0 & 3 == 3, "x87/SSE not in XCR0-supported")
    xcr0_sup = xcr0 & user_mask
    xss_sup = xss & sup_mask
    print("   XCR0 supported 0x%X (module mask 0x%X), IA32_XSS supported 0x%X (module mask 0x%X)"
          % (xcr0, xcr0_sup, xss, xss_sup))
    xfd = bit(a1, 4)
    comps = {}
    xfd_mask = 0
    for i in range(2, 19):
        a, b, cc, d = m.cpuid(0xD, i)
        present = bool(xcr0 >> i & 1 or xss >> i & 1)
        if present:
            c.check(a != 0, "component %d enumerated but CPUID(0xD,%d).EAX (size) is 0" % (i, i))
        else:
            c.check([a, b, cc, d] == [0, 0, 0, 0], "component %d not enumerated but CPUID(0xD,%d) != 0" % (i, i))
            continue
        # module sanity checks (FATAL_ERROR_ID_60/61)
        if cc & 1:
            c.check(not xcr0_sup >> i & 1, "component %d has ECX[0]=1 (IA32_XSS) but is in XCR0 mask" % i)
            c.check(xss >> i & 1, "component %d has ECX[0]=1 but is not in CPUID(0xD,1).ECX" % i)
            c.check(b == 0, "supervisor component %d must report offset 0" % i)
        else:
            c.check(not xss_sup >> i & 1, "component %d has ECX[0]=0 (user) but is in IA32_XSS mask" % i)
            c.check(xcr0 >> i & 1, "component %d has ECX[0]=0 but is not in CPUID(0xD,0).EAX" % i)
            c.check(b >= 576, "user component %d offset %d inside legacy area/header" % (i, b))
        if xfd and bit(cc, 2):
            xfd_mask |= 1 << i
        comps[i] = (a, b, cc)
    # user components must not overlap in the standard layout
    user = sorted((b, b + a, i) for i, (a, b, cc) in comps.items() if not cc & 1)
    for (s1, e1, i1), (s2, e2, i2) in zip(user, user[1:]):
        c.check(e1 <= s2, "standard-format components %d and %d overlap" % (i1, i2))
    max_std = max([576] + [e for _, e, _ in user])
    c.check(c0 == max_std, "CPUID(0xD,0).ECX=%d but max standard size is %d" % (c0, max_std))
    # EBX: size for the XCR0 currently loaded (dynamic); must lie in [576, ECX]
    c.check(576 <= b0 <= c0, "CPUID(0xD,0).EBX=%d not within [576, ECX]" % b0)
    c.check(a1 & 0xF == 0xF, "CPUID(0xD,1).EAX[3:0] (XSAVEOPT/XSAVEC/XGETBV1/XSAVES) != 0xF")

    def compacted(mask):
        off = 576
        for i in range(2, 19):
            if mask >> i & 1 and i in comps:
                a, b, cc = comps[i]
                if cc & 2:
                    off = (off + 63) & ~63
                off += a
        return off
    c.check(576 <= b1 <= compacted(xcr0 | xss),
            "CPUID(0xD,1).EBX=%d outside [576, %d]" % (b1, compacted(xcr0 | xss)))
    c.check(b1 == compacted(xcr0), "CPUID(0xD,1).EBX=%d != compacted size %d for XCR0=0x%X, XSS=0"
            % (b1, compacted(xcr0), xcr0))
    # SPR specific sizes (standard format offsets)
    spr = {2: (256, 576), 5: (64, 1088), 6: (512, 1152), 7: (1024, 1664), 9: (8, 2688),
           17: (64, 2752), 18: (8192, 2816), 8: (128, 0), 11: (16, 0), 12: (24, 0), 15: (808, 0)}
    for i, (sz, off) in spr.items():
        got = comps.get(i)
        c.check(got is not None and got[0] == sz and got[1] == off,
                "CPUID(0xD,%d) expected size %d offset %d, got %s" % (i, sz, off, got and got[:2]))
    c.check(xfd_mask == 1 << 18, "XFD-faulting mask 0x%X, expected TILEDATA only (0x40000)" % xfd_mask)
    fixed0 = int(abi["constants"]["TDX_XFAM_FIXED0"], 16)
    print("   components %s; XFD-faulting mask 0x%X; max std size %d; TDX XFAM allowed & supported 0x%X"
          % (sorted(comps), xfd_mask, max_std, fixed0 & (xcr0 | xss)))


def tsc_checks(c, m, abi):
    print("== leaf 0x15/0x16 (TSC) ==")
    a, b, cc, _ = m.cpuid(0x15, 0)
    c.check(b != 0, "CPUID(0x15).EBX == 0 (TDX_CPUID_LEAF_NOT_SUPPORTED + 0x15)")
    c.check(a != 0, "CPUID(0x15).EAX == 0")
    c.check(cc == abi["constants"]["VIRT_CRYSTAL_CLOCK_FREQUENCY"], "crystal clock %d != 25 MHz" % cc)
    tsc = cc * b // a if a else 0
    f16 = m.cpuid(0x16, 0)
    print("   crystal %d Hz, TSC %d Hz; leaf 0x16 base %d MHz max %d MHz bus %d MHz" % (cc, tsc, *f16[:3]))
    c.check(tsc == f16[0] * 1000000, "TSC from leaf 0x15 (%d) != base frequency from leaf 0x16" % tsc)
    c.check(tsc >= 1000000000, "native TSC frequency implausibly low")


def topology_checks(c, m):
    print("== leaf 0x1F/0xB topology and L3 (WBINVD) scope ==")
    LEVEL_MAX = 6  # level types 1..5 defined (SMT, core, module, tile, die)
    prev = 0
    shift = None
    core_shift = 0
    core_seen = False
    l3_sharing = field(m.cpuid(4, 3)[0], 25, 14)
    c.check(field(m.cpuid(4, 3)[0], 7, 5) == 3, "CPUID(4,3) is not the L3 cache")
    pkg_shift = None
    for s in range(6):
        a, b, cc, d = m.cpuid(0x1F, s)
        lt = field(cc, 15, 8)
        c.check(field(cc, 7, 0) == s, "CPUID(0x1F,%d).ECX[7:0] != sub-leaf number" % s)
        if lt != 0:
            if not c.check(prev < lt < LEVEL_MAX, "CPUID(0x1F,%d) level type %d not increasing (1F_FORMAT_UNRECOGNIZED)" % (s, lt)):
                break
            shift = a & 0x1F
            if lt == 1:
                core_shift = shift
            elif lt == 2:
                core_seen = True
        else:
            c.check(s != 0, "CPUID(0x1F,0) invalid: leaf 0x1F not supported")
            c.check(core_seen, "no core level before first invalid 0x1F sub-leaf")
            if prev != 0:
                pkg_shift = shift
                c.check(shift is not None and l3_sharing >> (shift - 1) == 1,
                        "L3 sharing field %d not package-scoped for package shift %d (TDX_INVALID_WBINVD_SCOPE)"
                        % (l3_sharing, shift))
        prev = lt
    c.check(pkg_shift is not None, "no invalid sub-leaf terminates CPUID(0x1F)")
    lps = m.cpuid(0x1F, 1)[1] & 0xFFFF
    tpc = m.cpuid(0x1F, 0)[1] & 0xFFFF
    print("   SMT shift %d, package shift %s, %d threads/core, %d LPs/package, L3 shared by %d"
          % (core_shift, pkg_shift, tpc, lps, l3_sharing + 1))
    c.check(tpc == 2, "expected 2 threads per core")
    c.check(field(m.cpuid(1, 0)[1], 23, 16) == lps, "CPUID(1).EBX[23:16] != LPs per package")
    for s in range(3):
        c.check(m.cpuid(0xB, s)[:3] == m.cpuid(0x1F, s)[:3], "CPUID(0xB,%d) differs from CPUID(0x1F,%d)" % (s, s))
    cores_m1 = field(m.cpuid(4, 0)[0], 31, 26)
    c.check((cores_m1 + 1) * tpc == lps, "CPUID(4).EAX[31:26]+1 cores x %d threads != %d LPs" % (tpc, lps))
    for s in range(4):
        c.check(field(m.cpuid(4, s)[1], 11, 0) == 0x3F, "CPUID(4,%d) line size != 64" % s)
    c.check(field(m.cpuid(4, 4)[0], 4, 0) == 0, "CPUID(4,4) must be the null cache type")


def addr_checks(c, m, doc):
    print("== leaf 0x80000008 (address widths) ==")
    a = m.cpuid(0x80000008, 0)[0]
    pa, la = a & 0xFF, field(a, 15, 8)
    la57 = bit(m.cpuid(7, 0)[2], 16)
    c.check(pa <= 52, "MAX_PA %d > 52" % pa)
    c.check(la == (57 if la57 else 48), "LA bits %d inconsistent with LA57=%d" % (la, la57))
    c.check(pa == doc.get("max_pa") and la == doc.get("max_va"),
            "max_pa/max_va (%s/%s) disagree with CPUID 0x80000008 (%d/%d)" % (doc.get("max_pa"), doc.get("max_va"), pa, la))
    print("   PA %d bits, LA %d bits, LA57=%d" % (pa, la, la57))


def msr_checks(c, m, doc):
    print("== MSRs sampled by TDH.SYS.INIT / TDH.SYS.LP.INIT ==")
    msrs = {}
    for i, e in enumerate(doc.get("msrs", [])):
        idx = parse_hex(c, e.get("index"), "msrs[%d].index" % i)
        val = parse_hex(c, e.get("value"), "msrs[%d].value" % i, 64)
        c.check(isinstance(e.get("name"), str), "msrs[%d] has no name" % i)
        c.check(idx not in msrs, "msrs[%d]: duplicate MSR 0x%X" % (i, idx))
        msrs[idx] = val

    def need(idx, name):
        ok = c.check(idx in msrs, "MSR %s (0x%X) missing" % (name, idx))
        return msrs.get(idx, 0)

    e7 = m.cpuid(7, 0)
    misc = need(0x1A0, "IA32_MISC_ENABLE")
    c.check(not bit(misc, 22), "IA32_MISC_ENABLE[22] LIMIT_CPUID_MAXVAL set (TDX_LIMIT_CPUID_MAXVAL_SET)")
    c.check(bit(misc, 7) and not bit(misc, 11), "IA32_MISC_ENABLE: perfmon unavailable or BTS unavailable")
    ac = need(0x10A, "IA32_ARCH_CAPABILITIES")
    c.check(bit(e7[3], 29) == 1, "ARCH_CAPABILITIES MSR listed but CPUID(7).EDX[29]=0")
    req1 = {0: "RDCL_NO", 1: "IBRS_ALL", 3: "SKIP_L1DFL_VMENTRY", 5: "MDS_NO", 6: "IF_PSCHANGE_MC_NO",
            8: "TAA_NO", 10: "MISC_PACKAGE_CTLS", 11: "ENERGY_FILTERING_CTL", 12: "DOITM",
            13: "SBDR_SSDP_NO", 14: "FBSDP_NO", 15: "PSDP_NO", 21: "XAPIC_DISABLE_STATUS"}
    req0 = {2: "RSBA", 18: "FB_CLEAR_CTRL"}
    for b, n in req1.items():
        c.check(bit(ac, b) == 1, "IA32_ARCH_CAPABILITIES.%s (bit %d) must be 1" % (n, b))
    for b, n in req0.items():
        c.check(bit(ac, b) == 0, "IA32_ARCH_CAPABILITIES.%s (bit %d) must be 0" % (n, b))
    if bit(ac, 7):
        tsx = need(0x122, "IA32_TSX_CTRL")
        c.check(tsx & ~3 == 0, "IA32_TSX_CTRL reserved bits set")
        if bit(e7[1], 4) or bit(e7[1], 11):
            c.check(tsx & 3 == 0, "TSX enumerated in CPUID but IA32_TSX_CTRL disables it/clears CPUID")
    else:
        c.check(not bit(e7[1], 4), "HLE=1 requires IA32_ARCH_CAPABILITIES.TSX_CTRL=1 (TDH.MNG.INIT)")
    if bit(e7[3], 30):
        need(0xCF, "IA32_CORE_CAPABILITIES")
    c.check(need(0xBD, "IA32_XAPIC_DISABLE_STATUS") == 1, "IA32_XAPIC_DISABLE_STATUS must be exactly 1")
    c.check(bit(need(0xBC, "IA32_MISC_PACKAGE_CTLS"), 0), "IA32_MISC_PACKAGE_CTLS.ENERGY_FILTERING_ENABLE must be 1")
    pc = need(0x345, "IA32_PERF_CAPABILITIES")
    c.check(bit(pc, 12) and bit(pc, 13), "IA32_PERF_CAPABILITIES FREEZE_WHILE_SMM/FULL_WRITE must be 1")
    need(0x3B, "IA32_TSC_ADJUST")
    # SMRR
    cap = need(0xFE, "IA32_MTRRCAP")
    c.check(bit(cap, 11) and bit(cap, 14), "IA32_MTRRCAP.SMRR and SMRR_LOCK must be 1")
    c.check(bit(cap, 15), "IA32_MTRRCAP.SEAMRR should be 1 on a TDX platform")
    if 0x1F6 not in msrs:
        c.check(not bit(cap, 13), "IA32_MTRRCAP.SMRR2=1 but no SMRR2 MSRs listed")
    sb, sm = need(0x1F2, "SMRR_PHYSBASE"), need(0x1F3, "SMRR_PHYSMASK")
    c.check(bit(sm, 10), "SMRR not locked (TDX_SMRR_NOT_LOCKED)")
    smrr_base = smrr_size = None
    if bit(sm, 11):
        mask = sm & 0xFFFFF000
        lsb = (mask & -mask).bit_length() - 1 if mask else None
        ok = lsb is not None and mask == (0xFFFFFFFF & ~((1 << lsb) - 1)) and (sb & 0xFFFFF000) & ((1 << lsb) - 1) == 0
        c.check(ok, "SMRR mask/base invalid (TDX_INVALID_SMRR_CONFIGURATION)")
        if ok:
            smrr_base, smrr_size = sb & 0xFFFFF000, 1 << lsb
    # Key management
    max_pa = m.cpuid(0x80000008, 0)[0] & 0xFF
    tcap = need(0x981, "IA32_TME_CAPABILITY")
    tact = need(0x982, "IA32_TME_ACTIVATE")
    c.check(bit(e7[2], 13), "TME MSRs listed but CPUID(7).ECX[13] TME_EN=0")
    c.check(bit(tact, 0), "IA32_TME_ACTIVATE not locked")
    c.check(bit(tact, 1), "IA32_TME_ACTIVATE.TME_ENABLE=0")
    c.check(bit(tcap, 1) or bit(tcap, 3), "IA32_TME_CAPABILITY: no AES-XTS with integrity")
    c.check(bit(tact, 49) or bit(tact, 51), "IA32_TME_ACTIVATE: AES-XTS-128/256 with integrity not activated")
    c.check(tact >> 48 & 0xF & ~(tcap & 0xF) == 0, "IA32_TME_ACTIVATE activates algorithms not in TME_CAPABILITY")
    kbits = field(tact, 35, 32)
    tdx_bits = field(tact, 39, 36)
    c.check(kbits <= field(tcap, 35, 32), "MK_TME_KEYID_BITS exceeds MK_TME_MAX_KEYID_BITS")
    part = need(0x87, "IA32_MKTME_KEYID_PARTITIONING")
    n_mk, n_tdx = part & 0xFFFFFFFF, part >> 32
    c.check((n_mk, n_tdx) == (31, 32), "KEYID partitioning (%d MKTME, %d TDX) != (31, 32)" % (n_mk, n_tdx))
    c.check(n_tdx == (1 << tdx_bits) and n_mk + n_tdx + 1 == (1 << kbits),
            "KEYID partitioning inconsistent with TME_ACTIVATE keyid bits (%d total, %d TDX)" % (kbits, tdx_bits))
    c.check(n_mk + n_tdx <= field(tcap, 50, 36), "more KeyIDs than MK_TME_MAX_KEYS")
    hkid_start = max_pa - kbits
    print("   HKID bits %d..%d, MKTME KeyIDs 1..%d, TDX private KeyIDs %d..%d"
          % (hkid_start, max_pa - 1, n_mk, n_mk + 1, n_mk + n_tdx))
    # SEAMRR
    pa_mask = ((1 << max_pa) - 1) & ~((1 << 25) - 1)
    b_ = need(0x1400, "IA32_SEAMRR_PHYS_BASE")
    k_ = need(0x1401, "IA32_SEAMRR_PHYS_MASK")
    c.check(bit(b_, 3), "SEAMRR base not CONFIGURED")
    c.check(bit(k_, 10) and bit(k_, 11), "SEAMRR mask not LOCKED/VALID")
    c.check(b_ & ~(pa_mask | 0x8) == 0 and k_ & ~(pa_mask | 0xC00) == 0, "SEAMRR reserved bits set")
    sm_ = k_ & pa_mask
    c.check(sm_ != 0 and (sm_ | ((sm_ & -sm_) - 1)) == (1 << max_pa) - 1, "SEAMRR mask not contiguous")
    seam_base, seam_size = b_ & pa_mask, (sm_ & -sm_) if sm_ else 0
    c.check(seam_base % max(seam_size, 1) == 0, "SEAMRR base not aligned to its size")
    c.check(seam_base & (((1 << max_pa) - 1) & ~((1 << hkid_start) - 1)) == 0, "SEAMRR base uses HKID bits")
    if smrr_base is not None:
        c.check(seam_base + seam_size <= smrr_base or smrr_base + smrr_size <= seam_base, "SEAMRR overlaps SMRR")
    print("   SEAMRR 0x%X + 0x%X, SMRR %s" % (seam_base, seam_size,
          "0x%X + 0x%X" % (smrr_base, smrr_size) if smrr_base is not None else "invalid"))
    w1, w2 = need(0x98, "IA32_WBINVDP"), need(0x99, "IA32_WBNOINVDP")
    c.check(w1 == w2 and w1 != 0, "IA32_WBINVDP (%d) and IA32_WBNOINVDP (%d) must be equal and non-zero" % (w1, w2))


def post_processing_report(c, m, abi):
    """complete_cpuid_handling(): value &= ~fixed0_or_dynamic; value |= fixed1."""
    print("== baseline after TDH.SYS.CONFIG post-processing (selected) ==")
    for e in abi["lookup_table"]:
        if not e["valid"]:
            continue
        leaf, sub = int(e["leaf"], 16), int(e["subleaf"], 16)
        v = m.cpuid(leaf, sub)
        base = [(v[i] & ~int(e["fixed0_or_dynamic"][r], 16)) | int(e["fixed1"][r], 16) for i, r in enumerate(REGS)]
        if (leaf, sub) in ((0, SUBLEAF_NA), (1, SUBLEAF_NA), (7, 0), (0x15, SUBLEAF_NA), (0x80000008, SUBLEAF_NA)):
            print("   CPUID(0x%X,%s) -> %s" % (leaf, "NA" if sub == SUBLEAF_NA else "0x%X" % sub,
                                             " ".join("%08X" % x for x in base)))


def doc_checks(c, doc):
    print("== document shape ==")
    for k in ("name", "description", "sources", "max_pa", "max_va", "leaves"):
        c.check(k in doc, "top-level key %r missing" % k)
    c.check(doc.get("name") == "sapphire-rapids", "name must be 'sapphire-rapids'")
    c.check(isinstance(doc.get("sources"), list) and all(isinstance(s, str) for s in doc.get("sources", [])),
            "sources must be a list of strings")


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else DEF_MODEL
    abi_path = sys.argv[2] if len(sys.argv) > 2 else DEF_ABI
    with open(model_path) as f:
        doc = json.load(f)
    with open(abi_path) as f:
        abi = json.load(f)
    c = Checker()
    doc_checks(c, doc)
    m = Model(c, doc)
    print("   %d leaf entries (%d subleaf-independent), %d MSRs"
          % (len(doc["leaves"]), len(m.na), len(doc.get("msrs", []))))
    lookup_table_checks(c, m, abi)
    lp_init_checks(c, m, abi, doc)
    basic_checks(c, m, doc)
    fms_checks(c, m, abi)
    feature_checks(c, m, doc)
    perfmon_checks(c, m)
    xsave_checks(c, m, abi)
    tsc_checks(c, m, abi)
    topology_checks(c, m)
    addr_checks(c, m, doc)
    msr_checks(c, m, doc)
    post_processing_report(c, m, abi)
    print("RESULT: %d checks passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
