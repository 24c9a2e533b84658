# Backprop: the two commands of a fresh Debian machine are `make demo` and `make test`.
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev dataset-fashion-mnist zlib1g-dev openmpi-bin
RELEASE := -c release
# Tests run optimised (training on real data is part of them), with @testable access.
TEST_FLAGS := $(RELEASE) -Xswiftc -enable-testing
DEMO_DIR ?= runs/demo
# Where `make docs` writes the documentation site.
DOCS_DIR ?= .build/docs/site

# `make mpi-demo`: the demo's model trained by $(RANKS) MPI ranks on this machine.
RANKS ?= 2
MPI_DIR ?= runs/mpi-demo

.PHONY: all setup build test demo mpi-demo bench docs clean

all: build

# Installs the Debian packages that are missing (with sudo when not root).
setup:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "backprop: missing packages:$$missing; this machine has no apt-get, install them (or their equivalents) by hand" >&2; exit 1; \
	  fi; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  echo "Installing$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "backprop: Swift 6 is needed (https://swift.org/install)" >&2; exit 1; }

build: setup
	$(SWIFT) build $(RELEASE)

test: setup
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

demo: build
	$$($(SWIFT) build $(RELEASE) --show-bin-path)/backprop train --out $(DEMO_DIR)

# mpirun's flags that one forgets: --bind-to none (mpirun pins each of 2 ranks or fewer to
# one core, starving BLAS threads), --oversubscribe when there are more ranks than cores,
# --allow-run-as-root as root.
mpi-demo: build
	@flags="--bind-to none"; \
	[ "$$(id -u)" -ne 0 ] || flags="$$flags --allow-run-as-root"; \
	[ $(RANKS) -le $$(nproc) ] || flags="$$flags --oversubscribe"; \
	echo "mpirun $$flags -np $(RANKS) backprop train --out $(MPI_DIR)"; \
	mpirun $$flags -np $(RANKS) $$($(SWIFT) build $(RELEASE) --show-bin-path)/backprop train --out $(MPI_DIR)

# The DocC site: the articles of Sources/Backprop/Backprop.docc and every public symbol of
# the library, as static HTML in $(DOCS_DIR); any DocC warning (a broken link) fails it.
# Built with the tests' flags, so that it reuses their build.
docs: setup
	SWIFT=$(SWIFT) docs/build-site.sh $(DOCS_DIR) $(TEST_FLAGS)

bench: build
	$$($(SWIFT) build $(RELEASE) --show-bin-path)/backprop bench gemm

clean:
	rm -rf .build runs
