// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO on top of iommufd, end to end with a device that really does DMA:
 * QEMU's edu device (PCI 1234:11e8) behind the emulated VT-d, driven from
 * userspace through vfio-pci, once through the device cdev
 * (/dev/vfio/devices/vfioN bound to an iommufd) and once through the legacy
 * group and container API (/dev/vfio/<group> with /dev/vfio/vfio, which
 * iommufd serves). A DMA must land exactly where the IOAS maps it, and
 * nowhere once the mapping is gone.
 *
 * The last fixture drives the legacy type1 container ioctls straight on a
 * /dev/iommu file with a mock device, so that part needs no hardware.
 *
 * The edu device and its helpers are in lab_vfio.h. QEMU 7.2 aborts on a
 * transfer that covers the whole buffer of the edu, so every transfer here
 * stays below 4 KiB.
 */
#include <stdbool.h>
#include <stddef.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_mock.h"
#include "lab_vfio.h"

/* The DMA buffer: two pages at a fixed IOVA the edu can reach (< 2^28). */
#define DMA_IOVA 0x100000UL
#define DMA_SIZE (2 * PG)
#define XFER 512U			/* bytes per message */

/* ---- the IOMMU group in sysfs -------------------------------------------- */

/* /dev/vfio/<group> of a device. */
static int group_path(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno;
	target[n] = 0;
	snprintf(out, len, "/dev/vfio/%s", strrchr(target, '/') + 1);
	return 0;
}

/* ---- the kernel log ------------------------------------------------------ */

/* /dev/kmsg positioned after the last record logged so far. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Wait up to @ms for a new record holding both @a and @b; copy its text to
 * @line. The VT-d fault is reported from an interrupt, after the DMA.
 */
static bool kmsg_find(int fd, const char *a, const char *b, char *line,
		      size_t len, int ms)
{
	char rec[2048];
	ssize_t n;
	char *text;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records were overwritten: go on */
		if (n < 0) {
			if (errno != EAGAIN || ms <= 0)
				return false;
			usleep(50000);
			ms -= 50;
			continue;
		}
		rec[n] = 0;
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		if (strstr(text, a) && strstr(text, b)) {
			str_copy(line, len, text);
			if (strchr(line, '\n'))
				*strchr(line, '\n') = 0;
			return true;
		}
	}
}

/* ---- type1 info capabilities --------------------------------------------- */

/* The capability @id in the chain of a filled vfio_iommu_type1_info. */
static struct vfio_info_cap_header *info_cap(struct vfio_iommu_type1_info *info,
					     uint16_t id)
{
	uint32_t off = info->cap_offset;
	struct vfio_info_cap_header *hdr;
	int hops = 0;

	while (off && off + sizeof(*hdr) <= info->argsz && hops++ < 16) {
		hdr = (struct vfio_info_cap_header *)((char *)info + off);
		if (hdr->id == id)
			return hdr;
		off = hdr->next;
	}
	return NULL;
}

/* Whether one of the ranges of an IOVA range capability covers [iova, +len). */
static bool iova_usable(struct vfio_iommu_type1_info_cap_iova_range *cap,
			uint64_t iova, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < cap->nr_iovas; i++)
		if (cap->iova_ranges[i].start <= iova &&
		    iova + len - 1 <= cap->iova_ranges[i].end)
			return true;
	return false;
}

/* VFIO_IOMMU_GET_INFO with the whole capability chain, in a malloc'ed buffer. */
static int type1_info(int fd, struct vfio_iommu_type1_info **out)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	int rc = ioctl_errno(fd, VFIO_IOMMU_GET_INFO, &probe);

	if (rc)
		return rc;
	if (probe.argsz < sizeof(probe))
		return own_err(EINVAL);
	info = calloc(1, probe.argsz);
	if (!info)
		return own_err(ENOMEM);
	info->argsz = probe.argsz;
	rc = ioctl_errno(fd, VFIO_IOMMU_GET_INFO, info);
	if (rc) {
		free(info);
		return rc;
	}
	*out = info;
	return 0;
}

/* ---- the edu, end to end ------------------------------------------------- */

FIXTURE(vfio_edu) {
	char bdf[64];
	int iommufd;
	int devfd;
	int groupfd;
	int container;
	int kmsg;
	struct edu edu;
	uint8_t *buf;		/* DMA_SIZE bytes of "guest memory" */
	uint8_t msg_a[XFER];
	uint8_t msg_b[XFER];
	long pin0;
};

FIXTURE_SETUP(vfio_edu)
{
	unsigned int i, seed = getpid();

	self->iommufd = -1;
	self->devfd = -1;
	self->groupfd = -1;
	self->container = -1;
	self->kmsg = -1;
	self->edu.bar = NULL;
	self->pin0 = proc_status_kb("VmPin");
	ASSERT_LE(0, self->pin0);
	self->buf = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0, DMA_SIZE);
	for (i = 0; i < XFER; i++) {
		self->msg_a[i] = rand_r(&seed);
		self->msg_b[i] = rand_r(&seed) | 1;
	}

	if (edu_find(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu device (QEMU -device edu)");
	ASSERT_EQ(0, bind_vfio_pci(self->bdf));
}

FIXTURE_TEARDOWN(vfio_edu)
{
	edu_close(&self->edu);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->groupfd >= 0)
		close(self->groupfd);
	if (self->container >= 0)
		close(self->container);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->kmsg >= 0)
		close(self->kmsg);
	/* Nothing stays pinned once every file is closed. */
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	munmap(self->buf, DMA_SIZE);
}

