// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two devices in one IOMMU group, with real DMA. The lab puts two QEMU edu
 * devices behind a conventional PCI-to-PCI bridge: their DMA reaches the
 * IOMMU with the requester ID of the bridge, so Linux makes one iommu_group
 * of the bridge and both, and VT-d can give the two only one page table.
 *
 * Through the device cdevs (one iommufd context) both devices must end up
 * behind the same automatic page table of an IOAS, whether the second one
 * names the IOAS or that page table; a device that is not attached cannot
 * take its group to another IOAS while the other one holds it there; an
 * attached device that moves takes the whole group along; the page table
 * stays while either device is attached. Through the legacy group and
 * container (/dev/vfio/vfio, which iommufd serves) both device files come
 * from the one group and DMA through the one container.
 *
 * Every DMA check copies a fresh pattern from RAM into the buffer of the
 * device and back to RAM, across a page boundary, and then checks every
 * byte of the two pages. QEMU 7.2 aborts on a transfer that covers the
 * whole 4 KiB buffer of the edu: each transfer here is 1.5 KiB.
 */
#include <stdbool.h>
#include <stddef.h>

/* The harness' setjmp() trips -Wclobbered in its own wrapper. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "lab_harness.h"
#include "lab_util.h"
#include "lab_vfio.h"
#include "iommufd_test.h"

#define PG 4096UL
#define KB(bytes) ((long)((bytes) / 1024))

/* The DMA buffer: two pages, at DMA_IOVA in one IOAS, DMA_IOVA2 in another */
#define DMA_IOVA 0x100000UL
#define DMA_IOVA2 0x200000UL
#define DMA_SIZE (2 * PG)
#define XFER 1536U			/* bytes per transfer */
#define SRC_OFF 0UL			/* where the pattern starts */
#define DST_OFF (PG - 512)		/* where it comes back: both pages */
#define MARK 0xa5			/* every other byte of the buffer */
#define PCI_BRIDGE_CLASS 0x0604		/* class and subclass of a P2P bridge */

#define MAP_FIXED_RW (MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA)

enum { A, B };				/* the two devices, in address order */

struct gdev {
	char bdf[BDF_LEN];
	int fd;				/* VFIO device file: cdev or group's */
	uint32_t devid;			/* iommufd device ID of the cdev */
	struct edu edu;
};

/* What every test of both fixtures below works with. */
struct pair {
	struct gdev dev[2];
	int group;			/* the number of their IOMMU group */
	int iommufd;
	int groupfd;
	int container;
	uint8_t *buf;			/* DMA_SIZE bytes of "guest memory" */
	unsigned int round;		/* makes every pattern a new one */
	long pin0;
};

#define NO_PAIR "no two edu devices in one IOMMU group (QEMU: -device " \
	"pci-bridge,id=br1,chassis_nr=1 -device edu,bus=br1,addr=1.0 " \
	"-device edu,bus=br1,addr=2.0)"

static void pair_setup(struct __test_metadata *_metadata, struct pair *p)
{
	int i;

	p->iommufd = -1;
	p->groupfd = -1;
	p->container = -1;
	p->buf = MAP_FAILED;
	for (i = 0; i < 2; i++) {
		p->dev[i].fd = -1;
		p->dev[i].edu.bar = NULL;
	}
	p->pin0 = proc_status_kb("VmPin");
	ASSERT_LE(0, p->pin0);
	if (edu_find_pair(p->dev[A].bdf, p->dev[B].bdf, BDF_LEN, &p->group))
		SKIP(return, NO_PAIR);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, bind_vfio_pci(p->dev[i].bdf));
	p->buf = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p->buf);
	memset(p->buf, MARK, DMA_SIZE);
}

static void pair_teardown(struct __test_metadata *_metadata, struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		edu_close(&p->dev[i].edu);
		if (p->dev[i].fd >= 0)
			close(p->dev[i].fd);
	}
	if (p->groupfd >= 0)
		close(p->groupfd);
	if (p->container >= 0)
		close(p->container);
	if (p->iommufd >= 0)
		close(p->iommufd);
	/* Nothing stays pinned once every file is closed. */
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));
	if (p->buf != MAP_FAILED)
		munmap(p->buf, DMA_SIZE);
}

