#!/bin/bash
# Command-line behaviour of tdxemu: exit codes, messages, JSON and SVG output.
BIN=${1:-build/tdxemu}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME EXIT_CODE PATTERN -- ARGS...   (PATTERN is matched against stdout+stderr)
expect() {
	local name=$1 code=$2 pat=$3; shift 4
	"$BIN" "$@" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" != "$code" ] || ! grep -qE -- "$pat" "$tmp/out"; then
		echo "FAIL $name: exit $rc (want $code), output:" ; sed 's/^/    /' "$tmp/out" | head -8
		fail=$((fail + 1))
	else
		echo "ok   $name"
		pass=$((pass + 1))
	fi
}

expect no-args 2 'usage: tdxemu' --
expect help 0 'module info' -- help
expect unknown-command 2 "unknown command 'frobnicate'" -- frobnicate
expect unknown-subcommand 2 'unknown subcommand' -- module frob
expect bad-size 2 "--memory: 'lots' is not a size" -- module info --memory lots
expect size-too-small 2 'outside 1G..4T' -- module info --memory 512M
expect bad-packages 2 "--packages: '9' is not a number in 1..8" -- module info --packages 9
expect bad-cpus 2 "--cpus-per-package: '-1'" -- module info --cpus-per-package -1
expect bad-e820 2 'TYPE@BASE\+SIZE' -- module info --e820 ram@0
expect bad-e820-type 2 "unknown type 'rom'" -- module info --e820 rom@0+4K
expect extra-arg 2 "unexpected argument 'x'" -- module info x
expect bad-option 2 'usage: tdxemu module info' -- module info --frob
expect unknown-profile 1 "unknown TDX module profile 'tdx-9.9'" -- module info --profile tdx-9.9
expect no-tdx-keyids 1 'bring-up failed: No such device' -- module info --tdx-keyids 0
expect bad-keyids 1 'power of two' -- module info --keyids 48
expect bad-cmrs 2 "--cmrs: 'x' is not BASE\+SIZE" -- module info --cmrs x
expect cmrs-too-small 1 'TDX_TDMR_OUTSIDE_CMRS|TDX_PAMT_OUTSIDE_CMRS' -- module info --cmrs 1M+1G,4G+8G
expect keyid-split 0 'TDX private \[96, 128\); global KeyID 96' -- module info --keyids 128 --tdx-keyids 32
expect max-pa-46 0 'MAX_PA 46' -- module info --max-pa 46 --memory 8G
expect default 0 'TDX module 1\.5\.01' -- module info
expect default-tdmrs 0 'TDMR0 +\[0x000000000000, 0x000080000000\)' -- module info
expect default-pamt 0 'PAMT: 4K level 256\.0 MiB' -- module info
expect verbose-log 0 'virt/tdx: module initialized' -- module info -v --memory 8G
expect big-host 0 'TDMRs: 3 of at most 64' -- module info --memory 128G --packages 2 --cpus-per-package 2
expect four-tib 0 'PAMT: 4K level 16384.0 MiB' -- module info --memory 4T

ranges="ram@1M+255M"; for i in $(seq 1 70); do ranges="$ranges,ram@$((2 * i))G+256M"; done
expect too-many-tdmrs 1 'needs more than 64 TDMRs' -- module info --e820 "$ranges" --packages 1

# JSON is valid and says what the text says
if "$BIN" module info --json --memory 16G > "$tmp/info.json" &&
   /usr/bin/python3 - "$tmp/info.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == "1.5.01", d["version"]
assert d["keyids"]["global"] == 32
assert len(d["tdmrs"]) >= 2
assert abs(d["pamt_bytes"]["fraction_of_ram"] - 1 / 256) < 0.0005
assert "NO_RBP_MOD" in d["features"]
PY
then echo "ok   json"; pass=$((pass + 1)); else echo "FAIL json"; fail=$((fail + 1)); fi

# SVG is well-formed XML with one rectangle per TDMR at least
if "$BIN" module info --svg "$tmp/map.svg" > /dev/null &&
   /usr/bin/python3 -c "import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); assert len(d.getElementsByTagName('rect')) > 10" "$tmp/map.svg"
