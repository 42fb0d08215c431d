/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's edu device (PCI 1234:11e8) through VFIO, shared by the lab's
 * programs that drive it: finding it in sysfs (the one alone in its IOMMU
 * group, or two that share one), handing it to vfio-pci, finding its VFIO
 * cdev or group, binding and attaching that to iommufd, mapping its BAR0
 * and running its DMA engine.
 *
 * The edu device: BAR0 registers 0x80 DMA source, 0x88 destination, 0x90
 * count, 0x98 command (bit 0 run, bit 1 device to RAM); its own buffer sits
 * at device address 0x40000 (4 KiB); DMA addresses are masked to 28 bits; a
 * transfer completes about 100 ms later.
 */
#ifndef __IOMMUFD_LAB_VFIO_H
#define __IOMMUFD_LAB_VFIO_H

#include <dirent.h>
#include <limits.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "lab_util.h"

/*
 * The C library's <linux/vfio.h> may predate the device cdev (Linux 6.6);
 * these are the kernel's uapi definitions.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};

#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};

#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};

#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000UL		/* device address of its buffer */
#define EDU_TIMEOUT_S 10

#define SYSFS_PCI "/sys/bus/pci/devices"

/* An error found by the helpers themselves, errno-valued as ioctl_errno(). */
static inline int own_err(int err)
{
	return err;
}

/* ---- sysfs --------------------------------------------------------------- */

/* strlcpy(), which the C library may lack. */
static inline void str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static inline int read_ulong(const char *path, unsigned long *val)
{
	char line[64];
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (!f)
		return errno;
	if (!fgets(line, sizeof(line), f))
		rc = EIO;
	else
		*val = strtoul(line, NULL, 0);
	fclose(f);
	return rc;
}

static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, val, strlen(val));
	close(fd);
	if (n < 0)
		return errno;
	return n == (ssize_t)strlen(val) ? 0 : EIO;
}

/* ---- IOMMU groups -------------------------------------------------------- */

#define SYSFS_GROUPS "/sys/kernel/iommu_groups"

/* The number of the IOMMU group of @bdf; ENOENT when it has none. */
static inline int pci_iommu_group(const char *bdf, int *group)
{
	char path[PATH_MAX], target[PATH_MAX], *end;
	const char *name;
	ssize_t n;
	long val;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno;
	target[n] = 0;
	name = strrchr(target, '/');
	name = name ? name + 1 : target;
	errno = 0;
	val = strtol(name, &end, 10);
	if (errno || end == name || *end || val < 0 || val > INT_MAX)
		return own_err(EINVAL);
	*group = val;
	return 0;
}

/* How many devices the IOMMU group @group has, or -1 with errno set. */
static inline int iommu_group_size(int group)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), SYSFS_GROUPS "/%d/devices", group);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* Open /dev/vfio/<group> of a group whose devices are bound to vfio-pci. */
static inline int vfio_group_open(int group, int *fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	*fd = open(path, O_RDWR);
	return *fd < 0 ? errno : 0;
}

/* ---- the edu devices in sysfs -------------------------------------------- */

#define EDU_MAX 8			/* edu devices looked at, at most */
#define BDF_LEN 32

static inline int bdf_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* str_copy() from a name of at most BDF_LEN bytes. */
static inline void bdf_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, BDF_LEN - 1);

	if (n > len - 1)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Whether the PCI device @name is an edu. */
static inline int is_edu(const char *name)
{
	unsigned long vendor = 0, device = 0;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", name);
	if (read_ulong(path, &vendor) || vendor != EDU_VENDOR)
		return 0;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", name);
	return !read_ulong(path, &device) && device == EDU_DEVICE;
}

/*
 * The addresses of the edu devices, sorted (sysfs lists them in no
 * particular order): how many, up to EDU_MAX, or -1 with errno set.
 */
static inline int edu_list(char bdfs[][BDF_LEN])
{
	struct dirent *de;
	DIR *dir = opendir(SYSFS_PCI);
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)) && n < EDU_MAX) {
		if (de->d_name[0] == '.' || !is_edu(de->d_name))
			continue;
		str_copy(bdfs[n++], BDF_LEN, de->d_name);
	}
	closedir(dir);
	qsort(bdfs, n, BDF_LEN, bdf_cmp);
	return n;
}