/* Open both cdevs and bind them to one new context. */
static void cdev_bind(struct __test_metadata *_metadata, struct pair *p)
{
	char path[PATH_MAX];
	int i;

	p->iommufd = open(IOMMU_DEV, O_RDWR);
	ASSERT_LE(0, p->iommufd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, cdev_open(p->dev[i].bdf, path, sizeof(path),
				       &p->dev[i].fd));
		ASSERT_EQ(0, vfio_bind(p->dev[i].fd, p->iommufd,
				       &p->dev[i].devid));
	}
	EXPECT_NE(p->dev[A].devid, p->dev[B].devid);
}

/* Attach device @d to *@pt (an IOAS or page table): 0 or the errno. */
static int attach(struct pair *p, int d, uint32_t *pt)
{
	return vfio_attach(p->dev[d].fd, pt);
}

/* ---- DMA checks ---------------------------------------------------------- */

static uint8_t pattern(unsigned int seed, unsigned int i)
{
	uint32_t x = seed * 2654435761u + i * 40503u;

	return x ^ (x >> 11) ^ (x >> 19);
}

/* The first offset at which @got differs from @want, or @len. */
static size_t first_diff(const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i])
			break;
	return i;
}

/*
 * A new pattern goes from RAM at @iova + SRC_OFF into the buffer of device
 * @d and comes back to RAM at @iova + DST_OFF, across the page boundary.
 * Then every byte of the two pages must be right: the pattern at both
 * places, MARK everywhere else. A pattern that did not reach the device
 * (a blocked read) fails as well: the device would send back the last one.
 */
static void dma_ok(struct __test_metadata *_metadata, struct pair *p, int d,
		   uint64_t iova)
{
	struct edu *edu = &p->dev[d].edu;
	unsigned int seed = ++p->round * 2 + d, i;
	uint8_t want[DMA_SIZE];
	size_t at;

	memset(want, MARK, DMA_SIZE);
	for (i = 0; i < XFER; i++) {
		want[SRC_OFF + i] = pattern(seed, i);
		want[DST_OFF + i] = pattern(seed, i);
	}
	memcpy(p->buf, want, DMA_SIZE);
	memset(p->buf + DST_OFF, MARK, XFER);

	ASSERT_EQ(0, edu_dma(edu, iova + SRC_OFF, EDU_BUF, XFER, EDU_CMD_RUN));
	ASSERT_EQ(0, edu_dma(edu, EDU_BUF, iova + DST_OFF, XFER,
			     EDU_CMD_RUN | EDU_CMD_TO_RAM));
	at = first_diff(p->buf, want, DMA_SIZE);
	if (at < DMA_SIZE)
		TH_LOG("%s at IOVA 0x%lx: byte %zu is 0x%02x, not 0x%02x",
		       p->dev[d].bdf, (unsigned long)iova, at, p->buf[at],
		       want[at]);
	ASSERT_EQ(DMA_SIZE, at);
}

/* A write of device @d to RAM at @iova must not arrive. */
static void dma_blocked(struct __test_metadata *_metadata, struct pair *p,
			int d, uint64_t iova)
{
	uint8_t want[DMA_SIZE];
	size_t at;

	memset(want, MARK, DMA_SIZE);
	memset(p->buf, MARK, DMA_SIZE);
	/* The buffer of the device still holds its last pattern. */
	ASSERT_EQ(0, edu_dma(&p->dev[d].edu, EDU_BUF, iova + DST_OFF, XFER,
			     EDU_CMD_RUN | EDU_CMD_TO_RAM));
	at = first_diff(p->buf, want, DMA_SIZE);
	if (at < DMA_SIZE)
		TH_LOG("%s wrote to IOVA 0x%lx: byte %zu is 0x%02x",
		       p->dev[d].bdf, (unsigned long)iova, at, p->buf[at]);
	ASSERT_EQ(DMA_SIZE, at);
}

