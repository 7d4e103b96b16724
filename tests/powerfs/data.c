/* SPDX-License-Identifier: ISC */
/*
 * data.c: what each file held at its last fsync or fdatasync, kept while it is written
 * to, so that a cut can put it back (powerfs.h). A file nobody wrote to since its last
 * sync has no node: its backing bytes are durable. The first change after a sync makes
 * a node with the size then (the durable size); every write or truncation saves, first,
 * the durable bytes of each page below that size it is about to change, once; an
 * fallocate is a change of size (or, punching a hole or zeroing, of bytes) the same way.
 * A cut truncates each file to its durable size and writes the saved pages back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "powerfs.h"

struct saved {
	off_t	 page;		/* its number */
	size_t	 len;		/* the durable bytes in it (less in the last page) */
	char	*bytes;
};

/* The last change, when it was a write: what the tear modes cut into. */
struct last_write {
	bool	 valid;
	off_t	 off;
	size_t	 len;
	off_t	 size_before;
	size_t	 prelen;	/* the bytes of [off, off + len) below size_before */
	char	*pre;		/* and what they held before it */
};

struct node {
	struct node		*next;
	dev_t			 dev;
	ino_t			 ino;
	int			 fd;		/* our own read-write descriptor of it */
	off_t			 durable;	/* its size at its last sync */
	struct saved		*saved;		/* sorted by page */
	size_t			 nsaved, cap;
	struct last_write	 last;
	unsigned long long	 written;	/* bytes written since, for the report */
	unsigned long long	 allocated;	/* and given by fallocate */
};

static struct node	*nodes;

/* ---- nodes -------------------------------------------------------------------------- */

static void
node_free(struct node *n)
{
	size_t	 i;

	for (i = 0; i < n->nsaved; i++)
		free(n->saved[i].bytes);
	free(n->saved);
	free(n->last.pre);
	if (n->fd != -1)
		close(n->fd);
	free(n);
}

static struct node **
node_slot(const struct stat *st)
{
	struct node	**p;

	for (p = &nodes; *p != NULL; p = &(*p)->next)
		if ((*p)->dev == st->st_dev && (*p)->ino == st->st_ino)
			return p;
	return p;
}

/* The node of the file fd is open on, made (with the size now as durable) if missing. */
static struct node *
node_of(int fd, int *err)
{
	struct node	**slot, *n;
	struct stat	 st;
	char		 proc[64];

	if (fstat(fd, &st) == -1) {
		*err = -errno;
		return NULL;
	}
	if (*(slot = node_slot(&st)) != NULL)
		return *slot;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n->fd = open(proc, O_RDWR | O_CLOEXEC)) == -1) {
		*err = -errno;
		free(n);
		return NULL;
	}
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->durable = st.st_size;
	*slot = n;
	return n;
}

/* ---- saving durable bytes ----------------------------------------------------------- */