typedef FIXTURE_DATA(vfio_edu) edu_fixture;

/* A new context with an IOAS, and the cdev of the edu open, not bound. */
static void cdev_open_ctx(struct __test_metadata *_metadata,
			  edu_fixture *self, uint32_t *ioas)
{
	char path[PATH_MAX];

	self->iommufd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, ioas));
	ASSERT_EQ(0, cdev_path(self->bdf, path, sizeof(path)));
	self->devfd = open(path, O_RDWR);
	ASSERT_LE(0, self->devfd);
}

/*
 * Open the cdev of the edu, bind it to a new context and attach it to a new
 * IOAS; BAR0 mapped, bus mastering on.
 */
static void cdev_attach(struct __test_metadata *_metadata,
			edu_fixture *self, uint32_t *ioas,
			uint32_t *hwpt)
{
	uint32_t devid;

	cdev_open_ctx(_metadata, self, ioas);
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, &devid));
	*hwpt = *ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, hwpt));
	ASSERT_NE(*ioas, *hwpt);
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));
}

/*
 * Message A goes from RAM at IOVA+0 to the device and comes back at
 * IOVA+2048; message B goes from IOVA+4096 to the device right behind A, and
 * both come back together at IOVA+6144, across the second page.
 */
static void dma_round_trip(struct __test_metadata *_metadata,
			   edu_fixture *self, uint64_t iova)
{
	uint8_t *buf = self->buf;
	uint8_t zero[PG] = {};

	memset(buf, 0, DMA_SIZE);
	memcpy(buf, self->msg_a, XFER);
	memcpy(buf + PG, self->msg_b, XFER);

	ASSERT_EQ(0, to_device(&self->edu, iova, 0, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, iova + 2048, XFER));
	ASSERT_EQ(0, memcmp(buf + 2048, self->msg_a, XFER));
	/* Nothing beyond the transfer was written. */
	ASSERT_EQ(0, memcmp(buf + 2048 + XFER, zero, PG - 2048 - XFER));

	ASSERT_EQ(0, to_device(&self->edu, iova + PG, XFER, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, iova + PG + 2048, 2 * XFER));
	ASSERT_EQ(0, memcmp(buf + PG + 2048, self->msg_a, XFER));
	ASSERT_EQ(0, memcmp(buf + PG + 2048 + XFER, self->msg_b, XFER));
	ASSERT_EQ(0, memcmp(buf + PG + XFER, zero, 2048 - XFER));
	/* The sources are intact. */
	ASSERT_EQ(0, memcmp(buf, self->msg_a, XFER));
	ASSERT_EQ(0, memcmp(buf + PG, self->msg_b, XFER));
}

