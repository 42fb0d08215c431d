/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommufd's kernel API, for the drivers that put devices in a user's hands
 * (VFIO, VDPA): bind a device to a /dev/iommu context, attach it to an I/O
 * page table the user built, or reach user memory through an IOAS by IOVA
 * when the device has no IOMMU of its own (mediated devices).
 *
 * The calls are exported in the IOMMUFD namespace; the VFIO container
 * helpers in IOMMUFD_VFIO. Without CONFIG_IOMMUFD the calls that drivers
 * may reach unconditionally have inline fallbacks that fail cleanly.
 */
#ifndef __LINUX_IOMMUFD_H
#define __LINUX_IOMMUFD_H

#include <linux/err.h>
#include <linux/errno.h>
#include <linux/types.h>

/* The objects, then what they are made from, in the order used below */
struct iommufd_ctx;
struct iommufd_device;
struct iommufd_access;
struct file;
struct iommu_group;
struct device;
struct page;

/*
 * Contexts. A driver is handed a context as the file of /dev/iommu, or its
 * fd; the reference it gets is dropped with iommufd_ctx_put().
 */
void iommufd_ctx_get(struct iommufd_ctx *ictx);
#if IS_ENABLED(CONFIG_IOMMUFD)
struct iommufd_ctx *iommufd_ctx_from_fd(int fd);
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file);
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group);
void iommufd_ctx_put(struct iommufd_ctx *ictx);
#else
/* No iommufd: no file can be a context, so no fallback here is ever reached. */
static inline struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
}
#endif

/*
 * Devices with an IOMMU: available whenever the caller itself depends on
 * IOMMUFD. Bind first; attach or replace take an IOAS or HWPT ID in *pt_id and
 * return there the HWPT actually used.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id);
u32 iommufd_device_to_id(struct iommufd_device *idev);
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
void iommufd_device_unbind(struct iommufd_device *idev);

/**
 * struct iommufd_access_ops - what an in-kernel access user provides
 * @needs_pin_pages: the user calls iommufd_access_pin_pages(), so the IOAS
 *                   must reject IOVA it cannot pin (and call @unmap)
 * @unmap: the user must stop using, and unpin, everything it holds inside
 *         [@iova, @iova + @length) before returning; called when that
 *         range is unmapped from the IOAS
 */
struct iommufd_access_ops {
	u8 needs_pin_pages : 1;
	void (*unmap)(void *data,
		      unsigned long iova, unsigned long length);
};

/*
 * In-kernel accesses, for devices without an IOMMU: creation and the IOAS
 * they are attached to, always declared; then the ways to reach the memory
 * by IOVA, which have fallbacks.
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id);
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id);
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
void iommufd_access_destroy(struct iommufd_access *access);

/* Flags of iommufd_access_rw() */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = 1 << 0,
	/* The caller is a kthread: borrow the owner's mm for the copy */
	IOMMUFD_ACCESS_RW_KTHREAD = 1 << 1,
	/* Test only: never take the pinned-page shortcut */
	__IOMMUFD_ACCESS_RW_SLOW_PATH = 1 << 2,
};

#if IS_ENABLED(CONFIG_IOMMUFD)
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags);
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length);
#else
static inline int
iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		  void *data, size_t len, unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline int
iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			 unsigned long length, struct page **out_pages,
			 unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline void
iommufd_access_unpin_pages(struct iommufd_access *access, unsigned long iova,
			   unsigned long length)
{
}
#endif

/* The VFIO container emulation (namespace IOMMUFD_VFIO) */
#if IS_ENABLED(CONFIG_IOMMUFD)
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *out_ioas_id);
#else
static inline int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	return -EOPNOTSUPP;
}

static inline int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	return -EOPNOTSUPP;
}
#endif /* CONFIG_IOMMUFD */

#endif /* __LINUX_IOMMUFD_H */