/* ---- the layout ---------------------------------------------------------- */

/* Every line of the output of @cmd into the test log. */
static void log_cmd(struct __test_metadata *_metadata, const char *cmd)
{
	char line[512];
	FILE *f = popen(cmd, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		TH_LOG("%s", line);
	}
	pclose(f);
}

/* The name of the directory above the sysfs directory of @bdf. */
static int pci_parent(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX], *slash;
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno;
	target[n] = 0;
	slash = strrchr(target, '/');
	if (!slash)
		return own_err(EINVAL);
	*slash = 0;
	slash = strrchr(target, '/');
	str_copy(out, len, slash ? slash + 1 : target);
	return 0;
}

/*
 * The topology the other tests stand on: the two edu devices and the
 * bridge above them in one group and nothing else in it; the edu the
 * single-device programs pick (edu_find()) alone in a group of its own.
 */
TEST(topology)
{
	char a[BDF_LEN], b[BDF_LEN], solo[BDF_LEN], up[BDF_LEN], path[PATH_MAX];
	unsigned long class = 0;
	struct dirent *de;
	int group, g = -1, seen = 0;
	DIR *dir;

	log_cmd(_metadata, "ls -l " SYSFS_PCI "/*/iommu_group 2>&1");
	if (edu_find_pair(a, b, sizeof(a), &group))
		SKIP(return, NO_PAIR);
	TH_LOG("%s and %s share group %d", a, b, group);

	/* Both sit right below the same bridge. */
	ASSERT_EQ(0, pci_parent(a, up, sizeof(up)));
	ASSERT_EQ(0, pci_parent(b, path, sizeof(path)));
	EXPECT_STREQ(up, path);
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/class", up);
	ASSERT_EQ(0, read_ulong(path, &class));
	EXPECT_EQ(PCI_BRIDGE_CLASS, class >> 8);

	/* The group is the bridge and the two. */
	EXPECT_EQ(3, iommu_group_size(group));
	snprintf(path, sizeof(path), SYSFS_GROUPS "/%d/devices", group);
	dir = opendir(path);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		TH_LOG("group %d: %s", group, de->d_name);
		if (!strcmp(de->d_name, a) || !strcmp(de->d_name, b) ||
		    !strcmp(de->d_name, up))
			seen++;
	}
	closedir(dir);
	EXPECT_EQ(3, seen);
	ASSERT_EQ(0, pci_iommu_group(up, &g));
	EXPECT_EQ(group, g);

	/* The single-device programs keep the edu that is alone. */
	ASSERT_EQ(0, edu_find(solo, sizeof(solo)));
	TH_LOG("edu_find() picks %s", solo);
	EXPECT_STRNE(a, solo);
	EXPECT_STRNE(b, solo);
	ASSERT_EQ(0, pci_iommu_group(solo, &g));
	EXPECT_NE(group, g);
	EXPECT_EQ(1, iommu_group_size(g));
}

/* ---- through the device cdevs -------------------------------------------- */

FIXTURE(group_cdev) {
	struct pair p;
};

/* How the second device first joins the page table of the first */
FIXTURE_VARIANT(group_cdev) {
	bool b_by_hwpt;		/* by its ID, else by the IOAS ID */
};

FIXTURE_VARIANT_ADD(group_cdev, b_by_ioas) { .b_by_hwpt = false };
FIXTURE_VARIANT_ADD(group_cdev, b_by_hwpt) { .b_by_hwpt = true };

