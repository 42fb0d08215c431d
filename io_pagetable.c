// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O page table of an IOAS: which IOVA ranges map which user memory.
 *
 * Design
 * ------
 * An IOAS maps IOVA ranges ("areas", an interval tree keyed by IOVA) onto
 * slices of iopt_pages, each of which stands for a run of one process's
 * memory. IOAS_MAP makes a new iopt_pages; IOAS_COPY makes new areas over
 * the iopt_pages that the source areas use, so memory mapped twice, in one
 * IOAS or in several, is still pinned and charged once (pages.c).
 *
 * Two more interval trees limit where areas may go. Reserved ranges
 * (devices' reserved regions, the test op) can never be mapped; allowed
 * ranges (IOMMU_IOAS_ALLOW_IOVAS) bound where the kernel places a mapping
 * that the user did not place itself. The two may not intersect.
 *
 * Mapping pins nothing by itself: pages are pinned by their users, the
 * domains of the IOAS and the in-kernel accesses, when they need them. An
 * area that an access has pinned cannot go away: an unmap marks every area
 * of its range as going, which refuses new pins, asks the accesses to let
 * go of what they hold through their unmap callbacks, and tries again. An
 * access that does not let go makes the unmap fail with EDEADLOCK after a
 * few rounds, rather than hang.
 *
 * Locking, outermost first
 * ------------------------
 *   ictx->attach_lock     outside all the IOAS of a context at once
 *   access->attach_lock   attach, replace and detach of one access
 *   iopt->access_lock     the list of accesses; read while callbacks run
 *   (driver locks)        taken by unmap callbacks, held around pinning
 *   access->ioas_lock     which IOAS an access pins and reads through
 *   iopt->domains_rwsem   the domains; held (read) while a map fills them
 *   iopt->iova_rwsem      the three trees, the alignment, area fields
 *   pages->mutex          what is pinned (pages.c)
 *   mmap_lock             of the memory's owner
 * No lock is held while an unmap callback runs except access_lock (read)
 * so the callback may unpin, which takes iova_rwsem and pages->mutex.
 */
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "iommufd_private.h"
#include "io_pagetable.h"

/* How often an unmap asks the accesses to let go before giving up. */
#define IOPT_UNMAP_ROUNDS	8

/* Automatic placement keeps huge page alignment up to this size. */
#define IOPT_AUTO_ALIGN_MAX	SZ_2M

int iopt_init(struct io_pagetable *iopt)
{
	iopt->unfill_batch = kmalloc_array(IOPT_CHUNK,
					   sizeof(*iopt->unfill_batch),
					   GFP_KERNEL_ACCOUNT);
	if (!iopt->unfill_batch)
		return -ENOMEM;
	init_rwsem(&iopt->domains_rwsem);
	xa_init_flags(&iopt->domains, XA_FLAGS_ALLOC);
	init_rwsem(&iopt->iova_rwsem);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	iopt->iova_alignment = 1;
	init_rwsem(&iopt->access_lock);
	xa_init_flags(&iopt->accesses, XA_FLAGS_ALLOC);
	return 0;
}

static struct iopt_area *iopt_area_of(struct interval_tree_node *node)
{
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

/* @node or the next area after it in [start, last] that is not filling */
static struct iopt_area *iopt_mapped_area(struct interval_tree_node *node,
					  unsigned long start,
					  unsigned long last)
{
	while (node && iopt_area_of(node)->filling)
		node = interval_tree_iter_next(node, start, last);
	return iopt_area_of(node);
}

/*
 * The areas of [start, last] in IOVA order. One still filling its domains
 * is not mapped yet and is left out; only placement and the overlap checks
 * look at the tree itself.
 */
static struct iopt_area *iopt_first_area(struct io_pagetable *iopt,
					 unsigned long start,
					 unsigned long last)
{
	return iopt_mapped_area(interval_tree_iter_first(&iopt->area_itree,
							 start, last),
				start, last);
}

static struct iopt_area *iopt_next_area(struct iopt_area *area,
					unsigned long start,
					unsigned long last)
{
	return iopt_mapped_area(interval_tree_iter_next(&area->node, start,
							last),
				start, last);
}

static bool iopt_tree_hit(struct rb_root_cached *tree, unsigned long start,
			  unsigned long last)
{
	return interval_tree_iter_first(tree, start, last);
}

/* Free a tree of struct iopt_range (reserved or allowed ranges). */
void iopt_ranges_free(struct rb_root_cached *tree)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(tree, 0, ULONG_MAX))) {
		interval_tree_remove(node, tree);
		kfree(container_of(node, struct iopt_range, node));
	}
}

/* Byte offset inside area->pages of the byte mapped at @iova. */
static unsigned long iopt_area_offset(struct iopt_area *area,
				      unsigned long iova)
{
	return area->first_index * PAGE_SIZE + area->page_offset +
	       (iova - area->node.start);
}

static unsigned long iopt_area_index(struct iopt_area *area,
				     unsigned long iova)
{
	return iopt_area_offset(area, iova) >> PAGE_SHIFT;
}

static void iopt_area_free(struct iopt_area *area)
{
	iopt_pages_put(area->pages);
	kfree(area);
}

void iopt_destroy(struct io_pagetable *iopt)
{
	struct iopt_area *area;

	/* Accesses and page tables hold their IOAS: none can be left. */
	WARN_ON(!xa_empty(&iopt->accesses));
	WARN_ON(!xa_empty(&iopt->domains));
	while ((area = iopt_first_area(iopt, 0, ULONG_MAX))) {
		interval_tree_remove(&area->node, &iopt->area_itree);
		iopt_area_free(area);
	}
	iopt_ranges_free(&iopt->reserved_itree);
	iopt_ranges_free(&iopt->allowed_itree);
	xa_destroy(&iopt->accesses);
	xa_destroy(&iopt->domains);
	kfree(iopt->unfill_batch);
}

/*
 * Lowest address >= @start aligned to @align from which @length bytes up to
 * @last are free of reserved ranges and areas; false if there is none.
 */