then echo "ok   svg"; pass=$((pass + 1)); else echo "FAIL svg"; fail=$((fail + 1)); fi
expect svg-unwritable 1 'cannot write /nonexistent/map.svg' -- module info --svg /nonexistent/map.svg

# tdxemu measure: the MRTD of Debian's OVMF equals the independent Python calculation,
# in both orders; bad input is refused precisely
OVMF=/usr/share/ovmf/OVMF.fd
for order in per-page two-pass; do
	key=interleaved; [ "$order" = two-pass ] && key=two_pass
	want=$(/usr/bin/python3 tools/mrtd_reference.py --json "$OVMF" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['mrtd_$key'])")
	got=$("$BIN" measure -bios "$OVMF" --add-order $order --json 2>"$tmp/err" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['mrtd'])" 2>/dev/null)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then echo "ok   measure-$order"; pass=$((pass + 1));
	else echo "FAIL measure-$order: got '$got' want '$want'"; cat "$tmp/err"; fail=$((fail + 1)); fi
done
expect measure-text 0 '^MRTD +[0-9a-f]{96}$' -- measure -bios "$OVMF" -m 4096
expect measure-no-bios 2 '-bios FILE is required' -- measure
expect measure-missing 1 'nonexistent.fd: No such file or directory' -- measure -bios /nonexistent.fd
expect measure-not-tdvf 1 'no OVMF GUIDed footer table' -- measure -bios /etc/passwd
expect measure-bad-order 2 "--add-order: 'sideways'" -- measure -bios "$OVMF" --add-order sideways
expect measure-bad-mem 2 'TD memory must be 32M..4T' -- measure -bios "$OVMF" -m 8M

# a second module profile: version and the profile's configurable CPUID leaf count
expect profile-1.5.06 0 'TDX module 1\.5\.06 \(profile tdx-1\.5\.06\)' -- module info --profile tdx-1.5.06
expect profile-1.5.06-cpuid 0 '^  18 configurable CPUID leaves' -- module info --profile tdx-1.5.06
# tdxemu caps: KVM_TDX_CAPABILITIES in text and JSON; bad input refused precisely
expect caps-text 0 '^supported_xfam +0x0000000000061ae7 +x87 SSE AVX' -- caps
expect caps-bad-profile 2 "--profile: unknown TDX module profile 'nope' \(known: tdx-1.5.01 tdx-1.5.06\)" -- caps --profile nope
expect caps-extra-arg 2 "unexpected argument 'x'" -- caps x
if "$BIN" caps --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["profile"] == "tdx-1.5.01"
assert int(d["supported_attrs"], 16) & (1 << 28) and "SEPT_VE_DISABLE" in d["supported_attrs_names"]
assert int(d["supported_xfam"], 16) & 3 == 3 and d["supported_xfam_names"][:2] == ["x87", "SSE"]
leaves = [(int(e["leaf"], 16), e["subleaf"]) for e in d["cpuid"]]
assert (1, None) in leaves and (0x80000008, None) in leaves, leaves
'
then echo "ok   caps-json"; pass=$((pass + 1)); else echo "FAIL caps-json"; fail=$((fail + 1)); fi

