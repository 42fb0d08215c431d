// SPDX-License-Identifier: GPL-2.0-only
/*
 * User memory behind the areas of an IOAS: pinning, accounting and the
 * pages that in-kernel accesses read from.
 *
 * An iopt_pages covers whole pages of one process's address space. Which
 * of them are pinned follows from who uses them: an index is pinned while
 * at least one user range covers it, and only then. The users are the
 * ranges in @pins (one node per distinct range an access pinned, counted,
 * holding the page of each of its indexes) and the areas in @domain_users
 * (whose pages a domain holds). A page is pinned once, whatever the number
 * of users, IOAS or areas, and it is charged once: a new user takes the
 * pages other users hold from them and pins only the gaps, and a leaving
 * one unpins only the gaps it leaves.
 *
 * Charging happens before pinning, so a request over RLIMIT_MEMLOCK fails
 * with ENOMEM before anything is pinned. Where the charge goes depends on
 * the context's IOMMU_OPTION_RLIMIT_MODE when the memory was mapped; in
 * both modes mm->pinned_vm (VmPin) shows the pages. The rlimit and
 * CAP_IPC_LOCK are those of the task pinning when it is the memory's
 * owner, else those of the owner's thread group leader. For memory named
 * by a file the owner can change (IOMMU_IOAS_CHANGE_PROCESS): the whole
 * charge moves to the new owner under the mutex, or none of it does.
 *
 * Locking: pages->mutex covers @npinned, @pins, @domain_users and the owner
 * (@mm, @task, @user). It nests inside the IOAS's iova_rwsem and outside
 * the mm's mmap_lock.
 */
#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/highmem.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommufd_private.h"
#include "io_pagetable.h"

/*
 * A range of indexes that in-kernel accesses pinned, @users times, and the
 * page at each of them.
 */
struct iopt_pages_pin {
	struct interval_tree_node node;
	unsigned int users;
	struct page **page;	/* [i] is the page at index node.start + i */
	struct page *one;	/* where @page points for a one-page pin */
};

#ifdef CONFIG_IOMMUFD_TEST
/* Bytes of page pointers one pinning step may allocate (tests shrink it) */
size_t iommufd_test_memory_limit = SZ_64K;

static unsigned long iopt_batch_pages(void)
{
	return max_t(unsigned long, 1,
		     iommufd_test_memory_limit / sizeof(struct page *));
}
#else
static unsigned long iopt_batch_pages(void)
{
	return SZ_16K / sizeof(struct page *);
}
#endif

/**
 * iopt_pages_alloc - the part of a new iopt_pages that any memory shares
 * @start: user address or file offset of the first byte
 * @length: bytes, not zero
 * @writable: whether devices may write to it
 * @account: where pinned pages are charged
 *
 * The calling process is charged for what gets pinned.
 *
 * Return: the pages with one reference, or an ERR_PTR.
 */