static bool iopt_fit(struct io_pagetable *iopt, unsigned long start,
		     unsigned long last, unsigned long length,
		     unsigned long align, unsigned long *out)
{
	struct interval_tree_node *hit;
	unsigned long pos = ALIGN(start, align), next;

	for (;;) {
		if (pos < start || pos > last || last - pos < length - 1)
			return false;
		hit = interval_tree_iter_first(&iopt->reserved_itree, pos,
					       pos + length - 1);
		if (!hit)
			hit = interval_tree_iter_first(&iopt->area_itree, pos,
						       pos + length - 1);
		if (!hit) {
			*out = pos;
			return true;
		}
		/* Skip past what is in the way and try again. */
		next = hit->last + 1;
		if (!next)
			return false;
		start = next;
		pos = ALIGN(next, align);
	}
}

/*
 * Choose an IOVA for @length bytes of memory at @uaddr (a user address or
 * an offset in a file, which huge pages align alike): inside the allowed
 * ranges if there are any, never 0, aligned as the memory is (up to a huge
 * page) so that large IOPTEs can map it.
 */
static int iopt_place(struct io_pagetable *iopt, unsigned long uaddr,
		      unsigned long length, unsigned long *iova)
{
	const unsigned long lo = PAGE_SIZE, hi = ULONG_MAX - PAGE_SIZE;
	struct interval_tree_node *allowed;
	unsigned long align;

	lockdep_assert_held(&iopt->iova_rwsem);

	if (length > ULONG_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (uaddr)
		align = min(align, 1UL << __ffs(uaddr));
	align = min_t(unsigned long, align, IOPT_AUTO_ALIGN_MAX);
	align = max(align, iopt->iova_alignment);

	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return iopt_fit(iopt, lo, hi, length, align, iova) ? 0 :
								      -ENOSPC;

	for (allowed = interval_tree_iter_first(&iopt->allowed_itree, lo, hi);
	     allowed; allowed = interval_tree_iter_next(allowed, lo, hi)) {
		if (iopt_fit(iopt, max(allowed->start, lo),
			     min(allowed->last, hi), length, align, iova))
			return 0;
	}
	return -ENOSPC;
}

/* One piece of memory to map: a byte range of an iopt_pages. */
struct iopt_slice {
	struct list_head link;
	struct iopt_pages *pages;	/* a reference */
	unsigned long offset;
	unsigned long length;
	struct iopt_area *area;		/* preallocated */
};

static void iopt_slices_free(struct list_head *slices)
{
	struct iopt_slice *slice, *next;

	list_for_each_entry_safe(slice, next, slices, link) {
		iopt_pages_put(slice->pages);
		kfree(slice->area);
		kfree(slice);
	}
}

static int iopt_slice_add(struct list_head *slices, struct iopt_pages *pages,
			  unsigned long offset, unsigned long length)
{
	struct iopt_slice *slice;

	slice = kzalloc(sizeof(*slice), GFP_KERNEL_ACCOUNT);
	if (!slice)
		return -ENOMEM;
	slice->area = kzalloc(sizeof(*slice->area), GFP_KERNEL_ACCOUNT);
	if (!slice->area) {
		kfree(slice);
		return -ENOMEM;
	}
	kref_get(&pages->kref);
	slice->pages = pages;
	slice->offset = offset;
	slice->length = length;
	list_add_tail(&slice->link, slices);
	return 0;
}

/*
 * Map @slices back to back from *@iova (chosen here unless @fixed), all of
 * it or nothing. The areas take over the slices' preallocated memory.
 */
static int iopt_insert(struct io_pagetable *iopt, struct list_head *slices,
		       unsigned long length, unsigned long *iova,
		       int iommu_prot, bool fixed)
{
	struct iopt_slice *first, *slice;
	unsigned long cur, last;
	bool filling;
	int rc = 0;

	first = list_first_entry(slices, struct iopt_slice, link);

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	filling = !xa_empty(&iopt->domains);
	list_for_each_entry(slice, slices, link) {
		if ((iommu_prot & IOMMU_WRITE) && !slice->pages->writable) {
			rc = -EPERM;
			goto out_unlock;
		}
		/* Each piece must start and end on the IOAS's granule. */
		if ((slice->offset | slice->length) &
		    (iopt->iova_alignment - 1)) {
			rc = -EINVAL;
			goto out_unlock;
		}
	}

	if (!fixed) {
		rc = iopt_place(iopt, first->pages->start + first->offset,
				length, iova);
		if (rc)
			goto out_unlock;
	} else if (*iova & (iopt->iova_alignment - 1)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (check_add_overflow(*iova, length - 1, &last)) {
		rc = -EOVERFLOW;
		goto out_unlock;
	}
	if (iopt_tree_hit(&iopt->reserved_itree, *iova, last)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (iopt_tree_hit(&iopt->area_itree, *iova, last)) {
		rc = -EEXIST;
		goto out_unlock;
	}

	cur = *iova;
	list_for_each_entry(slice, slices, link) {
		struct iopt_area *area = slice->area;

		area->node.start = cur;
		area->node.last = cur + slice->length - 1;
		area->first_index = slice->offset >> PAGE_SHIFT;
		area->last_index = (slice->offset + slice->length - 1) >>
				   PAGE_SHIFT;
		area->page_offset = offset_in_page(slice->offset);
		area->iommu_prot = iommu_prot;
		area->pages = slice->pages;
		area->filling = filling;
		kref_get(&area->pages->kref);
		interval_tree_insert(&area->node, &iopt->area_itree);
		cur += slice->length;
	}

	/*
	 * Every domain must see the new areas before anyone else does. The
	 * domains stay (domains_rwsem), the areas keep their IOVA and are
	 * seen by no one else: pinning and mapping them needs no iova_rwsem,
	 * and other maps, pins and queries of the IOAS go on meanwhile.
	 */
	if (filling) {
		up_write(&iopt->iova_rwsem);
		list_for_each_entry(slice, slices, link) {
			rc = iopt_area_fill_domains(slice->area, iopt);
			if (rc)
				break;
		}
		down_write(&iopt->iova_rwsem);
	}
	list_for_each_entry(slice, slices, link) {
		slice->area->filling = false;
		if (rc) {
			iopt_area_unfill_domains(slice->area, iopt);
			interval_tree_remove(&slice->area->node,
					     &iopt->area_itree);
			iopt_pages_put(slice->area->pages);
		} else {
			/* The tree owns the area now. */
			slice->area = NULL;
		}
	}
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	return rc;
}

/* Map @length bytes of @pages from byte @offset on; takes the reference. */
static int iopt_map_new(struct io_pagetable *iopt, struct iopt_pages *pages,
			unsigned long offset, unsigned long length,
			unsigned long *iova, int iommu_prot, bool fixed)
{
	LIST_HEAD(slices);
	int rc;

	rc = iopt_slice_add(&slices, pages, offset, length);
	iopt_pages_put(pages);
	if (!rc)
		rc = iopt_insert(iopt, &slices, length, iova, iommu_prot, fixed);
	iopt_slices_free(&slices);
	return rc;
}

static enum iopt_account iopt_account_of(struct iommufd_ctx *ictx)
{
	return ictx->account == IOMMUFD_ACCOUNT_MM ? IOPT_ACCOUNT_MM :
						    IOPT_ACCOUNT_USER;
}

/**
 * iopt_map_user - map the caller's memory into an IOAS
 * @ictx: the context, for its accounting mode
 * @iopt: the IOAS's page table
 * @iova: the IOVA to map at when @fixed; returns the one used
 * @uaddr: user address of the memory
 * @length: bytes
 * @iommu_prot: IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE
 * @fixed: use *@iova rather than choose one
 *
 * Return: 0, -EINVAL, -EOVERFLOW, -EEXIST, -ENOSPC, -ENOMEM.
 */
int iopt_map_user(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
		  unsigned long *iova, unsigned long uaddr, unsigned long length,
		  int iommu_prot, bool fixed)
{
	struct iopt_pages *pages;

	pages = iopt_pages_new(uaddr, length, iommu_prot & IOMMU_WRITE,
			       iopt_account_of(ictx));
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	return iopt_map_new(iopt, pages, uaddr - pages->start, length, iova,
			    iommu_prot, fixed);
}

/**
 * iopt_map_file - map a part of a memfd into an IOAS
 * @ictx: the context, for its accounting mode
 * @iopt: the IOAS's page table
 * @iova: as for iopt_map_user()
 * @file: the memfd
 * @start: byte offset in @file of the first byte
 * @length: bytes
 * @iommu_prot: as for iopt_map_user()
 * @fixed: as for iopt_map_user()
 *
 * Return: as iopt_map_user(), and -EPERM for a writable mapping of a file
 * that may not be written.
 */
int iopt_map_file(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
		  unsigned long *iova, struct file *file, unsigned long start,
		  unsigned long length, int iommu_prot, bool fixed)
{
	struct iopt_pages *pages;

	if (!length)
		return -EINVAL;
	if (start + (length - 1) < start)
		return -EOVERFLOW;
	pages = iopt_pages_new_file(file, start, length,
				    iommu_prot & IOMMU_WRITE,
				    iopt_account_of(ictx));
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	return iopt_map_new(iopt, pages, start - pages->start, length, iova,
			    iommu_prot, fixed);
}

/**
 * iopt_only_files - tell whether every area maps memory named by a file
 * @iopt: the page table, its iova_rwsem held
 *
 * Return: true for an IOAS without areas too.
 */
bool iopt_only_files(struct io_pagetable *iopt)
{
	struct iopt_area *area;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
	     area = iopt_next_area(area, 0, ULONG_MAX))
		if (!area->pages->file)
			return false;
	return true;
}

/* A move of pages to a new payer that CHANGE_PROCESS may have to undo. */
struct iopt_moved {
	struct list_head link;
	struct iopt_pages *pages;	/* a reference */
	struct iopt_payer old;
};

/**
 * iopt_change_process - charge the pages of every area to the caller
 * @iopt: the page table, its iova_rwsem held; iopt_only_files() said yes
 * @moved: collects what moved, for iopt_moved_finish()
 *
 * Return: 0, or -ENOMEM (also over the caller's limit) with what moved
 * before still on @moved.
 */
int iopt_change_process(struct io_pagetable *iopt, struct list_head *moved)
{
	struct iopt_moved *spare = NULL;
	struct iopt_area *area;
	int rc = 0;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
	     area = iopt_next_area(area, 0, ULONG_MAX)) {
		if (!spare)
			spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
		if (!spare)
			return -ENOMEM;
		/* Pages shared by several areas move at the first one. */
		rc = iopt_pages_change_process(area->pages, &spare->old);
		if (rc < 0)
			break;
		if (rc) {
			kref_get(&area->pages->kref);
			spare->pages = area->pages;
			list_add(&spare->link, moved);
			spare = NULL;
		}
		rc = 0;
	}
	kfree(spare);
	return rc;
}

/**
 * iopt_moved_finish - make the moves of iopt_change_process() final
 * @moved: the list it filled, empty afterwards
 * @undo: give every page back to its old payer instead
 */
void iopt_moved_finish(struct list_head *moved, bool undo)
{
	struct iopt_moved *m, *next;

	list_for_each_entry_safe(m, next, moved, link) {
		if (undo)
			iopt_pages_change_back(m->pages, &m->old);
		else
			iopt_payer_put(&m->old);
		iopt_pages_put(m->pages);
		list_del(&m->link);
		kfree(m);
	}
}

/**
 * iopt_copy - map what one IOAS maps at a range into another
 * @dst: where the new mapping goes
 * @src: where the memory is mapped now (may be @dst)
 * @dst_iova: as @iova of iopt_map_user()
 * @src_iova: start of the source range, which must be mapped throughout
 * @length: bytes
 * @iommu_prot: as for iopt_map_user()
 * @fixed: as for iopt_map_user()
 *
 * The new areas share the source's iopt_pages: nothing is pinned or
 * charged again.
 *
 * Return: as iopt_map_user(), -ENOENT for a hole in the source range,
 * -EPERM for a writable copy of read-only memory.
 */
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, bool fixed)
{
	unsigned long last, cur = src_iova, seg_last;
	struct iopt_area *area;
	LIST_HEAD(slices);
	int rc = 0;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&src->iova_rwsem);
	for (area = iopt_first_area(src, src_iova, last); area;
	     area = iopt_next_area(area, src_iova, last)) {
		if (area->node.start > cur || area->unmapping)
			break;
		seg_last = min(last, area->node.last);
		rc = iopt_slice_add(&slices, area->pages,
				    iopt_area_offset(area, cur),
				    seg_last - cur + 1);
		if (rc || seg_last == last)
			break;
		cur = seg_last + 1;
	}
	/* Anything short of the whole range is a hole in it. */
	if (!rc && (list_empty(&slices) || seg_last != last))
		rc = -ENOENT;
	up_read(&src->iova_rwsem);

	if (!rc)
		rc = iopt_insert(dst, &slices, length, dst_iova, iommu_prot,
				 fixed);
	iopt_slices_free(&slices);
	return rc;
}

