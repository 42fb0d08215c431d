# SPDX-License-Identifier: GPL-2.0-only
#
# Two makefiles in one, as out-of-tree modules do: inside kbuild
# (KERNELRELEASE set) it lists the objects of the subsystem; from a shell it
# is the lab's front end (see README.md).

ifneq ($(KERNELRELEASE),)

# The W=1 warnings, always on for this directory only, so the rest of the
# tree keeps its flags (and its ccache hits).
ccflags-y += -Wmissing-format-attribute -Wunused-const-variable \
	     -Wunused-but-set-variable -Wpacked-not-aligned \
	     -Wformat-overflow -Wformat-truncation -Wstringop-truncation \
	     -Woverride-init -Wmissing-declarations -Wmissing-prototypes \
	     -Wold-style-definition -Wmissing-include-dirs -Wundef

iommufd-y := \
	main.o \
	object.o \
	ioas.o \
	io_pagetable.o \
	hw_pagetable.o \
	pages.o \
	device.o \
	fault_queue.o \
	access.o \
	vfio_compat.o

iommufd-$(CONFIG_IOMMUFD_TEST) += selftest/test_cmd.o selftest/mock_iommu.o

obj-$(CONFIG_IOMMUFD) += iommufd.o
obj-$(CONFIG_IOMMUFD_DRIVER) += iova_bitmap.o

else

LAB := tools/lab.sh
KSRC ?= $(or $(KERNEL_SRC),$(HOME)/.cache/iommufd/linux-source-6.12)
USER_OUT ?= $(CURDIR)/.out
HARNESS := $(KSRC)/tools/testing/selftests

# Userspace test programs: static, built against our uapi header first.
USER_CFLAGS := -static -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-clobbered -D_GNU_SOURCE -pthread \
	-I$(CURDIR)/include/uapi -I$(CURDIR)/selftest -I$(HARNESS)
USER_PROGS := $(patsubst selftest/%.c,$(USER_OUT)/%,$(wildcard selftest/t_*.c)) \
	$(USER_OUT)/uapi_layout $(USER_OUT)/demo $(USER_OUT)/bench \
	$(USER_OUT)/bench_vfio

.PHONY: all run check kernel shell bench user lint clean
all: check

run check kernel shell bench:
	@$(LAB) $@

user: $(USER_PROGS)

$(USER_OUT)/%: selftest/%.c selftest/*.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(USER_OUT)/demo: tools/demo.c selftest/*.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(USER_OUT)/bench: tools/bench.c selftest/iommufd_test.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(USER_OUT)/bench_vfio: tools/bench_vfio.c selftest/*.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

lint:
	@tools/lint.sh

clean:
	rm -rf $(USER_OUT)

endif
