// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-device half of the lab's benchmark (make bench): QEMU's edu
 * device (PCI 1234:11e8) behind emulated VT-d, bound to vfio-pci, its VFIO
 * cdev bound to an iommufd context and attached to an IOAS, so that a real
 * intel-iommu domain mirrors the IOAS. Times IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 256 MiB at IOVA 1 GiB over 4 KiB folios, 2 MiB
 * hugetlbfs pages and THP (MADV_HUGEPAGE); then, as tools/bench.c does with
 * a mock domain, of a memfd of each page size (shmem, hugetlbfs) mapped
 * both ways: IOMMU_IOAS_MAP of its MAP_SHARED view (vtd_memfd<size>_va),
 * and IOMMU_IOAS_MAP_FILE of the memfd (vtd_memfd<size>_file), or
 * IOMMU_IOAS_MAP of the view again where the kernel has no MAP_FILE
 * (upstream 6.12: ENOTTY). Then the anonymous cases at 64 MiB and 1 GiB
 * (vtd_<mem>@64m, vtd_<mem>@1g), for the scaling.
 *
 * Output, read by tools/lab.sh, in the format of tools/bench_util.h, or
 * "BENCH <case> fail fail" after a "#" comment that says what failed.
 * Each number is the median of REPS map/unmap pairs on one IOAS with the
 * device attached; kmem is what the kernel holds while the range is
 * mapped: the VT-d page tables and our bookkeeping.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "lab_vfio.h"
#include "bench_util.h"

#define IOVA		(1024 * SZ_1M)
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* The first line of the output */
#define HEADER \
	"# bench_vfio: IOAS_MAP/UNMAP of %lu MiB at IOVA %#lx, edu attached through vfio-pci, median of %d; guest ns per 4 KiB page\n"

/* Why the current case failed: the step and the errno */
static const char *fail_step;
static int fail_errno;

static char bdf[NAME_MAX + 1], cdev[PATH_MAX];

/* Whether the kernel has IOMMU_IOAS_MAP_FILE */
static int have_map_file;

/* Bytes mapped per case */
static unsigned long len = 256 * SZ_1M;

static int fail(const char *step, int err)
{
	fail_step = step;
	fail_errno = err;
	return -1;
}

/* ---- the benchmark --------------------------------------------------------- */

/* A fresh iommufd and IOAS with the device attached: *fd, *devfd, *ioas. */
static int setup(int *fd, int *devfd, uint32_t *ioas)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	uint32_t pt_id;
	int rc;

	*devfd = -1;
	*fd = open("/dev/iommu", O_RDWR);
	if (*fd < 0)
		return fail("open /dev/iommu", errno);
	if (ioctl(*fd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOAS_ALLOC", errno);
	*ioas = alloc.out_ioas_id;
	*devfd = open(cdev, O_RDWR);
	if (*devfd < 0)
		return fail("open the VFIO cdev", errno);
	rc = vfio_bind(*devfd, *fd, NULL);
	if (rc)
		return fail("VFIO_DEVICE_BIND_IOMMUFD", rc);
	pt_id = *ioas;
	rc = vfio_attach(*devfd, &pt_id);
	if (rc)
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", rc);
	return 0;
}

/* @mfd >= 0: map that memfd (@buf is its view) with MAP_FILE, if any. */
static int map_unmap(int fd, uint32_t ioas, void *buf, int mfd,
		     uint64_t *map_ns, uint64_t *unmap_ns, int64_t *kmem)
{
	struct iommu_ioas_map_file file = {
		.size = sizeof(file),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.fd = mfd,
		.start = 0,
		.length = len,
		.iova = IOVA,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = IOVA,
	};
	struct iommu_ioas_unmap unmap = {
		.iova = IOVA,
		.length = len,
		.ioas_id = ioas,
		.size = sizeof(unmap),
	};
	long k0 = kmem_kb(), k;
	uint64_t t0;
	int rc;

	t0 = now_ns();
	if (mfd >= 0 && have_map_file)
		rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &file);
	else
		rc = ioctl(fd, IOMMU_IOAS_MAP, &map);
	*map_ns = now_ns() - t0;
	if (rc)
		return fail(mfd >= 0 && have_map_file ? "IOAS_MAP_FILE" :
			    "IOAS_MAP", errno);
	k = kmem_kb();
	*kmem = k0 < 0 || k < 0 ? -1 : (int64_t)(k - k0) * 1024;
	t0 = now_ns();
	rc = ioctl(fd, IOMMU_IOAS_UNMAP, &unmap);
	*unmap_ns = now_ns() - t0;
	if (rc)
		return fail("IOAS_UNMAP", errno);
	if (unmap.length != len)
		return fail("IOAS_UNMAP (short)", 0);
	return 0;
}

static void report_fail(const char *name)
{
	printf("# %s: %s failed: errno %d (%s)\n", name, fail_step, fail_errno,
	       strerror(fail_errno));
	printf("BENCH %s fail fail\n", name);
	fflush(stdout);
}