/* Ask every access of @iopt to let go of [iova, iova + length). */
static void iopt_notify_unmap(struct io_pagetable *iopt, unsigned long iova,
			      unsigned long length)
{
	struct iommufd_access *access;
	unsigned long index;

	down_read(&iopt->access_lock);
	xa_for_each(&iopt->accesses, index, access)
		if (access->ops->unmap)
			access->ops->unmap(access->data, iova, length);
	up_read(&iopt->access_lock);
}

/*
 * Mark every area of [start, last] as going away, so that no access can
 * pin it any more, or with @going false clear the marks. True if an area
 * still has pins.
 */
static bool iopt_mark_going(struct io_pagetable *iopt, unsigned long start,
			    unsigned long last, bool going)
{
	struct iopt_area *area;
	bool pinned = false;

	for (area = iopt_first_area(iopt, start, last); area;
	     area = iopt_next_area(area, start, last)) {
		area->unmapping = going;
		pinned |= going && atomic_read(&area->num_accesses);
	}
	return pinned;
}

/*
 * Tell the accesses about every pinned area of [start, last] marked as
 * going. The
 * callbacks run without iova_rwsem, so each next area is looked up afresh.
 */
static void iopt_notify_going(struct io_pagetable *iopt, unsigned long start,
			      unsigned long last)
{
	unsigned long a_start, a_last, pos = start;
	struct iopt_area *area;

	for (;;) {
		down_read(&iopt->iova_rwsem);
		area = iopt_first_area(iopt, pos, last);
		while (area && !(area->unmapping &&
				 atomic_read(&area->num_accesses)))
			area = iopt_next_area(area, pos, last);
		if (area) {
			a_start = area->node.start;
			a_last = area->node.last;
		}
		up_read(&iopt->iova_rwsem);
		if (!area)
			return;
		iopt_notify_unmap(iopt, a_start, a_last - a_start + 1);
		if (a_last >= last)
			return;
		pos = a_last + 1;
	}
}

