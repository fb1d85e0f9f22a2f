# Quick start: `make demo` runs relaisd on the default config; `make test`
# installs what is missing, builds and runs every test.
BUILD ?= build
STATE ?= $(CURDIR)/var
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo bench clean format tidy

all: build

deps:
	@./scripts/install-deps
	@[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -j 2

demo: build
	@./scripts/demo $(BUILD) $(STATE)

bench: build
	$(BUILD)/bench/ingest --runs 5
	$(BUILD)/bench/ingest --runs 5 --rate 10000

format:
	find daemon sdk plugins tests bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

tidy: build
	find daemon sdk plugins -name '*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD)