# tdxemu cpuid: QEMU's warnings (both wordings), enforce, origins, bad input
expect cpuid-unsupported 0 "^warning: host doesn't support requested feature: CPUID\.07H:EBX\.intel-pt \[bit 25\]$" -- cpuid -cpu host,+intel-pt
expect cpuid-forced-on 0 '^warning: TDX forcibly sets the feature: CPUID\.80000007H:EDX\.invtsc \[bit 8\]$' -- cpuid -cpu host,-invtsc
expect cpuid-new-wording 0 '^warning: TDX forcibly sets the feature: CPUID\[eax=80000007h\]\.EDX\.invtsc \[bit 8\]$' -- cpuid -cpu host,-invtsc --new-wording
expect cpuid-origins 0 'hypervisor\(fixed-1\)' -- cpuid -cpu host
expect cpuid-enforce 1 "^error: Host doesn't support requested features$" -- cpuid -cpu host,+intel-pt,enforce
expect cpuid-enforce-forced 1 '^error: TDX: requested CPU features' -- cpuid -cpu host,-invtsc,enforce
expect cpuid-named-model 0 'QEMU refuses named CPU models for TDX' -- cpuid -cpu SapphireRapids
expect cpuid-no-cpu 2 '-cpu MODEL is required' -- cpuid
expect cpuid-bad-model 2 "unknown CPU model 'Skylake'" -- cpuid -cpu Skylake
expect cpuid-bad-feature 2 "unknown feature 'nosuch'" -- cpuid -cpu host,+nosuch
expect cpuid-bad-syntax 2 'empty feature in the list' -- cpuid -cpu host,,avx
expect cpuid-bad-value 2 "'avx=maybe': the value must be on or off" -- cpuid -cpu host,avx=maybe
expect cpuid-bad-attributes 2 "--attributes: 'x' is not a 64-bit number" -- cpuid -cpu host --attributes x
expect cpuid-bad-profile 2 "unknown TDX module profile 'nope'" -- cpuid -cpu host --profile nope
expect cpuid-kvm-attributes 1 'Invalid attributes 0x1 for TDX VM \(KVM supported: 0x10000000\)' -- cpuid -cpu host --attributes 1
if "$BIN" cpuid -cpu SapphireRapids,-avx512f --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["model"] == "SapphireRapids" and d["qemu_accepts_model"] is False and d["failed"] is False
assert int(d["xfam"], 16) & 0xe0 == 0
regs = {(int(r["leaf"], 16), int(r["subleaf"], 16), r["reg"]): r for r in d["cpuid"]}
bits = {b["name"]: b for b in regs[(7, 0, "ECX")]["bits"] if b["name"]}
assert bits["avx512vbmi"]["value"] == 0 and bits["avx512vbmi"]["origin"] == "xfam", bits["avx512vbmi"]
hyp = [b for b in regs[(1, 0, "ECX")]["bits"] if b["name"] == "hypervisor"][0]
assert hyp["value"] == 1 and hyp["origin"] == "fixed-1"
assert any(m["kind"] == "note" for m in d["messages"])
'
then echo "ok   cpuid-json"; pass=$((pass + 1)); else echo "FAIL cpuid-json"; fail=$((fail + 1)); fi

# The built-in demo TD (guest/): `run --demo-image` writes it; it is a TDVF image whose MRTD
# `measure` computes like the independent Python calculator.
expect run-help 0 '^usage: tdxemu run +boot the built-in demo TD' -- run --help
expect run-demo-image-usage 2 '--demo-image takes exactly one FILE' -- run --demo-image
expect run-demo-image-unwritable 1 'cannot write /nonexistent/demo.fd' -- run --demo-image /nonexistent/demo.fd
expect run-demo-image 0 "^wrote the demo TD firmware \([0-9]+ bytes\) to $tmp/demo.fd$" -- run --demo-image "$tmp/demo.fd"
demo_want=$(/usr/bin/python3 tools/mrtd_reference.py --json "$tmp/demo.fd" 2>/dev/null |
	/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['mrtd_interleaved'])" 2>/dev/null)
demo_mrtd=$("$BIN" measure -bios "$tmp/demo.fd" -m 256M --json 2>"$tmp/err" |
	/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['mrtd'])" 2>/dev/null)
if [ -n "$demo_want" ] && [ "$demo_mrtd" = "$demo_want" ]; then echo "ok   measure-demo-td"; pass=$((pass + 1));
else echo "FAIL measure-demo-td: got '$demo_mrtd' want '$demo_want'"; cat "$tmp/err"; fail=$((fail + 1)); fi

