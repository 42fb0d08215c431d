/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What tools/bench.c and tools/bench_vfio.c share: the clock, the memory
 * they map, and how a case's repetitions become one line.
 *
 * A case's line, read by tools/lab.sh:
 *   BENCH <case> <map> <unmap> <map spread> <unmap spread> <kmem>
 * map and unmap in guest ns per 4 KiB page (median of the repetitions),
 * each spread as (max - min) / median in percent, kmem as bytes of kernel
 * memory per GiB mapped (median), or "-" where it was not measured.
 */
#ifndef __BENCH_UTIL_H
#define __BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

#define SZ_4K		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_1M		(1UL << 20)
#define SZ_1G		(1UL << 30)
#define REPS		3

/*
 * How the memory under a case is made. MEM_FRAG is MEM_4K faulted in out
 * of order, so that no two pages that follow each other in the buffer
 * follow each other in physical memory: the IOMMU gets one run per page,
 * as after long uptime, in either kernel.
 */
enum mem { MEM_4K, MEM_2M, MEM_THP, MEM_FRAG };

static const char *const mem_name[] = {
	[MEM_4K] = "4k", [MEM_2M] = "2m", [MEM_THP] = "thp",
	[MEM_FRAG] = "frag",
};

/* errno of the last failure to make memory */
static int mem_errno;

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v; returns its median, and in *@spread (max - min) / median in %. */
static inline uint64_t median_of(uint64_t *v, int n, double *spread)
{
	uint64_t mid;

	qsort(v, n, sizeof(*v), cmp_u64);
	mid = v[n / 2];
	*spread = mid ? 100.0 * (double)(v[n - 1] - v[0]) / (double)mid : 0;
	return mid;
}

/*
 * Kernel memory in use, in KiB: slab, vmalloc and the IOMMU's page tables
 * (SecPageTables). What a mapping adds to it is what it costs the kernel.
 */
static inline long kmem_kb(void)
{
	static const char *const keys[] = {
		"Slab:", "VmallocUsed:", "SecPageTables:",
	};
	char line[128];
	long sum = 0, v;
	unsigned int i;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%ld", &v) == 1)
				sum += v;
	fclose(f);
	return sum;
}

/* One case's repetitions, as its BENCH line; kmem[] < 0 means unknown. */
static inline void bench_line(const char *name, uint64_t *map_ns,
			      uint64_t *unmap_ns, int64_t *kmem,
			      unsigned long len)
{
	double npages = (double)len / SZ_4K, ms, us;
	uint64_t m = median_of(map_ns, REPS, &ms);
	uint64_t u = median_of(unmap_ns, REPS, &us);
	int64_t k;
	int i, known = 1;

	for (i = 0; i < REPS; i++)
		known &= kmem[i] >= 0;
	printf("BENCH %s %.2f %.2f %.1f %.1f", name, m / npages, u / npages,
	       ms, us);
	if (known) {
		qsort(kmem, REPS, sizeof(*kmem), cmp_i64);
		k = kmem[REPS / 2];
		printf(" %.0f\n", (double)k * ((double)SZ_1G / len));
	} else {
		printf(" -\n");
	}
	fflush(stdout);
}

/*
 * @len bytes of anonymous memory, every page touched so that mapping it
 * never faults one in: 4 KiB folios only (in order, or as MEM_FRAG), 2 MiB
 * hugetlbfs pages, or THP (MADV_HUGEPAGE, 2 MiB aligned). NULL with
 * mem_errno set if not.
 */
