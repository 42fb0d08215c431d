// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real-device half of the lab's benchmark (make bench): QEMU's edu
 * device (PCI 1234:11e8) behind emulated VT-d, bound to vfio-pci, its VFIO
 * cdev bound to an iommufd context and attached to an IOAS, so that a real
 * intel-iommu domain mirrors the IOAS. Times IOMMU_IOAS_MAP and
 * IOMMU_IOAS_UNMAP of 256 MiB at IOVA 1 GiB over 4 KiB folios, 2 MiB
 * hugetlbfs pages, THP (MADV_HUGEPAGE) and 4 KiB folios in no physical
 * order (vtd_frag); then, as tools/bench.c does with
 * a mock domain, of a memfd of each page size (shmem, hugetlbfs) mapped
 * both ways: IOMMU_IOAS_MAP of its MAP_SHARED view (vtd_memfd<size>_va),
 * and IOMMU_IOAS_MAP_FILE of the memfd (vtd_memfd<size>_file), or
 * IOMMU_IOAS_MAP of the view again where the kernel has no MAP_FILE
 * (upstream 6.12: ENOTTY). Then the anonymous cases at 64 MiB and 1 GiB
 * (vtd_<mem>@64m, vtd_<mem>@1g), for the scaling. With a second edu device
 * (its own IOMMU group, so a domain of its own), vtd_copy_<mem>:
 * IOMMU_IOAS_COPY of the 256 MiB from the first device's IOAS into the
 * second's, and IOMMU_IOAS_UNMAP of the copy.
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

/* A second edu device, for the copy cases; "" if there is none */
static char bdf2[NAME_MAX + 1], cdev2[PATH_MAX];

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

/*
 * The copy case: the first device on one IOAS with @buf mapped, the
 * second on another; REPS copies of the range into the second and their
 * unmaps, the kernel memory of each copy measured.
 */
static void run_copy(const char *name, void *buf)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	uint64_t copy_ns[REPS], unmap_ns[REPS], t0;
	int fd = -1, devfd = -1, devfd2 = -1, rep, rc = -1;
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.length = len,
		.dst_iova = IOVA,
		.src_iova = IOVA,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.iova = IOVA,
		.length = len,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | RW,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = IOVA,
	};
	int64_t kmem[REPS];
	uint32_t ioas, pt;
	long k0, k;

	if (!buf || !bdf2[0]) {
		if (!bdf2[0])
			fail("find a second edu device", ENODEV);
		report_fail(name);
		return;
	}
	if (setup(&fd, &devfd, &ioas))
		goto out;
	map.ioas_id = ioas;
	if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
		fail("IOAS_MAP", errno);
		goto out;
	}
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc)) {
		fail("IOAS_ALLOC", errno);
		goto out;
	}
	devfd2 = open(cdev2, O_RDWR);
	if (devfd2 < 0) {
		fail("open the second VFIO cdev", errno);
		goto out;
	}
	rc = vfio_bind(devfd2, fd, NULL);
	pt = alloc.out_ioas_id;
	if (rc || (rc = vfio_attach(devfd2, &pt))) {
		fail("bind and attach the second device", rc);
		rc = -1;
		goto out;
	}
	rc = -1;
	copy.src_ioas_id = ioas;
	copy.dst_ioas_id = alloc.out_ioas_id;
	unmap.ioas_id = alloc.out_ioas_id;
	for (rep = 0; rep < REPS; rep++) {
		k0 = kmem_kb();
		t0 = now_ns();
		if (ioctl(fd, IOMMU_IOAS_COPY, &copy)) {
			fail("IOAS_COPY", errno);
			goto out;
		}
		copy_ns[rep] = now_ns() - t0;
		k = kmem_kb();
		kmem[rep] = k0 < 0 || k < 0 ? -1 : (int64_t)(k - k0) * 1024;
		t0 = now_ns();
		if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap)) {
			fail("IOAS_UNMAP of the copy", errno);
			goto out;
		}
		unmap_ns[rep] = now_ns() - t0;
	}
	rc = 0;
out:
	if (devfd2 >= 0)
		close(devfd2);
	if (devfd >= 0)
		close(devfd);
	if (fd >= 0)
		close(fd);
	if (rc)
		report_fail(name);
	else
		bench_line(name, copy_ns, unmap_ns, kmem, len);
}

/* The VFIO cdev of an edu device other than the first, in cdev2 */
static void find_second(void)
{
	char bdfs[EDU_MAX][BDF_LEN];
	int i, n = edu_list(bdfs);

	for (i = 0; i < n; i++) {
		if (!strcmp(bdfs[i], bdf))
			continue;
		if (bind_vfio_pci(bdfs[i]) ||
		    cdev_path(bdfs[i], cdev2, sizeof(cdev2)))
			continue;
		snprintf(bdf2, sizeof(bdf2), "%s", bdfs[i]);
		printf("# vtd: second edu at %s, %s\n", bdf2, cdev2);
		return;
	}
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
	case_name(name, sizeof(name), "vtd", mem_name[mem], len);
	run_case(name, buf, -1);
	if (len == 256 * SZ_1M) {
		snprintf(name, sizeof(name), "vtd_copy_%s", mem_name[mem]);
		run_copy(name, buf);
	}
	if (buf)
		munmap(buf, len);
	if (mem >= MEM_THP || len != 256 * SZ_1M)
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
	find_second();
	ready = 1;
run:
	for (m = MEM_4K; m <= MEM_FRAG; m++)
		run_mem(m, ready);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		len = sizes[z];
		for (m = MEM_4K; m <= MEM_FRAG; m++)
			run_mem(m, ready);
	}
	return 0;
}
