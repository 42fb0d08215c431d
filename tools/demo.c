// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lab's demo: what a VMM does first with /dev/iommu, printed step by
 * step. It grows with the subsystem.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lab_util.h"

static int step(const char *what, int rc)
{
	printf("  %-52s %s\n", what, rc ? strerror(rc) : "ok");
	return rc;
}

int main(void)
{
	uint32_t ioas[3];
	uint64_t val = 0;
	char line[80];
	int fd, i;

	printf("iommufd demo\n");
	fd = open(IOMMU_DEV, O_RDWR);
	if (fd < 0) {
		perror("open " IOMMU_DEV);
		return 1;
	}
	step("open " IOMMU_DEV, 0);

	if (!step("IOMMU_OPTION get RLIMIT_MODE",
		  option_op(fd, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET,
			    0, &val)))
		printf("    pinned pages are charged to %s\n",
		       val ? "mm->pinned_vm" : "user->locked_vm");

	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "IOMMU_IOAS_ALLOC #%d", i);
		if (step(line, ioas_alloc(fd, &ioas[i])))
			return 1;
		printf("    new IOAS has ID %u\n", ioas[i]);
	}

	val = 0;
	step("IOMMU_OPTION set HUGE_PAGES=0 on the second IOAS",
	     option_op(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
		       ioas[1], &val));

	snprintf(line, sizeof(line), "IOMMU_DESTROY %u", ioas[0]);
	if (step(line, obj_destroy(fd, ioas[0])))
		return 1;
	snprintf(line, sizeof(line), "IOMMU_DESTROY %u again (expect ENOENT)",
		 ioas[0]);
	if (step(line, obj_destroy(fd, ioas[0])) != ENOENT)
		return 1;

	close(fd);
	step("close: the two remaining IOAS go with the context", 0);
	printf("demo finished\n");
	return 0;
}
