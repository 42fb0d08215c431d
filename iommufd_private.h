/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal interfaces of the iommufd subsystem.
 *
 * Object model
 * ------------
 * Every file descriptor of /dev/iommu is a context (struct iommufd_ctx)
 * that names its objects by a u32 ID in the xarray ctx->objects. An object
 * goes through four steps:
 *
 *   iommufd_object_new()      the ID is reserved, nobody can look it up yet
 *   iommufd_object_publish()  the ID now resolves to the object
 *   iommufd_object_get()      an ioctl borrows it (a "transient" reference)
 *   iommufd_object_remove()   the ID is withdrawn and the object destroyed
 *
 * Two counts guard an object. @holders counts the other objects (and kernel
 * drivers) that point at it for as long as they live; IOMMU_DESTROY refuses
 * such an object with EBUSY. @transient counts the ioctls that are using it
 * right now; IOMMU_DESTROY refuses a borrowed object with EBUSY too. A
 * kernel owner's removal withdraws the ID first, so no new borrower
 * appears, then sleeps until the borrowers are gone. A borrower may turn
 * into a holder (iommufd_object_hold()) only while it still has its
 * borrow, which for objects a kernel owner removes it never does.
 *
 * Locking: the xarray's own lock protects the ID table and the two counts'
 * transitions seen under it. No other lock is taken inside it.
 */
#ifndef __IOMMUFD_PRIVATE_H
#define __IOMMUFD_PRIVATE_H

#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "io_pagetable.h"

/* How pinned pages are charged against RLIMIT_MEMLOCK. */
enum iommufd_account {
	IOMMUFD_ACCOUNT_USER,	/* user->locked_vm, as io_uring and rdma do */
	IOMMUFD_ACCOUNT_MM,	/* mm->pinned_vm, as VFIO type1 does */
};

struct iommufd_ctx {
	struct file *file;
	struct xarray objects;
	wait_queue_head_t drain_wq;	/* removals waiting for borrowers */
	enum iommufd_account account;
	/*
	 * Serializes every attach, replace and detach of the context's
	 * devices, and the life of automatic page tables. Outside every
	 * io_pagetable lock; CHANGE_PROCESS takes the iova_rwsem of all the
	 * context's IOAS at once under it.
	 */
	struct mutex attach_lock;
	/* struct iommufd_group by iommu_group_id(), for devices bound here */
	struct xarray groups;
	/*
	 * The IOAS that the VFIO container ioctls use (see vfio_compat.c),
	 * not held: it is forgotten when it is destroyed. compat_lock guards
	 * both fields; of our locks only the xarray's nests inside it.
	 */
	struct mutex compat_lock;
	struct iommufd_ioas *compat_ioas;
	bool compat_no_iommu;
	/*
	 * The devices whose I/O page faults are on, and every fault queue's
	 * unread faults (fault_queue.c). Innermost of our locks.
	 */
	spinlock_t iopf_lock;
	struct list_head iopf_devices;
};

/* The kinds of object a context names; 0 matches any in lookups. */
enum iommufd_object_type {
	IOMMUFD_OBJ_ANY = 0,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_HWPT,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_SELFTEST,	/* only CONFIG_IOMMUFD_TEST makes these */
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	atomic_t holders;
	atomic_t transient;
	enum iommufd_object_type type;
	u32 id;
};

/* What the core needs to know about each object type. */
struct iommufd_object_type_ops {
	const char *name;
	/* Undo everything the type did since iommufd_object_new() */
	void (*destroy)(struct iommufd_object *obj);
};

struct iommufd_object *__iommufd_object_new(struct iommufd_ctx *ictx,
					    size_t size,
					    enum iommufd_object_type type);
#define iommufd_object_new(ictx, ptr_type, member, type)                    \
	({                                                                   \
		struct iommufd_object *__o = __iommufd_object_new(           \
			ictx, sizeof(ptr_type), type);                        \
		IS_ERR(__o) ? ERR_CAST(__o) :                                \
			      container_of(__o, ptr_type, member);           \
	})
void iommufd_object_publish(struct iommufd_ctx *ictx,
			    struct iommufd_object *obj);
void iommufd_object_discard(struct iommufd_ctx *ictx,
			    struct iommufd_object *obj);
void iommufd_object_discard_destroy(struct iommufd_ctx *ictx,
				    struct iommufd_object *obj);
struct iommufd_object *iommufd_object_get(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);
void iommufd_object_put(struct iommufd_ctx *ictx, struct iommufd_object *obj);