static inline void *get_memory(enum mem mem, unsigned long len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned long off, pad = mem == MEM_THP ? SZ_2M : 0;
	char *raw, *buf;

	if (mem == MEM_2M)
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	raw = mmap(NULL, len + pad, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (raw == MAP_FAILED) {
		mem_errno = errno;
		return NULL;
	}
	buf = raw;
	if (pad) {
		/* Keep the aligned @len and give back the rest. */
		buf = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
		if (buf != raw)
			munmap(raw, buf - raw);
		munmap(buf + len, raw + pad - buf);
	}
	if (((mem == MEM_4K || mem == MEM_FRAG) &&
	     madvise(buf, len, MADV_NOHUGEPAGE)) ||
	    (mem == MEM_THP && madvise(buf, len, MADV_HUGEPAGE))) {
		mem_errno = errno;
		munmap(buf, len);
		return NULL;
	}
	/*
	 * MEM_FRAG touches page 3 * i (mod the page count, a power of two)
	 * i-th: neighbours in the buffer are faulted in far apart in time,
	 * so whatever order the allocator hands pages out in, they are not
	 * physical neighbours.
	 */
	for (off = 0; off < len; off += SZ_4K)
		buf[mem == MEM_FRAG ? (off * 3) % len : off] = 1;
	return buf;
}

/* Share of @buf's @len bytes that THP backs, in percent (AnonHugePages). */
static inline int thp_percent(void *buf, unsigned long len)
{
	unsigned long start = (uintptr_t)buf, lo, hi;
	char line[256];
	long kb = 0, v;
	int in = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo < start + len && hi > start;
		else if (in && sscanf(line, "AnonHugePages: %ld", &v) == 1)
			kb += v;
	}
	fclose(f);
	return (int)(kb * 1024 * 100 / len);
}

/*
 * How physically scattered @buf is: the number of runs of consecutive
 * PFNs its @len bytes make, from /proc/self/pagemap (root only); -1 if
 * unknown. The fewer, the less an IOMMU map and unmap have to do.
 */
static inline long phys_runs(void *buf, unsigned long len)
{
	uint64_t e, prev = 0, pfn;
	unsigned long i, n = len / SZ_4K;
	long runs = 0;
	FILE *f;

	f = fopen("/proc/self/pagemap", "r");
	if (!f)
		return -1;
	if (fseek(f, (long)((uintptr_t)buf / SZ_4K * 8), SEEK_SET))
		goto fail;
	for (i = 0; i < n; i++) {
		if (fread(&e, sizeof(e), 1, f) != 1)
			goto fail;
		pfn = e & ((1ULL << 55) - 1);
		if (!(e >> 63) || !pfn)
			goto fail;
		if (!i || pfn != prev + 1)
			runs++;
		prev = pfn;
	}
	fclose(f);
	return runs;
fail:
	fclose(f);
	return -1;
}

/*
 * A memfd of @len bytes in *@mfd, on shmem in 4 KiB pages or on hugetlbfs
 * in 2 MiB ones, and its MAP_SHARED view, every page touched through the
 * view: neither way of mapping it then allocates a page.
 */
static inline void *get_memfd(int huge, unsigned long len, int *mfd)
{
	unsigned long off;
	char *buf;

	*mfd = memfd_create("bench", huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
	if (*mfd < 0) {
		mem_errno = errno;
		return NULL;
	}
	buf = MAP_FAILED;
	if (ftruncate(*mfd, len))
		goto fail;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	if (buf == MAP_FAILED)
		goto fail;
	/* 4 KiB folios only: no shmem THP behind this view either. */
	if (!huge && madvise(buf, len, MADV_NOHUGEPAGE))
		goto fail;
	for (off = 0; off < len; off += SZ_4K)
		buf[off] = 1;
	return buf;
fail:
	mem_errno = errno;
	if (buf != MAP_FAILED)
		munmap(buf, len);
	close(*mfd);
	*mfd = -1;
	return NULL;
}

/* Upstream 6.12 has no IOMMU_IOAS_MAP_FILE: its ioctl answers ENOTTY. */
static inline int probe_map_file(void)
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
 * "<what>_<mem>" into @name, with "@64m" or "@1g" after it when @len is
 * not the 256 MiB of the main table
 */
static inline void case_name(char *name, size_t size, const char *what,
			     const char *mem, unsigned long len)
{
	if (len == 256 * SZ_1M)
		snprintf(name, size, "%s_%s", what, mem);
	else if (len >= SZ_1G)
		snprintf(name, size, "%s_%s@%lug", what, mem, len / SZ_1G);
	else
		snprintf(name, size, "%s_%s@%lum", what, mem, len / SZ_1M);
}

#endif