/* The whole cdev life cycle, with DMA in both directions in the middle. */
TEST_F_TIMEOUT(vfio_edu, cdev_dma, 120)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct iommu_hw_info_vtd vtd = {};
	struct iommu_hw_info hw = {
		.size = sizeof(hw),
		.data_len = sizeof(vtd),
		.data_uptr = (uintptr_t)&vtd,
	};
	struct vfio_region_info ri;
	uint32_t ioas, ioas2, hwpt, devid, bogus;
	uint64_t iova = DMA_IOVA, len;
	int closed;

	cdev_open_ctx(_metadata, self, &ioas);

	/* Nothing but BIND is allowed before BIND. */
	EXPECT_EQ(EINVAL, region_info(self->devfd, VFIO_PCI_BAR0_REGION_INDEX,
				      &ri));
	/* BIND wants an iommufd: ours says which descriptors are not one. */
	closed = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(EINVAL, vfio_bind(self->devfd, -1, NULL));
	EXPECT_EQ(EBADF, vfio_bind(self->devfd, closed, NULL));
	EXPECT_EQ(EBADFD, vfio_bind(self->devfd, self->devfd, NULL));
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, &devid));
	EXPECT_NE(0, devid);
	EXPECT_EQ(EINVAL, vfio_bind(self->devfd, self->iommufd, NULL));

	/* The device ID names the edu to iommufd: VT-d stands behind it. */
	hw.dev_id = devid;
	ASSERT_EQ(0, ioctl_errno(self->iommufd, IOMMU_GET_HW_INFO, &hw));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_INTEL_VTD, hw.out_data_type);
	EXPECT_EQ(sizeof(vtd), hw.data_len);
	EXPECT_NE(0, vtd.cap_reg);
	EXPECT_NE(0, vtd.ecap_reg);
	/* A device ID is not an IOAS. */
	EXPECT_EQ(ENOENT, ioas_map(self->iommufd, devid, self->buf, DMA_SIZE,
				   &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));

	bogus = 0xfffff;
	EXPECT_EQ(ENOENT, vfio_attach(self->devfd, &bogus));
	hwpt = ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, &hwpt));
	/* The IOAS got an automatic page table: that comes back. */
	EXPECT_NE(ioas, hwpt);
	EXPECT_EQ(EBUSY, obj_destroy(self->iommufd, hwpt));
	EXPECT_EQ(EBUSY, obj_destroy(self->iommufd, ioas));

	ASSERT_EQ(0, ioctl_errno(self->devfd, VFIO_DEVICE_GET_INFO, &dinfo));
	EXPECT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_LE(VFIO_PCI_NUM_REGIONS, dinfo.num_regions);
	ASSERT_EQ(0, region_info(self->devfd, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_READ);
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_WRITE);
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_LE(0x100, ri.size);
	ASSERT_EQ(0, region_info(self->devfd, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	EXPECT_LE(0x100, ri.size);
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));

	/* Guest memory appears in the attached page table when it is mapped. */
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(DMA_IOVA, iova);
	EXPECT_EQ(self->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	dma_round_trip(_metadata, self, DMA_IOVA);

	/* A second IOAS: replacing the attachment moves the DMA there. */
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas2));
	ASSERT_EQ(0, ioas_unmap(self->iommufd, ioas, DMA_IOVA, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	iova = DMA_IOVA + 16 * PG;
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas2, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	hwpt = ioas2;
	ASSERT_EQ(0, vfio_attach(self->devfd, &hwpt));
	EXPECT_NE(ioas2, hwpt);
	EXPECT_EQ(0, obj_destroy(self->iommufd, ioas));
	dma_round_trip(_metadata, self, DMA_IOVA + 16 * PG);

	/* Detached, the device is blocked and its page table gone. */
	ASSERT_EQ(0, vfio_detach(self->devfd));
	EXPECT_EQ(ENOENT, obj_destroy(self->iommufd, hwpt));
	memset(self->buf, 0x5a, DMA_SIZE);
	ASSERT_EQ(0, to_ram(&self->edu, 0, DMA_IOVA + 16 * PG, XFER));
	EXPECT_EQ(0x5a, self->buf[0]);
	EXPECT_EQ(0x5a, self->buf[XFER - 1]);

	ASSERT_EQ(0, ioas_unmap(self->iommufd, ioas2, DMA_IOVA + 16 * PG,
				DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	edu_close(&self->edu);
	EXPECT_EQ(0, close(self->devfd));
	self->devfd = -1;
	EXPECT_EQ(0, obj_destroy(self->iommufd, ioas2));
}

/*
 * After IOAS_UNMAP the device can no longer write the page: the write is
 * dropped and VT-d reports the fault. Mapping the page again brings DMA back.
 */
TEST_F_TIMEOUT(vfio_edu, unmap_blocks_dma, 120)
{
	uint64_t iova = DMA_IOVA, len;
	char line[512], want[64];
	uint32_t ioas, hwpt;
	unsigned int i;

	self->kmsg = kmsg_open();
	ASSERT_LE(0, self->kmsg);
	cdev_attach(_metadata, self, &ioas, &hwpt);
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	memcpy(self->buf, self->msg_a, XFER);
	ASSERT_EQ(0, to_device(&self->edu, DMA_IOVA, 0, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, DMA_IOVA + 2048, XFER));
	ASSERT_EQ(0, memcmp(self->buf + 2048, self->msg_a, XFER));
	/* Before the unmap, the log has no fault of ours. */
	EXPECT_FALSE(kmsg_find(self->kmsg, "DMAR", "DMA Write", line,
			       sizeof(line), 0));

	ASSERT_EQ(0, ioas_unmap(self->iommufd, ioas, DMA_IOVA, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));

	/* The old IOVA now leads nowhere: the page keeps its marker. */
	memset(self->buf, 0x5a, DMA_SIZE);
	ASSERT_EQ(0, to_ram(&self->edu, 0, DMA_IOVA, XFER));
	ASSERT_EQ(0, to_ram(&self->edu, 0, DMA_IOVA + PG + 100, XFER));
	for (i = 0; i < DMA_SIZE; i++)
		if (self->buf[i] != 0x5a)
			break;
	EXPECT_EQ(DMA_SIZE, i);
	ASSERT_TRUE(kmsg_find(self->kmsg, "DMAR", "DMA Write", line,
			      sizeof(line), 3000));
	TH_LOG("the kernel logged: %s", line);
	/* About the page of the first blocked write. */
	snprintf(want, sizeof(want), "fault addr 0x%lx ", DMA_IOVA);
	EXPECT_NE(NULL, strstr(line, want));

	/* Mapped again at the same IOVA, the page is reachable again. */
	iova = DMA_IOVA;
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(0, to_ram(&self->edu, 0, DMA_IOVA + PG, XFER));
	EXPECT_EQ(0, memcmp(self->buf + PG, self->msg_a, XFER));
	EXPECT_EQ(0x5a, self->buf[PG + XFER]);
	EXPECT_EQ(0x5a, self->buf[0]);

	ASSERT_EQ(0, vfio_detach(self->devfd));
	edu_close(&self->edu);
	close(self->devfd);
	self->devfd = -1;
	/* The mapping goes with the context. */
}

/*
 * The legacy flow of a VMM that predates iommufd: container, group, type1,
 * device file from the group. /dev/vfio/vfio is iommufd underneath.
 */
TEST_F_TIMEOUT(vfio_edu, legacy_container, 120)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_iommu_type1_info_cap_iova_range *range;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info = NULL;
	char path[PATH_MAX];
	uint64_t len;
	int fd;

	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(self->container, VFIO_GET_API_VERSION));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));

	ASSERT_EQ(0, group_path(self->bdf, path, sizeof(path)));
	self->groupfd = open(path, O_RDWR);
	ASSERT_LE(0, self->groupfd);
	ASSERT_EQ(0, ioctl_errno(self->groupfd, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	EXPECT_FALSE(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* No device file before the group has a container. */
	fd = ioctl(self->groupfd, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	EXPECT_GT(0, fd);
	if (fd >= 0)
		close(fd);

	ASSERT_EQ(0, ioctl_errno(self->groupfd, VFIO_GROUP_SET_CONTAINER,
				 &self->container));
	ASSERT_EQ(0, ioctl_errno(self->groupfd, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_TRUE(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* ENOTTY here means the compat container is not there yet. */
	ASSERT_EQ(0, ioctl_errno(self->container, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));

	ASSERT_EQ(0, type1_info(self->container, &info));
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_PGSIZES);
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	EXPECT_TRUE(info->iova_pgsizes & PG);
	EXPECT_EQ(0, info->iova_pgsizes & (PG - 1));
	EXPECT_LE(sizeof(*info), info->cap_offset);
	range = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, range);
	EXPECT_EQ(1, range->header.version);
	ASSERT_LE(1, range->nr_iovas);
	EXPECT_TRUE(iova_usable(range, DMA_IOVA, DMA_SIZE));
	avail = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_LT(0, avail->avail);
	free(info);

	ASSERT_EQ(0, type1_map(self->container, TYPE1_RW, self->buf, DMA_IOVA,
			       DMA_SIZE));
	/* iommufd pins for page tables only: the device attaches with open. */
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));

	self->devfd = ioctl(self->groupfd, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, self->devfd);
	EXPECT_EQ(self->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));
	dma_round_trip(_metadata, self, DMA_IOVA);

	ASSERT_EQ(0, type1_unmap(self->container, 0, DMA_IOVA, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));

	edu_close(&self->edu);
	EXPECT_EQ(0, close(self->devfd));
	self->devfd = -1;
	EXPECT_EQ(0, ioctl_errno(self->groupfd, VFIO_GROUP_UNSET_CONTAINER,
				 NULL));
	EXPECT_EQ(0, close(self->groupfd));
	self->groupfd = -1;
	EXPECT_EQ(0, close(self->container));
	self->container = -1;
}

/* ---- the container ioctls on /dev/iommu, with a mock device --------------- */

#define MOCK_BUF (16 * PG)

static int vfio_ioas(int fd, uint16_t op, uint32_t *ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id ? *ioas_id : 0,
		.op = op,
	};
	int rc = ioctl_errno(fd, IOMMU_VFIO_IOAS, &cmd);

	if (!rc && ioas_id)
		*ioas_id = cmd.ioas_id;
	return rc;
}

