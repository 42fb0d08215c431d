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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lab_util.h"
#include "lab_vfio.h"

#define MIB (1UL << 20)

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
	struct edu edu;		/* the device, BAR0 mapped */
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
	uint32_t pt_id;
	int rc;

	rc = edu_find(vm->bdf, sizeof(vm->bdf));
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

	rc = cdev_open(vm->bdf, vm->cdev, sizeof(vm->cdev), &vm->devfd);
	if (step("open the device's VFIO cdev", rc, "%s", vm->cdev))
		return rc;

	rc = vfio_bind(vm->devfd, vm->iommufd, &vm->devid);
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

	pt_id = vm->ioas;
	rc = vfio_attach(vm->devfd, &pt_id);
	return step("VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS", rc,
		    "page table %u made for it", pt_id);
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

	rc = edu_open(&vm->edu, vm->devfd);
	return step("mmap BAR0, turn on bus mastering in PCI_COMMAND", rc,
		    "BAR0 is %zu KiB", vm->edu.bar_size / 1024);
}

/* The device copies the guest's message to another place in guest RAM. */
static int echo(struct vmm *vm, uint64_t from, uint64_t to)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "DMA guest RAM 0x%06llx -> device buffer",
		 (unsigned long long)from);
	rc = edu_dma(&vm->edu, from, EDU_BUF, sizeof(message), EDU_CMD_RUN);
	if (step(what, rc, "%zu bytes", sizeof(message)))
		return rc;
	snprintf(what, sizeof(what), "DMA device buffer -> guest RAM 0x%06llx",
		 (unsigned long long)to);
	rc = edu_dma(&vm->edu, EDU_BUF, to, sizeof(message),
		     EDU_CMD_RUN | EDU_CMD_TO_RAM);
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
	rc = edu_dma(&vm->edu, EDU_BUF, MSG_OUT, sizeof(message),
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
	rc = edu_dma(&vm->edu, EDU_BUF, MSG_LOW, sizeof(message),
		     EDU_CMD_RUN | EDU_CMD_TO_RAM);
	if (!rc && memcmp(vm->guest + MSG_LOW, message, sizeof(message)))
		rc = own_err(EIO);
	return step(what, rc, "slot 0 is still mapped: it lands");
}

int main(void)
{
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
	edu_close(&vm.edu);
	rc = vfio_detach(vm.devfd);
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
