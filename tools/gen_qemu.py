#!/usr/bin/env python3
"""Generate build/gen/qemu_cpu.h: QEMU's x86 CPUID feature words, the CPU models tdxemu knows,
and QEMU's TDX tables (fixed-1 bits, attribute and XFAM dependencies, messages), from
data/qemu/feature-words.json, cpu-models.json and tdx.json.
Usage: gen_qemu.py <data/qemu dir> <out.h>"""
import json
import os
import re
import sys

REGS = {"EAX": 0, "EBX": 1, "ECX": 2, "EDX": 3}


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def die(msg):
    sys.stderr.write("gen_qemu.py: %s\n" % msg)
    sys.exit(1)


def cstr(s):
    return "NULL" if s is None else '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def ident(s):
    return re.sub(r"[^A-Za-z0-9]", "_", s).upper()


class Words:
    def __init__(self, fw):
        self.list = fw["words"]
        self.index = {}
        seen = set()
        for i, w in enumerate(self.list):
            if w["word"] in self.index:
                die("duplicate word %s" % w["word"])
            self.index[w["word"]] = i
            if w["reg"] not in REGS:
                die("%s: bad register %s" % (w["word"], w["reg"]))
            if len(w["names"]) not in (0, 32):
                die("%s: names must be empty or 32 entries" % w["word"])
            for n in w["names"]:
                if n is not None and n in seen:
                    die("feature name %s appears twice" % n)
                if n is not None:
                    seen.add(n)

    def idx(self, word):
        if word not in self.index:
            die("unknown feature word %s" % word)
        return self.index[word]

    def bit(self, word, name_or_bit):
        """A feature name of that word or a bare bit number -> bit number."""
        w = self.list[self.idx(word)]
        if isinstance(name_or_bit, int):
            if not 0 <= name_or_bit < 32:
                die("%s: bit %d out of range" % (word, name_or_bit))
            return name_or_bit
        if name_or_bit not in w["names"]:
            die("%s has no feature '%s'" % (word, name_or_bit))
        return w["names"].index(name_or_bit)

    def mask(self, word, items):
        m = 0
        for it in items:
            m |= 1 << self.bit(word, it)
        return m


def emit_words(out, words):
    out.append("enum qemu_feature_word {")
    for w in words.list:
        out.append("\tQ%s," % w["word"])
    out.append("\tQEMU_FEATURE_WORDS")
    out.append("};")
    out.append("")
    out.append("struct qemu_feature_word_info {")
    out.append("\tconst char *word;")
    out.append("\tuint32_t leaf, subleaf; /* subleaf meaningful when needs_ecx */")
    out.append("\tbool needs_ecx;")
    out.append("\tuint8_t reg;            /* 0 EAX, 1 EBX, 2 ECX, 3 EDX (kvm_cpuid_entry2 order) */")
    out.append("\tuint32_t no_autoenable; /* bits -cpu host/max does not turn on by itself */")
    out.append("\tconst char *names[32];")
    out.append("};")
    out.append("static const struct qemu_feature_word_info qemu_feature_words[QEMU_FEATURE_WORDS] "
               "__attribute__((unused)) = {")
    for w in words.list:
        names = w["names"] or [None] * 32
        sub = w.get("subleaf")
        out.append("\t[Q%s] = { \"%s\", 0x%X, 0x%X, %s, %d, 0x%08X," % (
            w["word"], w["word"], num(w["leaf"]), num(sub) if sub is not None else 0,
            "true" if sub is not None else "false", REGS[w["reg"]], words.mask(w["word"], w.get("no_autoenable", []))))
        out.append("\t\t{ %s } }," % ", ".join(cstr(n) for n in names))
    out.append("};")
    out.append("static const char *const qemu_reg_names[4] __attribute__((unused)) = "
               "{ \"EAX\", \"EBX\", \"ECX\", \"EDX\" };")
    out.append("")


def emit_word_array(out, words, name, per_word, comment):
    out.append("/* %s */" % comment)
    out.append("static const uint32_t %s[QEMU_FEATURE_WORDS] __attribute__((unused)) = {" % name)
    for word, items in per_word.items():
        out.append("\t[Q%s] = 0x%08X," % (word, words.mask(word, items)))
    out.append("};")
    out.append("")