# tdxemu run: execs the engine next to the tdxemu binary with the arguments untouched. A copy
# of tdxemu in a directory of its own, with a stand-in engine, checks the forwarding itself.
real_bin=$BIN
mkdir "$tmp/run" && cp "$real_bin" "$tmp/run/tdxemu"
BIN=$tmp/run/tdxemu
expect run-no-engine 1 "no engine at $tmp/run/qemu-system-x86_64 \(No such file or directory\): build it with 'make qemu'" -- run -version
expect run-demo-no-engine 1 "no engine at $tmp/run/qemu-system-x86_64 \(No such file or directory\)" -- run
printf '#!/bin/sh\nprintf "argc=%%d" $#; for a; do printf " [%%s]" "$a"; done; echo\necho "kvm=[$TDXEMU_KVM_PARAMS]"\n%s\nexit 7\n' \
	"for a; do case \$a in /proc/self/fd/*) cmp -s \"\$a\" '$tmp/demo.fd' && echo bios-is-the-demo;; esac; done" \
	> "$tmp/run/qemu-system-x86_64"
chmod +x "$tmp/run/qemu-system-x86_64"
expect run-forwards-args-and-exit 7 '^argc=4 \[-version\] \[a b\] \[\] \[--x=\*\]$' -- run -version "a b" "" '--x=*'
expect run-demo-args 7 '^argc=17 \[-accel\] \[tcg\] \[-object\] \[tdx-guest,id=tdx0\] \[-machine\] \[q35,confidential-guest-support=tdx0\] \[-bios\] \[/proc/self/fd/[0-9]+\] \[-m\] \[256M\] \[-smp\] \[2\] \[-nographic\] \[-nodefaults\] \[-serial\] \[stdio\] \[-no-reboot\]$' -- run
expect run-demo-memfd 7 '^bios-is-the-demo$' -- run
# --kvm-param NAME=VALUE (repeatable, before the rest): to the engine as TDXEMU_KVM_PARAMS
expect run-kvm-param-env 7 '^kvm=\[no_rbp_mod=N,x=1\]$' -- run --kvm-param no_rbp_mod=N --kvm-param x=1 -version
expect run-kvm-param-not-argv 7 '^argc=1 \[-version\]$' -- run --kvm-param no_rbp_mod=N -version
expect run-kvm-param-missing 2 '^tdxemu run: --kvm-param takes NAME=VALUE$' -- run --kvm-param
expect run-kvm-param-form 2 "^tdxemu run: --kvm-param 'no_rbp_mod': want NAME=VALUE" -- run --kvm-param no_rbp_mod -version
chmod -x "$tmp/run/qemu-system-x86_64"
expect run-engine-not-executable 1 'no engine at .*\(Permission denied\)' -- run -version
BIN=$real_bin

# tdxemu-bench's engine section without an engine: a clear skip line, exit 0.
benchbin=$(dirname "$BIN")/tdxemu-bench
if [ -x "$benchbin" ]; then
	out=$(TDXEMU_ENGINE=$tmp/no-engine "$benchbin" engine 2>&1); rc=$?
	if [ "$rc" = 0 ] && grep -qE "^engine: skipped, no engine at $tmp/no-engine " <<<"$out"; then
		echo "ok   bench-engine-skip"; pass=$((pass + 1))
	else echo "FAIL bench-engine-skip: exit $rc, output: $out"; fail=$((fail + 1)); fi
fi