/* Where page would go in n->saved (its index if there); found says which. */
static size_t
saved_index(const struct node *n, off_t page, bool *found)
{
	size_t	 lo = 0, hi = n->nsaved, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (n->saved[mid].page < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n->nsaved && n->saved[lo].page == page;
	return lo;
}

static int
save_page(struct node *n, off_t page)
{
	struct saved	*grown, s;
	size_t		 at;
	ssize_t		 got;
	bool		 found;

	at = saved_index(n, page, &found);
	if (found)
		return 0;
	s.page = page;
	s.len = (size_t)(n->durable - page * PFS_PAGE);
	if (s.len > PFS_PAGE)
		s.len = PFS_PAGE;
	if ((s.bytes = malloc(s.len)) == NULL)
		return -ENOMEM;
	if ((got = pread(n->fd, s.bytes, s.len, page * PFS_PAGE)) != (ssize_t)s.len) {
		free(s.bytes);
		return got == -1 ? -errno : -EIO;
	}
	if (n->nsaved == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 8;
		if ((grown = realloc(n->saved, n->cap * sizeof(*grown))) == NULL) {
			free(s.bytes);
			return -ENOMEM;
		}
		n->saved = grown;
	}
	memmove(n->saved + at + 1, n->saved + at, (n->nsaved - at) * sizeof(s));
	n->saved[at] = s;
	n->nsaved++;
	return 0;
}

/* The durable bytes of every page that [from, to) touches below the durable size. */
static int
save_range(struct node *n, off_t from, off_t to)
{
	off_t	 page;
	int	 rc;

	if (to > n->durable)
		to = n->durable;
	for (page = from / PFS_PAGE; page * PFS_PAGE < to; page++)
		if ((rc = save_page(n, page)) != 0)
			return rc;
	return 0;
}

/* For a tear: what the write about to happen overwrites, and the size before it. */
static int
remember_write(struct node *n, off_t off, size_t len)
{
	struct last_write	*w = &n->last;
	struct stat		 st;
	char			*pre;

	w->valid = false;
	if (fstat(n->fd, &st) == -1)
		return -errno;
	w->off = off;
	w->len = len;
	w->size_before = st.st_size;
	w->prelen = off < st.st_size ? (size_t)(st.st_size - off) : 0;
	if (w->prelen > len)
		w->prelen = len;
	if (w->prelen > 0) {
		if ((pre = realloc(w->pre, w->prelen)) == NULL)
			return -ENOMEM;
		w->pre = pre;
		if (pread(n->fd, w->pre, w->prelen, off) != (ssize_t)w->prelen)
			return -EIO;
	}
	w->valid = true;
	return 0;
}

int
data_before_write(int fd, off_t off, size_t len)
{
	struct node	*n;
	int		 rc = 0;

	if ((n = node_of(fd, &rc)) == NULL)
		return rc;
	if ((rc = save_range(n, off, off + (off_t)len)) != 0)
		return rc;
	n->written += len;
	return pfs.tear == TEAR_NONE ? 0 : remember_write(n, off, len);
}

int
data_before_truncate(int fd, off_t size)
{
	struct node	*n;
	int		 rc = 0;

	if ((n = node_of(fd, &rc)) == NULL)
		return rc;
	n->last.valid = false;
	return size < n->durable ? save_range(n, size, n->durable) : 0;
}

int
data_before_fallocate(int fd, off_t off, off_t len, bool zeroes)
{
	struct node	*n;
	int		 rc = 0;

	if ((n = node_of(fd, &rc)) == NULL)
		return rc;
	n->last.valid = false;
	n->allocated += (unsigned long long)len;
	return zeroes ? save_range(n, off, off + len) : 0;
}

void
data_synced(int fd)
{
	struct node	**slot, *n;
	struct stat	 st;

	if (fstat(fd, &st) == -1 || (n = *(slot = node_slot(&st))) == NULL)
		return;
	*slot = n->next;
	node_free(n);
}

/* ---- the cut ------------------------------------------------------------------------ */

/* Everything since the last sync taken back. */
static int
revert(struct node *n)
{
	char	 buf[PATH_MAX];
	size_t	 i;

	if (ftruncate(n->fd, n->durable) == -1)
		return -1;
	for (i = 0; i < n->nsaved; i++)
		if (pwrite(n->fd, n->saved[i].bytes, n->saved[i].len,
		    n->saved[i].page * PFS_PAGE) != (ssize_t)n->saved[i].len)
			return -1;
	fprintf(pfs.report, "powerfs: cut: %s: back to %lld bytes (%llu bytes written and %llu "
	    "fallocated since its last sync lost, %zu pages put back)\n", pfs_name_of(n->fd, buf),
	    (long long)n->durable, n->written, n->allocated, n->nsaved);
	return 0;
}

/* How much of the last write a tear keeps: fewer bytes than it wrote. */
static size_t
tear_point(const struct last_write *w)
{
	off_t	 first, boundary;
	size_t	 nb;

	/* byte, zero: at least one byte kept and one lost, when it has two */
	if (pfs.tear != TEAR_PAGE)
		return w->len < 2 ? 0 : 1 + (size_t)rand_r(&pfs.seed) % (w->len - 1);
	/* its start, or a page boundary inside it */
	first = (w->off / PFS_PAGE + 1) * PFS_PAGE;
	nb = first < w->off + (off_t)w->len ?
	    (size_t)((w->off + (off_t)w->len - 1 - first) / PFS_PAGE + 1) : 0;
	boundary = (off_t)((size_t)rand_r(&pfs.seed) % (nb + 1));
	return boundary == 0 ? 0 : (size_t)(first + (boundary - 1) * PFS_PAGE - w->off);
}

static int
zero_fill(int fd, off_t from, off_t to)
{
	static const char	 zeros[PFS_PAGE];
	size_t			 n;

	for (; from < to; from += (off_t)n) {
		n = to - from > PFS_PAGE ? PFS_PAGE : (size_t)(to - from);
		if (pwrite(fd, zeros, n, from) != (ssize_t)n)
			return -1;
	}
	return 0;
}

/* The writes before the last one kept, the last one cut after `keep` of its bytes. */
static int
tear(struct node *n)
{
	const struct last_write	*w = &n->last;
	size_t			 keep = tear_point(w);
	off_t			 cut = w->off + (off_t)keep, end = w->off + (off_t)w->len;
	char			 buf[PATH_MAX];

	if (keep < w->prelen && pwrite(n->fd, w->pre + keep, w->prelen - keep, cut) !=
	    (ssize_t)(w->prelen - keep))
		return -1;
	if (pfs.tear == TEAR_ZERO) {
		if (zero_fill(n->fd, cut > w->size_before ? cut : w->size_before, end) == -1)
			return -1;
	} else if (ftruncate(n->fd, cut > w->size_before ? cut : w->size_before) == -1) {
		return -1;
	}
	fprintf(pfs.report, "powerfs: cut: %s: torn: of its last write (%zu bytes at %lld) "
	    "%zu bytes kept%s; the writes before it since its last sync kept\n", pfs_name_of(n->fd, buf),
	    w->len, (long long)w->off, keep, pfs.tear == TEAR_ZERO ? ", the rest zeros" : "");
	return 0;
}

size_t
data_cut(void)
{
	struct node	*n;
	size_t		 count = 0;
	char		 buf[PATH_MAX];

	while ((n = nodes) != NULL) {
		nodes = n->next;
		if (pfs.tear != TEAR_NONE && n->last.valid && n->last.len > 0 ? tear(n) :
		    revert(n))
			fprintf(pfs.report, "powerfs: cut: %s: cannot put it back: %s\n",
			    pfs_name_of(n->fd, buf), strerror(errno));
		count++;
		node_free(n);
	}
	return count;
}

void
data_keep_all(void)
{
	struct node	*n;

	while ((n = nodes) != NULL) {
		nodes = n->next;
		node_free(n);
	}
}
