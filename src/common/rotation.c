/* SPDX-License-Identifier: ISC */
/* rotation.c: finding the files a log was rotated into, by their place in the chain. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log-check.h"
#include "logformat.h"
#include "rotation.h"

#define WHY_LEN		160

/* --- a file's ends ------------------------------------------------------------------- */

/* The first record's seq and prev; -1 when the first line is not a record. */
static int
take_first(int fd, off_t size, struct log_reader *reader, struct log_ends *ends)
{
	struct log_lines	 lines;
	struct log_line		 line;
	struct log_record	 rec;
	char			 why[WHY_LEN];
	int			 rc = -1;

	logformat_lines_init(&lines, fd, size, false);
	if (logformat_line(&lines, 0, &line) == LINE_OK &&
	    log_record_read(reader, line.text, line.len, &rec, why, sizeof(why)) == 0) {
		ends->first_seq = rec.view.seq;
		rc = hex_decode(rec.view.prev, SHA256_HEX_LEN, ends->first_prev);
		log_record_free(&rec);
	}
	logformat_lines_free(&lines);
	return rc;
}

/* The last whole record (a torn tail after it is the writer's to cut); -1 if none. */
static int
take_last(int fd, off_t size, struct log_reader *reader, struct log_ends *ends)
{
	struct log_last		 last;
	struct log_record	 rec;
	char			 why[WHY_LEN];
	int			 rc = -1;

	if (logformat_last_line(fd, size, &last) == LINE_OK &&
	    log_record_read(reader, last.text, last.len, &rec, why, sizeof(why)) == 0) {
		ends->last_seq = rec.view.seq;
		ends->last_ms = rec.view.received_ms;
		sha256(last.text, last.len + 1, ends->last_hash);
		log_record_free(&rec);
		rc = 0;
	}
	free(last.buf);
	return rc;
}

int
rotation_ends(const char *path, struct log_ends *ends)
{
	struct log_reader	*reader;
	struct stat		 st;
	int			 fd, rc = -1;

	memset(ends, 0, sizeof(*ends));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1)
		return -1;
	if ((reader = log_reader_new()) != NULL && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    take_first(fd, st.st_size, reader, ends) == 0 &&
	    take_last(fd, st.st_size, reader, ends) == 0)
		rc = 0;
	log_reader_free(reader);
	close(fd);
	return rc;
}

void
rotation_free(struct log_ends *files, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* --- the chain of rotated files ------------------------------------------------------ */

/* The rotated files that hold records, other than the current one, as they are found. */
struct rotated_list {
	const struct stat	*current;
	struct log_ends		*files;
	size_t			 n;
};

static int
add_rotated(const struct log_sibling *sib, void *arg)
{
	struct rotated_list	*list = arg;
	struct log_ends		*grown, ends;
	struct stat		 st;

	if (sib->kind != LOG_NAME_ROTATED || stat(sib->path, &st) == -1 ||
	    !S_ISREG(st.st_mode) ||
	    (st.st_dev == list->current->st_dev && st.st_ino == list->current->st_ino) ||
	    rotation_ends(sib->path, &ends) == -1)
		return 0;
	if ((grown = realloc(list->files, (list->n + 1) * sizeof(*grown))) == NULL ||
	    (ends.path = strdup(sib->path)) == NULL) {
		if (grown != NULL)
			list->files = grown;
		return -1;
	}
	list->files = grown;
	list->files[list->n++] = ends;
	return 0;
}

/* Every rotated file in the log's directory that has records, in any order. */
static int
list_rotated(const char *logpath, const struct stat *current, struct log_ends **out,
    size_t *n)
{
	struct rotated_list	 list = { current, NULL, 0 };

	*n = 0;
	if (logformat_siblings(logpath, add_rotated, &list) != 0) {
		rotation_free(list.files, list.n);
		return -1;
	}
	*out = list.files;
	*n = list.n;
	return 0;
}

/*
 * The file that comes right before a record with seq and prev: the one whose last record
 * is the one prev names, else (the chain is broken there, which idwise-log verify and the
 * rebuild report) the one whose last seq comes right before; else -1.
 */
static ssize_t
find_before(const struct log_ends *list, size_t n, uint64_t seq, const unsigned char *prev)
{
	ssize_t	 by_seq = -1;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (list[i].last_seq + 1 != seq)
			continue;
		if (memcmp(list[i].last_hash, prev, SHA256_LEN) == 0)
			return (ssize_t)i;
		if (by_seq == -1)
			by_seq = (ssize_t)i;
	}
	return by_seq;
}

static ssize_t
find_newest(const struct log_ends *list, size_t n)
{
	ssize_t	 best = -1;
	size_t	 i;

	for (i = 0; i < n; i++)
		if (best == -1 || list[i].last_seq > list[best].last_seq)
			best = (ssize_t)i;
	return best;
}

int
rotation_chain(const char *logpath, const struct log_ends *current, int64_t since_ms,
    struct log_ends **files, size_t *nfiles)
{
	struct log_ends	*all, *chain, tmp;
	struct stat	 st;
	size_t		 n, taken = 0, i;
	ssize_t		 k;

	*files = NULL;
	*nfiles = 0;
	memset(&st, 0, sizeof(st));
	if (stat(logpath, &st) == -1 && errno != ENOENT)
		return -1;
	if (list_rotated(logpath, &st, &all, &n) == -1)
		return -1;
	if (n == 0) {
		free(all);
		return 0;
	}
	/* Move each predecessor to the front part of the array, newest first. */
	k = current != NULL ? find_before(all, n, current->first_seq, current->first_prev) :
	    find_newest(all, n);
	while (k != -1) {
		tmp = all[taken];
		all[taken] = all[k];
		all[k] = tmp;
		taken++;
		if (all[taken - 1].last_ms < since_ms || all[taken - 1].first_seq <= 1)
			break;
		k = find_before(all + taken, n - taken, all[taken - 1].first_seq,
		    all[taken - 1].first_prev);
		if (k != -1)
			k += (ssize_t)taken;
	}
	for (i = taken; i < n; i++)
		free(all[i].path);
	if (taken == 0) {
		free(all);
		return 0;
	}
	/* oldest first */
	if ((chain = calloc(taken, sizeof(*chain))) == NULL) {
		rotation_free(all, taken);
		return -1;
	}
	for (i = 0; i < taken; i++)
		chain[i] = all[taken - 1 - i];
	free(all);
	*files = chain;
	*nfiles = taken;
	return 0;
}