/**
 * iopt_unmap - remove every area inside [start, last]
 * @iopt: the page table
 * @start: first IOVA
 * @last: last IOVA
 * @unmapped: returns the bytes removed
 *
 * Areas must lie wholly inside the range: one that sticks out fails the
 * whole call with -ENOENT and nothing is removed.
 *
 * Every area of the range is marked as going for the whole call, so no new
 * pin can start on it and each round only waits for the pins already
 * there.
 *
 * Return: 0 (also when nothing was mapped: the caller decides), -ENOENT,
 * -EDEADLOCK when an access would not unpin.
 */
int iopt_unmap(struct io_pagetable *iopt, unsigned long start,
	       unsigned long last, unsigned long *unmapped)
{
	struct iopt_area *area;
	unsigned int round = 0;
	unsigned long done = 0;

again:
	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	for (area = iopt_first_area(iopt, start, last); area;
	     area = iopt_next_area(area, start, last)) {
		if (area->node.start < start || area->node.last > last) {
			iopt_mark_going(iopt, start, last, false);
			up_write(&iopt->iova_rwsem);
			up_read(&iopt->domains_rwsem);
			return -ENOENT;
		}
	}

	if (iopt_mark_going(iopt, start, last, true)) {
		if (++round > IOPT_UNMAP_ROUNDS) {
			iopt_mark_going(iopt, start, last, false);
			up_write(&iopt->iova_rwsem);
			up_read(&iopt->domains_rwsem);
			pr_warn_ratelimited("iommufd: an access does not unpin IOVA %#lx-%#lx\n",
					    start, last);
			return -EDEADLOCK;
		}
		up_write(&iopt->iova_rwsem);
		up_read(&iopt->domains_rwsem);
		iopt_notify_going(iopt, start, last);
		goto again;
	}

	while ((area = iopt_first_area(iopt, start, last))) {
		/* Out of every IOTLB before a page goes back to the user. */
		iopt_area_unfill_domains(area, iopt);
		interval_tree_remove(&area->node, &iopt->area_itree);
		done += area->node.last - area->node.start + 1;
		iopt_area_free(area);
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	*unmapped = done;
	return 0;
}

/**
 * iopt_each_usable - call @fn on every IOVA range that is not reserved
 * @iopt: the page table
 * @fn: gets @arg and the first and last IOVA of a range; non-zero stops
 * @arg: for @fn
 *
 * The ranges come in ascending order, adjacent reserved ranges merged.
 * @fn runs under iova_rwsem (read) and may fault in user memory.
 *
 * Return: what @fn returned last, 0 if it was never called.
 */
int iopt_each_usable(struct io_pagetable *iopt, iopt_range_fn_t fn, void *arg)
{
	struct interval_tree_node *res;
	unsigned long from = 0;
	bool open_end = true;
	int rc = 0;

	down_read(&iopt->iova_rwsem);
	for (res = interval_tree_iter_first(&iopt->reserved_itree, 0,
					    ULONG_MAX);
	     res && !rc; res = interval_tree_iter_next(res, 0, ULONG_MAX)) {
		if (res->last < from)
			continue;
		if (res->start > from)
			rc = fn(arg, from, res->start - 1);
		if (res->last == ULONG_MAX) {
			open_end = false;
			break;
		}
		from = res->last + 1;
	}
	if (!rc && open_end)
		rc = fn(arg, from, ULONG_MAX);
	up_read(&iopt->iova_rwsem);
	return rc;
}

/* iopt_reserve_iova() for a caller holding iova_rwsem for writing. */
static int iopt_reserve_locked(struct io_pagetable *iopt, unsigned long start,
			       unsigned long last, const void *owner)
{
	struct iopt_range *range;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (start > last)
		return -EINVAL;
	if (iopt_tree_hit(&iopt->area_itree, start, last) ||
	    iopt_tree_hit(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	range = kzalloc(sizeof(*range), GFP_KERNEL_ACCOUNT);
	if (!range)
		return -ENOMEM;
	range->node.start = start;
	range->node.last = last;
	range->owner = owner;
	interval_tree_insert(&range->node, &iopt->reserved_itree);
	return 0;
}

/**
 * iopt_reserve_iova - make [start, last] unmappable
 * @iopt: the page table
 * @start: first IOVA
 * @last: last IOVA
 * @owner: tag for iopt_unreserve_owner()
 *
 * Return: 0, -EADDRINUSE when the range is mapped or allowed, -ENOMEM.
 */
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, const void *owner)
{
	int rc;

	down_write(&iopt->iova_rwsem);
	rc = iopt_reserve_locked(iopt, start, last, owner);
	up_write(&iopt->iova_rwsem);
	return rc;
}

static void iopt_unreserve_locked(struct io_pagetable *iopt,
				  const void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = next) {
		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (container_of(node, struct iopt_range, node)->owner !=
		    owner)
			continue;
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(container_of(node, struct iopt_range, node));
	}
}

/**
 * iopt_unreserve_owner - drop the reserved ranges of one owner
 * @iopt: the page table
 * @owner: as given to iopt_reserve_iova()
 */
void iopt_unreserve_owner(struct io_pagetable *iopt, const void *owner)
{
	down_write(&iopt->iova_rwsem);
	iopt_unreserve_locked(iopt, owner);
	up_write(&iopt->iova_rwsem);
}

/**
 * iopt_set_allowed - replace the allowed ranges
 * @iopt: the page table
 * @allowed: the new ranges; returns the old ones for the caller to free
 *
 * Return: 0, or -EADDRINUSE if a new range intersects a reserved one (the
 * old ranges then stay and @allowed is returned unchanged).
 */
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *allowed)
{
	struct interval_tree_node *node;
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(allowed, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (iopt_tree_hit(&iopt->reserved_itree, node->start,
				  node->last)) {
			rc = -EADDRINUSE;
			break;
		}
	}
	if (!rc)
		swap(*allowed, iopt->allowed_itree);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/* The granule every mapping must respect, from what is attached. */
static unsigned long iopt_wanted_alignment(struct io_pagetable *iopt)
{
	struct iommufd_access *access;
	struct iommu_domain *domain;
	unsigned long align = 1, index;

	xa_for_each(&iopt->accesses, index, access)
		align = max(align, access->iova_alignment);
	xa_for_each(&iopt->domains, index, domain)
		align = max(align, 1UL << __ffs(domain->pgsize_bitmap));
	if (iopt->no_huge_pages)
		align = max(align, PAGE_SIZE);
	return align;
}

/* Whether every area respects @align. */
static bool iopt_areas_aligned(struct io_pagetable *iopt, unsigned long align)
{
	struct iopt_area *area;

	for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
	     area = iopt_next_area(area, 0, ULONG_MAX)) {
		if ((area->node.start | (area->node.last + 1) |
		     area->page_offset) & (align - 1))
			return false;
	}
	return true;
}