FIXTURE(compat_mock) {
	int fd;
	uint32_t ioas;
	uint32_t stdev;
	uint32_t hwpt;
	uint8_t *buf;
	long pin0;
};

FIXTURE_SETUP(compat_mock)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};

	self->pin0 = proc_status_kb("VmPin");
	self->buf = mmap(NULL, MOCK_BUF, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x11, MOCK_BUF);
	self->fd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	cmd.id = self->ioas;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_TEST_CMD, &cmd));
	self->stdev = cmd.mock_domain.out_stdev_id;
	self->hwpt = cmd.mock_domain.out_hwpt_id;
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &self->ioas));
}

FIXTURE_TEARDOWN(compat_mock)
{
	close(self->fd);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	munmap(self->buf, MOCK_BUF);
}

/* IOMMU_VFIO_IOAS names the IOAS the container ioctls work on. */
TEST_F(compat_mock, vfio_ioas)
{
	struct iommu_vfio_ioas raw = {
		.size = sizeof(raw),
		.op = IOMMU_VFIO_IOAS_GET,
		.__reserved = 1,
	};
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	uint32_t id = 0, other;

	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(self->ioas, id);
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_VFIO_IOAS, &raw));
	EXPECT_EQ(EOPNOTSUPP, vfio_ioas(self->fd, 3, &id));

	/* SET wants an IOAS. */
	id = 9999;
	EXPECT_EQ(ENOENT, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	id = self->hwpt;
	EXPECT_EQ(ENOENT, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));

	/*
	 * The container does not hold its IOAS: destroying it by hand leaves
	 * the container without one.
	 */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &other));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(other, id);
	EXPECT_EQ(0, obj_destroy(self->fd, other));
	EXPECT_EQ(ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(ENODEV, type1_map(self->fd, TYPE1_RW, self->buf, AP_LO, PG));

	/* Without an IOAS, the container has nothing to work on. */
	id = self->ioas;
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_CLEAR, NULL));
	EXPECT_EQ(ENODEV, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_GET, &id));
	EXPECT_EQ(ENODEV, ioctl_errno(self->fd, VFIO_SET_IOMMU,
				      (void *)VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(ENODEV, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, &info));
	EXPECT_EQ(ENODEV, type1_map(self->fd, TYPE1_RW, self->buf, AP_LO, PG));
	EXPECT_EQ(ENODEV, type1_unmap(self->fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0,
				      NULL));
	/* CLEAR did not destroy it: the mock device still holds it. */
	EXPECT_EQ(EBUSY, obj_destroy(self->fd, self->ioas));

	id = self->ioas;
	ASSERT_EQ(0, vfio_ioas(self->fd, IOMMU_VFIO_IOAS_SET, &id));
	EXPECT_EQ(0, type1_map(self->fd, TYPE1_RW, self->buf, AP_LO, PG));
	EXPECT_EQ(0, dom_has(self->fd, self->hwpt, AP_LO, PG, self->buf));
}