FIXTURE_SETUP(group_cdev)
{
	pair_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(group_cdev)
{
	pair_teardown(_metadata, &self->p);
}

/*
 * Both devices behind the one page table of an IOAS, joining and leaving
 * in every order; a device that is not attached cannot take the group to
 * another IOAS, and trying changes nothing.
 */
TEST_F_TIMEOUT(group_cdev, shared_ioas, 300)
{
	struct pair *p = &self->p;
	uint32_t ioas, ioas2, hwpt, hwpt2, pt;
	uint64_t iova = DMA_IOVA, len;

	cdev_bind(_metadata, p);
	ASSERT_EQ(0, ioas_alloc(p->iommufd, &ioas));
	ASSERT_EQ(0, ioas_alloc(p->iommufd, &ioas2));
	ASSERT_EQ(0, ioas_map(p->iommufd, ioas, p->buf, DMA_SIZE, &iova,
			      MAP_FIXED_RW));
	/* No page table yet: nothing pinned. */
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));

	/* A first: the group gets an automatic page table of the IOAS. */
	hwpt = ioas;
	ASSERT_EQ(0, attach(p, A, &hwpt));
	EXPECT_NE(ioas, hwpt);
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, edu_open(&p->dev[A].edu, p->dev[A].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);

	/* The group is on the first IOAS: B cannot take it elsewhere. */
	pt = ioas2;
	EXPECT_EQ(EINVAL, attach(p, B, &pt));
	EXPECT_EQ(ioas2, pt);
	EXPECT_EQ(EBUSY, obj_destroy(p->iommufd, hwpt));
	dma_ok(_metadata, p, A, DMA_IOVA);

	/* B joins the page table of A. */
	pt = variant->b_by_hwpt ? hwpt : ioas;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt, pt);
	/* One page table: the buffer is pinned once. */
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, edu_open(&p->dev[B].edu, p->dev[B].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* Attaching either again to where it is changes nothing. */
	pt = ioas;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt, pt);
	pt = hwpt;
	ASSERT_EQ(0, attach(p, A, &pt));
	EXPECT_EQ(hwpt, pt);
	EXPECT_EQ(EBUSY, obj_destroy(p->iommufd, hwpt));
	EXPECT_EQ(EBUSY, obj_destroy(p->iommufd, ioas));
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* B leaves; it cannot go to the second IOAS; it comes back. */
	ASSERT_EQ(0, vfio_detach(p->dev[B].fd));
	EXPECT_EQ(EBUSY, obj_destroy(p->iommufd, hwpt));
	pt = ioas2;
	EXPECT_EQ(EINVAL, attach(p, B, &pt));
	dma_ok(_metadata, p, A, DMA_IOVA);
	pt = variant->b_by_hwpt ? ioas : hwpt;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt, pt);
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* A leaves: B keeps the page table and its DMA. */
	ASSERT_EQ(0, vfio_detach(p->dev[A].fd));
	EXPECT_EQ(EBUSY, obj_destroy(p->iommufd, hwpt));
	dma_ok(_metadata, p, B, DMA_IOVA);
	pt = ioas2;
	EXPECT_EQ(EINVAL, attach(p, A, &pt));
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	dma_ok(_metadata, p, B, DMA_IOVA);
	/* A comes back to the page table B holds, by the IOAS; leaves again. */
	pt = ioas;
	ASSERT_EQ(0, attach(p, A, &pt));
	EXPECT_EQ(hwpt, pt);
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);
	ASSERT_EQ(0, vfio_detach(p->dev[A].fd));
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* B leaves last: the page table goes, the group is blocked. */
	ASSERT_EQ(0, vfio_detach(p->dev[B].fd));
	EXPECT_EQ(ENOENT, obj_destroy(p->iommufd, hwpt));
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));
	dma_blocked(_metadata, p, A, DMA_IOVA);
	dma_blocked(_metadata, p, B, DMA_IOVA);
	/* vfio makes a detach of a detached device a no-op. */
	EXPECT_EQ(0, vfio_detach(p->dev[B].fd));

	/* Free again, the group may go anywhere: both to the second IOAS. */
	iova = DMA_IOVA2;
	ASSERT_EQ(0, ioas_map(p->iommufd, ioas2, p->buf, DMA_SIZE, &iova,
			      MAP_FIXED_RW));
	hwpt2 = ioas2;
	ASSERT_EQ(0, attach(p, B, &hwpt2));
	EXPECT_NE(ioas2, hwpt2);
	pt = ioas2;
	ASSERT_EQ(0, attach(p, A, &pt));
	EXPECT_EQ(hwpt2, pt);
	dma_ok(_metadata, p, A, DMA_IOVA2);
	dma_ok(_metadata, p, B, DMA_IOVA2);
	/* Nothing is at the IOVA of the first IOAS there. */
	dma_blocked(_metadata, p, A, DMA_IOVA);

	ASSERT_EQ(0, vfio_detach(p->dev[A].fd));
	ASSERT_EQ(0, vfio_detach(p->dev[B].fd));
	EXPECT_EQ(ENOENT, obj_destroy(p->iommufd, hwpt2));
	ASSERT_EQ(0, ioas_unmap(p->iommufd, ioas, DMA_IOVA, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	ASSERT_EQ(0, ioas_unmap(p->iommufd, ioas2, DMA_IOVA2, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));
	EXPECT_EQ(0, obj_destroy(p->iommufd, ioas));
	EXPECT_EQ(0, obj_destroy(p->iommufd, ioas2));
}

FIXTURE(group) {
	struct pair p;
};

FIXTURE_SETUP(group)
{
	pair_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(group)
{
	pair_teardown(_metadata, &self->p);
}

/*
 * An attached device that attaches elsewhere (a replace) moves its whole
 * group, the other device with it, without a blocked moment in between.
 */
TEST_F_TIMEOUT(group, cdev_replace_moves_group, 300)
{
	struct pair *p = &self->p;
	uint32_t ioas, ioas2, hwpt, hwpt2, hwpt3, pt;
	uint64_t iova;

	cdev_bind(_metadata, p);
	ASSERT_EQ(0, ioas_alloc(p->iommufd, &ioas));
	ASSERT_EQ(0, ioas_alloc(p->iommufd, &ioas2));
	iova = DMA_IOVA;
	ASSERT_EQ(0, ioas_map(p->iommufd, ioas, p->buf, DMA_SIZE, &iova,
			      MAP_FIXED_RW));
	iova = DMA_IOVA2;
	ASSERT_EQ(0, ioas_map(p->iommufd, ioas2, p->buf, DMA_SIZE, &iova,
			      MAP_FIXED_RW));

	hwpt = ioas;
	ASSERT_EQ(0, attach(p, A, &hwpt));
	pt = hwpt;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt, pt);
	ASSERT_EQ(0, edu_open(&p->dev[A].edu, p->dev[A].fd));
	ASSERT_EQ(0, edu_open(&p->dev[B].edu, p->dev[B].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* A moves to the second IOAS, and B goes along. */
	hwpt2 = ioas2;
	ASSERT_EQ(0, attach(p, A, &hwpt2));
	EXPECT_NE(ioas2, hwpt2);
	EXPECT_NE(hwpt, hwpt2);
	/* Nobody is left on the old automatic page table: it is gone. */
	EXPECT_EQ(ENOENT, obj_destroy(p->iommufd, hwpt));
	dma_ok(_metadata, p, A, DMA_IOVA2);
	dma_ok(_metadata, p, B, DMA_IOVA2);
	dma_blocked(_metadata, p, B, DMA_IOVA);
	/* B is there already. */
	pt = ioas2;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt2, pt);
	pt = hwpt2;
	ASSERT_EQ(0, attach(p, B, &pt));
	EXPECT_EQ(hwpt2, pt);

	/* B moves back, and A goes along. */
	hwpt3 = ioas;
	ASSERT_EQ(0, attach(p, B, &hwpt3));
	EXPECT_NE(hwpt2, hwpt3);
	EXPECT_EQ(ENOENT, obj_destroy(p->iommufd, hwpt2));
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);
	dma_blocked(_metadata, p, A, DMA_IOVA2);
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));

	ASSERT_EQ(0, vfio_detach(p->dev[B].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);
	ASSERT_EQ(0, vfio_detach(p->dev[A].fd));
	EXPECT_EQ(ENOENT, obj_destroy(p->iommufd, hwpt3));
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));
	/* The mappings go with the context. */
}