/*
 * The address of the edu device the single-device programs use: the first
 * one that is alone in its IOMMU group, so that not one of a pair sharing
 * a group (behind a conventional PCI bridge); failing that (no IOMMU), the
 * first one. ENODEV when there is none.
 */
static inline int edu_find(char *bdf, size_t len)
{
	char bdfs[EDU_MAX][BDF_LEN];
	int i, n = edu_list(bdfs), group = -1;

	if (n < 0)
		return errno;
	if (!n)
		return own_err(ENODEV);
	for (i = 0; i < n; i++) {
		if (!pci_iommu_group(bdfs[i], &group) &&
		    iommu_group_size(group) == 1) {
			bdf_copy(bdf, len, bdfs[i]);
			return 0;
		}
	}
	bdf_copy(bdf, len, bdfs[0]);
	return 0;
}

/*
 * Two edu devices in one IOMMU group, @a before @b in address order, and
 * the number of their group: the first such pair; ENODEV when there is
 * none.
 */
static inline int edu_find_pair(char *a, char *b, size_t len, int *group)
{
	char bdfs[EDU_MAX][BDF_LEN];
	int groups[EDU_MAX];
	int i, j, n = edu_list(bdfs);

	if (n < 0)
		return errno;
	for (i = 0; i < n; i++)
		if (pci_iommu_group(bdfs[i], &groups[i]))
			groups[i] = -1;
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (groups[i] < 0 || groups[i] != groups[j])
				continue;
			bdf_copy(a, len, bdfs[i]);
			bdf_copy(b, len, bdfs[j]);
			*group = groups[i];
			return 0;
		}
	}
	return own_err(ENODEV);
}

/* The name of the driver bound to @bdf, or "" when there is none. */
static inline void pci_driver(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		name[0] = 0;
		return;
	}
	target[n] = 0;
	str_copy(name, len, strrchr(target, '/') + 1);
}

/* Hand @bdf to vfio-pci, away from whichever driver has it now. */
static inline int bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int rc;

	pci_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	if (drv[0]) {
		snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver/unbind", bdf);
		rc = sysfs_write(path, bdf);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver_override", bdf);
	rc = sysfs_write(path, "vfio-pci");
	if (rc)
		return rc;
	rc = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (rc)
		return rc;
	pci_driver(bdf, drv, sizeof(drv));
	return strcmp(drv, "vfio-pci") ? own_err(ENXIO) : 0;
}

/* /dev/vfio/devices/vfioN of a device bound to vfio-pci. */
static inline int cdev_path(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int rc = ENOENT;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(out, len, "/dev/vfio/devices/%s", de->d_name);
		rc = 0;
		break;
	}
	closedir(dir);
	return rc;
}

/*
 * Find the cdev of @bdf (its path in @path) and open it: 0 and the file in
 * *@devfd, or the errno.
 */
static inline int cdev_open(const char *bdf, char *path, size_t len,
			    int *devfd)
{
	int rc = cdev_path(bdf, path, len);

	if (rc)
		return rc;
	*devfd = open(path, O_RDWR);
	return *devfd < 0 ? errno : 0;
}

/* ---- VFIO device cdev ---------------------------------------------------- */

static inline int vfio_bind(int devfd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int rc = ioctl_errno(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!rc && devid)
		*devid = bind.out_devid;
	return rc;
}

/* Attach to the IOAS or page table *@pt_id; the page table used comes back. */
static inline int vfio_attach(int devfd, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = *pt_id,
	};
	int rc = ioctl_errno(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	if (!rc)
		*pt_id = attach.pt_id;
	return rc;
}

static inline int vfio_detach(int devfd)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	return ioctl_errno(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
}

/* ---- the edu through a VFIO device file ---------------------------------- */

struct edu {
	int fd;			/* the VFIO device file */
	uint8_t *bar;		/* BAR0, mmapped from it */
	size_t bar_size;
	uint64_t cfg;		/* file offset of the config space region */
};

