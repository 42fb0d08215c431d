// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lab's demo: a tiny VMM hands a real DMA device to its "guest" through
 * VFIO and iommufd, printed step by step.
 *
 * The device is QEMU's edu (PCI 1234:11e8, boot QEMU with -device edu). The
 * VMM binds it to vfio-pci, opens its VFIO cdev, binds that to an iommufd
 * context and attaches it to an IOAS that stands for the guest's physical
 * address space. Guest memory is plain anonymous memory of the VMM, mapped
 * into the IOAS at its guest-physical addresses (IOVA = GPA), as a VMM
 * without a virtual IOMMU does. Then the device copies a message out of
 * guest memory and back into it elsewhere; after part of guest memory is
 * unmapped, a DMA there is stopped by the IOMMU.
 */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "lab_util.h"

/* The C library's <linux/vfio.h> may predate the device cdev (Linux 6.6). */
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

#define MIB (1UL << 20)
#define SYSFS_PCI "/sys/bus/pci/devices"

/* The edu's BAR0 registers and its own 4 KiB buffer. */
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000UL

/* The guest: 4 MiB of RAM at guest-physical 0 (the edu reaches 2^28). */
#define GUEST_BASE 0x0UL
#define GUEST_SIZE (4 * MIB)
#define MSG_IN 0x1000UL		/* GPA the guest writes its message to */
#define MSG_OUT 0x201000UL	/* GPA the device writes it back to */
#define MSG_LOW 0x2000UL	/* a GPA that stays mapped throughout */
#define SLOT_SIZE (2 * MIB)	/* RAM comes in two slots; slot 1 goes */

static const char message[] = "Hello from the guest, by way of the edu's DMA engine!";

/* ---- output ---------------------------------------------------------------- */

static int failed;

