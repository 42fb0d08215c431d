/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The I/O page table of an IOAS (struct io_pagetable) and the user memory
 * behind it (struct iopt_pages). The design and the lock order are written
 * at the top of io_pagetable.c; pages.c owns everything under pages->mutex.
 */
#ifndef __IOMMUFD_IO_PAGETABLE_H
#define __IOMMUFD_IO_PAGETABLE_H

#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

/* Pages per chunk of domain work, see pages.c */
#define IOPT_CHUNK	512UL

struct file;
struct iommu_domain;
struct iommufd_access;
struct iommufd_ctx;

struct io_pagetable {
	/* The iommu_domains mirroring this IOAS; write side to change them */
	struct rw_semaphore domains_rwsem;
	struct xarray domains;
	/* IOMMU_OPTION_HUGE_PAGES off: map page by page */
	bool no_huge_pages;

	/* Under iova_rwsem: the three trees and iova_alignment */
	struct rw_semaphore iova_rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached allowed_itree;
	struct rb_root_cached reserved_itree;
	/* Every IOVA and length mapped must be a multiple of this */
	unsigned long iova_alignment;
	/* IOPT_CHUNK pages for unmapping, owned by the iova_rwsem writer */
	struct page **unfill_batch;

	/*
	 * The in-kernel accesses attached to this IOAS. Held for read while
	 * their unmap callbacks run, so an access cannot go away meanwhile.
	 */
	struct rw_semaphore access_lock;
	struct xarray accesses;
};

/* An IOVA range of the IOAS that translates to a slice of an iopt_pages. */
struct iopt_area {
	struct interval_tree_node node;		/* IOVA, in bytes */
	/* Pages [first_index, last_index] in pages->domain_users when filled */
	struct interval_tree_node pages_node;
	/* Where the PFNs are read back from; NULL while in no domain */
	struct iommu_domain *storage_domain;
	/*
	 * While filled, bit c set: the area's pages in its c-th chunk are
	 * one physical run, so reading back the first one tells them all.
	 * May be NULL; under pages->mutex.
	 */
	unsigned long *contig;
	/*
	 * While filled with a @contig bitmap: the page at each index of the
	 * chunks that are not one run, from first_index on, so that they need
	 * no read back either. May be NULL; under pages->mutex.
	 */
	struct page **held;
	struct iopt_pages *pages;
	/* The slice: pages [first_index, last_index], from byte page_offset */
	unsigned long first_index;
	unsigned long last_index;
	unsigned int page_offset;
	int iommu_prot;
	/* Pins of accesses inside the area; changed under iova_rwsem (read) */
	atomic_t num_accesses;
	/* Being unmapped: no access may pin or read it; under iova_rwsem */
	bool unmapping;
	/*
	 * Inserted, its domains not filled yet: it holds its IOVA but is not
	 * mapped for anything else. Under iova_rwsem.
	 */
	bool filling;
};

/* A reserved or allowed IOVA range. */
struct iopt_range {
	struct interval_tree_node node;
	const void *owner;
};

enum iopt_account {
	IOPT_ACCOUNT_USER,	/* user->locked_vm */
	IOPT_ACCOUNT_MM,	/* mm->locked_vm, as VFIO type1 */
};

/*
 * A run of memory, page granular, shared by every area (of any IOAS) that
 * maps a part of it: one process's memory by address, or a part of a
 * memfd (file_pages.c). A page is pinned once, when the first user of its
 * index appears, and charged once; it is unpinned when the last one goes.
 */
struct iopt_pages {
	struct kref kref;
	struct mutex mutex;		/* protects everything below */
	/*
	 * Who is charged: the mapping process, or for a file the one that
	 * last called IOMMU_IOAS_CHANGE_PROCESS (which changes these three
	 * under the mutex; nothing reads them without it for a file).
	 */
	struct mm_struct *mm;		/* grabbed, not necessarily alive */
	struct task_struct *task;	/* its rlimit and capabilities */
	struct user_struct *user;
	/* NULL for memory named by address; else the memfd, referenced */
	struct file *file;
	/* Page aligned: the user address, or the byte offset in @file */
	unsigned long start;
	unsigned long npages;
	enum iopt_account account;
	bool writable;

	unsigned long npinned;		/* pages pinned and charged */
	/* The index ranges accesses have pinned (struct iopt_pages_pin) */
	struct rb_root_cached pins;
	/* The areas of IOAS with domains that map a part (pages_node) */
	struct rb_root_cached domain_users;
	/* For a file: pages held of each large folio, see file_pages.c */
	struct xarray holds;
};

