/* SPDX-License-Identifier: ISC */
/*
 * index.c: the writer's dedup index file (dedup.h) next to the log: opened under the lock,
 * made anew after a reboot or when LMDB will not open it, dropped when a call on it fails.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dedup.h"
#include "eventlog-internal.h"
#include "shm.h"
#include "util.h"

void
el_drop_index(struct eventlog *el, bool remove)
{
	dedup_close(el->dedup);
	el->dedup = NULL;
	if (remove && dedup_remove(el->idx_path) == -1)
		msg_errno("%s: unlink", el->idx_path);
}

/* Has another process replaced the index file since we opened it (or put a link there)? */
static bool
index_replaced(const struct eventlog *el)
{
	struct stat	 st;

	return lstat(el->idx_path, &st) == -1 || (uint64_t)st.st_dev != el->dedup_dev ||
	    (uint64_t)st.st_ino != el->dedup_ino;
}

/*
 * Open the index; one LMDB will not open is removed and made anew. What is at the path
 * is not removed when it is not ours to use (a symbolic link, a FIFO, another user's
 * file): nothing is appended until its owner removes it.
 */
static struct dedup *
index_at_path(struct eventlog *el)
{
	struct dedup	*dd;
	char		 err[512];
	bool		 refused;

	if ((dd = dedup_open(el->idx_path, &refused, err, sizeof(err))) != NULL)
		return dd;
	if (refused) {
		msg("%s; not appending until it is removed", err);
		return NULL;
	}
	msg("%s; removing it to rebuild it from the log", err);
	if (dedup_remove(el->idx_path) == -1) {
		msg_errno("%s: unlink", el->idx_path);
		return NULL;
	}
	if ((dd = dedup_open(el->idx_path, &refused, err, sizeof(err))) == NULL)
		msg("%s", err);
	return dd;
}

/* Under the lock: an index we can use, new after a reboot (it was never synced). */
int
el_open_index(struct eventlog *el)
{
	if (shm_is_fresh(el->locked))
		el_drop_index(el, true);
	else if (el->dedup != NULL && index_replaced(el))
		el_drop_index(el, false);
	if (el->dedup != NULL)
		return 0;
	if ((el->dedup = index_at_path(el)) == NULL)
		return -1;
	dedup_identity(el->dedup, &el->dedup_dev, &el->dedup_ino);
	return 0;
}

int
el_index_failed(struct eventlog *el, const char *what)
{
	msg("%s: %s: %s; it will be rebuilt from the log", el->idx_path, what,
	    dedup_error(el->dedup));
	el_drop_index(el, true);
	return -1;
}
