/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by our userspace tests of /dev/iommu. */
#ifndef __IOMMUFD_LAB_UTIL_H
#define __IOMMUFD_LAB_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/iommufd.h>

#include "iommufd_test.h"

#define IOMMU_DEV "/dev/iommu"

/* Run an ioctl and give back 0 or the errno it failed with. */
static inline int ioctl_errno(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) ? errno : 0;
}

static inline int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl_errno(fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline int obj_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl_errno(fd, IOMMU_DESTROY, &cmd);
}

static inline int option_op(int fd, uint32_t option, uint16_t op,
			    uint32_t object, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option,
		.op = op,
		.object_id = object,
		.val64 = *val,
	};
	int rc = ioctl_errno(fd, IOMMU_OPTION, &cmd);

	if (!rc)
		*val = cmd.val64;
	return rc;
}

static inline int ioas_map(int fd, uint32_t ioas, void *buf, uint64_t len,
			   uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = *iova,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

#define MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* IOMMU_IOAS_MAP_FILE of [start, start + len) of @mfd; *@iova in and out. */
static inline int ioas_map_file(int fd, uint32_t ioas, int mfd, uint64_t start,
				uint64_t len, uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.fd = mfd,
		.start = start,
		.length = len,
		.iova = *iova,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

/* IOMMU_IOAS_CHANGE_PROCESS: charge the context's pins to the caller. */
static inline int change_process(int fd)
{
	struct iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return ioctl_errno(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

static inline int ioas_unmap(int fd, uint32_t ioas, uint64_t iova,
			     uint64_t len, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = ioctl_errno(fd, IOMMU_IOAS_UNMAP, &cmd);

	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

/* A number from /proc/self/status, in kB ("VmPin", "VmLck"). */
/* A number from /proc/@pid/status (in kB for the Vm* keys); -1 if none. */
static inline long pid_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static inline long proc_status_kb(const char *key)
{
	return pid_status_kb(getpid(), key);
}

/* IOMMU_TEST_OP_MD_CHECK_REFS: every small page of the range pinned @refs times */
static inline int check_refs(int fd, const void *va, uint64_t len,
			     uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = len,
			.uptr = (uintptr_t)va,
			.refs = refs,
		},
	};

	return ioctl_errno(fd, IOMMU_TEST_CMD, &cmd);
}

/* Clear one capability from the effective set of the calling thread. */
static inline int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

#endif