TEST_F(compat_mock, extensions)
{
	int fd = self->fd;

	EXPECT_EQ(VFIO_API_VERSION, ioctl(fd, VFIO_GET_API_VERSION));
	EXPECT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	EXPECT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	EXPECT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU));
	EXPECT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, 0x5555));

	EXPECT_EQ(EINVAL, ioctl_errno(fd, VFIO_SET_IOMMU,
				      (void *)VFIO_SPAPR_TCE_IOMMU));
	EXPECT_EQ(EINVAL, ioctl_errno(fd, VFIO_SET_IOMMU, (void *)0x5555UL));
	EXPECT_EQ(0, ioctl_errno(fd, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	/* Container ioctls iommufd does not emulate. */
	EXPECT_EQ(ENOTTY, ioctl_errno(fd, VFIO_IOMMU_ENABLE, NULL));
	EXPECT_EQ(ENOTTY, ioctl_errno(fd, VFIO_IOMMU_DIRTY_PAGES, NULL));
}

/* VFIO_IOMMU_GET_INFO: argsz negotiation and the capability chain. */
TEST_F(compat_mock, get_info)
{
	size_t min = offsetof(struct vfio_iommu_type1_info, cap_offset);
	struct vfio_iommu_type1_info_cap_iova_range *range;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	uint32_t full, i;
	uint8_t *raw;

	ASSERT_EQ(0, ioctl_errno(self->fd, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	raw = malloc(4096);
	ASSERT_NE(NULL, raw);
	info = (void *)raw;

	/* Smaller than the fixed part: refused. */
	memset(raw, 0, 4096);
	info->argsz = min - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, info));

	/*
	 * Room for no capability: the flags say there are some, argsz says
	 * how much room they need, and nothing past argsz is written.
	 */
	memset(raw, 0xaa, 4096);
	info->argsz = sizeof(*info);
	info->flags = 0;
	ASSERT_EQ(0, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, info));
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_PGSIZES);
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	EXPECT_EQ(0, info->cap_offset);
	EXPECT_LT(sizeof(*info), info->argsz);
	EXPECT_GE(4096, info->argsz);
	EXPECT_TRUE(info->iova_pgsizes & PG);
	EXPECT_EQ(0, info->iova_pgsizes & (PG - 1));
	for (i = sizeof(*info); i < 4096; i++)
		if (raw[i] != 0xaa)
			break;
	EXPECT_EQ(4096, i);
	full = info->argsz;

	/* The fixed part without cap_offset is still enough for the flags. */
	memset(raw, 0xaa, 4096);
	info->argsz = min;
	info->flags = 0;
	ASSERT_EQ(0, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, info));
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	EXPECT_EQ(full, info->argsz);
	for (i = min; i < 4096; i++)
		if (raw[i] != 0xaa)
			break;
	EXPECT_EQ(4096, i);

	/* One byte short of the whole chain: still no chain, same argsz. */
	memset(raw, 0xaa, 4096);
	info->argsz = full - 1;
	ASSERT_EQ(0, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, info));
	EXPECT_EQ(0, info->cap_offset);
	EXPECT_EQ(full, info->argsz);
	for (i = full - 1; i < 4096; i++)
		if (raw[i] != 0xaa)
			break;
	EXPECT_EQ(4096, i);

	/* Enough room: the whole chain. */
	memset(raw, 0, 4096);
	info->argsz = full;
	ASSERT_EQ(0, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, info));
	EXPECT_EQ(full, info->argsz);
	EXPECT_EQ(sizeof(*info), info->cap_offset);

	range = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, range);
	EXPECT_EQ(1, range->header.version);
	ASSERT_EQ(1, range->nr_iovas);
	EXPECT_EQ(AP_LO, range->iova_ranges[0].start);
	EXPECT_EQ(AP_HI, range->iova_ranges[0].end);
	EXPECT_GE(full, (char *)&range->iova_ranges[1] - (char *)info);

	avail = (void *)info_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_EQ(1, avail->header.version);
	EXPECT_LE(65535, avail->avail);
	EXPECT_GE(full, (char *)(avail + 1) - (char *)info);
	free(raw);
}

