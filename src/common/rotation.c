/* SPDX-License-Identifier: ISC */
/* rotation.c: finding the files a log was rotated into, by their place in the chain. */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logfile.h"
#include "record.h"
#include "rotation.h"

#define TAIL_CHUNK	(64 * 1024)
#define LINE_MAX_READ	((size_t)256 << 20)

/* Names next to the log that are ours or cannot be read as a log. */
static const char *const skipped_suffixes[] = {
	".shm", ".idx", ".idx-lock", ".torn", ".lock", ".gz", ".xz", ".bz2", ".zst",
	".lz4", ".lzma", ".Z", ".tmp",
};

/* What logrotate's compress may have made of a rotated log. */
static const char *const compressed_suffixes[] = {
	".gz", ".xz", ".bz2", ".zst", ".lz4", ".lzma", ".Z",
};

static bool
ends_with(const char *s, const char *suffix)
{
	size_t	 a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* events.jsonl.1, events.jsonl-20261125, events.jsonl.2026-11-25 ... */
static bool
rotated_name(const char *name, const char *base)
{
	size_t	 len = strlen(base), i;

	if (strncmp(name, base, len) != 0 || (name[len] != '.' && name[len] != '-') ||
	    name[len + 1] == '\0')
		return false;
	for (i = 0; i < sizeof(skipped_suffixes) / sizeof(skipped_suffixes[0]); i++)
		if (ends_with(name, skipped_suffixes[i]))
			return false;
	return true;
}

struct first_line {
	struct log_ends	*ends;
	bool		 found;
};

static int
take_first(const char *line, size_t len, off_t at, void *arg)
{
	struct first_line	*fl = arg;
	struct record_view	 view;
	const char		*why;

	(void)at;
	if (record_parse(line, len, &view, &why) == -1)
		return 1;
	fl->ends->first_seq = view.seq;
	fl->found = hex_decode(view.prev, SHA256_HEX_LEN, fl->ends->first_prev) == 0;
	record_view_free(&view);
	return 1;
}

/* The last complete line of the file: read backwards from the last '\n'. */
static char *
last_line(int fd, off_t size, size_t *len)
{
	char	*buf = NULL, *grown, *start;
	size_t	 want = TAIL_CHUNK;
	off_t	 from;
	ssize_t	 n;

	for (;;) {
		from = size > (off_t)want ? size - (off_t)want : 0;
		if ((grown = realloc(buf, (size_t)(size - from) + 1)) == NULL)
			break;
		buf = grown;
		if ((n = pread(fd, buf, (size_t)(size - from), from)) != size - from)
			break;
		/* the file may end in a torn line: drop everything after the last '\n' */
		while (n > 0 && buf[n - 1] != '\n')
			n--;
		if (n > 0) {
			buf[n - 1] = '\0';
			start = memrchr(buf, '\n', (size_t)n - 1);
			if (start != NULL || from == 0) {
				start = start != NULL ? start + 1 : buf;
				*len = (size_t)(buf + n - 1 - start);
				memmove(buf, start, *len + 1);
				return buf;
			}
		}
		if (from == 0 || want >= LINE_MAX_READ)
			break;
		want *= 4;
	}
	free(buf);
	return NULL;
}

static int
take_last(int fd, off_t size, struct log_ends *ends)
{
	struct record_view	 view;
	const char		*why;
	char			*line;
	size_t			 len;
	int			 rc = -1;

	if ((line = last_line(fd, size, &len)) == NULL)
		return -1;
	if (record_parse(line, len, &view, &why) == 0) {
		ends->last_seq = view.seq;
		ends->last_ms = view.received_ms;
		line[len] = '\n';
		sha256(line, len + 1, ends->last_hash);
		record_view_free(&view);
		rc = 0;
	}
	free(line);
	return rc;
}

int
rotation_ends(const char *path, struct log_ends *ends)
{
	struct first_line	 fl = { ends, false };
	struct stat		 st;
	off_t			 end;
	int			 fd, rc = -1;

	memset(ends, 0, sizeof(*ends));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    logfile_lines(fd, 0, st.st_size, take_first, &fl, &end) != -1 && fl.found &&
	    take_last(fd, st.st_size, ends) == 0)
		rc = 0;
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

/* The log's directory and file name, split off copies of its path. */
struct log_place {
	char	*dir_copy, *base_copy;
	char	*dir, *base;
};

static int
log_place(const char *logpath, struct log_place *lp)
{
	lp->dir_copy = strdup(logpath);
	lp->base_copy = strdup(logpath);
	if (lp->dir_copy == NULL || lp->base_copy == NULL) {
		free(lp->dir_copy);
		free(lp->base_copy);
		return -1;
	}
	lp->dir = dirname(lp->dir_copy);
	lp->base = basename(lp->base_copy);
	return 0;
}

static void
log_place_free(struct log_place *lp)
{
	free(lp->dir_copy);
	free(lp->base_copy);
}

/* Every rotated file in the log's directory that has records, in any order. */
static int
list_rotated(const char *logpath, const struct stat *current, struct log_ends **out,
    size_t *n)
{
	struct log_ends	*list = NULL, *grown, ends;
	struct dirent	*de;
	struct stat	 st;
	struct log_place lp;
	char		*path;
	DIR		*dp;
	int		 rc = 0;

	*n = 0;
	if (log_place(logpath, &lp) == -1)
		return -1;
	if ((dp = opendir(lp.dir)) == NULL)
		rc = -1;
	while (rc == 0 && (de = readdir(dp)) != NULL) {
		if (!rotated_name(de->d_name, lp.base) ||
		    asprintf(&path, "%s/%s", lp.dir, de->d_name) == -1)
			continue;
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    (st.st_dev == current->st_dev && st.st_ino == current->st_ino) ||
		    rotation_ends(path, &ends) == -1) {
			free(path);
			continue;
		}
		if ((grown = realloc(list, (*n + 1) * sizeof(*list))) == NULL) {
			free(path);
			rc = -1;
			break;
		}
		list = grown;
		ends.path = path;
		list[(*n)++] = ends;
	}
	if (dp != NULL)
		closedir(dp);
	log_place_free(&lp);
	if (rc == -1) {
		rotation_free(list, *n);
		return -1;
	}
	*out = list;
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

/* Is there a rotated file next to the log that only its compressed form holds? */
bool
rotation_has_compressed(const char *logpath)
{
	struct dirent	*de;
	struct log_place lp;
	size_t		 len, i;
	bool		 found = false;
	DIR		*dp;

	if (log_place(logpath, &lp) == -1)
		return false;
	len = strlen(lp.base);
	if ((dp = opendir(lp.dir)) != NULL) {
		while (!found && (de = readdir(dp)) != NULL) {
			if (strncmp(de->d_name, lp.base, len) != 0 ||
			    (de->d_name[len] != '.' && de->d_name[len] != '-'))
				continue;
			for (i = 0; i < sizeof(compressed_suffixes) /
			    sizeof(compressed_suffixes[0]); i++)
				if (ends_with(de->d_name, compressed_suffixes[i]))
					found = true;
		}
		closedir(dp);
	}
	log_place_free(&lp);
	return found;
}

/* The rotated file next to the log that is the file dev/ino (a path to free), or NULL. */
char *
rotation_find_file(const char *logpath, uint64_t dev, uint64_t ino)
{
	struct dirent	*de;
	struct stat	 st;
	struct log_place lp;
	char		*path, *found = NULL;
	DIR		*dp;

	if (log_place(logpath, &lp) == -1)
		return NULL;
	if ((dp = opendir(lp.dir)) != NULL) {
		while (found == NULL && (de = readdir(dp)) != NULL) {
			if (!rotated_name(de->d_name, lp.base) ||
			    asprintf(&path, "%s/%s", lp.dir, de->d_name) == -1)
				continue;
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino)
				found = path;
			else
				free(path);
		}
		closedir(dp);
	}
	log_place_free(&lp);
	return found;
}