/* ---- through the legacy group and container ------------------------------ */

/* The device file of device @d from the group: 0 or the errno. */
static int group_device(struct pair *p, int d)
{
	p->dev[d].fd = ioctl(p->groupfd, VFIO_GROUP_GET_DEVICE_FD,
			     p->dev[d].bdf);
	return p->dev[d].fd < 0 ? errno : 0;
}

static void group_close_device(struct pair *p, int d)
{
	edu_close(&p->dev[d].edu);
	close(p->dev[d].fd);
	p->dev[d].fd = -1;
}

/*
 * The flow of a VMM that predates iommufd, with a group of two devices:
 * one container, one group, a device file for each device.
 */
TEST_F_TIMEOUT(group, legacy_container, 300)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct pair *p = &self->p;
	char bridge[BDF_LEN];
	uint64_t len;
	int fd;

	p->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, p->container);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(p->container, VFIO_GET_API_VERSION));
	ASSERT_EQ(0, vfio_group_open(p->group, &p->groupfd));
	ASSERT_EQ(0, ioctl_errno(p->groupfd, VFIO_GROUP_GET_STATUS, &status));
	/* The bridge has no driver: that leaves the group viable. */
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	EXPECT_FALSE(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);

	ASSERT_EQ(0, ioctl_errno(p->groupfd, VFIO_GROUP_SET_CONTAINER,
				 &p->container));
	ASSERT_EQ(0, ioctl_errno(p->container, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, type1_map(p->container, TYPE1_RW, p->buf, DMA_IOVA,
			       DMA_SIZE));
	/* iommufd pins for page tables only: the first device brings one. */
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));

	ASSERT_EQ(0, group_device(p, A));
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, edu_open(&p->dev[A].edu, p->dev[A].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);

	/* The bridge is in the group, but it is no VFIO device. */
	ASSERT_EQ(0, pci_parent(p->dev[A].bdf, bridge, sizeof(bridge)));
	fd = ioctl(p->groupfd, VFIO_GROUP_GET_DEVICE_FD, bridge);
	EXPECT_GT(0, fd);
	if (fd >= 0)
		close(fd);

	/* B joins the same container, behind the same page table. */
	ASSERT_EQ(0, group_device(p, B));
	EXPECT_EQ(p->pin0 + KB(DMA_SIZE), proc_status_kb("VmPin"));
	ASSERT_EQ(0, edu_open(&p->dev[B].edu, p->dev[B].fd));
	dma_ok(_metadata, p, A, DMA_IOVA);
	dma_ok(_metadata, p, B, DMA_IOVA);

	/* B closes: A keeps its DMA; B opens again and has its DMA back. */
	group_close_device(p, B);
	dma_ok(_metadata, p, A, DMA_IOVA);
	ASSERT_EQ(0, group_device(p, B));
	ASSERT_EQ(0, edu_open(&p->dev[B].edu, p->dev[B].fd));
	dma_ok(_metadata, p, B, DMA_IOVA);
	dma_ok(_metadata, p, A, DMA_IOVA);

	/* Unmapped, the IOVA leads nowhere for either. */
	ASSERT_EQ(0, type1_unmap(p->container, 0, DMA_IOVA, DMA_SIZE, &len));
	EXPECT_EQ(DMA_SIZE, len);
	EXPECT_EQ(p->pin0, proc_status_kb("VmPin"));
	dma_blocked(_metadata, p, A, DMA_IOVA);
	dma_blocked(_metadata, p, B, DMA_IOVA);

	group_close_device(p, A);
	group_close_device(p, B);
	EXPECT_EQ(0, ioctl_errno(p->groupfd, VFIO_GROUP_UNSET_CONTAINER, NULL));
	EXPECT_EQ(0, close(p->groupfd));
	p->groupfd = -1;
	EXPECT_EQ(0, close(p->container));
	p->container = -1;
}

TEST_HARNESS_MAIN