/* One step: what was done, "ok" or the error, and what came of it. */
static int step(const char *what, int rc, const char *fmt, ...)
{
	va_list ap;

	printf("  %-58s %s", what, rc ? strerror(rc) : "ok");
	if (fmt && !rc) {
		printf("  ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	if (rc)
		failed = 1;
	return rc;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("      ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* An error found here rather than returned by the kernel. */
static int own_err(int err)
{
	return err;
}

/* ---- finding the device ---------------------------------------------------- */

static void str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static unsigned long read_ulong(const char *path)
{
	char line[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return strtoul(line, NULL, 0);
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? errno : 0;
}

static int find_edu(char *bdf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir(SYSFS_PCI);
	int rc = ENODEV;

	if (!dir)
		return errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", de->d_name);
		if (read_ulong(path) != 0x1234)
			continue;
		snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", de->d_name);
		if (read_ulong(path) != 0x11e8)
			continue;
		str_copy(bdf, len, de->d_name);
		rc = 0;
		break;
	}
	closedir(dir);
	return rc;
}

static void driver_of(const char *bdf, char *name, size_t len)
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

static int bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int rc;

	driver_of(bdf, drv, sizeof(drv));
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
	if (!rc)
		rc = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (rc)
		return rc;
	driver_of(bdf, drv, sizeof(drv));
	return strcmp(drv, "vfio-pci") ? own_err(ENXIO) : 0;
}

static int vfio_cdev(const char *bdf, char *out, size_t len)
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

/* ---- the device ------------------------------------------------------------ */

static uint8_t *bar0;
static size_t bar0_size;

static int map_bar0_and_enable(int devfd)
{
	struct vfio_region_info bar = {
		.argsz = sizeof(bar),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return errno;
	bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
		    bar.offset);
	if (bar0 == MAP_FAILED) {
		bar0 = NULL;
		return errno;
	}
	bar0_size = bar.size;
	if (pread(devfd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != 2)
		return own_err(EIO);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(devfd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != 2)
		return own_err(EIO);
	return 0;
}

static void edu_write(unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(bar0 + reg), val, __ATOMIC_RELEASE);
}

static uint64_t edu_read(unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(bar0 + reg), __ATOMIC_ACQUIRE);
}

/* Program one transfer and wait the ~100 ms it takes. */
static int edu_dma(uint64_t src, uint64_t dst, uint32_t len, uint32_t cmd)
{
	struct timespec t0, t;

	edu_write(EDU_SRC, src);
	edu_write(EDU_DST, dst);
	edu_write(EDU_CNT, len);
	edu_write(EDU_CMD, cmd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (edu_read(EDU_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return own_err(ETIMEDOUT);
		usleep(2000);
	}
	return 0;
}

/* ---- the kernel log -------------------------------------------------------- */

static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The first new kernel log line holding @what, waiting up to a second. */
static bool kmsg_grep(int fd, const char *what, char *line, size_t len)
{
	int ms = 1000;
	char rec[1024];
	char *text;
	ssize_t n;

	while (fd >= 0) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EAGAIN && ms > 0) {
			usleep(50000);
			ms -= 50;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0)
			break;
		rec[n] = 0;
		text = strchr(rec, ';') ? strchr(rec, ';') + 1 : rec;
		if (strchr(text, '\n'))
			*strchr(text, '\n') = 0;
		if (strstr(text, what)) {
			str_copy(line, len, text);
			return true;
		}
	}
	return false;
}

/* ---- the VMM --------------------------------------------------------------- */

struct vmm {
	char bdf[64];
	char cdev[PATH_MAX];
	int iommufd;
	int devfd;
	int kmsg;
	uint32_t ioas;
	uint32_t devid;
	uint8_t *guest;
};

/* The device, bound to a new context and attached to a new IOAS. */
static int setup_device(struct vmm *vm)
{
	struct iommu_hw_info_vtd vtd = {};
	struct iommu_hw_info hw = {
		.size = sizeof(hw),
		.data_len = sizeof(vtd),
		.data_uptr = (uintptr_t)&vtd,
	};
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	int rc;

	rc = find_edu(vm->bdf, sizeof(vm->bdf));
	if (step("find the edu device (PCI 1234:11e8)", rc, "%s", vm->bdf)) {
		note("no edu device: boot QEMU with -device edu");
		return rc;
	}
	rc = bind_vfio_pci(vm->bdf);
	if (step("bind it to vfio-pci", rc, NULL))
		return rc;

	vm->iommufd = open(IOMMU_DEV, O_RDWR);
	rc = vm->iommufd < 0 ? errno : 0;
	if (step("open " IOMMU_DEV, rc, NULL))
		return rc;
	rc = ioas_alloc(vm->iommufd, &vm->ioas);
	if (step("IOMMU_IOAS_ALLOC: the guest's physical address space", rc,
		 "IOAS %u", vm->ioas))
		return rc;

	rc = vfio_cdev(vm->bdf, vm->cdev, sizeof(vm->cdev));
	if (!rc) {
		vm->devfd = open(vm->cdev, O_RDWR);
		rc = vm->devfd < 0 ? errno : 0;
	}
	if (step("open the device's VFIO cdev", rc, "%s", vm->cdev))
		return rc;

	bind.iommufd = vm->iommufd;
	rc = ioctl_errno(vm->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	vm->devid = bind.out_devid;
	if (step("VFIO_DEVICE_BIND_IOMMUFD: the device joins the context", rc,
		 "device %u", vm->devid))
		return rc;

	hw.dev_id = vm->devid;
	rc = ioctl_errno(vm->iommufd, IOMMU_GET_HW_INFO, &hw);
	if (hw.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD)
		step("IOMMU_GET_HW_INFO: the IOMMU behind the device", rc,
		     "Intel VT-d, CAP 0x%llx ECAP 0x%llx",
		     (unsigned long long)vtd.cap_reg,
		     (unsigned long long)vtd.ecap_reg);
	else
		step("IOMMU_GET_HW_INFO: the IOMMU behind the device", rc,
		     "type %u", hw.out_data_type);

	attach.pt_id = vm->ioas;
	rc = ioctl_errno(vm->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	return step("VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS", rc,
		    "page table %u made for it", attach.pt_id);
}

/* Guest RAM, mapped into the IOAS at its guest-physical addresses. */
static int setup_memory(struct vmm *vm)
{
	struct iommu_ioas_iova_ranges query = { .size = sizeof(query) };
	struct iommu_iova_range ranges[8];
	char what[128];
	uint64_t iova;
	unsigned int i;
	int rc;

	/* Ask for up to 8 usable ranges of the IOAS. */
	query.ioas_id = vm->ioas;
	query.num_iovas = 8;
	query.allowed_iovas = (uintptr_t)ranges;
	rc = ioctl_errno(vm->iommufd, IOMMU_IOAS_IOVA_RANGES, &query);
	if (step("IOMMU_IOAS_IOVA_RANGES: where guest memory may go", rc,
		 "alignment %llu",
		 (unsigned long long)query.out_iova_alignment))
		return rc;
	for (i = 0; i < query.num_iovas && i < 8; i++)
		note("usable IOVA 0x%llx - 0x%llx",
		     (unsigned long long)ranges[i].start,
		     (unsigned long long)ranges[i].last);

	vm->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rc = vm->guest == MAP_FAILED ? errno : 0;
	if (step("allocate 4 MiB of guest memory", rc, NULL))
		return rc;
	memset(vm->guest, 0, GUEST_SIZE);

	/* Two memory slots of 2 MiB, so that one can go away on its own. */
	for (i = 0; i < 2; i++) {
		iova = GUEST_BASE + i * SLOT_SIZE;
		rc = ioas_map(vm->iommufd, vm->ioas, vm->guest + i * SLOT_SIZE,
			      SLOT_SIZE, &iova,
			      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
		snprintf(what, sizeof(what),
			 "IOMMU_IOAS_MAP slot %u at GPA 0x%06llx (IOVA = GPA)",
			 i, (unsigned long long)iova);
		if (step(what, rc, "VmPin %ld kB", proc_status_kb("VmPin")))
			return rc;
	}

	rc = map_bar0_and_enable(vm->devfd);
	return step("mmap BAR0, turn on bus mastering in PCI_COMMAND", rc,
		    "BAR0 is %zu KiB", bar0_size / 1024);
}

/* The device copies the guest's message to another place in guest RAM. */
static int echo(struct vmm *vm, uint64_t from, uint64_t to)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "DMA guest RAM 0x%06llx -> device buffer",
		 (unsigned long long)from);
	rc = edu_dma(from, EDU_BUF, sizeof(message), EDU_CMD_RUN);
	if (step(what, rc, "%zu bytes", sizeof(message)))
		return rc;
	snprintf(what, sizeof(what), "DMA device buffer -> guest RAM 0x%06llx",
		 (unsigned long long)to);
	rc = edu_dma(EDU_BUF, to, sizeof(message), EDU_CMD_RUN | EDU_CMD_TO_RAM);
	if (step(what, rc, "%zu bytes", sizeof(message)))
		return rc;
	snprintf(what, sizeof(what), "the guest reads GPA 0x%06llx",
		 (unsigned long long)to);
	rc = memcmp(vm->guest + to, message, sizeof(message)) ? own_err(EIO) : 0;
	return step(what, rc, "\"%.24s...\"", (char *)vm->guest + to);
}

/* Slot 1 goes away: the device can no longer write there. */
static int unplug(struct vmm *vm)
{
	char what[128], line[512];
	uint64_t len = 0;
	bool untouched;
	size_t i;
	int rc;

	rc = ioas_unmap(vm->iommufd, vm->ioas, GUEST_BASE + SLOT_SIZE,
			SLOT_SIZE, &len);
	if (step("IOMMU_IOAS_UNMAP slot 1", rc, "%llu KiB, VmPin %ld kB",
		 (unsigned long long)len / 1024, proc_status_kb("VmPin")))
		return rc;

	memset(vm->guest + MSG_OUT, '#', sizeof(message));
	snprintf(what, sizeof(what),
		 "DMA device buffer -> guest RAM 0x%06lx again", MSG_OUT);
	rc = edu_dma(EDU_BUF, MSG_OUT, sizeof(message),
		     EDU_CMD_RUN | EDU_CMD_TO_RAM);
	if (step(what, rc, "the device sees no error"))
		return rc;
	untouched = true;
	for (i = 0; i < sizeof(message); i++)
		untouched &= vm->guest[MSG_OUT + i] == '#';
	snprintf(what, sizeof(what), "... it did not land: GPA 0x%06lx unchanged",
		 MSG_OUT);
	rc = untouched ? 0 : own_err(EIO);
	if (step(what, rc, NULL))
		return rc;
	if (kmsg_grep(vm->kmsg, "DMA Write", line, sizeof(line)))
		note("the kernel logged: %s", line);
	else
		note("(no DMAR fault in the kernel log)");

	memset(vm->guest + MSG_LOW, 0, sizeof(message));
	snprintf(what, sizeof(what), "DMA device buffer -> guest RAM 0x%06lx",
		 MSG_LOW);
	rc = edu_dma(EDU_BUF, MSG_LOW, sizeof(message),
		     EDU_CMD_RUN | EDU_CMD_TO_RAM);
	if (!rc && memcmp(vm->guest + MSG_LOW, message, sizeof(message)))
		rc = own_err(EIO);
	return step(what, rc, "slot 0 is still mapped: it lands");
}

int main(void)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	struct vmm vm = { .iommufd = -1, .devfd = -1 };
	long pin0 = proc_status_kb("VmPin");
	int rc;

	printf("iommufd demo: a tiny VMM hands QEMU's edu device to its guest\n\n");
	vm.kmsg = kmsg_open();
	if (setup_device(&vm) || setup_memory(&vm))
		return 1;

	printf("\n");
	memcpy(vm.guest + MSG_IN, message, sizeof(message));
	note("the guest writes at GPA 0x%06lx: \"%s\"", MSG_IN, message);
	if (echo(&vm, MSG_IN, MSG_OUT))
		return 1;

	printf("\n");
	if (unplug(&vm))
		return 1;

	printf("\n");
	munmap(bar0, bar0_size);
	rc = ioctl_errno(vm.devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
	step("VFIO_DEVICE_DETACH_IOMMUFD_PT", rc, NULL);
	rc = close(vm.devfd) ? errno : 0;
	step("close the device file", rc, NULL);
	rc = close(vm.iommufd) ? errno : 0;
	step("close the context: the IOAS and slot 0 go with it", rc,
	     "VmPin %ld kB", proc_status_kb("VmPin"));
	if (proc_status_kb("VmPin") != pin0)
		step("nothing stays pinned", own_err(EBUSY), NULL);
	munmap(vm.guest, GUEST_SIZE);
	if (vm.kmsg >= 0)
		close(vm.kmsg);

	printf("\ndemo %s\n", failed ? "FAILED" : "finished: every step ok");
	return failed;
}
