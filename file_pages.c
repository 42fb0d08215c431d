// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory named by a file (IOMMU_IOAS_MAP_FILE): an iopt_pages whose pages
 * come from the page cache of a memfd, on shmem or on hugetlbfs, rather
 * than from a process's page tables.
 *
 * pages.c holds one pin per page index, and releases pages in any runs it
 * likes. memfd_pin_folios() gives one pin per folio however many of its
 * pages a call covers, and 6.12 exports no way to add pins to a folio.
 * So a small folio's pin is its page's pin, and a large folio is pinned
 * once for as long as this iopt_pages holds any of its pages: @holds
 * counts them, keyed by the folio's PFN. The folio's pin keeps all of its
 * pages in place, which is what each held index needs.
 *
 * Locking: @holds is changed under pages->mutex, as every pin and unpin of
 * pages.c is. The temporary pins of iopt_file_rw() are the folio's own
 * and do not touch @holds.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>

#include "iommufd_private.h"
#include "io_pagetable.h"

/* Folios one memfd_pin_folios() call may return, on the stack. */
#define IOPT_FILE_FOLIOS	32

/**
 * iopt_pages_new_file - describe a range of a memfd
 * @file: the memfd, on shmem or on hugetlbfs
 * @start: byte offset of the first byte
 * @length: bytes, not zero
 * @writable: whether devices may write to it
 * @account: where pinned pages are charged
 *
 * The pages are charged to the calling process, as for memory it maps by
 * address, until IOMMU_IOAS_CHANGE_PROCESS moves them.
 *
 * Return: the pages with one reference; ERR_PTR(-EINVAL) for another kind
 * of file or a range past its end; ERR_PTR(-EPERM) for a file not opened
 * for reading, or a writable mapping of a file opened read-only or sealed
 * with F_SEAL_WRITE. (F_SEAL_FUTURE_WRITE cannot be seen from here: 6.12
 * exports nothing that reads the seals.)
 */
struct iopt_pages *iopt_pages_new_file(struct file *file, unsigned long start,
				       unsigned long length, bool writable,
				       enum iopt_account account)
{
	struct iopt_pages *pages;
	loff_t size;
	int rc;

	if (!shmem_file(file) && !is_file_hugepages(file))
		return ERR_PTR(-EINVAL);
	size = i_size_read(file_inode(file));
	if (start > size || length > size - start)
		return ERR_PTR(-EINVAL);
	/* A device reads and writes only what the fd allows. */
	if (!(file->f_mode & FMODE_READ))
		return ERR_PTR(-EPERM);
	if (writable) {
		if (!(file->f_mode & FMODE_WRITE))
			return ERR_PTR(-EPERM);
		/* Counts as a writable mapping: F_SEAL_WRITE waits for us. */
		rc = mapping_map_writable(file->f_mapping);
		if (rc)
			return ERR_PTR(rc);
	}
	pages = iopt_pages_alloc(start, length, writable, account);
	if (IS_ERR(pages)) {
		if (writable)
			mapping_unmap_writable(file->f_mapping);
		return pages;
	}
	pages->file = get_file(file);
	xa_init_flags(&pages->holds, XA_FLAGS_ACCOUNT);
	return pages;
}

/**
 * iopt_file_release - undo what iopt_pages_new_file() took on the file
 * @pages: the memory, nothing of it pinned any more
 */
void iopt_file_release(struct iopt_pages *pages)
{
	WARN_ON(!xa_empty(&pages->holds));
	xa_destroy(&pages->holds);
	if (pages->writable)
		mapping_unmap_writable(pages->file->f_mapping);
	fput(pages->file);
}

/*
 * Count @n more held pages of the large folio @folio. Returns how many it
 * held before, or an errno.
 */
static long iopt_file_hold(struct iopt_pages *pages, struct folio *folio,
			   unsigned long n)
{
	unsigned long key = folio_pfn(folio), had = 0;
	void *entry;
	int rc;

	entry = xa_load(&pages->holds, key);
	if (entry)
		had = xa_to_value(entry);
	rc = xa_err(xa_store(&pages->holds, key, xa_mk_value(had + n),
			     GFP_KERNEL_ACCOUNT));
	return rc ? rc : had;
}