/**
 * iopt_add_access - let an access pin and read through this page table
 * @iopt: the page table
 * @access: the access; its iopt_id is set
 *
 * An access that pins needs every area to be page aligned.
 *
 * Return: 0, -EADDRINUSE when an existing area is not, -ENOMEM.
 */
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	unsigned long align = access->iova_alignment;
	int rc = 0;

	down_write(&iopt->access_lock);
	down_write(&iopt->iova_rwsem);
	if (align > iopt->iova_alignment && !iopt_areas_aligned(iopt, align)) {
		rc = -EADDRINUSE;
		goto out_unlock;
	}
	rc = xa_alloc(&iopt->accesses, &access->iopt_id, access, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (!rc)
		iopt->iova_alignment = max(iopt->iova_alignment, align);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->access_lock);
	return rc;
}

/**
 * iopt_remove_access - undo iopt_add_access()
 * @iopt: the page table
 * @access: the access, which has unpinned everything
 * @iopt_id: the ID iopt_add_access() gave it there
 */
void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access, u32 iopt_id)
{
	down_write(&iopt->access_lock);
	down_write(&iopt->iova_rwsem);
	WARN_ON(xa_erase(&iopt->accesses, iopt_id) != access);
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->access_lock);
}

/*
 * Walk the areas that map [iova, last] without a gap, calling @fn on each
 * piece. Stops at the first error, or with -ENOENT at a gap.
 * Returns the IOVA up to which @fn succeeded through *@done.
 */
static int iopt_walk(struct io_pagetable *iopt, unsigned long iova,
		     unsigned long last, unsigned long *done,
		     int (*fn)(struct iopt_area *area, unsigned long start,
			       unsigned long last, void *arg),
		     void *arg)
{
	unsigned long cur = iova, seg_last;
	struct iopt_area *area;
	int rc;

	lockdep_assert_held(&iopt->iova_rwsem);
	*done = iova;
	for (area = iopt_first_area(iopt, iova, last); area;
	     area = iopt_next_area(area, iova, last)) {
		if (area->node.start > cur)
			return -ENOENT;
		seg_last = min(last, area->node.last);
		rc = fn(area, cur, seg_last, arg);
		if (rc)
			return rc;
		*done = seg_last + 1;
		if (seg_last == last)
			return 0;
		cur = seg_last + 1;
	}
	return -ENOENT;
}

/**
 * iopt_is_mapped - whether areas map all of [start, last] without a gap
 * @iopt: the page table, iova_rwsem held
 * @start: first IOVA
 * @last: last IOVA
 *
 * Return: true if so.
 */
