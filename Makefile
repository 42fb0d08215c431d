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
	file_pages.o \
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
	$(USER_OUT)/bench_vfio $(USER_OUT)/iommufd $(USER_OUT)/iommufd_fail_nth

# The selftests shipped in the kernel source, unmodified, built against our
# headers: a staging copy lays them out as in the tree (they include the
# harness and iommufd_test.h by relative paths), with a harness whose
# default per-test timeout is ours rather than 30 s.
SHIP_SRC := $(HARNESS)
SHIP_DIR := $(USER_OUT)/.shipped
SHIP_TESTS := $(SHIP_DIR)/tools/testing/selftests
SHIP_CFLAGS := -static -O2 -Wall -Wno-unused-function -D_GNU_SOURCE -pthread \
	-I$(CURDIR)/include/uapi

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

$(USER_OUT)/bench: tools/bench.c tools/bench_util.h selftest/iommufd_test.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(USER_OUT)/bench_vfio: tools/bench_vfio.c tools/bench_util.h selftest/*.h include/uapi/linux/iommufd.h
	@mkdir -p $(USER_OUT)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(SHIP_DIR)/stamp: $(SHIP_SRC)/iommu/iommufd.c $(SHIP_SRC)/iommu/iommufd_fail_nth.c \
		$(SHIP_SRC)/iommu/iommufd_utils.h $(SHIP_SRC)/kselftest_harness.h \
		selftest/iommufd_test.h
	@rm -rf $(SHIP_DIR)
	@mkdir -p $(SHIP_TESTS)/iommu $(SHIP_DIR)/drivers/iommu/iommufd
	cp $(SHIP_SRC)/iommu/iommufd.c $(SHIP_SRC)/iommu/iommufd_fail_nth.c \
		$(SHIP_SRC)/iommu/iommufd_utils.h $(SHIP_TESTS)/iommu/
	cp $(SHIP_SRC)/kselftest.h $(SHIP_TESTS)/
	sed 's/^#define TEST_TIMEOUT_DEFAULT 30$$/#define TEST_TIMEOUT_DEFAULT 600/' \
		$(SHIP_SRC)/kselftest_harness.h >$(SHIP_TESTS)/kselftest_harness.h
	grep -q '^#define TEST_TIMEOUT_DEFAULT 600$$' $(SHIP_TESTS)/kselftest_harness.h
	cp selftest/iommufd_test.h $(SHIP_DIR)/drivers/iommu/iommufd/
	@touch $@

$(USER_OUT)/iommufd $(USER_OUT)/iommufd_fail_nth: $(SHIP_DIR)/stamp \
		include/uapi/linux/iommufd.h
	$(CC) $(SHIP_CFLAGS) -o $@ $(SHIP_TESTS)/iommu/$(notdir $@).c

lint:
	@tools/lint.sh

clean:
	rm -rf $(USER_OUT)

endif