/*
 * Borrow object @id of @ictx when it is a @type, as the @ptr_type that
 * embeds it as "obj"; ERR_PTR(-ENOENT) otherwise.
 */
#define iommufd_get_as(ictx, id, type, ptr_type)                             \
	({                                                                   \
		struct iommufd_object *__o = iommufd_object_get(ictx, id,    \
								type);       \
		IS_ERR(__o) ? ERR_CAST(__o) : container_of(__o, ptr_type, obj); \
	})

static inline void iommufd_object_hold(struct iommufd_object *obj)
{
	atomic_inc(&obj->holders);
}

static inline void iommufd_object_release(struct iommufd_object *obj)
{
	atomic_dec(&obj->holders);
}

/* Flags for iommufd_object_remove() */
enum {
	/* Fail with EBUSY rather than wait for holders (the user's DESTROY) */
	IOMMUFD_REMOVE_USER = 1 << 0,
	/* The caller is the kernel owner: drop its hold in the same step */
	IOMMUFD_REMOVE_OWNER = 1 << 1,
};

int iommufd_object_remove(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			  u32 id, unsigned int flags);
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx);

/* One ioctl in flight: the user's buffer and our copy of the command. */
struct iommufd_call {
	struct iommufd_ctx *ictx;
	void __user *ubuf;
	u32 usize;
	void *cmd;
};

/*
 * Copy @len bytes of the command back to the user, clipped to the size the
 * user declared: an older binary with a shorter struct sees only its part.
 */
static inline int iommufd_call_reply(struct iommufd_call *call, size_t len)
{
	if (copy_to_user(call->ubuf, call->cmd, min_t(size_t, call->usize, len)))
		return -EFAULT;
	return 0;
}

/* ioas.c */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct io_pagetable iopt;
	/* Automatic page tables on this IOAS, under ictx->attach_lock */
	struct list_head auto_hwpts;
};

#define iommufd_ioas_get(ictx, id) \
	iommufd_get_as(ictx, id, IOMMUFD_OBJ_IOAS, struct iommufd_ioas)

extern const struct iommufd_object_type_ops iommufd_ioas_type;
int iommufd_ioas_alloc_ioctl(struct iommufd_call *call);
int iommufd_ioas_option(struct iommufd_call *call);
int iommufd_ioas_map_ioctl(struct iommufd_call *call);
int iommufd_ioas_map_file_ioctl(struct iommufd_call *call);
int iommufd_ioas_change_process_ioctl(struct iommufd_call *call);
int iommufd_ioas_copy_ioctl(struct iommufd_call *call);
int iommufd_ioas_unmap_ioctl(struct iommufd_call *call);
int iommufd_ioas_iova_ranges_ioctl(struct iommufd_call *call);
int iommufd_ioas_allow_iovas_ioctl(struct iommufd_call *call);

/* hw_pagetable.c */
/*
 * A page table. A paging one mirrors @ioas, which it holds. A nested one
 * (IOMMU_DOMAIN_NESTED, a stage-1 table the user manages) translates
 * through @parent, which it holds; its @ioas is the parent's, not held.
 */
struct iommufd_hwpt {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_ioas *ioas;
	struct iommufd_hwpt *parent;	/* nested ones only */
	struct iommu_domain *domain;
	/* IOMMU_HWPT_ALLOC_NEST_PARENT: nested page tables may sit on it */
	bool nest_parent;
	/* Made by an attach to an IOAS; goes with its last device */
	bool auto_domain;
	/* An automatic one on its way out: no more attaches */
	bool dying;
	bool enforce_cache_coherency;
	/* Under ictx->attach_lock: the domain mirrors the IOAS */
	bool filled;
	/* Under ictx->attach_lock: the domain has its software MSI window */
	bool msi_cookie;
	/* Among ioas->auto_hwpts, under ictx->attach_lock */
	struct list_head auto_link;
	/* The fault queue the domain reports to, held; NULL for none */
	struct iommufd_fault *fault;
	/* How the core finds the domain's fault handler (fault_queue.c) */
	struct iommu_attach_handle iopf_handle;
};

#define iommufd_hwpt_get(ictx, id) \
	iommufd_get_as(ictx, id, IOMMUFD_OBJ_HWPT, struct iommufd_hwpt)

/* The paging page table under @hwpt: its parent, or itself. */
static inline struct iommufd_hwpt *
iommufd_hwpt_paging(struct iommufd_hwpt *hwpt)
{
	return hwpt->parent ?: hwpt;
}