TEST_F(compat_mock, map_unmap)
{
	uint64_t a = AP_LO + MIB, b = AP_LO + 8 * MIB, len;
	int fd = self->fd;

	ASSERT_EQ(0, ioctl_errno(fd, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf, a, MOCK_BUF));
	EXPECT_EQ(0, dom_has(fd, self->hwpt, a, MOCK_BUF, self->buf));
	EXPECT_EQ(self->pin0 + KB(MOCK_BUF), proc_status_kb("VmPin"));
	/* The same IOVA twice. */
	EXPECT_EQ(EEXIST, type1_map(fd, TYPE1_RW, self->buf, a + PG, PG));

	ASSERT_EQ(0, type1_unmap(fd, 0, a, MOCK_BUF, &len));
	EXPECT_EQ(MOCK_BUF, len);
	EXPECT_NE(0, dom_has(fd, self->hwpt, a, PG, self->buf));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	/* A range with nothing mapped in it unmaps nothing, fine. */
	len = 1;
	EXPECT_EQ(0, type1_unmap(fd, 0, a, MOCK_BUF, &len));
	EXPECT_EQ(0, len);

	/* A read-only and a write-only mapping; then everything at once. */
	ASSERT_EQ(0, type1_map(fd, VFIO_DMA_MAP_FLAG_READ, self->buf, a,
			       MOCK_BUF / 2));
	ASSERT_EQ(0, type1_map(fd, VFIO_DMA_MAP_FLAG_WRITE,
			       self->buf + MOCK_BUF / 2, b, MOCK_BUF / 2));
	EXPECT_EQ(0, dom_has(fd, self->hwpt, b, MOCK_BUF / 2,
			     self->buf + MOCK_BUF / 2));
	EXPECT_EQ(EINVAL, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, a, 0, &len));
	EXPECT_EQ(EINVAL, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, PG,
				      &len));
	ASSERT_EQ(0, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &len));
	EXPECT_EQ(MOCK_BUF, len);
	EXPECT_NE(0, dom_has(fd, self->hwpt, a, PG, self->buf));
	EXPECT_NE(0, dom_has(fd, self->hwpt, b, PG,
			     self->buf + MOCK_BUF / 2));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
	/* Unmapping all of nothing is fine. */
	ASSERT_EQ(0, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &len));
	EXPECT_EQ(0, len);

	/* One unmap may take several whole mappings. */
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf, a, MOCK_BUF / 2));
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf + MOCK_BUF / 2,
			       a + MOCK_BUF / 2, MOCK_BUF / 2));
	ASSERT_EQ(0, type1_unmap(fd, 0, a, MOCK_BUF, &len));
	EXPECT_EQ(MOCK_BUF, len);

	/* Left mapped for the close to clean up. */
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf, b, MOCK_BUF));
}

TEST_F(compat_mock, map_errors)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = offsetof(struct vfio_iommu_type1_dma_map, size),
		.flags = TYPE1_RW,
		.vaddr = (uintptr_t)self->buf,
		.iova = AP_LO,
		.size = PG,
	};
	uint64_t a = AP_LO + MIB;
	int fd = self->fd;

	ASSERT_EQ(0, ioctl_errno(fd, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EINVAL, ioctl_errno(fd, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW | (1 << 5), self->buf, a, PG));
	/* iommufd does not do the vaddr update of live update. */
	EXPECT_EQ(EINVAL, type1_map(fd, VFIO_DMA_MAP_FLAG_VADDR, self->buf, a,
				    PG));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, a, 0));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, a + 1, PG));
	/* Outside the mock aperture. */
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, 0, PG));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, AP_LO - PG, PG));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, AP_HI + 1, PG));
	EXPECT_EQ(EINVAL, type1_map(fd, TYPE1_RW, self->buf, AP_HI + 1 - PG,
				    2 * PG));
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
}