/* io_pagetable.c */
int iopt_init(struct io_pagetable *iopt);
void iopt_destroy(struct io_pagetable *iopt);
int iopt_map_user(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
		  unsigned long *iova, unsigned long uaddr, unsigned long length,
		  int iommu_prot, bool fixed);
int iopt_map_file(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
		  unsigned long *iova, struct file *file, unsigned long start,
		  unsigned long length, int iommu_prot, bool fixed);
bool iopt_only_files(struct io_pagetable *iopt);
int iopt_change_process(struct io_pagetable *iopt, struct list_head *moved);
void iopt_moved_finish(struct list_head *moved, bool undo);
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, bool fixed);
int iopt_unmap(struct io_pagetable *iopt, unsigned long start,
	       unsigned long last, unsigned long *unmapped);
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, const void *owner);
/* Called with a range [start, last]; non-zero stops the walk */
typedef int (*iopt_range_fn_t)(void *arg, unsigned long start,
			     unsigned long last);
int iopt_each_usable(struct io_pagetable *iopt, iopt_range_fn_t fn, void *arg);
void iopt_unreserve_owner(struct io_pagetable *iopt, const void *owner);
void iopt_ranges_free(struct rb_root_cached *tree);
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *allowed);
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access);
void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access, u32 iopt_id);
int iopt_access_pin(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, struct page **out, bool write,
		    unsigned int *pieces);
unsigned int iopt_access_unpin(struct io_pagetable *iopt, unsigned long iova,
			       unsigned long length);
int iopt_access_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
		   size_t len, unsigned int flags);
bool iopt_is_mapped(struct io_pagetable *iopt, unsigned long start,
		    unsigned long last);
int iopt_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain);
int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct iommu_domain *domain, bool enable);
int iopt_refresh_domain(struct io_pagetable *iopt,
			struct iommu_domain *domain);
void iopt_remove_domain(struct io_pagetable *iopt,
			struct iommu_domain *domain);
int iopt_set_huge_pages(struct io_pagetable *iopt, bool on);
int iopt_split_range(struct io_pagetable *iopt, unsigned long start,
		     unsigned long last);

/* pages.c */
struct iopt_pages *iopt_pages_alloc(unsigned long start, unsigned long length,
				    bool writable, enum iopt_account account);
struct iopt_pages *iopt_pages_new(unsigned long uaddr, unsigned long length,
				  bool writable, enum iopt_account account);
void iopt_pages_put(struct iopt_pages *pages);

/* Who pays for pinned pages; each field a reference */
struct iopt_payer {
	struct mm_struct *mm;		/* grabbed */
	struct task_struct *task;	/* thread group leader */
	struct user_struct *user;
};

int iopt_pages_change_process(struct iopt_pages *pages,
			      struct iopt_payer *old);
void iopt_pages_change_back(struct iopt_pages *pages, struct iopt_payer *old);
void iopt_payer_put(struct iopt_payer *payer);

int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out);
unsigned int iopt_pages_unpin(struct iopt_pages *pages, unsigned long first,
			      unsigned long last);
int iopt_area_fill_domains(struct iopt_area *area, struct io_pagetable *iopt);
void iopt_area_unfill_domains(struct iopt_area *area,
			      struct io_pagetable *iopt);
int iopt_area_fill_domain(struct iopt_area *area, struct iommu_domain *domain,
			  bool small);
void iopt_area_unfill_domain(struct iopt_area *area,
			     struct iommu_domain *domain,
			     struct iommu_domain *next_storage);
int iopt_pages_rw(struct iopt_pages *pages, unsigned long offset, void *data,
		  size_t len, bool write, bool slow_path);

/* file_pages.c */
struct iopt_pages *iopt_pages_new_file(struct file *file, unsigned long start,
				       unsigned long length, bool writable,
				       enum iopt_account account);
void iopt_file_release(struct iopt_pages *pages);
long iopt_file_pin(struct iopt_pages *pages, unsigned long index,
		   unsigned long n, struct page **out);
void iopt_file_unpin(struct iopt_pages *pages, struct page **batch,
		     unsigned long n, bool dirty);
int iopt_file_rw(struct iopt_pages *pages, unsigned long offset, void *data,
		 size_t len, bool write);

#ifdef CONFIG_IOMMUFD_TEST
extern size_t iommufd_test_memory_limit;
#endif

#endif
