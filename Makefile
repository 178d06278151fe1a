# SPDX-License-Identifier: GPL-2.0
# mptcp-rs top-level Makefile.
#   make            build the kernel (cached) and mptcp.ko against it
#   make check      lint, host tests, then the in-VM suite
#   make lint       rustfmt and clippy (glue and core)
#   make demo       boot the VM, load the module, transfer data between namespaces
#   make kernel     only the custom kernel (FLAVOUR=debug for the debug config)
#   make interop    ours vs mainline MPTCP in two VMs (tests/interop)
#   make bench      goodput MPTCP vs TCP, our kernel and mainline (tests/bench)

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Inside Kbuild (make -C $KDIR M=...) only the Kbuild file matters.
ifneq ($(KERNELRELEASE),)
include $(ROOT)/Kbuild
else

.PHONY: all kernel module deps check lint host-test vm-test demo clean interop bench selftests

all: module

deps:
	@bash scripts/install-deps.sh

kernel:
	@bash scripts/build-kernel.sh >/dev/null

module:
	@bash scripts/build-module.sh

lint:
	@bash scripts/lint.sh

host-test:
	@bash tests/selftests/check-probes.sh
	@bash tests/host/run.sh

vm-test: module
	@bash tests/vm/run.sh

check: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory host-test
	@$(MAKE) --no-print-directory vm-test

selftests: module
	@bash tests/selftests/run.sh

demo: deps module
	@bash scripts/demo.sh

interop: module
	@bash tests/interop/run.sh

bench: module
	@bash tests/bench/run.sh

clean:
	rm -rf build
endif