struct iopt_pages *iopt_pages_alloc(unsigned long start, unsigned long length,
				    bool writable, enum iopt_account account)
{
	struct iopt_pages *pages;
	unsigned long end;

	if (!length)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(start, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (!current->mm)
		return ERR_PTR(-EINVAL);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	pages->pins = RB_ROOT_CACHED;
	pages->domain_users = RB_ROOT_CACHED;
	pages->start = start & PAGE_MASK;
	pages->npages = DIV_ROUND_UP(end - pages->start, PAGE_SIZE);
	pages->writable = writable;
	pages->account = account;

	pages->mm = current->mm;
	mmgrab(pages->mm);
	pages->task = current->group_leader;
	get_task_struct(pages->task);
	pages->user = get_uid(current_user());
	return pages;
}

/**
 * iopt_pages_new - describe a range of the caller's memory
 * @uaddr: user address of the first byte
 * @length: bytes, not zero
 * @writable: whether devices may write to it
 * @account: where pinned pages are charged
 *
 * Return: the pages with one reference, or an ERR_PTR.
 */
struct iopt_pages *iopt_pages_new(unsigned long uaddr, unsigned long length,
				  bool writable, enum iopt_account account)
{
	return iopt_pages_alloc(uaddr, length, writable, account);
}

static void iopt_pages_free(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	/* Every user must have let go before the last area did. */
	WARN_ON(pages->npinned);
	WARN_ON(!RB_EMPTY_ROOT(&pages->pins.rb_root));
	WARN_ON(!RB_EMPTY_ROOT(&pages->domain_users.rb_root));
	if (pages->file)
		iopt_file_release(pages);
	free_uid(pages->user);
	put_task_struct(pages->task);
	mmdrop(pages->mm);
	mutex_destroy(&pages->mutex);
	kfree(pages);
}

/**
 * iopt_pages_put - drop a reference; the last one frees the pages
 * @pages: the pages
 */
void iopt_pages_put(struct iopt_pages *pages)
{
	kref_put(&pages->kref, iopt_pages_free);
}

/* Whom a charge goes to, and whose limits apply to it. */
struct iopt_charge {
	enum iopt_account account;
	struct mm_struct *mm;
	struct user_struct *user;
	struct task_struct *task;
};

/*
 * VFIO type1's way: mm->locked_vm, under the mm's own lock. A dead mm has
 * no locked_vm left to change; charging it fails unless @force.
 */
static int iopt_charge_mm(const struct iopt_charge *to, unsigned long n,
			  bool inc, bool unlimited, bool force)
{
	int rc;

	if (!mmget_not_zero(to->mm))
		return inc && !force ? -EFAULT : 0;
	mmap_write_lock(to->mm);
	rc = __account_locked_vm(to->mm, n, inc, to->task, unlimited);
	mmap_write_unlock(to->mm);
	mmput(to->mm);
	return rc;
}

static unsigned long iopt_charge_limit(const struct iopt_charge *to,
				       bool force)
{
	if (force || has_capability_noaudit(to->task, CAP_IPC_LOCK))
		return ULONG_MAX;
	return task_rlimit(to->task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
}

/* Charge @n pages; over RLIMIT_MEMLOCK is -ENOMEM unless @force. */
static int iopt_charge_add(const struct iopt_charge *to, unsigned long n,
			   bool force)
{
	unsigned long limit = iopt_charge_limit(to, force);
	bool unlimited = limit == ULONG_MAX;
	unsigned long cur;
	int rc;

	if (to->account == IOPT_ACCOUNT_MM) {
		rc = iopt_charge_mm(to, n, true, unlimited, force);
		if (rc)
			return rc;
	} else {
		cur = atomic_long_read(&to->user->locked_vm);
		do {
			if (!unlimited && (cur + n < cur || cur + n > limit))
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&to->user->locked_vm, &cur,
						  cur + n));
	}
	atomic64_add(n, &to->mm->pinned_vm);
	return 0;
}

static void iopt_charge_sub(const struct iopt_charge *to, unsigned long n)
{
	if (to->account == IOPT_ACCOUNT_MM)
		iopt_charge_mm(to, n, false, true, false);
	else
		atomic_long_sub(n, &to->user->locked_vm);
	atomic64_sub(n, &to->mm->pinned_vm);
}

/*
 * Who pays for @pages now. The rlimit and CAP_IPC_LOCK are those of the
 * task pinning when it is the memory's owner, see the top of the file.
 */
static struct iopt_charge iopt_pages_payer(struct iopt_pages *pages)
{
	return (struct iopt_charge){
		.account = pages->account,
		.mm = pages->mm,
		.user = pages->user,
		.task = current->mm == pages->mm ? current : pages->task,
	};
}

static int iopt_pages_charge(struct iopt_pages *pages, unsigned long n)
{
	struct iopt_charge to = iopt_pages_payer(pages);
	int rc;

	lockdep_assert_held(&pages->mutex);
	rc = iopt_charge_add(&to, n, false);
	if (!rc)
		pages->npinned += n;
	return rc;
}

static void iopt_pages_uncharge(struct iopt_pages *pages, unsigned long n)
{
	struct iopt_charge to = iopt_pages_payer(pages);

	lockdep_assert_held(&pages->mutex);
	if (WARN_ON(n > pages->npinned))
		return;
	iopt_charge_sub(&to, n);
	pages->npinned -= n;
}

/*
 * Make @to (whose references @pages takes) the payer of @pages, moving
 * what is charged: onto @to first, within the limits of @limit unless
 * @force, so that over the limit nothing has changed; then off the old
 * payer, whose references land in *@old.
 */
static int iopt_pages_move_payer(struct iopt_pages *pages,
				 const struct iopt_payer *to,
				 struct task_struct *limit, bool force,
				 struct iopt_payer *old)
{
	struct iopt_charge from = iopt_pages_payer(pages);
	struct iopt_charge dst = {
		.account = pages->account,
		.mm = to->mm,
		.user = to->user,
		.task = limit,
	};
	int rc;

	lockdep_assert_held(&pages->mutex);
	/*
	 * Nothing pinned: nothing to charge, whatever the limits. Else one
	 * user's locked_vm stays where it is, and only VmPin moves; but it
	 * must be within the new process's limit, as for a pin of its own.
	 */
	if (!pages->npinned) {
		/* Only the owner changes. */
	} else if (pages->account == IOPT_ACCOUNT_USER &&
		   to->user == from.user) {
		if (atomic_long_read(&to->user->locked_vm) >
		    iopt_charge_limit(&dst, force))
			return -ENOMEM;
		atomic64_add(pages->npinned, &to->mm->pinned_vm);
		atomic64_sub(pages->npinned, &from.mm->pinned_vm);
	} else {
		rc = iopt_charge_add(&dst, pages->npinned, force);
		if (rc)
			return rc;
		iopt_charge_sub(&from, pages->npinned);
	}
	old->mm = pages->mm;
	old->task = pages->task;
	old->user = pages->user;
	pages->mm = to->mm;
	pages->task = to->task;
	pages->user = to->user;
	return 0;
}

/**
 * iopt_payer_put - drop the references of a payer
 * @payer: what iopt_pages_change_process() returned in *@old
 */
void iopt_payer_put(struct iopt_payer *payer)
{
	free_uid(payer->user);
	put_task_struct(payer->task);
	mmdrop(payer->mm);
}

/**
 * iopt_pages_change_process - charge file pages to the calling process
 * @pages: memory named by a file
 * @old: receives the previous payer when the pages move
 *
 * Return: 1 if the pages moved, to be undone by iopt_pages_change_back()
 * or made final by iopt_payer_put(@old); 0 if they were the caller's
 * already; -ENOMEM over the caller's limit, with nothing changed.
 */
int iopt_pages_change_process(struct iopt_pages *pages,
			      struct iopt_payer *old)
{
	struct iopt_payer to = {
		.mm = current->mm,
		.task = current->group_leader,
		.user = current_user(),
	};
	int rc = 0;

	mutex_lock(&pages->mutex);
	if (pages->mm == to.mm && pages->user == to.user)
		goto out_unlock;
	mmgrab(to.mm);
	get_task_struct(to.task);
	get_uid(to.user);
	rc = iopt_pages_move_payer(pages, &to, current, false, old);
	if (rc)
		iopt_payer_put(&to);
	else
		rc = 1;
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iopt_pages_change_back - undo iopt_pages_change_process()
 * @pages: the pages it moved
 * @old: the payer it returned, whose references this consumes
 *
 * For a failed IOMMU_IOAS_CHANGE_PROCESS: the charge goes back to where it
 * was, whatever the old payer's limit says by now.
 */
void iopt_pages_change_back(struct iopt_pages *pages, struct iopt_payer *old)
{
	struct iopt_payer moved;

	mutex_lock(&pages->mutex);
	WARN_ON(iopt_pages_move_payer(pages, old, old->task, true, &moved));
	mutex_unlock(&pages->mutex);
	iopt_payer_put(&moved);
}

/* Pin up to @n pages from @index on; returns how many, or an errno. */
static long iopt_pages_gup(struct iopt_pages *pages, unsigned long index,
			   unsigned long n, struct page **out)
{
	unsigned long uaddr = pages->start + index * PAGE_SIZE;
	unsigned int flags = FOLL_LONGTERM;
	int locked = 1;
	long got;

	if (pages->file)
		return iopt_file_pin(pages, index, n, out);
	if (pages->writable)
		flags |= FOLL_WRITE;
	if (current->mm == pages->mm)
		return pin_user_pages_fast(uaddr, n, flags, out);

	if (!mmget_not_zero(pages->mm))
		return -EFAULT;
	mmap_read_lock(pages->mm);
	got = pin_user_pages_remote(pages->mm, uaddr, n, flags, out, &locked);
	if (locked)
		mmap_read_unlock(pages->mm);
	mmput(pages->mm);
	return got;
}

/*
 * Unpin @n pages that iopt_pages_gup() gave, in any grouping; @dirty when
 * devices may have written them.
 */
static void iopt_pages_ungup(struct iopt_pages *pages, struct page **batch,
			     unsigned long n, bool dirty)
{
	if (pages->file)
		iopt_file_unpin(pages, batch, n, dirty);
	else
		unpin_user_pages_dirty_lock(batch, n, dirty);
}

/*
 * The first gap at or after *@pos and up to @last: indexes that neither an
 * access pin nor a domain user covers. False when there is none.
 */
static bool iopt_pages_gap(struct iopt_pages *pages, unsigned long pos,
			   unsigned long last, unsigned long *gap_first,
			   unsigned long *gap_last)
{
	struct interval_tree_node *a, *b, *n;

	while (pos <= last) {
		a = interval_tree_iter_first(&pages->pins, pos, last);
		b = interval_tree_iter_first(&pages->domain_users, pos, last);
		n = (!a || (b && b->start < a->start)) ? b : a;
		if (!n || n->start > pos) {
			*gap_first = pos;
			*gap_last = n ? n->start - 1 : last;
			return true;
		}
		if (n->last >= last)
			break;
		pos = n->last + 1;
	}
	return false;
}

/* The domain user covering @index, trying @hint first. */
static struct iopt_area *iopt_pages_domain_user(struct iopt_pages *pages,
						unsigned long index,
						struct iopt_area *hint)
{
	struct interval_tree_node *node;

	if (hint && index >= hint->pages_node.start &&
	    index <= hint->pages_node.last)
		return hint;
	node = interval_tree_iter_first(&pages->domain_users, index, index);
	return node ? container_of(node, struct iopt_area, pages_node) : NULL;
}

/* IOVA of the first byte of page @index that @area maps. */
static unsigned long iopt_area_iova(struct iopt_area *area,
				    unsigned long index)
{
	if (index == area->first_index)
		return area->node.start;
	return area->node.start - area->page_offset +
	       (index - area->first_index) * PAGE_SIZE;
}

/* IOVA of the last byte of page @index that @area maps. */
static unsigned long iopt_area_iova_last(struct iopt_area *area,
					 unsigned long index)
{
	if (index == area->last_index)
		return area->node.last;
	return iopt_area_iova(area, index + 1) - 1;
}

/*
 * The page @area's storage domain translates page @index to. The area is
 * a domain user, so the page is mapped there: a physical address of 0 is
 * the page at PFN 0 (RAM starts at 0 on some machines), not a hole.
 */
static struct page *iopt_area_read_page(struct iopt_area *area,
					struct iommu_domain *domain,
					unsigned long index)
{
	phys_addr_t phys = iommu_iova_to_phys(domain,
					      iopt_area_iova(area, index));

	return pfn_to_page(PHYS_PFN(phys));
}

/*
 * Domains
 * -------
 * An area of an IOAS with domains is a "domain user" of its pages: they
 * stay pinned while it is filled, and one of the IOAS's domains (the
 * storage domain) is where their PFNs are read back from. Work goes in
 * chunks of the user address space, IOPT_CHUNK pages aligned to IOPT_CHUNK:
 * no map call crosses a chunk boundary and every unmap covers whole
 * chunks, so no unmap ever splits what one map call made. Within a chunk
 * physically contiguous pages go to the IOMMU in one call, which lets it
 * use large IOPTEs for huge pages.
 */

static unsigned long iopt_chunk_last(struct iopt_pages *pages,
				     unsigned long index, unsigned long last)
{
	unsigned long vpn = (pages->start >> PAGE_SHIFT) + index;

	return min(last, index + (IOPT_CHUNK - 1 - (vpn & (IOPT_CHUNK - 1))));
}

/* Which chunk of @area page @index lies in, counting from 0. */
static unsigned long iopt_area_chunk(struct iopt_area *area,
				     unsigned long index)
{
	unsigned long base = area->pages->start >> PAGE_SHIFT;

	return (base + index) / IOPT_CHUNK -
	       (base + area->first_index) / IOPT_CHUNK;
}

/*
 * The page at @index of a filled @area: from @held if it has it, else
 * read back from @domain.
 */
static struct page *iopt_area_page(struct iopt_area *area,
				   struct iommu_domain *domain,
				   unsigned long index)
{
	if (area->held &&
	    !test_bit(iopt_area_chunk(area, index), area->contig))
		return area->held[index - area->first_index];
	return iopt_area_read_page(area, domain, index);
}

/*
 * The pages [index, clast] (one chunk) of a filled @area into @batch, read
 * back from @domain: the first one only when the chunk is one run.
 */
static void iopt_area_read_chunk(struct iopt_area *area,
				 struct iommu_domain *domain,
				 unsigned long index, unsigned long clast,
				 struct page **batch)
{
	unsigned long i;
	struct page *first;

	if (area->contig &&
	    test_bit(iopt_area_chunk(area, index), area->contig)) {
		first = iopt_area_read_page(area, domain, index);
		for (i = index; i <= clast; i++)
			batch[i - index] = nth_page(first, i - index);
		return;
	}
	for (i = index; i <= clast; i++)
		batch[i - index] = iopt_area_page(area, domain, i);
}

/* Unmap the IOVA of pages [first, last] of @area from @domain. */
static void iopt_area_unmap(struct iopt_area *area, struct iommu_domain *domain,
			    unsigned long first, unsigned long last)
{
	unsigned long iova = iopt_area_iova(area, first);
	size_t len = iopt_area_iova_last(area, last) - iova + 1;

	WARN_ON(iommu_unmap(domain, iova, len) != len);
}

/* The last index of the run of physically contiguous pages from @run. */
static unsigned long iopt_run_end(struct page **batch, unsigned long first,
				  unsigned long run, unsigned long last)
{
	struct page **p = batch + (run - first);
	unsigned long n = last - run, i = 0;

	/* nth_page() is the next struct page itself with a virtual memmap */
	while (i < n && p[i + 1] == nth_page(p[i], 1))
		i++;
	return run + i;
}

/*
 * One iommu_map_sg() for the whole chunk: the driver flushes once for it,
 * not once per run, which matters where the memory is fragmented (caching
 * mode VT-d flushes on every map).
 */
static int iopt_area_map_sg(struct iopt_area *area,
			    struct iommu_domain *domain, unsigned long first,
			    unsigned long last, struct page **batch,
			    struct scatterlist *sgl, unsigned int *runs)
{
	unsigned long iova = iopt_area_iova(area, first), run, end;
	struct scatterlist *sg = sgl;
	unsigned int nents = 0;
	ssize_t mapped;

	/* iopt_sgl_alloc() set the table up; only pages and lengths change. */
	for (run = first; run <= last; run = end + 1, sg++, nents++) {
		end = iopt_run_end(batch, first, run, last);
		sg_set_page(sg, batch[run - first],
			    iopt_area_iova_last(area, end) -
				    iopt_area_iova(area, run) + 1,
			    run == area->first_index ? area->page_offset : 0);
	}
	*runs = nents;
	/* All of it, or an errno with nothing left mapped. */
	mapped = iommu_map_sg(domain, iova, sgl, nents, area->iommu_prot,
			      GFP_KERNEL_ACCOUNT);
	return mapped < 0 ? mapped : 0;
}

/*
 * Map pages [first, last] of @area, whose pages are @batch, into @domain:
 * through @sgl (IOPT_CHUNK entries) if there is one, else run by run, or
 * page by page if @small. *@runs says how many calls of physically
 * contiguous pages it took.
 */
static int iopt_area_map(struct iopt_area *area, struct iommu_domain *domain,
			 unsigned long first, unsigned long last,
			 struct page **batch, bool small,
			 struct scatterlist *sgl, unsigned int *runs)
{
	unsigned long run, end, iova;
	phys_addr_t phys;
	int rc;

	if (sgl && !small)
		return iopt_area_map_sg(area, domain, first, last, batch, sgl,
					runs);
	*runs = 0;
	for (run = first; run <= last; run = end + 1, (*runs)++) {
		end = small ? run : iopt_run_end(batch, first, run, last);
		iova = iopt_area_iova(area, run);
		phys = page_to_phys(batch[run - first]);
		if (run == area->first_index)
			phys += area->page_offset;
		rc = iommu_map(domain, iova, phys,
			       iopt_area_iova_last(area, end) - iova + 1,
			       area->iommu_prot, GFP_KERNEL_ACCOUNT);
		if (rc) {
			if (run != first)
				iopt_area_unmap(area, domain, first, run - 1);
			return rc;
		}
	}
	return 0;
}

/* A scatterlist for iopt_area_map(); NULL (and maps without one) if none. */
static struct scatterlist *iopt_sgl_alloc(void)
{
	struct scatterlist *sgl;

	sgl = kmalloc_array(IOPT_CHUNK, sizeof(*sgl), GFP_KERNEL | __GFP_NOWARN);
	if (sgl)
		sg_init_table(sgl, IOPT_CHUNK);
	return sgl;
}

/*
 * The pages of [first, last], all of which other users hold, into @out:
 * copied from the access pins covering them, else read back from the
 * storage domain of the domain users covering them.
 */
static int iopt_pages_known(struct iopt_pages *pages, unsigned long first,
			    unsigned long last, struct page **out)
{
	struct iopt_area *area = NULL;
	struct interval_tree_node *node;
	struct iopt_pages_pin *pin;
	unsigned long i = first, end, clast;

	while (i <= last) {
		/* The leftmost pin that overlaps, if it covers @i */
		node = interval_tree_iter_first(&pages->pins, i, last);
		if (node && node->start <= i) {
			pin = container_of(node, struct iopt_pages_pin, node);
			end = min(node->last, last);
			memcpy(out + i - first, pin->page + i - node->start,
			       (end - i + 1) * sizeof(*out));
			i = end + 1;
			continue;
		}
		end = node ? node->start - 1 : last;
		for (; i <= end; i = clast + 1) {
			area = iopt_pages_domain_user(pages, i, area);
			if (WARN_ON_ONCE(!area))
				return -EFAULT;
			clast = min(iopt_chunk_last(pages, i, end),
				    area->pages_node.last);
			iopt_area_read_chunk(area, area->storage_domain, i,
					     clast, out + i - first);
		}
	}
	return 0;
}

/* Unpin @n pages, in runs of contiguous pages; the caller uncharges. */
static void iopt_unpin_pages(struct iopt_pages *pages, struct page **batch,
			     unsigned long n)
{
	unsigned long i = 0, end;

	if (pages->file)
		iopt_file_unpin(pages, batch, n, pages->writable);
	while (!pages->file && i < n) {
		for (end = i + 1;
		     end < n && batch[end] == nth_page(batch[end - 1], 1);
		     end++)
			;
		unpin_user_page_range_dirty_lock(batch[i], end - i,
						 pages->writable);
		i = end;
		cond_resched();
	}
}

/* Unpin and uncharge @n pages. */
static void iopt_unpin_batch(struct iopt_pages *pages, struct page **batch,
			     unsigned long n)
{
	iopt_unpin_pages(pages, batch, n);
	if (n)
		iopt_pages_uncharge(pages, n);
}

/* Unpin the gaps of [first, last] that iopt_pages_gather() pinned. */
static void iopt_pages_ungather(struct iopt_pages *pages, unsigned long first,
				unsigned long last, struct page **batch)
{
	unsigned long pos, gap_last;

	for (pos = first; iopt_pages_gap(pages, pos, last, &pos, &gap_last);
	     pos = gap_last + 1)
		iopt_unpin_batch(pages, batch + pos - first,
				 gap_last - pos + 1);
}

/*
 * Pin the gap [first, last] into @out, all or nothing, and charge it; or,
 * with @prepaid, take its charge out of the *@prepaid pages already paid.
 */
static int iopt_pages_pin_gap(struct iopt_pages *pages, unsigned long first,
			      unsigned long last, struct page **out,
			      unsigned long *prepaid)
{
	unsigned long n = last - first + 1, got = 0;
	long ret;
	int rc;

	if (!prepaid) {
		rc = iopt_pages_charge(pages, n);
		if (rc)
			return rc;
	} else if (WARN_ON_ONCE(*prepaid < n)) {
		return -EFAULT;
	}
	while (got < n) {
		ret = iopt_pages_gup(pages, first + got,
				     min(n - got, iopt_batch_pages()),
				     out + got);
		if (ret <= 0) {
			iopt_pages_ungup(pages, out, got, false);
			if (!prepaid)
				iopt_pages_uncharge(pages, n);
			return ret ? ret : -EFAULT;
		}
		got += ret;
	}
	if (prepaid)
		*prepaid -= n;
	return 0;
}

/*
 * The pages [first, last] of a new user into @batch: pin what no one
 * holds, look up the rest. All or nothing. @prepaid as for
 * iopt_pages_pin_gap(); what is unpinned again on failure is uncharged.
 */
static int iopt_pages_gather(struct iopt_pages *pages, unsigned long first,
			     unsigned long last, struct page **batch,
			     unsigned long *prepaid)
{
	unsigned long pos = first, gap_first, gap_last;
	int rc = 0;

	while (pos <= last) {
		if (!iopt_pages_gap(pages, pos, last, &gap_first, &gap_last))
			gap_first = last + 1;
		/* Up to the gap, other users hold the pages. */
		if (gap_first > pos) {
			rc = iopt_pages_known(pages, pos, gap_first - 1,
					      batch + pos - first);
			if (rc)
				goto err;
		}
		if (gap_first > last)
			return 0;
		rc = iopt_pages_pin_gap(pages, gap_first, gap_last,
					batch + gap_first - first, prepaid);
		if (rc)
			goto err;
		pos = gap_last + 1;
	}
	return 0;
err:
	if (pos != first)
		iopt_pages_ungather(pages, first, pos - 1, batch);
	return rc;
}

/* How many pages of [first, last] no user holds */
static unsigned long iopt_pages_gap_count(struct iopt_pages *pages,
					  unsigned long first,
					  unsigned long last)
{
	unsigned long pos, gap_last, n = 0;

	for (pos = first; iopt_pages_gap(pages, pos, last, &pos, &gap_last);
	     pos = gap_last + 1)
		n += gap_last - pos + 1;
	return n;
}

/*
 * Unmap pages [first, last] of @area, not (or no longer) a domain user,
 * from every domain of @iopt, reading back from @storage the pages nobody
 * else holds and unpinning them once no domain maps them.
 */
static void iopt_area_unfill_range(struct iopt_area *area,
				   struct io_pagetable *iopt,
				   struct iommu_domain *storage,
				   struct page **batch, unsigned long first,
				   unsigned long last)
{
	struct iopt_pages *pages = area->pages;
	unsigned long index, clast, pos, gap_last, n, i, unpinned = 0;
	unsigned long held = first;	/* chunks from here on are held */
	struct iommu_domain *domain;
	struct page *run, *page;
	unsigned long d;

	for (index = first; index <= last; index = clast + 1) {
		clast = iopt_chunk_last(pages, index, last);
		/*
		 * Chunks whose pages other users hold need neither a read back
		 * nor an unpin: they leave the domains together, in one call.
		 */
		pos = index;
		if (!iopt_pages_gap(pages, pos, clast, &pos, &gap_last))
			continue;
		if (held != index)
			xa_for_each(&iopt->domains, d, domain)
				iopt_area_unmap(area, domain, held, index - 1);
		held = clast + 1;
		run = NULL;
		if (area->contig &&
		    test_bit(iopt_area_chunk(area, index), area->contig))
			run = iopt_area_read_page(area, storage, index);
		/* A run of pages by address: its gaps go back as ranges. */
		if (run && !pages->file) {
			xa_for_each(&iopt->domains, d, domain)
				iopt_area_unmap(area, domain, index, clast);
			for (pos = index;
			     iopt_pages_gap(pages, pos, clast, &pos, &gap_last);
			     pos = gap_last + 1) {
				n = gap_last - pos + 1;
				page = nth_page(run, pos - index);
				unpin_user_page_range_dirty_lock(page, n,
								 pages->writable);
				unpinned += n;
			}
			cond_resched();
			continue;
		}
		n = 0;
		for (pos = index;
		     iopt_pages_gap(pages, pos, clast, &pos, &gap_last);
		     pos = gap_last + 1)
			for (i = pos; i <= gap_last; i++)
				batch[n++] = run ? nth_page(run, i - index) :
					     iopt_area_page(area, storage, i);
		xa_for_each(&iopt->domains, d, domain)
			iopt_area_unmap(area, domain, index, clast);
		iopt_unpin_pages(pages, batch, n);
		unpinned += n;
	}
	if (held <= last)
		xa_for_each(&iopt->domains, d, domain)
			iopt_area_unmap(area, domain, held, last);
	/* The charge goes back once, for the whole range. */
	if (unpinned)
		iopt_pages_uncharge(pages, unpinned);
}

/**
 * iopt_area_fill_domains - map a new area into every domain of its IOAS
 * @area: an area that is not a domain user yet
 * @iopt: its page table, with at least one domain, domains_rwsem held
 *
 * Return: 0, or an errno with nothing left mapped or pinned.
 */
int iopt_area_fill_domains(struct iopt_area *area, struct io_pagetable *iopt)
{
	struct iopt_pages *pages = area->pages;
	struct iommu_domain *domain, *failed, *storage = NULL;
	unsigned long index, clast, d, nchunks, *contig, prepaid;
	struct page **batch, **held = NULL;
	struct scatterlist *sgl;
	bool tried = false;
	unsigned int runs;
	int rc = 0;

	lockdep_assert_held(&iopt->domains_rwsem);
	batch = kmalloc_array(IOPT_CHUNK, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	sgl = iopt_sgl_alloc();
	/* Without it every page is read back one by one: slower, not wrong. */
	nchunks = iopt_area_chunk(area, area->last_index) + 1;
	contig = nchunks > UINT_MAX ? NULL :
		 bitmap_zalloc(nchunks, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);

	mutex_lock(&pages->mutex);
	/*
	 * One charge for all the area pins, before it pins any: in the MM
	 * accounting mode each charge takes the owner's mmap_lock.
	 */
	prepaid = iopt_pages_gap_count(pages, area->first_index,
				       area->last_index);
	rc = prepaid ? iopt_pages_charge(pages, prepaid) : 0;
	if (rc)
		prepaid = 0;
	for (index = area->first_index; index <= area->last_index && !rc;
	     index = clast + 1) {
		clast = iopt_chunk_last(pages, index, area->last_index);
		rc = iopt_pages_gather(pages, index, clast, batch, &prepaid);
		if (rc)
			break;
		xa_for_each(&iopt->domains, d, domain) {
			if (!storage)
				storage = domain;
			rc = iopt_area_map(area, domain, index, clast, batch,
					   iopt->no_huge_pages, sgl, &runs);
			if (rc)
				break;
		}
		if (!rc && contig && runs == 1)
			__set_bit(iopt_area_chunk(area, index), contig);
		/*
		 * Keep the pages of a chunk of several runs, from the first
		 * such chunk on: one kvmalloc, tried once.
		 */
		if (!rc && contig && runs != 1 && !held && !tried) {
			tried = true;
			held = kvmalloc_array(area->last_index -
						      area->first_index + 1,
					      sizeof(*held),
					      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		}
		if (!rc && held && runs != 1)
			memcpy(held + (index - area->first_index), batch,
			       (clast - index + 1) * sizeof(*batch));
		if (!rc) {
			/* A big map must not keep its CPU from others' work */
			cond_resched();
			continue;
		}
		/* Take the chunk back out of the domains before @domain. */
		failed = domain;
		xa_for_each(&iopt->domains, d, domain) {
			if (domain == failed)
				break;
			iopt_area_unmap(area, domain, index, clast);
		}
		iopt_pages_ungather(pages, index, clast, batch);
		break;
	}
	if (rc) {
		/* What was mapped is unmapped as it was mapped. */
		area->contig = contig;
		area->held = held;
		if (index != area->first_index)
			iopt_area_unfill_range(area, iopt, storage, batch,
					       area->first_index, index - 1);
		area->contig = NULL;
		area->held = NULL;
		bitmap_free(contig);
		kvfree(held);
	} else {
		area->contig = contig;
		area->held = held;
		area->storage_domain = storage;
		area->pages_node.start = area->first_index;
		area->pages_node.last = area->last_index;
		interval_tree_insert(&area->pages_node, &pages->domain_users);
	}
	/* What a failure left unpinned */
	if (prepaid)
		iopt_pages_uncharge(pages, prepaid);
	mutex_unlock(&pages->mutex);
	kfree(sgl);
	kfree(batch);
	return rc;
}

/**
 * iopt_area_unfill_domains - unmap an area from every domain of its IOAS
 * @area: the area; no longer a domain user afterwards
 * @iopt: its page table
 *
 * Pages that no other user holds are unpinned once no domain maps them.
 * Cannot fail: the batch it needs is the page table's own, which the
 * write side of iova_rwsem gives the caller alone.
 */
void iopt_area_unfill_domains(struct iopt_area *area, struct io_pagetable *iopt)
{
	struct iopt_pages *pages = area->pages;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	mutex_lock(&pages->mutex);
	if (area->storage_domain) {
		interval_tree_remove(&area->pages_node, &pages->domain_users);
		iopt_area_unfill_range(area, iopt, area->storage_domain,
				       iopt->unfill_batch, area->first_index,
				       area->last_index);
		area->storage_domain = NULL;
		bitmap_free(area->contig);
		area->contig = NULL;
		kvfree(area->held);
		area->held = NULL;
	}
	mutex_unlock(&pages->mutex);
}

/**
 * iopt_area_fill_domain - map an area that is a domain user into one more
 * @area: the area
 * @domain: the new domain
 * @small: map page by page (IOMMU_OPTION_HUGE_PAGES off)
 *
 * Return: 0, or an errno with nothing of @area left in @domain.
 */
int iopt_area_fill_domain(struct iopt_area *area, struct iommu_domain *domain,
			  bool small)
{
	struct iopt_pages *pages = area->pages;
	unsigned long index, clast;
	struct scatterlist *sgl;
	unsigned int runs;
	struct page **batch;
	int rc = 0;

	batch = kmalloc_array(IOPT_CHUNK, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	sgl = iopt_sgl_alloc();
	mutex_lock(&pages->mutex);
	for (index = area->first_index; index <= area->last_index && !rc;
	     index = clast + 1) {
		clast = iopt_chunk_last(pages, index, area->last_index);
		iopt_area_read_chunk(area, area->storage_domain, index, clast,
				     batch);
		rc = iopt_area_map(area, domain, index, clast, batch, small,
				   sgl, &runs);
		if (rc && index != area->first_index)
			iopt_area_unmap(area, domain, area->first_index,
					index - 1);
		cond_resched();
	}
	mutex_unlock(&pages->mutex);
	kfree(sgl);
	kfree(batch);
	return rc;
}

/**
 * iopt_area_unfill_domain - unmap an area from one of several domains
 * @area: the area, a domain user
 * @domain: the domain leaving
 * @next_storage: another domain of the IOAS, which stays
 */
void iopt_area_unfill_domain(struct iopt_area *area,
			     struct iommu_domain *domain,
			     struct iommu_domain *next_storage)
{
	mutex_lock(&area->pages->mutex);
	if (area->storage_domain == domain)
		area->storage_domain = next_storage;
	mutex_unlock(&area->pages->mutex);
	iopt_area_unmap(area, domain, area->first_index, area->last_index);
}

/*
 * Accesses
 * --------
 * An access pin owns an array with the page of each index it covers,
 * filled as a domain user's batch is: from the other users, and by GUP
 * straight into it for the gaps. The array is what the pin returns, what
 * later users read the pages from and what is unpinned when it goes.
 */

static struct iopt_pages_pin *iopt_pages_find_pin(struct iopt_pages *pages,
						  unsigned long first,
						  unsigned long last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&pages->pins, first, last); node;
	     node = interval_tree_iter_next(node, first, last))
		if (node->start == first && node->last == last)
			return container_of(node, struct iopt_pages_pin, node);
	return NULL;
}

static struct iopt_pages_pin *iopt_pin_alloc(unsigned long first,
					     unsigned long last)
{
	unsigned long n = last - first + 1;
	struct iopt_pages_pin *pin;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return NULL;
	pin->page = &pin->one;
	if (n > 1) {
		pin->page = kvmalloc_array(n, sizeof(*pin->page),
					   GFP_KERNEL_ACCOUNT);
		if (!pin->page) {
			kfree(pin);
			return NULL;
		}
	}
	pin->node.start = first;
	pin->node.last = last;
	pin->users = 1;
	return pin;
}

static void iopt_pin_free(struct iopt_pages_pin *pin)
{
	if (pin->page != &pin->one)
		kvfree(pin->page);
	kfree(pin);
}

/**
 * iopt_pages_pin - pin pages [first, last] for an in-kernel access
 * @pages: the memory
 * @first: first page index
 * @last: last page index
 * @out: receives the last - first + 1 pages, or NULL
 *
 * Every successful call is undone by one iopt_pages_unpin() of the same
 * range. Pages another access or a domain already holds are not pinned
 * again.
 *
 * Return: 0, -ENOMEM (also for RLIMIT_MEMLOCK), -EOVERFLOW, -EFAULT or
 * what GUP says.
 */
int iopt_pages_pin(struct iopt_pages *pages, unsigned long first,
		   unsigned long last, struct page **out)
{
	struct iopt_pages_pin *pin;
	int rc = 0;

	mutex_lock(&pages->mutex);
	pin = iopt_pages_find_pin(pages, first, last);
	if (pin) {
		if (pin->users == UINT_MAX) {
			rc = -EOVERFLOW;
			goto out_unlock;
		}
		pin->users++;
	} else {
		pin = iopt_pin_alloc(first, last);
		if (!pin) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		rc = iopt_pages_gather(pages, first, last, pin->page, NULL);
		if (rc) {
			iopt_pin_free(pin);
			goto out_unlock;
		}
		interval_tree_insert(&pin->node, &pages->pins);
	}
	if (out)
		memcpy(out, pin->page, (last - first + 1) * sizeof(*out));
out_unlock:
	mutex_unlock(&pages->mutex);
	return rc;
}

/* Drop one user of @pin; the last one unpins what nothing else holds. */
static void iopt_pages_unpin_one(struct iopt_pages *pages,
				 struct iopt_pages_pin *pin)
{
	if (--pin->users)
		return;
	interval_tree_remove(&pin->node, &pages->pins);
	iopt_pages_ungather(pages, pin->node.start, pin->node.last, pin->page);
	iopt_pin_free(pin);
}

/**
 * iopt_pages_unpin - undo iopt_pages_pin() of a range
 * @pages: the memory
 * @first: first page index
 * @last: last page index
 *
 * The pin of exactly [first, last] is undone if there is one; else every
 * pin lying wholly inside the range is, once: a driver may pin page by
 * page and unpin the run in one call, as kvmgt does with huge pages.
 *
 * Return: how many pins were undone; 0 is a driver bug, which changes
 * nothing.
 */
unsigned int iopt_pages_unpin(struct iopt_pages *pages, unsigned long first,
			      unsigned long last)
{
	struct interval_tree_node *node, *next;
	struct iopt_pages_pin *pin;
	unsigned int n = 0;

	mutex_lock(&pages->mutex);
	pin = iopt_pages_find_pin(pages, first, last);
	if (pin) {
		iopt_pages_unpin_one(pages, pin);
		n = 1;
		goto out_unlock;
	}
	for (node = interval_tree_iter_first(&pages->pins, first, last); node;
	     node = next) {
		next = interval_tree_iter_next(node, first, last);
		if (node->start < first || node->last > last)
			continue;
		iopt_pages_unpin_one(pages, container_of(node,
							 struct iopt_pages_pin,
							 node));
		n++;
	}
out_unlock:
	mutex_unlock(&pages->mutex);
	return n;
}

static void iopt_copy_page(struct page *page, unsigned int offset, void *data,
			   size_t len, bool write)
{
	void *va = kmap_local_page(page) + offset;

	if (write)
		memcpy(va, data, len);
	else
		memcpy(data, va, len);
	kunmap_local(va);
}

/* Copy within one page that nobody has pinned, from its mm or its file. */
static int iopt_pages_rw_user(struct iopt_pages *pages, unsigned long offset,
			      void *data, size_t len, bool write)
{
	unsigned long uaddr = pages->start + offset;
	struct page *page;
	int locked = 1;
	long got;

	if (pages->file)
		return iopt_file_rw(pages, offset, data, len, write);
	if (current->mm == pages->mm && !(current->flags & PF_KTHREAD)) {
		if (write)
			return copy_to_user((void __user *)uaddr, data, len) ?
				       -EFAULT : 0;
		return copy_from_user(data, (void __user *)uaddr, len) ?
			       -EFAULT : 0;
	}

	if (!mmget_not_zero(pages->mm))
		return -EFAULT;
	mmap_read_lock(pages->mm);
	got = pin_user_pages_remote(pages->mm, uaddr, 1, write ? FOLL_WRITE : 0,
				    &page, &locked);
	if (locked)
		mmap_read_unlock(pages->mm);
	mmput(pages->mm);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	iopt_copy_page(page, offset_in_page(uaddr), data, len, write);
	unpin_user_pages_dirty_lock(&page, 1, write);
	return 0;
}

/*
 * The page at @index if some user holds it pinned: from an access pin's
 * array (unless @no_store, the test's slow path), or read back from a
 * domain.
 */
static struct page *iopt_pages_held_page(struct iopt_pages *pages,
					 unsigned long index, bool no_store)
{
	struct interval_tree_node *node;
	struct iopt_pages_pin *pin;
	struct iopt_area *area;

	lockdep_assert_held(&pages->mutex);
	node = no_store ? NULL :
	       interval_tree_iter_first(&pages->pins, index, index);
	if (node) {
		pin = container_of(node, struct iopt_pages_pin, node);
		return pin->page[index - node->start];
	}
	area = iopt_pages_domain_user(pages, index, NULL);
	if (!area)
		return NULL;
	return iopt_area_page(area, area->storage_domain, index);
}

/**
 * iopt_pages_rw - copy between a kernel buffer and the memory
 * @pages: the memory
 * @offset: byte offset from the first page
 * @data: the kernel buffer
 * @len: bytes
 * @write: copy into the memory rather than out of it
 * @slow_path: do not use the pinned PFNs even where there are some
 *
 * Pages that accesses or domains hold pinned are copied through their
 * kernel mapping, which works after the owner exited too; the others
 * through the owner's address space.
 *
 * Return: 0, -EFAULT, or for a file what pinning its page gave (-EINVAL
 * past its end, -ENOMEM).
 */
int iopt_pages_rw(struct iopt_pages *pages, unsigned long offset, void *data,
		  size_t len, bool write, bool slow_path)
{
	unsigned int in_page;
	struct page *page;
	size_t chunk;
	int rc;

	/* The mutex keeps the held pages pinned while we copy. */
	mutex_lock(&pages->mutex);
	while (len) {
		in_page = offset_in_page(offset);
		chunk = min_t(size_t, len, PAGE_SIZE - in_page);
		page = iopt_pages_held_page(pages, offset >> PAGE_SHIFT,
					    slow_path);
		if (page) {
			iopt_copy_page(page, in_page, data, chunk, write);
		} else {
			/* That may fault, and a fault may need the mutex. */
			mutex_unlock(&pages->mutex);
			rc = iopt_pages_rw_user(pages, offset,
						data, chunk, write);
			if (rc)
				return rc;
			mutex_lock(&pages->mutex);
		}
		offset += chunk;
		data += chunk;
		len -= chunk;
		if (len && need_resched()) {
			mutex_unlock(&pages->mutex);
			cond_resched();
			mutex_lock(&pages->mutex);
		}
	}
	mutex_unlock(&pages->mutex);
	return 0;
}
