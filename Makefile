# tdxemu: `make run` boots the built-in demo TD on the engine, `make check` runs the tests.
# Everything builds into build/ (sanitizer builds into build-asan/, build-tsan/, the
# libFuzzer targets into build-fuzz/).

BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
PY := /usr/bin/python3

.PHONY: all deps build run check check-unit check-cli check-layers check-asan check-tsan fuzz bench clean \
	qemu check-qemu check-guests run-linux

all: build

deps:
	@tools/ensure-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DPython3_EXECUTABLE=$(PY) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

# The built-in demo TD on the engine (built first if needed; a cold build takes minutes).
run: qemu
	$(BUILD)/tdxemu run

# Debian trixie's Linux as a TD through trixie's OVMF, to a shell in tdxemu's initramfs
# (serial console; `poweroff -f` ends it).
run-linux: qemu
	$(BUILD)/tdxemu run --linux

# Everything: unit and scenario tests, the CLI, then the engine (built on first use, ~10 min
# cold): the CLI tests that launch TDs, the guest-side tests (guest/tests/) and the real
# guests (check-guests).
check: check-layers build qemu
	$(BUILD)/tdxemu-tests
	TDXEMU_REQUIRE_QEMU=1 tests/cli_test.sh $(BUILD)/tdxemu
	tests/guest_test.sh $(BUILD)
	tests/guests_test.sh $(BUILD)

# Real guests, unmodified: trixie's OVMF to the UEFI shell, trixie's Linux to the initramfs
# shell (TDX line, TDREPORT MRTD/RTMRs, serial input, power-off); each boot bounded.
check-guests: qemu
	tests/guests_test.sh $(BUILD)

check-layers:
	@tools/check_layers.sh

check-asan: deps
	TDXEMU_SANITIZERS=1 tools/ensure-deps.sh
	cmake -S . -B build-asan -G Ninja -DPython3_EXECUTABLE=$(PY) -DCMAKE_BUILD_TYPE=Debug \
		-DTDXEMU_SANITIZE=address,undefined
	cmake --build build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-asan/tdxemu-tests
	tests/cli_test.sh build-asan/tdxemu

check-tsan: deps
	TDXEMU_SANITIZERS=1 tools/ensure-deps.sh
	cmake -S . -B build-tsan -G Ninja -DPython3_EXECUTABLE=$(PY) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTDXEMU_SANITIZE=thread
	cmake --build build-tsan
	TSAN_OPTIONS=halt_on_error=1 build-tsan/tdxemu-tests concurrent

# libFuzzer targets (clang, ASan + UBSan), each run for FUZZ_SECONDS on a copy of its corpus
# in build-fuzz/corpus/ (new inputs never go into the repository); any crash fails the target
# and leaves the reproducer in build-fuzz/artifacts/<fuzzer>/.
FUZZ_SECONDS ?= 30
FUZZERS := tdvf seamcall

fuzz: deps
	TDXEMU_SANITIZERS=1 tools/ensure-deps.sh
	cmake -S . -B build-fuzz -G Ninja -DPython3_EXECUTABLE=$(PY) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER=clang -DTDXEMU_FUZZ=ON
	cmake --build build-fuzz --target $(addprefix fuzz_,$(FUZZERS))
	@set -e; for f in $(FUZZERS); do \
		mkdir -p build-fuzz/corpus/$$f build-fuzz/artifacts/$$f; \
		cp fuzz/corpus/$$f/* build-fuzz/corpus/$$f/; \
		case $$f in seamcall) len=-max_len=2048;; *) len=;; esac; \
		echo "== fuzz_$$f: $(FUZZ_SECONDS)s"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-fuzz/fuzz_$$f $$len \
			-max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1 \
			-artifact_prefix=build-fuzz/artifacts/$$f/ build-fuzz/corpus/$$f 2>build-fuzz/fuzz_$$f.log \
			|| { tail -n 60 build-fuzz/fuzz_$$f.log; echo "fuzz_$$f failed: see build-fuzz/fuzz_$$f.log" >&2; exit 1; }; \
		grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' build-fuzz/fuzz_$$f.log || true; \
	done

# The engine: Debian trixie's QEMU (fetched with a private apt configuration), TCG-only
# x86_64-softmmu, with qemu/patches/series, linked with our libraries. Cached per QEMU
# version in $(BUILD)/qemu-cache/; result $(BUILD)/qemu-system-x86_64. Not part of `make
# check` (a cold build takes minutes); `make check-qemu` adds the engine's CLI tests and the
# guest-side tests (tests/guest_test.sh runs the TD images built from guest/tests/).
qemu: build
	$(PY) tools/qemu-build.py --build $(BUILD) $(QEMU_BUILD_FLAGS)

# trixie's OVMF.fd comes along (build/ovmf-trixie/), the TD firmware the engine tests boot,
# and trixie's kernel with the project's initramfs (build/linux-trixie/) for the Linux TD
QEMU_BUILD_FLAGS ?= --ovmf --linux

# The engine's tests alone (make check runs them too).
check-qemu: qemu
	TDXEMU_REQUIRE_QEMU=1 tests/cli_test.sh $(BUILD)/tdxemu
	tests/guest_test.sh $(BUILD)

bench: build
	$(BUILD)/tdxemu-bench

clean:
	rm -rf build build-asan build-tsan build-fuzz