bool iopt_is_mapped(struct io_pagetable *iopt, unsigned long start,
		    unsigned long last)
{
	struct iopt_area *area;
	unsigned long cur = start;

	lockdep_assert_held(&iopt->iova_rwsem);
	for (area = iopt_first_area(iopt, start, last); area;
	     area = iopt_next_area(area, start, last)) {
		if (area->node.start > cur)
			return false;
		if (area->node.last >= last)
			return true;
		cur = area->node.last + 1;
	}
	return false;
}

struct iopt_pin_state {
	struct page **out;
	bool write;
	unsigned int pieces;	/* areas pinned in */
};

static int iopt_area_pin(struct iopt_area *area, unsigned long start,
			 unsigned long last, void *arg)
{
	struct iopt_pin_state *st = arg;
	unsigned long first = iopt_area_index(area, start);
	unsigned long last_index = iopt_area_index(area, last);
	int rc;

	/* An area being unmapped takes no new pins (EINVAL, as upstream). */
	if (area->unmapping)
		return -EINVAL;
	if (st->write && !(area->iommu_prot & IOMMU_WRITE))
		return -EPERM;
	rc = iopt_pages_pin(area->pages, first, last_index, st->out);
	if (rc)
		return rc;
	atomic_inc(&area->num_accesses);
	st->pieces++;
	if (st->out)
		st->out += last_index - first + 1;
	return 0;
}

struct iopt_unpin_state {
	unsigned int released;	/* pins undone */
	unsigned int missing;	/* pieces with nothing to undo */
};

/* @arg is a struct iopt_unpin_state, or NULL. */
static int iopt_area_unpin(struct iopt_area *area, unsigned long start,
			   unsigned long last, void *arg)
{
	struct iopt_unpin_state *st = arg;
	unsigned int n;

	/* A pin that was never made must not count as one gone. */
	n = iopt_pages_unpin(area->pages, iopt_area_index(area, start),
			     iopt_area_index(area, last));
	atomic_sub(n, &area->num_accesses);
	if (st) {
		st->released += n;
		st->missing += !n;
	}
	return 0;
}

/**
 * iopt_access_pin - pin the pages behind an IOVA range
 * @iopt: the page table, which has a pinning access attached
 * @iova: first IOVA, page aligned or not
 * @length: bytes, not zero and not wrapping
 * @out: one entry per page the range touches
 * @write: the caller will write to the pages
 * @pieces: set to the number of pins made, one per area the range crosses
 *
 * Return: 0, -ENOENT if not all is mapped, -EPERM for writes to a read
 * only mapping, -ENOMEM (also over RLIMIT_MEMLOCK), -EFAULT.
 */
int iopt_access_pin(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, struct page **out, bool write,
		    unsigned int *pieces)
{
	struct iopt_pin_state st = { .out = out, .write = write };
	unsigned long last = iova + length - 1, done;
	int rc;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk(iopt, iova, last, &done, iopt_area_pin, &st);
	if (rc && done != iova)
		iopt_walk(iopt, iova, done - 1, &done, iopt_area_unpin, NULL);
	up_read(&iopt->iova_rwsem);
	*pieces = rc ? 0 : st.pieces;
	return rc;
}

/**
 * iopt_access_unpin - undo iopt_access_pin() of a range
 * @iopt: the page table
 * @iova: as pinned
 * @length: as pinned
 *
 * Return: the pins undone (see iopt_pages_unpin()); a piece of the range
 * with none to undo is warned about.
 */
unsigned int iopt_access_unpin(struct io_pagetable *iopt, unsigned long iova,
			       unsigned long length)
{
	unsigned long last = iova + length - 1, done;
	struct iopt_unpin_state st = {};
	int rc;

	/* Pinned areas stay mapped: a gap, as a missing pin, is a caller bug. */
	down_read(&iopt->iova_rwsem);
	rc = iopt_walk(iopt, iova, last, &done, iopt_area_unpin, &st);
	up_read(&iopt->iova_rwsem);
	if (rc || st.missing)
		pr_warn_ratelimited("iommufd: unpin of IOVA %#lx+%#lx, which was not pinned\n",
				    iova, length);
	return st.released;
}

struct iopt_rw_state {
	void *data;
	unsigned int flags;
};

static int iopt_area_rw(struct iopt_area *area, unsigned long start,
			unsigned long last, void *arg)
{
	struct iopt_rw_state *st = arg;
	bool write = st->flags & IOMMUFD_ACCESS_RW_WRITE;
	size_t len = last - start + 1;
	int rc;

	if (area->unmapping)
		return -EINVAL;
	if (write && !(area->iommu_prot & IOMMU_WRITE))
		return -EPERM;
	rc = iopt_pages_rw(area->pages, iopt_area_offset(area, start),
			   st->data, len, write,
			   st->flags & __IOMMUFD_ACCESS_RW_SLOW_PATH);
	st->data += len;
	return rc;
}

/**
 * iopt_access_rw - copy between a kernel buffer and memory by IOVA
 * @iopt: the page table
 * @iova: first IOVA
 * @data: the buffer
 * @len: bytes, not zero and not wrapping
 * @flags: IOMMUFD_ACCESS_RW_* flags
 *
 * Return: 0, -ENOENT, -EPERM, -EFAULT.
 */
int iopt_access_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
		   size_t len, unsigned int flags)
{
	struct iopt_rw_state st = { .data = data, .flags = flags };
	unsigned long done;
	int rc;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk(iopt, iova, iova + len - 1, &done, iopt_area_rw, &st);
	up_read(&iopt->iova_rwsem);
	return rc;
}

/*
 * The IOVA outside a domain's aperture, as up to two ranges in @out;
 * returns how many. A geometry left all zero is one the driver has not
 * set (yet: some finish a domain only at attach), and keeps nothing out.
 * Whether the driver set force_aperture does not matter: an IOVA past the
 * aperture is never one the IOMMU translates.
 */
