# tdxemu: `make run` shows a TDX module brought up on a simulated host, `make check` runs
# the tests. Everything builds into build/ (sanitizer builds into build-asan/, build-tsan/).

BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
PY := /usr/bin/python3

.PHONY: all deps build run check check-unit check-cli check-layers check-asan check-tsan bench clean

all: build

deps:
	@tools/ensure-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DPython3_EXECUTABLE=$(PY) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

run: build
	$(BUILD)/tdxemu module info

check: check-layers build
	$(BUILD)/tdxemu-tests
	tests/cli_test.sh $(BUILD)/tdxemu

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

bench: build
	$(BUILD)/tdxemu-bench

clean:
	rm -rf build build-asan build-tsan
