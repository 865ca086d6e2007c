#!/bin/bash
# Guest-side tests: runs every TD image of build/guest-tests/ (guest/tests/*.c) on the engine
# and checks its "TEST <image>.<case>: PASS" lines, that no case printed FAIL, and QEMU's exit
# status (0 after the TD's ACPI S5; a TD's fatal end is a guest panic, exit 1 with
# -action panic=exit-failure). Usage: tests/guest_test.sh [BUILD_DIR]; TDXEMU_ENGINE names
# another engine than BUILD_DIR/qemu-system-x86_64.
BUILD=${1:-build}
ENGINE=${TDXEMU_ENGINE:-$BUILD/qemu-system-x86_64}
IMAGES=$BUILD/guest-tests
TIMEOUT=${GUEST_TEST_TIMEOUT:-180}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

if [ ! -x "$ENGINE" ]; then
	echo "FAIL guest: no engine at $ENGINE ('make qemu' builds it)"
	echo "guest: 0 passed, 1 failed"
	exit 1
fi

# run NAME WANT_RC SMP TDX_OPTS CASES... : one image; CASES are the case names that must PASS.
# OBJECT=JSON replaces the whole tdx-guest object (for properties that take a struct).
run() {
	local name=$1 want_rc=$2 smp=$3 opts=$4; shift 4
	local img=$IMAGES/$name.fd log=$tmp/$name.log ok=1 rc
	if [ ! -r "$img" ]; then
		echo "FAIL guest-$name: no image $img"; fail=$((fail + 1)); return
	fi
	timeout "$TIMEOUT" "$ENGINE" -accel tcg -object "${OBJECT:-tdx-guest,id=tdx0$opts}" \
		-machine q35,confidential-guest-support=tdx0 -bios "$img" -m 256M -smp "$smp" \
		-nographic -nodefaults -serial stdio -no-reboot -action panic=exit-failure \
		</dev/null >"$log" 2>&1
	rc=$?
	if [ "$rc" = 124 ]; then echo "FAIL guest-$name: timed out after ${TIMEOUT}s"; ok=0;
	elif [ "$rc" != "$want_rc" ]; then echo "FAIL guest-$name: exit $rc (want $want_rc)"; ok=0; fi
	for c in "$@"; do
		grep -qx "TEST $name\.$c: PASS" "$log" || { echo "FAIL guest-$name: no 'TEST $name.$c: PASS'"; ok=0; }
	done
	if grep -q "^TEST $name\.[a-z0-9_]*: FAIL" "$log"; then
		grep "^TEST $name\.[a-z0-9_]*: FAIL" "$log" | sed "s/^/FAIL guest-$name: /"; ok=0
	fi
	if [ "${EXTRA_PAT:-}" ] && ! grep -qE -- "$EXTRA_PAT" "$log"; then
		echo "FAIL guest-$name: no line /$EXTRA_PAT/"; ok=0
	fi
	if [ $ok = 1 ]; then echo "ok   guest-$name"; pass=$((pass + 1)); else
		sed 's/^/    /' "$log" | grep -v '#VE on vCPU' | head -30; fail=$((fail + 1)); fi
}

run tdcall_errors 0 1 "" vp_info_counts unknown_leaf accept_misaligned accept_shared_gpa accept_reserved_bits \
	accept_size_mismatch vmcall_bad_gpr_select vm_rd_unknown_field mr_report_misaligned
run ve_delivery 0 1 "" veinfo_without_ve cpuid hlt io rdmsr
# #VE on a pending page needs SEPT_VE_DISABLE clear (QEMU sets it by default).
run accept_convert 0 1 ",sept-ve-disable=off" unaccepted_access_ve accept_twice convert_shared_private
run smp_ipi 0 2 "" vcpu_index ipi_both_ways x2apic_timer
run host_state 0 1 "" native_msrs_xcr0
# Attestation against a stand-in quote generation service (tests/fake_qgs.py) on a unix socket.
qgs_sock=$tmp/qgs.sock
python3 "$(dirname "$0")/fake_qgs.py" "$qgs_sock" "$tmp/qgs.log" &
qgs_pid=$!
for _ in $(seq 1 40); do [ -S "$qgs_sock" ] && break; sleep 0.1; done
OBJECT='{"qom-type":"tdx-guest","id":"tdx0","quote-generation-socket":{"type":"unix","path":"'$qgs_sock'"}}' \
	run get_quote 0 1 "" tdvmcall_info \
	event_notify_vector quote_event_notify quote_qgs_error_and_hangup quote_malformed
if [ "$(grep -c '^request: version 1.1 type 0 size 1048 report 1024 bytes reportdata' "$tmp/qgs.log" 2>/dev/null)" = 3 ]; then
	echo "ok   guest-get_quote: the QGS got 3 well-formed GET_QUOTE_REQ messages with the TD's reports"
	pass=$((pass + 1))
else
	echo "FAIL guest-get_quote: the QGS log is not 3 well-formed requests:"; sed 's/^/    /' "$tmp/qgs.log"
	fail=$((fail + 1))
fi
kill $qgs_pid 2>/dev/null; wait $qgs_pid 2>/dev/null
# The TD ends itself: the engine names the error code (R12) and QEMU exits with failure.
EXTRA_PAT='^tdxemu: TD stopped: TD reported a fatal error \(TDG\.VP\.VMCALL<ReportFatalError>, R12 0x7e57c0de\)$' \
	run fatal_error 1 1 "" 

echo "guest: $pass passed, $fail failed"
[ "$fail" = 0 ]