# The real engine (make qemu): its -version names the module profiles of the library it links,
# which must be the ones this tdxemu knows; QEMU's own errors and exit codes come through.
engine=$(dirname "$BIN")/qemu-system-x86_64
if [ -x "$engine" ]; then
	profiles=$("$BIN" caps --profile '?' 2>&1 | sed -n 's/.*(known: \(.*\))$/\1/p' | sed 's/ /, /g')
	[ -n "$profiles" ] || { echo "FAIL run-qemu: cannot list the module profiles"; fail=$((fail + 1)); }
	expect run-qemu-version 0 "^QEMU emulator version [0-9]+\.[0-9]+" -- run -version
	expect run-qemu-tdxemu-line 0 "^tdxemu: TDX module profiles: ${profiles//./\\.}$" -- run -version
	expect run-qemu-bad-option 1 "invalid option" -- run -no-such-option
	expect run-qemu-tcg-starts 0 '^QEMU [0-9.]+ monitor' -- run -M none -accel tcg -display none -nodefaults \
		-monitor stdio < <(echo quit)
	# QEMU's TDX front-end refusals, with QEMU's messages (tdx_kvm_init, tdx_pre_create_vcpu,
	# tdx_cpu_instance_init) and exit 1
	if [ -r /usr/share/ovmf/OVMF.fd ]; then
		tdq=(run -accel tcg -object tdx-guest,id=tdx0 -bios /usr/share/ovmf/OVMF.fd -m 128M -display none
			-nodefaults -serial none)
		expect run-qemu-td-kvm-param-unknown 1 "tdx-guest: KVM parameter ept=1: unknown parameter \(known: no_rbp_mod\)" -- \
			run --kvm-param ept=1 "${tdq[@]:1}" -machine q35,confidential-guest-support=tdx0
		expect run-qemu-td-kvm-param-value 1 "tdx-guest: KVM parameter no_rbp_mod=2: not a boolean" -- \
			run --kvm-param no_rbp_mod=2 "${tdq[@]:1}" -machine q35,confidential-guest-support=tdx0
		# attributes as a per-object uint64 property (it once crashed QEMU): DEBUG is not among
		# what KVM supports (tdx_get_supported_attrs), so INIT_VM refuses it with EINVAL
		expect run-qemu-td-attributes-debug 1 "tdx-guest: KVM_TDX_INIT_VM failed: Invalid argument" -- \
			run -accel tcg -object tdx-guest,id=tdx0,attributes=0x10000001 "${tdq[@]:5}" \
			-machine q35,confidential-guest-support=tdx0
		expect run-qemu-td-smm 1 "TDX VM doesn't support SMM" -- "${tdq[@]}" -machine q35,confidential-guest-support=tdx0,smm=on
		expect run-qemu-td-pic 1 "TDX VM doesn't support PIC" -- "${tdq[@]}" -machine q35,confidential-guest-support=tdx0,pic=on
		expect run-qemu-td-tsc-granularity 1 "Invalid TSC 1000001 KHz, it must be multiple of 25MHz" -- "${tdq[@]}" \
			-machine q35,confidential-guest-support=tdx0 -cpu max,tsc-frequency=1000001000
		expect run-qemu-td-tsc-range 1 "Invalid TSC 50000 KHz, must specify cpu_frequency between \[100000, 10000000\] kHz" -- \
			"${tdq[@]}" -machine q35,confidential-guest-support=tdx0 -cpu max,tsc-frequency=50000000
		expect run-qemu-td-named-model 1 "Named cpu model is not supported for TDX yet!" -- "${tdq[@]}" \
			-machine q35,confidential-guest-support=tdx0 -cpu SapphireRapids
		expect run-qemu-td-forced-feature 1 "warning: TDX forcibly sets the feature: CPUID\[eax=07h,ecx=02h\]" -- "${tdq[@]}" \
			-machine q35,confidential-guest-support=tdx0 -cpu SapphireRapids
	fi
	# TD mode: Debian's OVMF as a TD with QEMU's TDX command line runs its first TDCALLs and
	# TDVMCALLs through the module and KVM (bounded: the boot is not complete yet).
	if [ -r /usr/share/ovmf/OVMF.fd ]; then
		TDXEMU_TRACE=1 timeout 20 "$BIN" run -accel tcg -object tdx-guest,id=tdx0 \
			-machine q35,confidential-guest-support=tdx0 -bios /usr/share/ovmf/OVMF.fd -m 512M \
			-nographic -nodefaults -serial stdio >"$tmp/td.log" 2>&1
		td_ok=1
		for pat in '^tdxemu: TD built: 6 TDVF sections' '^tdxemu: TDCALL TDG\.VP\.INFO' \
			'^tdxemu: TDCALL TDG\.MEM\.PAGE\.ACCEPT' \
			'^tdxemu: TDCALL TDG\.VP\.VMCALL r11=0x1e r12=0x4 r13=0 r14=0xcf8$' \
			'^tdxemu: TDCALL TDG\.VP\.VMCALL r11=0x1e r12=0x1 r13=0x1 r14=0x3f8$' \
			'^tdxemu: TDCALL TDG\.VP\.VMCALL r11=0x1f r12=0x1b ' \
			'^tdxemu: TDG\.VP\.VMCALL refused by the TDX module: status 0xc000010000000001, RCX \(GPR_SELECT\) 0xffec: RBP is selected.*stopped exposing RBP \(TDXEMU_KVM_PARAMS=no_rbp_mod=N, or tdxemu run --kvm-param no_rbp_mod=N, runs it.*\)$'; do
			grep -qE -- "$pat" "$tmp/td.log" || { echo "FAIL run-qemu-td-ovmf: no line /$pat/"; td_ok=0; }
		done
		if [ $td_ok = 1 ]; then echo "ok   run-qemu-td-ovmf"; pass=$((pass + 1)); else
			sed 's/^/    /' "$tmp/td.log" | head -8; fail=$((fail + 1)); fi
	fi
	# The built-in demo TD: every step's line, MRTD as `measure` computes it, RTMR[2] as
	# SHA-384(48 zero bytes || the demo's 48-byte extension), and QEMU's exit status 0 from
	# the TD's ACPI S5.
	timeout 300 "$BIN" run >"$tmp/demo.log" 2>&1
	rc=$?
	demo_ok=1
	[ "$rc" = 0 ] || { echo "FAIL run-demo: exit $rc (want 0)"; demo_ok=0; }
	rtmr2=$(/usr/bin/python3 -c 'import hashlib; print(hashlib.sha384(bytes(48) + b"tdxemu demo TD: RTMR[2] extension, 48 bytes...!\0").hexdigest())')
	for pat in '^tdxemu demo TD: vCPU 0 in 64-bit mode \(reset vector, 4-level paging\), GPAW 48, TD HOB at 0x800000$' \
		'^tdxemu demo TD: TDG\.VP\.INFO: GPAW 48, ATTRIBUTES 0x[0-9a-f]{16}, NUM_VCPUS [12], MAX_VCPUS [0-9]+, VCPU_INDEX 0$' \
		'^tdxemu demo TD: shared bit is GPA bit 47;' \
		'^tdxemu demo TD: #VE on vCPU 0: TDG\.VP\.VEINFO\.GET exit reason 10, ' \
		'^tdxemu demo TD: CPUID\(0x40000000\) raised #VE, emulated by the VMM' \
		'^tdxemu demo TD: TDG\.MEM\.PAGE\.ACCEPT: accepted [1-9][0-9]* MiB of the 256 MiB RAM in [0-9]+ TDCALLs' \
		'^tdxemu demo TD: TDG\.MR\.RTMR\.EXTEND: RTMR\[2\] extended with the 48 bytes' \
		'^tdxemu demo TD: TDG\.MR\.REPORT: TDREPORT type 0x81 subtype 0 version [01], REPORTDATA bound$' \
		"^tdxemu demo TD: MRTD  $demo_mrtd\$" "^tdxemu demo TD: RTMR2 $rtmr2\$" \
		'^tdxemu demo TD: RTMR0 0{96}$' \
		'^tdxemu demo TD: ATTRIBUTES 0x[0-9a-f]{16} XFAM 0x[0-9a-f]{16}$' \
		'^tdxemu demo TD: MapGPA: page 0x[0-9a-f]+ converted to shared \(GPA 0x8000[0-9a-f]{8}\)$' \
		'^tdxemu demo TD: TDVMCALL<GetQuote>\(0x8000[0-9a-f]{8}, 4096 bytes\): TDVMCALL status ' \
		'^tdxemu demo TD: GetQuote buffer: status 0x[0-9a-f]{16} \(GET_QUOTE_' \
		'^tdxemu demo TD: MapGPA: page 0x[0-9a-f]+ converted back to private, re-accepted with TDG\.MEM\.PAGE\.ACCEPT, reads as zeros$' \
		'^tdxemu demo TD: (only 1 vCPU \(NUM_VCPUS from TDG\.VP\.INFO\): IPI step skipped|vCPU 0: vCPU 1 acknowledged the IPI)' \
		'^tdxemu demo TD: done, powering off with ACPI S5$'; do
		grep -qE -- "$pat" "$tmp/demo.log" || { echo "FAIL run-demo: no line /$pat/"; demo_ok=0; }
	done
	if grep -q 'FATAL' "$tmp/demo.log"; then echo "FAIL run-demo: the TD reported a fatal error"; demo_ok=0; fi
	if [ $demo_ok = 1 ]; then echo "ok   run-demo"; pass=$((pass + 1)); else
		sed 's/^/    /' "$tmp/demo.log" | head -40; fail=$((fail + 1)); fi
	# Debian trixie's OVMF (make qemu fetches it) boots as a TD to the UEFI shell: SEC/PEI/DXE
	# through TDCALLs, MMIO/IO #VEs, the APIC timer (the shell's countdown) and BDS.
	ovmf_tx=$(dirname "$BIN")/ovmf-trixie/OVMF.fd
	if [ -r "$ovmf_tx" ]; then
		"$BIN" run -accel tcg -object tdx-guest,id=tdx0 -machine q35,confidential-guest-support=tdx0 \
			-bios "$ovmf_tx" -m 512M -smp 2 -nographic -nodefaults -serial stdio >"$tmp/shell.log" 2>&1 </dev/null &
		qpid=$!
		for _ in $(seq 1 180); do
			grep -q 'Shell>' "$tmp/shell.log" 2>/dev/null && break
			kill -0 $qpid 2>/dev/null || break
			sleep 0.5
		done
		kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
		if grep -q 'UEFI Interactive Shell' "$tmp/shell.log" && grep -q 'Shell>' "$tmp/shell.log"; then
			echo "ok   run-qemu-td-ovmf-trixie-shell"; pass=$((pass + 1))
		else
			echo "FAIL run-qemu-td-ovmf-trixie-shell: no UEFI shell within 90 s"; tail -c 1500 "$tmp/shell.log" | sed 's/^/    /'
			fail=$((fail + 1))
		fi
	elif [ -n "${TDXEMU_REQUIRE_QEMU:-}" ]; then
		echo "FAIL run-qemu-td-ovmf-trixie-shell: no $ovmf_tx ('make qemu' fetches it)"; fail=$((fail + 1))
	fi
	# make bench's engine section: the bench guest (build/bench-td.fd) boots as a TD and as a
	# plain q35 guest (its dual-mode reset path), runs every phase and powers off; the
	# figures are measured, so only their presence and form are checked.
	if [ -x "$benchbin" ]; then
		timeout 300 "$benchbin" --quick engine >"$tmp/bench.log" 2>&1
		rc=$?
		bench_ok=1
		[ "$rc" = 0 ] || { echo "FAIL bench-engine: exit $rc (want 0)"; bench_ok=0; }
		for pat in '^    TD [0-9]+ Minsn/s \(guest TSC: [0-9]+\), plain TCG [0-9]+ Minsn/s: [0-9.]+x  goal >= 0\.90x  (PASS|MISS)$' \
			'^  TDCALL TDG\.VP\.INFO round trip: [0-9.]+ us \(guest TSC: [0-9.]+ us\)  goal <= 0\.5 us  (PASS|MISS)$' \
			'^  TDVMCALL<Instruction\.IO> OUT 0x3FF: [0-9.]+ us \(plain TCG OUT: [0-9.]+ us, [0-9.]+x\)  goal <= 2 us  (PASS|MISS)$' \
			'^  demo TD boot to ACPI S5 \(tdxemu run, 2 vCPUs\): [0-9.]+ s wall$'; do
			grep -qE -- "$pat" "$tmp/bench.log" || { echo "FAIL bench-engine: no line /$pat/"; bench_ok=0; }
		done
		if [ $bench_ok = 1 ]; then echo "ok   bench-engine"; pass=$((pass + 1)); else
			sed 's/^/    /' "$tmp/bench.log" | head -20; fail=$((fail + 1)); fi
	fi
elif [ -n "${TDXEMU_REQUIRE_QEMU:-}" ]; then
	echo "FAIL run-qemu: no engine at $engine (TDXEMU_REQUIRE_QEMU is set)"; fail=$((fail + 1))
else
	echo "skip run-qemu-*: no $engine ('make qemu' builds it, 'make check-qemu' tests it)"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