TEST_F(compat_mock, unmap_errors)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = offsetof(struct vfio_iommu_type1_dma_unmap, size),
		.iova = AP_LO,
		.size = MOCK_BUF,
	};
	uint64_t len = 0;
	int fd = self->fd;

	ASSERT_EQ(0, ioctl_errno(fd, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf, AP_LO, MOCK_BUF));

	EXPECT_EQ(EINVAL, ioctl_errno(fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(EINVAL, type1_unmap(fd, 1 << 5, AP_LO, MOCK_BUF, &len));
	EXPECT_EQ(EINVAL, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_VADDR, AP_LO,
				      MOCK_BUF, &len));
	EXPECT_EQ(EINVAL, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
				      AP_LO, MOCK_BUF, &len));
	EXPECT_EQ(EINVAL, type1_unmap(fd, 0, AP_LO, 0, &len));
	/*
	 * type1v2 never splits a mapping. iommufd's compat layer answers
	 * ENOENT (the IOAS_UNMAP rule); VFIO's own type1 said EINVAL.
	 */
	EXPECT_EQ(ENOENT, type1_unmap(fd, 0, AP_LO + 4 * PG, 4 * PG, &len));
	EXPECT_EQ(ENOENT, type1_unmap(fd, 0, AP_LO, MOCK_BUF / 2, &len));
	EXPECT_EQ(ENOENT, type1_unmap(fd, 0, AP_LO + PG, MOCK_BUF, &len));
	/* Still all there. */
	EXPECT_EQ(0, dom_has(fd, self->hwpt, AP_LO, MOCK_BUF, self->buf));
	EXPECT_EQ(self->pin0 + KB(MOCK_BUF), proc_status_kb("VmPin"));

	ASSERT_EQ(0, type1_unmap(fd, 0, AP_LO, MOCK_BUF, &len));
	EXPECT_EQ(MOCK_BUF, len);
}

/* Plain type1 (v1) may unmap inside a mapping: iommufd cuts it. */
TEST_F(compat_mock, type1_split)
{
	uint64_t len;
	int fd = self->fd;

	ASSERT_EQ(0, ioctl_errno(fd, VFIO_SET_IOMMU, (void *)VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, type1_map(fd, TYPE1_RW, self->buf, AP_LO, MOCK_BUF));
	ASSERT_EQ(0, type1_unmap(fd, 0, AP_LO + 4 * PG, 2 * PG, &len));
	EXPECT_EQ(2 * PG, len);
	EXPECT_EQ(0, dom_has(fd, self->hwpt, AP_LO, 4 * PG, self->buf));
	EXPECT_NE(0, dom_has(fd, self->hwpt, AP_LO + 4 * PG, PG,
			     self->buf + 4 * PG));
	EXPECT_EQ(0, dom_has(fd, self->hwpt, AP_LO + 6 * PG, MOCK_BUF - 6 * PG,
			     self->buf + 6 * PG));
	EXPECT_EQ(self->pin0 + KB(MOCK_BUF - 2 * PG), proc_status_kb("VmPin"));

	ASSERT_EQ(0, type1_unmap(fd, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, &len));
	EXPECT_EQ(MOCK_BUF - 2 * PG, len);
	EXPECT_EQ(self->pin0, proc_status_kb("VmPin"));
}

/* ---- a page table of another IOMMU driver -------------------------------- */

/* Inside the mock aperture and below the 28 bits the edu can reach. */
#define MOCK_IOVA (AP_LO + DMA_IOVA)

/*
 * One context, two IOMMU drivers: the edu behind VT-d and a mock device
 * behind the mock IOMMU. Neither device may be attached to, or moved onto,
 * a page table of the other's driver: that is EINVAL and changes nothing.
 * An IOAS serves both, each behind an automatic page table of its own
 * driver.
 */
TEST_F_TIMEOUT(vfio_edu, other_driver_hwpt, 120)
{
	uint32_t ioas, ioas2, vtd, vtd2, mock, stdev, pt;
	uint64_t iova = DMA_IOVA;
	struct mdev md;

	cdev_attach(_metadata, self, &ioas, &vtd);
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	dma_round_trip(_metadata, self, DMA_IOVA);

	/* A mock device in the same context, on a second IOAS. */
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas2));
	ASSERT_EQ(0, dev_add(self->iommufd, ioas2, 0, &md));
	stdev = md.stdev;
	mock = md.hwpt;
	EXPECT_NE(vtd, mock);
	iova = MOCK_IOVA;
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas2, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_EQ(0, dom_has(self->iommufd, mock, MOCK_IOVA, DMA_SIZE,
			     self->buf));

	/* The mock device cannot move onto the VT-d page table, */
	pt = vtd;
	EXPECT_EQ(EINVAL, dev_move(self->iommufd, stdev, &pt));
	EXPECT_EQ(vtd, pt);
	/* nor can a new one start there. */
	EXPECT_EQ(EINVAL, dev_add(self->iommufd, vtd, 0, &md));
	/* Both devices are where they were. */
	EXPECT_EQ(0, dom_has(self->iommufd, mock, MOCK_IOVA, DMA_SIZE,
			     self->buf));
	EXPECT_EQ(EBUSY, obj_destroy(self->iommufd, vtd));
	dma_round_trip(_metadata, self, DMA_IOVA);

	/* The edu cannot move onto the mock page table, */
	pt = mock;
	EXPECT_EQ(EINVAL, vfio_attach(self->devfd, &pt));
	EXPECT_EQ(mock, pt);
	dma_round_trip(_metadata, self, DMA_IOVA);
	/* nor attach to it once detached. */
	ASSERT_EQ(0, vfio_detach(self->devfd));
	EXPECT_EQ(ENOENT, obj_destroy(self->iommufd, vtd));
	pt = mock;
	EXPECT_EQ(EINVAL, vfio_attach(self->devfd, &pt));
	EXPECT_EQ(mock, pt);

	/*
	 * By the IOAS of the mock device, the edu gets a VT-d page table of
	 * its own next to the mock one, and DMA through it.
	 */
	vtd2 = ioas2;
	ASSERT_EQ(0, vfio_attach(self->devfd, &vtd2));
	EXPECT_NE(ioas2, vtd2);
	EXPECT_NE(mock, vtd2);
	EXPECT_EQ(EBUSY, obj_destroy(self->iommufd, vtd2));
	dma_round_trip(_metadata, self, MOCK_IOVA);
	EXPECT_EQ(0, dom_has(self->iommufd, mock, MOCK_IOVA, DMA_SIZE,
			     self->buf));

	/* By the IOAS, the mock device stays on its own page table, */
	pt = ioas2;
	ASSERT_EQ(0, dev_move(self->iommufd, stdev, &pt));
	EXPECT_EQ(mock, pt);
	/* and cannot move onto the VT-d one of the same IOAS. */
	pt = vtd2;
	EXPECT_EQ(EINVAL, dev_move(self->iommufd, stdev, &pt));
	EXPECT_EQ(0, dom_has(self->iommufd, mock, MOCK_IOVA, DMA_SIZE,
			     self->buf));
	EXPECT_EQ(self->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	dma_round_trip(_metadata, self, MOCK_IOVA);

	ASSERT_EQ(0, vfio_detach(self->devfd));
	edu_close(&self->edu);
	EXPECT_EQ(0, close(self->devfd));
	self->devfd = -1;
	/* The mock device and the mappings go with the context. */
}