def emit_models(out, words, models):
    out.append("struct qemu_cpu_model {")
    out.append("\tconst char *name, *alias;")
    out.append("\tbool max_features;     /* host/max: every supported feature */")
    out.append("\tbool qemu_tdx_accepts; /* QEMU's tdx_cpu_instance_init() lets it through */")
    out.append("\tuint32_t level, xlevel, family, model, stepping;")
    out.append("\tuint32_t features[QEMU_FEATURE_WORDS];")
    out.append("};")
    out.append("#define QEMU_CPU_MODEL_COUNT %d" % len(models["models"]))
    out.append("static const struct qemu_cpu_model qemu_cpu_models[QEMU_CPU_MODEL_COUNT] __attribute__((unused)) = {")
    for m in models["models"]:
        feats = ", ".join("[Q%s] = 0x%08X" % (w, words.mask(w, items)) for w, items in m.get("features", {}).items())
        aliases = m.get("aliases", [])
        if len(aliases) > 1:
            die("%s: one alias at most" % m["name"])
        out.append("\t{ %s, %s, %s, %s, 0x%X, 0x%X, %d, %d, %d, { %s } }," % (
            cstr(m["name"]), cstr(aliases[0] if aliases else None), "true" if m["max_features"] else "false",
            "true" if m["qemu_tdx_accepts"] else "false", num(m.get("level", 0)), num(m.get("xlevel", 0)),
            m.get("family", 0), m.get("model", 0), m.get("stepping", 0), feats))
    out.append("};")
    out.append("")


def emit_masked(out, words, name, entries, key, comment):
    out.append("/* %s */" % comment)
    out.append("struct %s { uint8_t %s; uint8_t word; uint32_t mask; };" % (name, key))
    out.append("#define %s_COUNT %d" % (name.upper(), len(entries)))
    out.append("static const struct %s %ss[%d] __attribute__((unused)) = {" % (name, name, len(entries)))
    for e in entries:
        bit = words.bit(e["word"], e["feature"] if "feature" in e else e["bit"])
        out.append("\t{ %d, Q%s, 0x%08X }," % (e[key], e["word"], 1 << bit))
    out.append("};")
    out.append("")


def emit_xsave(out, words, fw):
    comps = fw["xsave_components"]
    out.append("/* x86_ext_save_areas[]: the XSAVE component each feature turns on. */")
    out.append("struct qemu_xsave_component { uint8_t bit; uint8_t word; uint32_t mask; };")
    out.append("#define QEMU_XSAVE_COMPONENT_COUNT %d" % len(comps))
    out.append("static const struct qemu_xsave_component qemu_xsave_components[%d] __attribute__((unused)) = {" %
               len(comps))
    for c in comps:
        out.append("\t{ %d, Q%s, 0x%08X }," % (c["bit"], c["word"], 1 << words.bit(c["word"], c["feature"])))
    out.append("};")
    names = [None] * 64
    for k, v in fw["xfam_bit_names"].items():
        names[int(k)] = v
    out.append("static const char *const qemu_xfam_bit_names[64] __attribute__((unused)) = {")
    out.append("\t%s" % ", ".join(cstr(n) for n in names))
    out.append("};")
    out.append("")