static unsigned int iopt_outside(struct iommu_domain *domain,
				 unsigned long out[2][2])
{
	unsigned long start = domain->geometry.aperture_start;
	unsigned long end = domain->geometry.aperture_end;
	unsigned int n = 0;

	if (!start && !end)
		return 0;
	if (start) {
		out[n][0] = 0;
		out[n++][1] = start - 1;
	}
	if (end != ULONG_MAX) {
		out[n][0] = end + 1;
		out[n++][1] = ULONG_MAX;
	}
	return n;
}

/* Hand the reserved ranges of owner @from over to @to. */
static void iopt_retag_owner(struct io_pagetable *iopt, const void *from,
			     const void *to)
{
	struct interval_tree_node *node;
	struct iopt_range *range;

	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		range = container_of(node, struct iopt_range, node);
		if (range->owner == from)
			range->owner = to;
	}
}

/*
 * Reserve the IOVA @domain cannot translate, owned by the domain, in
 * place of what it reserved before. All or nothing.
 */
static int iopt_reserve_outside(struct io_pagetable *iopt,
				struct iommu_domain *domain)
{
	unsigned long out[2][2];
	unsigned int n, i;
	char fresh;		/* the new ranges' owner until all are in */
	int rc = 0;

	n = iopt_outside(domain, out);
	for (i = 0; i != n && !rc; i++)
		rc = iopt_reserve_locked(iopt, out[i][0], out[i][1], &fresh);
	if (rc) {
		iopt_unreserve_locked(iopt, &fresh);
		return rc;
	}
	iopt_unreserve_locked(iopt, domain);
	iopt_retag_owner(iopt, &fresh, domain);
	return 0;
}

/**
 * iopt_refresh_domain - follow a domain that changed at attach
 * @iopt: the page table, which @domain mirrors
 * @domain: the domain, just attached for the first time
 *
 * A driver may set a domain's aperture and page sizes only when the first
 * device attaches. The IOVA outside the new aperture becomes reserved and
 * the IOAS's alignment follows the new page sizes.
 *
 * Return: 0; -EADDRINUSE when mappings or allowed ranges lie outside the
 * new aperture, -EINVAL when mappings do not suit the new page sizes, and
 * nothing changes then; -ENOMEM.
 */
int iopt_refresh_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	int rc = -EINVAL;

	down_write(&iopt->iova_rwsem);
	if (iopt_areas_aligned(iopt, 1UL << __ffs(domain->pgsize_bitmap)))
		rc = iopt_reserve_outside(iopt, domain);
	if (!rc)
		iopt->iova_alignment = iopt_wanted_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_set_dirty_tracking - turn a domain's dirty tracking on or off
 * @iopt: the page table the domain mirrors
 * @domain: a domain with dirty_ops
 * @enable: on or off
 *
 * Hardware keeps the dirty bits it set before tracking was last turned
 * off; turning it on clears them first, so the first read reports only
 * what was written from then on.
 *
 * Return: 0 or the driver's errno.
 */