/* ---- nesting through the VT-d driver --------------------------------------- */

/*
 * Emulated VT-d without scalable mode offers no nesting: a NEST_PARENT
 * table fails with the driver's own errno, and a VT-d stage-1 table on a
 * page table not made as a parent fails with ours. Nothing is left.
 */
TEST_F_TIMEOUT(vfio_edu, vtd_nesting_refused, 120)
{
	struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
	struct iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	uint32_t ioas, devid, hwpt;

	cdev_open_ctx(_metadata, self, &ioas);
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, &devid));

	cmd.dev_id = devid;
	cmd.pt_id = ioas;
	cmd.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	EXPECT_EQ(EOPNOTSUPP, ioctl_errno(self->iommufd, IOMMU_HWPT_ALLOC,
					  &cmd));
	cmd.flags = 0;
	ASSERT_EQ(0, ioctl_errno(self->iommufd, IOMMU_HWPT_ALLOC, &cmd));
	hwpt = cmd.out_hwpt_id;
	cmd.pt_id = hwpt;
	cmd.data_type = IOMMU_HWPT_DATA_VTD_S1;
	cmd.data_len = sizeof(s1);
	cmd.data_uptr = (uintptr_t)&s1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->iommufd, IOMMU_HWPT_ALLOC, &cmd));
	EXPECT_EQ(0, obj_destroy(self->iommufd, hwpt));
	EXPECT_EQ(0, obj_destroy(self->iommufd, ioas));
}

/*
 * A page table with a fault queue on VT-d: it is made, but the edu has no
 * PRI, so neither attach nor replace onto it can turn page requests on.
 * Both fail, and leave the device where it was.
 */
TEST_F_TIMEOUT(vfio_edu, fault_queue_needs_pri, 120)
{
	uint32_t ioas, hwpt, devid, fault_id, iopf_hwpt, pt;
	uint64_t iova = DMA_IOVA;
	int ffd;

	cdev_open_ctx(_metadata, self, &ioas);
	ASSERT_EQ(0, vfio_bind(self->devfd, self->iommufd, &devid));
	hwpt = ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, &hwpt));
	ASSERT_EQ(0, edu_open(&self->edu, self->devfd));
	ASSERT_EQ(0, ioas_map(self->iommufd, ioas, self->buf, DMA_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));

	ASSERT_EQ(0, fault_alloc(self->iommufd, &fault_id, &ffd));
	ASSERT_EQ(0, pt_alloc_fault(self->iommufd, devid, ioas,
				    IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				    &iopf_hwpt));
	pt = iopf_hwpt;
	EXPECT_EQ(ENODEV, vfio_attach(self->devfd, &pt));
	EXPECT_EQ(EBUSY, obj_destroy(self->iommufd, hwpt));
	dma_round_trip(_metadata, self, DMA_IOVA);

	ASSERT_EQ(0, vfio_detach(self->devfd));
	pt = iopf_hwpt;
	EXPECT_EQ(ENODEV, vfio_attach(self->devfd, &pt));
	/* Nothing was left behind: the IOAS takes the device again. */
	pt = ioas;
	ASSERT_EQ(0, vfio_attach(self->devfd, &pt));
	dma_round_trip(_metadata, self, DMA_IOVA);

	ASSERT_EQ(0, vfio_detach(self->devfd));
	EXPECT_EQ(0, obj_destroy(self->iommufd, iopf_hwpt));
	EXPECT_EQ(0, close(ffd));
	EXPECT_EQ(0, obj_destroy(self->iommufd, fault_id));
	edu_close(&self->edu);
}

TEST_HARNESS_MAIN