/* Upstream 6.12 has no IOMMU_IOAS_MAP_FILE: its ioctl answers ENOTTY. */
static int probe_map_file(void)
{
	struct iommu_ioas_map_file cmd = { .size = sizeof(cmd), .fd = -1 };
	int fd, rc;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		return 0;
	rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd) == 0 || errno != ENOTTY;
	close(fd);
	return rc;
}

/*
 * REPS map/unmap pairs of @buf (NULL: report the failure that left none)
 * on one IOAS; @mfd >= 0 maps that memfd, @buf's file, with MAP_FILE.
 */
static void run_case(const char *name, void *buf, int mfd)
{
	uint64_t map_ns[REPS], unmap_ns[REPS];
	int fd = -1, devfd = -1, rep, rc = -1;
	int64_t kmem[REPS];
	uint32_t ioas;

	if (!buf) {
		report_fail(name);
		return;
	}
	if (mfd >= 0 && !have_map_file)
		printf("# %s: no IOAS_MAP_FILE here (ENOTTY): IOAS_MAP of the memfd's view instead\n",
		       name);
	if (setup(&fd, &devfd, &ioas))
		goto out;
	for (rep = 0; rep < REPS; rep++)
		if (map_unmap(fd, ioas, buf, mfd, &map_ns[rep],
			      &unmap_ns[rep], &kmem[rep]))
			goto out;
	rc = 0;
out:
	if (devfd >= 0)
		close(devfd);
	if (fd >= 0)
		close(fd);
	if (rc) {
		report_fail(name);
		return;
	}
	bench_line(name, map_ns, unmap_ns, kmem, len);
}

/* Anonymous memory of @mem; reports why there is none. */
static void *memory_for(enum mem mem)
{
	void *buf = get_memory(mem, len);

	if (buf)
		printf("# vtd: %s, %lu MiB: %ld physical runs\n", mem_name[mem],
		       len / SZ_1M, phys_runs(buf, len));
	if (!buf)
		fail("mmap", mem_errno);
	else if (mem == MEM_THP)
		printf("# vtd: %d%% of the %lu MiB in THP\n",
		       thp_percent(buf, len), len / SZ_1M);
	return buf;
}

/*
 * vtd_<mem> on anonymous memory, then for 4k and 2m vtd_memfd<mem>_va and
 * _file on one memfd: one buffer at a time, which the guest's hugepages
 * hold. At other sizes than 256 MiB the anonymous case alone.
 */
static void run_mem(enum mem mem, int ready)
{
	char name[64];
	void *buf;
	int mfd = -1;

	buf = ready ? memory_for(mem) : NULL;
	if (len == 256 * SZ_1M)
		snprintf(name, sizeof(name), "vtd_%s", mem_name[mem]);
	else if (len >= SZ_1G)
		snprintf(name, sizeof(name), "vtd_%s@%lug", mem_name[mem],
			 len / SZ_1G);
	else
		snprintf(name, sizeof(name), "vtd_%s@%lum", mem_name[mem],
			 len / SZ_1M);
	run_case(name, buf, -1);
	if (buf)
		munmap(buf, len);
	if (mem == MEM_THP || len != 256 * SZ_1M)
		return;

	buf = ready ? get_memfd(mem == MEM_2M, len, &mfd) : NULL;
	if (ready && !buf)
		fail("a memfd", mem_errno);
	snprintf(name, sizeof(name), "vtd_memfd%s_va", mem_name[mem]);
	run_case(name, buf, -1);
	snprintf(name, sizeof(name), "vtd_memfd%s_file", mem_name[mem]);
	run_case(name, buf, mfd);
	if (buf) {
		munmap(buf, len);
		close(mfd);
	}
}

int main(void)
{
	static const unsigned long sizes[] = { 64 * SZ_1M, SZ_1G };
	unsigned int m, z;
	int rc, ready = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf(HEADER, len / SZ_1M, IOVA, REPS);
	rc = edu_find(bdf, sizeof(bdf));
	if (rc) {
		fail("find the edu device (PCI 1234:11e8)", rc);
		goto run;
	}
	rc = bind_vfio_pci(bdf);
	if (rc) {
		fail("bind the edu device to vfio-pci", rc);
		goto run;
	}
	rc = cdev_path(bdf, cdev, sizeof(cdev));
	if (rc) {
		fail("find the VFIO cdev in vfio-dev/", rc);
		goto run;
	}
	printf("# vtd: edu at %s, %s\n", bdf, cdev);
	have_map_file = probe_map_file();
	ready = 1;
run:
	for (m = MEM_4K; m <= MEM_THP; m++)
		run_mem(m, ready);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		len = sizes[z];
		for (m = MEM_4K; m <= MEM_THP; m++)
			run_mem(m, ready);
	}
	return 0;
}