/* Let go of @n held pages of the large folio @folio; true if none left. */
static bool iopt_file_unhold(struct iopt_pages *pages, struct folio *folio,
			     unsigned long n)
{
	unsigned long key = folio_pfn(folio), had;
	void *entry;

	entry = xa_load(&pages->holds, key);
	had = entry ? xa_to_value(entry) : 0;
	if (WARN_ON_ONCE(had < n))
		n = had;
	if (had > n) {
		/* Replacing a present entry allocates nothing. */
		xa_store(&pages->holds, key, xa_mk_value(had - n), GFP_KERNEL);
		return false;
	}
	xa_erase(&pages->holds, key);
	return true;
}

/**
 * iopt_file_unpin - release pages that iopt_file_pin() gave
 * @pages: the memory, its mutex held
 * @batch: the pages, any order within a folio's run
 * @n: how many
 * @dirty: mark them dirty first
 */
void iopt_file_unpin(struct iopt_pages *pages, struct page **batch,
		     unsigned long n, bool dirty)
{
	unsigned long i, run;
	struct folio *folio;

	lockdep_assert_held(&pages->mutex);
	for (i = 0; i < n; i += run) {
		folio = page_folio(batch[i]);
		for (run = 1; i + run < n && page_folio(batch[i + run]) == folio;
		     run++)
			;
		if (folio_test_large(folio) &&
		    !iopt_file_unhold(pages, folio, run))
			continue;
		/* One pin stands for the whole run: drop exactly one. */
		unpin_user_page_range_dirty_lock(batch[i], 1, dirty);
	}
}

/**
 * iopt_file_pin - pin pages of the file into @out
 * @pages: the memory, its mutex held
 * @index: first page index
 * @n: pages wanted
 * @out: receives them
 *
 * Return: how many pages were pinned from @index on (at least one), or an
 * errno: -EINVAL once the file no longer reaches that far.
 */
long iopt_file_pin(struct iopt_pages *pages, unsigned long index,
		   unsigned long n, struct page **out)
{
	loff_t first = pages->start + index * PAGE_SIZE;
	loff_t last = first + n * PAGE_SIZE - 1;
	struct folio *folios[IOPT_FILE_FOLIOS];
	unsigned long done = 0, in, take;
	pgoff_t offset;
	long nr, i, had;

	lockdep_assert_held(&pages->mutex);
	/* The last page may be the file's partial one: its folio is whole. */
	last = min(last, i_size_read(file_inode(pages->file)) - 1);
	nr = memfd_pin_folios(pages->file, first, last, folios,
			      ARRAY_SIZE(folios), &offset);
	if (nr <= 0)
		return nr ? nr : -EFAULT;

	for (i = 0; i < nr && done < n; i++) {
		in = i ? 0 : offset >> PAGE_SHIFT;
		take = min(folio_nr_pages(folios[i]) - in, n - done);
		if (folio_test_large(folios[i])) {
			had = iopt_file_hold(pages, folios[i], take);
			if (had < 0)
				goto err;
			/* Already pinned for earlier holds: one is enough. */
			if (had)
				unpin_folio(folios[i]);
		}
		for (; take; take--)
			out[done++] = folio_page(folios[i], in++);
	}
	/* Nothing is left over when the range ends inside the last folio. */
	if (i < nr)
		unpin_folios(folios + i, nr - i);
	return done;
err:
	unpin_folios(folios + i, nr - i);
	iopt_file_unpin(pages, out, done, false);
	return -ENOMEM;
}

/**
 * iopt_file_rw - copy between a kernel buffer and one page of the file
 * @pages: the memory
 * @offset: byte offset from the first page, within one page for @len
 * @data: the kernel buffer
 * @len: bytes
 * @write: copy into the file
 *
 * For pages nobody holds pinned: the page is pinned just for the copy.
 *
 * Return: 0, or the errno of memfd_pin_folios().
 */
int iopt_file_rw(struct iopt_pages *pages, unsigned long offset, void *data,
		 size_t len, bool write)
{
	loff_t pos = pages->start + offset;
	struct folio *folio;
	pgoff_t in;
	void *va;
	long nr;

	nr = memfd_pin_folios(pages->file, pos, pos + len - 1, &folio, 1, &in);
	if (nr <= 0)
		return nr ? nr : -EFAULT;
	va = kmap_local_folio(folio, in);
	if (write)
		memcpy(va, data, len);
	else
		memcpy(data, va, len);
	kunmap_local(va);
	unpin_user_page_range_dirty_lock(folio_page(folio, in >> PAGE_SHIFT), 1,
					 write);
	return 0;
}