int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct iommu_domain *domain, bool enable)
{
	const struct iommu_dirty_ops *ops = domain->dirty_ops;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty;
	struct iopt_area *area;
	int rc = 0;

	iommu_iotlb_gather_init(&gather);
	iommu_dirty_bitmap_init(&dirty, NULL, &gather);
	/* The walk reads the areas only: maps and pins may go on. */
	down_read(&iopt->iova_rwsem);
	for (area = iopt_first_area(iopt, 0, ULONG_MAX); enable && area && !rc;
	     area = iopt_next_area(area, 0, ULONG_MAX))
		rc = ops->read_and_clear_dirty(domain, area->node.start,
					       area->node.last -
					       area->node.start + 1, 0,
					       &dirty);
	up_read(&iopt->iova_rwsem);
	iommu_iotlb_sync(domain, &gather);
	if (rc)
		return rc;
	/* No map or unmap while the IOMMU switches modes. */
	down_write(&iopt->iova_rwsem);
	rc = ops->set_dirty_tracking(domain, enable);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_add_domain - make a domain mirror an IOAS
 * @iopt: the page table
 * @domain: a paging domain, attached to nothing yet
 *
 * Everything mapped is mapped into @domain before this returns, and every
 * later map and unmap reaches it until iopt_remove_domain().
 *
 * Return: 0; -EADDRINUSE when mappings lie outside the domain's aperture
 * or the aperture meets allowed ranges; -EINVAL when mappings are not
 * aligned to its page size; -ENOMEM and pinning errors.
 */
int iopt_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	unsigned long align = 1UL << __ffs(domain->pgsize_bitmap);
	struct iommu_domain *storage;
	struct iopt_area *area, *done;
	unsigned long index;
	u32 id;
	int rc;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	storage = NULL;
	xa_for_each(&iopt->domains, index, storage)
		break;

	if (!iopt_areas_aligned(iopt, align)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	rc = iopt_reserve_outside(iopt, domain);
	if (rc)
		goto out_unreserve;

	if (storage) {
		/* The areas are domain users: copy from their storage. */
		for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
		     area = iopt_next_area(area, 0, ULONG_MAX)) {
			rc = iopt_area_fill_domain(area, domain,
						   iopt->no_huge_pages);
			if (rc)
				break;
		}
		done = area;
		for (area = iopt_first_area(iopt, 0, ULONG_MAX);
		     rc && area != done;
		     area = iopt_next_area(area, 0, ULONG_MAX))
			iopt_area_unfill_domain(area, domain, storage);
		if (rc)
			goto out_unreserve;
	}

	rc = xa_alloc(&iopt->domains, &id, domain, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unfill;

	if (!storage) {
		/* The first domain: the areas start holding their pages. */
		for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
		     area = iopt_next_area(area, 0, ULONG_MAX)) {
			rc = iopt_area_fill_domains(area, iopt);
			if (rc)
				break;
		}
		done = area;
		for (area = iopt_first_area(iopt, 0, ULONG_MAX);
		     rc && area != done;
		     area = iopt_next_area(area, 0, ULONG_MAX))
			iopt_area_unfill_domains(area, iopt);
		if (rc) {
			xa_erase(&iopt->domains, id);
			goto out_unreserve;
		}
	}
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
	goto out_unlock;

out_unfill:
	for (area = iopt_first_area(iopt, 0, ULONG_MAX); storage && area;
	     area = iopt_next_area(area, 0, ULONG_MAX))
		iopt_area_unfill_domain(area, domain, storage);
out_unreserve:
	iopt_unreserve_locked(iopt, domain);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iopt_remove_domain - undo iopt_add_domain()
 * @iopt: the page table
 * @domain: the domain; detached from every device already
 *
 * When it is the last domain, the pages only it kept pinned are unpinned.
 */
void iopt_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain)
{
	struct iommu_domain *other, *cur;
	struct iopt_area *area;
	unsigned long index, id = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	other = NULL;
	xa_for_each(&iopt->domains, index, cur) {
		if (cur == domain)
			id = index;
		else if (!other)
			other = cur;
	}
	for (area = iopt_first_area(iopt, 0, ULONG_MAX); area;
	     area = iopt_next_area(area, 0, ULONG_MAX)) {
		if (other)
			iopt_area_unfill_domain(area, domain, other);
		else
			iopt_area_unfill_domains(area, iopt);
	}
	WARN_ON(xa_erase(&iopt->domains, id) != domain);
	iopt_unreserve_locked(iopt, domain);
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/*
 * Cut @area in two at @iova: @area keeps what lies below, @tail (zeroed
 * memory) takes the rest. Both keep sharing the same iopt_pages. Only a
 * page boundary of the memory and of the IOVA can be cut, and only where
 * the domains hold the area page by page.
 */
static int iopt_area_cut(struct io_pagetable *iopt, struct iopt_area *area,
			 unsigned long iova, struct iopt_area *tail)
{
	unsigned long granule = max_t(unsigned long, iopt->iova_alignment,
				      PAGE_SIZE);
	unsigned long offset = iopt_area_offset(area, iova);
	struct iopt_pages *pages = area->pages;
	bool filled;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (area->unmapping)
		return -EBUSY;
	/* An access's pins were counted against the whole area. */
	if (atomic_read(&area->num_accesses))
		return -EINVAL;
	if ((iova & (granule - 1)) || offset_in_page(offset))
		return -EINVAL;
	filled = area->storage_domain;
	if (filled && !iopt->no_huge_pages)
		return -EINVAL;

	/* Other IOAS sharing @pages read our fields under its mutex. */
	mutex_lock(&pages->mutex);
	interval_tree_remove(&area->node, &iopt->area_itree);
	if (filled)
		interval_tree_remove(&area->pages_node, &pages->domain_users);

	tail->node.start = iova;
	tail->node.last = area->node.last;
	tail->first_index = offset >> PAGE_SHIFT;
	tail->last_index = area->last_index;
	tail->page_offset = 0;
	tail->iommu_prot = area->iommu_prot;
	tail->storage_domain = area->storage_domain;
	kref_get(&pages->kref);
	tail->pages = pages;
	area->node.last = iova - 1;
	area->last_index = tail->first_index - 1;

	interval_tree_insert(&area->node, &iopt->area_itree);
	interval_tree_insert(&tail->node, &iopt->area_itree);
	if (filled) {
		area->pages_node.last = area->last_index;
		tail->pages_node.start = tail->first_index;
		tail->pages_node.last = tail->last_index;
		interval_tree_insert(&area->pages_node, &pages->domain_users);
		interval_tree_insert(&tail->pages_node, &pages->domain_users);
	}
	mutex_unlock(&pages->mutex);
	return 0;
}

/**
 * iopt_split_range - make the areas at both ends of a range end there
 * @iopt: the page table
 * @start: first IOVA of the range
 * @last: last IOVA of the range
 *
 * An area that crosses @start or @last is cut in two there, so that
 * iopt_unmap() of [start, last] can then take out exactly that range: the
 * VFIO type1 (v1) semantics of unmapping part of a mapping. The memory
 * stays mapped throughout; a cut that fails leaves the cuts made before.
 *
 * Return: 0; -EINVAL when a cut is not page aligned, lies in an area that
 * accesses have pinned, or in IOPTEs that may be larger than a page;
 * -EBUSY when the area is being unmapped; -ENOMEM.
 */
int iopt_split_range(struct io_pagetable *iopt, unsigned long start,
		     unsigned long last)
{
	struct iopt_area *spare[2] = {};
	unsigned long cuts[2];
	unsigned int ncuts = 0, used = 0, i;
	struct iopt_area *area;
	int rc = 0;

	if (start > last)
		return -EINVAL;
	if (start)
		cuts[ncuts++] = start;
	if (last != ULONG_MAX)
		cuts[ncuts++] = last + 1;
	for (i = 0; i != ncuts; i++) {
		spare[i] = kzalloc(sizeof(*spare[i]), GFP_KERNEL_ACCOUNT);
		if (!spare[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	for (i = 0; i != ncuts && !rc; i++) {
		area = iopt_first_area(iopt, cuts[i], cuts[i]);
		if (!area || area->node.start == cuts[i])
			continue;
		rc = iopt_area_cut(iopt, area, cuts[i], spare[used]);
		if (!rc)
			spare[used++] = NULL;
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
out_free:
	for (i = 0; i != ARRAY_SIZE(spare); i++)
		kfree(spare[i]);
	return rc;
}

/**
 * iopt_set_huge_pages - IOMMU_OPTION_HUGE_PAGES of an IOAS
 * @iopt: the page table
 * @on: map physically contiguous runs as one (the default)
 *
 * Off, every mapping must be page aligned, since it goes to the IOMMU page
 * by page. Turning it off is refused while domains hold mappings made the
 * other way.
 *
 * Return: 0, -EINVAL when domains hold mappings, -EADDRINUSE when a
 * mapping is not page aligned.
 */
int iopt_set_huge_pages(struct io_pagetable *iopt, bool on)
{
	int rc = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (on) {
		iopt->no_huge_pages = false;
	} else if (!iopt->no_huge_pages) {
		if (!xa_empty(&iopt->domains) &&
		    !RB_EMPTY_ROOT(&iopt->area_itree.rb_root))
			rc = -EINVAL;
		else if (!iopt_areas_aligned(iopt, PAGE_SIZE))
			rc = -EADDRINUSE;
		else
			iopt->no_huge_pages = true;
	}
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}