static inline int region_info(int fd, uint32_t index,
			      struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl_errno(fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* Map BAR0 and turn on memory decoding and bus mastering. */
static inline int edu_open(struct edu *edu, int fd)
{
	struct vfio_region_info bar, cfg;
	uint16_t cmd;
	int rc;

	edu->fd = fd;
	edu->bar = NULL;
	rc = region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (rc)
		return rc;
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < 0x100)
		return own_err(EINVAL);
	rc = region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (rc)
		return rc;
	edu->cfg = cfg.offset;
	edu->bar = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			bar.offset);
	if (edu->bar == MAP_FAILED) {
		edu->bar = NULL;
		return errno;
	}
	edu->bar_size = bar.size;

	if (pread(fd, &cmd, sizeof(cmd), edu->cfg + PCI_COMMAND) != sizeof(cmd))
		return own_err(EIO);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(fd, &cmd, sizeof(cmd), edu->cfg + PCI_COMMAND) != sizeof(cmd))
		return own_err(EIO);
	cmd = 0;
	if (pread(fd, &cmd, sizeof(cmd), edu->cfg + PCI_COMMAND) != sizeof(cmd))
		return own_err(EIO);
	return (cmd & PCI_COMMAND_MASTER) ? 0 : own_err(EIO);
}

static inline void edu_close(struct edu *edu)
{
	/* The mapping holds the device file open. */
	if (edu->bar)
		munmap(edu->bar, edu->bar_size);
	edu->bar = NULL;
}

/* x86 keeps MMIO accesses in order; the atomics only stop the compiler. */
static inline void edu_write(struct edu *edu, unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(edu->bar + reg), val, __ATOMIC_RELEASE);
}

static inline uint64_t edu_read(struct edu *edu, unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(edu->bar + reg), __ATOMIC_ACQUIRE);
}

/*
 * One transfer of @len bytes, waited for. @cmd is EDU_CMD_RUN (RAM to the
 * device's buffer) or EDU_CMD_RUN | EDU_CMD_TO_RAM. The edu reports no
 * error: a DMA the IOMMU blocks completes all the same.
 */
static inline int edu_dma(struct edu *edu, uint64_t src, uint64_t dst,
			  uint32_t len, uint32_t cmd)
{
	struct timespec t0, t;

	if (edu_read(edu, EDU_CMD) & EDU_CMD_RUN)
		return own_err(EBUSY);
	edu_write(edu, EDU_SRC, src);
	edu_write(edu, EDU_DST, dst);
	edu_write(edu, EDU_CNT, len);
	edu_write(edu, EDU_CMD, cmd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (edu_read(edu, EDU_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > EDU_TIMEOUT_S)
			return own_err(ETIMEDOUT);
		usleep(2000);
	}
	return 0;
}

/* edu transfers at an offset into its buffer */
static inline int to_device(struct edu *edu, uint64_t iova,
			    uint64_t dev_off, uint32_t len)
{
	return edu_dma(edu, iova, EDU_BUF + dev_off, len, EDU_CMD_RUN);
}

static inline int to_ram(struct edu *edu, uint64_t dev_off, uint64_t iova,
			 uint32_t len)
{
	return edu_dma(edu, EDU_BUF + dev_off, iova, len,
		       EDU_CMD_RUN | EDU_CMD_TO_RAM);
}

/* ---- the type1 container ----------------------------------------------- */

#define TYPE1_RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static inline int type1_map(int fd, uint32_t flags, void *va, uint64_t iova,
			    uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return ioctl_errno(fd, VFIO_IOMMU_MAP_DMA, &map);
}

/* VFIO_IOMMU_UNMAP_DMA; *@unmapped, if given, gets the size (0 on error). */
static inline int type1_unmap(int fd, uint32_t flags, uint64_t iova,
			      uint64_t size, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap req;
	int err;

	memset(&req, 0, sizeof(req));
	req.argsz = sizeof(req);
	req.flags = flags;
	req.iova = iova;
	req.size = size;
	err = ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &req) ? errno : 0;
	if (unmapped)
		*unmapped = err ? 0 : req.size;
	return err;
}

#endif