extern const struct iommufd_object_type_ops iommufd_hwpt_type;
struct iommufd_device;
struct iommufd_hwpt *iommufd_hwpt_new(struct iommufd_ctx *ictx,
				      struct iommufd_ioas *ioas,
				      struct iommufd_device *idev, u32 flags,
				      bool auto_domain);
int iommufd_hwpt_fill(struct iommufd_hwpt *hwpt);
int iommufd_hwpt_alloc_ioctl(struct iommufd_call *call);
int iommufd_hwpt_set_dirty_ioctl(struct iommufd_call *call);
int iommufd_hwpt_get_dirty_ioctl(struct iommufd_call *call);
int iommufd_hwpt_invalidate_ioctl(struct iommufd_call *call);

/* device.c */
struct iommufd_group {
	unsigned int users;		/* bound devices, under attach_lock */
	/* Of those, the ones whose DMA the context owns: iommufd_ctx_has_group */
	atomic_t owned;
	struct iommufd_ctx *ictx;
	struct iommu_group *group;
	/* Under ictx->attach_lock: */
	struct iommufd_hwpt *hwpt;	/* the group is attached to */
	struct list_head devices;	/* attached devices */
};

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_group *igroup;
	struct device *dev;
	struct list_head group_link;	/* in igroup->devices when attached */
	bool enforce_cache_coherency;
	bool holds_ctx;
	/* Under ictx->attach_lock: I/O page faults are enabled */
	bool iopf_on;
	/* In ictx->iopf_devices while iopf_on, also under ictx->iopf_lock */
	struct list_head iopf_link;
};

#define iommufd_device_get(ictx, id) \
	iommufd_get_as(ictx, id, IOMMUFD_OBJ_DEVICE, struct iommufd_device)

extern const struct iommufd_object_type_ops iommufd_device_type;
struct iommufd_device *__iommufd_device_bind(struct iommufd_ctx *ictx,
					     struct device *dev, u32 *id,
					     bool real);
int iommufd_get_hw_info_ioctl(struct iommufd_call *call);

/* access.c */
struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	/* PAGE_SIZE for an access that pins, else 1 */
	unsigned long iova_alignment;
	struct mutex attach_lock;	/* serializes attach, replace, detach */
	struct mutex ioas_lock;		/* protects @ioas */
	/* Where pins and reads go; NULL while detached or detaching */
	struct iommufd_ioas *ioas;
	/* Where the outstanding pins are; changes only when there are none */
	struct iommufd_ioas *ioas_unpin;
	u32 iopt_id;			/* index in ioas_unpin->iopt.accesses */
	atomic_t npins;			/* pins held, one per area a pin crosses */
};

extern const struct iommufd_object_type_ops iommufd_access_type;

/* fault_queue.c */
struct iommufd_fault;
extern const struct iommufd_object_type_ops iommufd_fault_type;
int iommufd_fault_alloc_ioctl(struct iommufd_call *call);
int iommufd_fault_bind(struct iommufd_hwpt *hwpt, u32 fault_id);
void iommufd_fault_unbind(struct iommufd_hwpt *hwpt);
int iommufd_fault_dev_enter(struct iommufd_device *idev,
			    struct iommufd_hwpt *to);
void iommufd_fault_dev_leave(struct iommufd_device *idev,
			     struct iommufd_hwpt *from,
			     struct iommufd_hwpt *to);
int iommufd_fault_group_attach(struct iommufd_hwpt *hwpt,
			       struct iommu_group *group);
void iommufd_fault_group_detach(struct iommufd_hwpt *hwpt,
				struct iommu_group *group);
int iommufd_fault_group_replace(struct iommu_group *group,
				struct iommufd_hwpt *old,
				struct iommufd_hwpt *hwpt);

/* vfio_compat.c */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg);
int iommufd_vfio_ioas(struct iommufd_call *call);
void iommufd_vfio_compat_forget(struct iommufd_ioas *ioas);

#ifdef CONFIG_IOMMUFD_TEST
/* selftest/test_cmd.c */
int iommufd_test_cmd(struct iommufd_call *call);
extern const struct iommufd_object_type_ops iommufd_selftest_type;
void iommufd_test_init(void);
void iommufd_test_exit(void);
#else
static inline void iommufd_test_init(void) {}
static inline void iommufd_test_exit(void) {}
#endif

#endif