def emit_tdx(out, words, tdx):
    emit_word_array(out, words, "qemu_tdx_fixed1", tdx["fixed1"], "tdx_fixed1_bits, per feature word")
    emit_masked(out, words, "qemu_tdx_attr_map", tdx["attrs_map"], "attr_bit", "tdx_attrs_maps[]")
    emit_masked(out, words, "qemu_tdx_xfam_dep", tdx["xfam_deps"], "xfam_bit", "tdx_xfam_deps[]")
    out.append("#define QEMU_XSTATE_XCR0_MASK UINT64_C(0x%X)" % num(tdx["xstate_xcr0_mask"]))
    out.append("#define QEMU_XSTATE_XSS_MASK UINT64_C(0x%X)" % num(tdx["xstate_xss_mask"]))
    out.append("#define QEMU_XSAVE_XFD_WORD Q%s" % tdx["xsave_xfd_word"])
    out.append("#define QEMU_XSAVE_XFD_MASK 0x%08X" % (1 << words.bit(tdx["xsave_xfd_word"], tdx["xsave_xfd_feature"])))
    attrs = tdx["supported_td_attrs"]
    names = [None] * 64
    for n, b in attrs.items():
        out.append("#define QEMU_TD_ATTR_%s UINT64_C(0x%X)" % (ident(n), 1 << b))
        names[b] = n
    out.append("static const char *const qemu_td_attr_names[64] __attribute__((unused)) = {")
    out.append("\t%s" % ", ".join(cstr(n) for n in names))
    out.append("};")
    for key in ("qemu_supported_td_attrs", "default_attributes"):
        m = 0
        for n in tdx[key]:
            if n not in attrs:
                die("%s: unknown attribute %s" % (key, n))
            m |= 1 << attrs[n]
        out.append("#define QEMU_TDX_%s UINT64_C(0x%X)" % (ident(key.replace("qemu_", "")), m))
    for k, v in tdx["messages"].items():
        out.append("#define QEMU_MSG_%s %s" % (ident(k), cstr(v)))
    for k in ("min", "max", "granularity"):
        out.append("#define QEMU_TDX_TSC_KHZ_%s %d" % (k.upper(), num(tdx["tsc_khz"][k])))
    gq = tdx["get_quote"]
    out.append("/* TDG.VP.VMCALL<GetQuote> shared buffer (QEMU's struct tdx_get_quote_header) */")
    out.append("#define QEMU_GET_QUOTE_STRUCTURE_VERSION UINT64_C(%d)" % num(gq["structure_version"]))
    out.append("#define QEMU_GET_QUOTE_HDR_SIZE %du" % num(gq["header_size"]))
    out.append("#define QEMU_GET_QUOTE_MAX_BUF_LEN UINT64_C(0x%X)" % num(gq["max_buf_len"]))
    for k, v in gq["error_codes"].items():
        out.append("#define QEMU_GET_QUOTE_%s UINT64_C(0x%X)" % (ident(k), num(v)))
    out.append("#define QEMU_GET_QUOTE_MAX_REQUESTS %du" % num(gq["max_requests"]))
    out.append("#define QEMU_GET_QUOTE_TIMEOUT_MS %du" % num(gq["transaction_timeout_ms"]))
    out.append("/* QGS messages (tdx-quote-generator.c: qgs_msg_header_t and friends) */")
    for k, v in gq["qgs"].items():
        out.append("#define QEMU_QGS_%s %du" % (ident(k), num(v)))
    ti = tdx["tdvmcallinfo_1"]
    out.append("/* GetTdVmCallInfo leaf 1: what QEMU serves (SUPPORTED_TDVMCALLINFO_1_R11/R12) */")
    out.append("#define QEMU_TDVMCALLINFO_1_R11 UINT64_C(0x%X)" % num(ti["supported_r11"]))
    out.append("#define QEMU_TDVMCALLINFO_1_R12 UINT64_C(0x%X)" % num(ti["supported_r12"]))
    out.append("")


def main():
    if len(sys.argv) != 3:
        die("usage: gen_qemu.py <data/qemu dir> <out.h>")
    d = sys.argv[1]
    with open(os.path.join(d, "feature-words.json")) as f:
        fw = json.load(f)
    with open(os.path.join(d, "cpu-models.json")) as f:
        models = json.load(f)
    with open(os.path.join(d, "tdx.json")) as f:
        tdx = json.load(f)
    for name, doc in (("feature-words.json", fw), ("cpu-models.json", models), ("tdx.json", tdx)):
        if not doc.get("source"):
            die("%s: no source record" % name)
    words = Words(fw)
    out = ["/* Generated by tools/gen_qemu.py from data/qemu/ (JSON): QEMU's x86 CPU feature data. */",
           "#ifndef TDXEMU_QEMU_CPU_H", "#define TDXEMU_QEMU_CPU_H", "", "#include <stdbool.h>", "#include <stddef.h>",
           "#include <stdint.h>", ""]
    emit_words(out, words)
    fmts = fw["description_formats"]
    out.append("#define QEMU_DESC_CURRENT_PLAIN %s" % cstr(fmts["current"]["plain"]))
    out.append("#define QEMU_DESC_CURRENT_SUBLEAF %s" % cstr(fmts["current"]["subleaf"]))
    out.append("#define QEMU_DESC_LEGACY_PLAIN %s" % cstr(fmts["legacy"]["plain"]))
    out.append("#define QEMU_DESC_LEGACY_SUBLEAF %s" % cstr(fmts["legacy"]["subleaf"]))
    out.append("#define QEMU_WARNING_FORMAT %s" % cstr(fw["warning_format"]))
    out.append("")
    emit_models(out, words, models)
    emit_xsave(out, words, fw)
    emit_tdx(out, words, tdx)
    out.append("#endif")
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, sys.argv[2])


if __name__ == "__main__":
    main()
