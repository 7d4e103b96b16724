/* SPDX-License-Identifier: ISC */
/* logformat.c: the names of a log's files, and its lines read forwards and from the end. */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logformat.h"
#include "util.h"

#define LINES_FIRST	((size_t)64 * 1024)	/* enough for a first line, or a few */
#define LINES_BULK	((size_t)1024 * 1024)	/* what reading a whole file grows to */
#define TAIL_FIRST	((size_t)64 * 1024)
#define TAIL_MAX	(2 * LOG_LINE_MAX)	/* a longest line and torn tail */

/* --- the files of a log -------------------------------------------------------------- */

/* How a name after "base." or "base-" may end, and what that makes it. */
static const struct {
	const char	*suffix;
	enum log_name	 kind;
} suffixes[] = {
	{ LOG_SUFFIX_INDEX,	LOG_NAME_SIDE },
	{ LOG_SUFFIX_INDEX "-lock", LOG_NAME_SIDE },
	{ LOG_SUFFIX_STATE,	LOG_NAME_SIDE },
	{ LOG_SUFFIX_TORN,	LOG_NAME_SIDE },
	{ ".lock",	LOG_NAME_SIDE },
	{ ".tmp",	LOG_NAME_SIDE },
	{ ".gz",	LOG_NAME_COMPRESSED },
	{ ".xz",	LOG_NAME_COMPRESSED },
	{ ".bz2",	LOG_NAME_COMPRESSED },
	{ ".zst",	LOG_NAME_COMPRESSED },
	{ ".lz4",	LOG_NAME_COMPRESSED },
	{ ".lzma",	LOG_NAME_COMPRESSED },
	{ ".lzo",	LOG_NAME_COMPRESSED },
	{ ".Z",		LOG_NAME_COMPRESSED },
	{ ".br",	LOG_NAME_COMPRESSED },
};

static bool
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t	 n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

enum log_name
logformat_name(const char *name, const char *base)
{
	size_t	 n = strlen(base), len, i;

	if (strcmp(name, base) == 0)
		return LOG_NAME_CURRENT;
	if (strncmp(name, base, n) != 0 || (name[n] != '.' && name[n] != '-') ||
	    name[n + 1] == '\0')
		return LOG_NAME_OTHER;
	len = strlen(name);
	for (i = 0; i < nitems(suffixes); i++)
		if (ends_with(name, len, suffixes[i].suffix))
			return suffixes[i].kind;
	return LOG_NAME_ROTATED;
}

/* Hand one directory entry to fn if it is a file of the log. */
static int
visit(const char *dir, const char *name, const char *base, sibling_fn fn, void *arg)
{
	struct log_sibling	 sib;
	char			*path;
	int			 rc;

	sib.kind = logformat_name(name, base);
	if (sib.kind != LOG_NAME_ROTATED && sib.kind != LOG_NAME_COMPRESSED)
		return 0;
	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return -1;
	sib.path = path;
	sib.name = name;
	rc = fn(&sib, arg);
	free(path);
	return rc;
}

int
logformat_siblings(const char *logpath, sibling_fn fn, void *arg)
{
	struct dirent	*e;
	char		*dir_copy, *base_copy, *dir, *base;
	DIR		*d = NULL;
	int		 rc = -1, saved;

	dir_copy = strdup(logpath);
	base_copy = strdup(logpath);
	if (dir_copy != NULL && base_copy != NULL) {
		dir = dirname(dir_copy);
		base = basename(base_copy);
		d = opendir(dir);
	}
	if (d != NULL) {
		rc = 0;
		while (rc == 0 && (errno = 0, e = readdir(d)) != NULL)
			rc = visit(dir, e->d_name, base, fn, arg);
		if (rc == 0 && errno != 0)
			rc = -1;
	}
	saved = errno;
	if (d != NULL)
		closedir(d);
	free(dir_copy);
	free(base_copy);
	errno = saved;
	return rc;
}

struct identity {
	uint64_t	 dev, ino;
	char		*path;
};

static int
is_identity(const struct log_sibling *sib, void *arg)
{
	struct identity	*id = arg;
	struct stat	 st;

	if (sib->kind != LOG_NAME_ROTATED || stat(sib->path, &st) == -1 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != id->dev ||
	    (uint64_t)st.st_ino != id->ino)
		return 0;
	return (id->path = strdup(sib->path)) != NULL ? 1 : -1;
}

int
logformat_find_rotated(const char *logpath, uint64_t dev, uint64_t ino, char **path)
{
	struct identity	 id = { dev, ino, NULL };
	int		 rc;

	rc = logformat_siblings(logpath, is_identity, &id);
	*path = id.path;
	return rc;
}

static int
is_compressed(const struct log_sibling *sib, void *arg)
{
	(void)arg;
	return sib->kind == LOG_NAME_COMPRESSED;
}

bool
logformat_has_compressed(const char *logpath)
{
	return logformat_siblings(logpath, is_compressed, NULL) == 1;
}

/* --- reading lines ------------------------------------------------------------------- */

void
logformat_lines_init(struct log_lines *r, int fd, off_t end, bool sequential)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->end = end;
	r->sequential = sequential;
}

void
logformat_lines_free(struct log_lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->size = r->have = 0;
}

/* The line at `at` if the buffer holds it whole; its bytes before `from` hold no '\n'. */
static bool
held(const struct log_lines *r, off_t at, size_t from, struct log_line *line)
{
	const char	*nl;

	if (from >= r->have || (nl = memchr(r->buf + from, '\n', r->have - from)) == NULL)
		return false;
	line->text = r->buf + (at - r->buf_off);
	line->len = (size_t)(nl - line->text);
	return true;
}

/*
 * Begin the buffer at `at`: what it holds from there is kept in sequential mode, and read
 * again otherwise. A buffer read through (at is past its start) grows towards a bulk read.
 */
static int
restart(struct log_lines *r, off_t at)
{
	bool	 onward = r->have > 0 && at > r->buf_off;
	size_t	 skip;

	if (r->sequential) {
		if (at < r->buf_off || at > r->buf_off + (off_t)r->have) {
			errno = EINVAL;
			return -1;
		}
		skip = (size_t)(at - r->buf_off);
		if (skip > 0)	/* not on a buffer not yet made: NULL + 0 (UBSan) */
			memmove(r->buf, r->buf + skip, r->have - skip);
		r->have -= skip;
	} else
		r->have = 0;
	r->buf_off = at;
	/* A larger buffer only saves reads: without one, reading goes on as it is. */
	if (onward && r->size < LINES_BULK)
		(void)grow_buffer(&r->buf, &r->size, r->size + 1, LINES_FIRST);
	return 0;
}

/* Room for a read: the buffer grows while the line in it has no end. */
static enum line_got
make_room(struct log_lines *r)
{
	if (r->have < r->size)
		return LINE_OK;
	if (r->have >= LOG_LINE_MAX)
		return LINE_TOO_LONG;
	if (grow_buffer(&r->buf, &r->size, r->have + 1, LINES_FIRST) == -1)
		return LINE_ERROR;
	return LINE_OK;
}

/* Read after what the buffer holds: bytes read, 0 at the end, -1. */
static ssize_t
read_more(struct log_lines *r)
{
	size_t	 room = r->size - r->have;
	off_t	 from = r->buf_off + (off_t)r->have;
	ssize_t	 n;

	if (r->end != -1 && from >= r->end)
		return 0;
	if (r->end != -1 && (off_t)room > r->end - from)
		room = (size_t)(r->end - from);
	do
		n = r->sequential ? read(r->fd, r->buf + r->have, room) :
		    pread(r->fd, r->buf + r->have, room, from);
	while (n == -1 && errno == EINTR);
	return n;
}

enum line_got
logformat_line(struct log_lines *r, off_t at, struct log_line *line)
{
	enum line_got	 got;
	size_t		 searched;
	ssize_t		 n;

	line->at = at;
	if (at >= r->buf_off && at < r->buf_off + (off_t)r->have &&
	    held(r, at, (size_t)(at - r->buf_off), line))
		return LINE_OK;
	if (restart(r, at) == -1)
		return LINE_ERROR;
	for (searched = r->have;; searched = r->have) {
		if ((got = make_room(r)) != LINE_OK)
			return got;
		if ((n = read_more(r)) == -1)
			return LINE_ERROR;
		if (n == 0) {
			line->text = r->buf;
			line->len = r->have;
			return LINE_END;
		}
		r->have += (size_t)n;
		if (held(r, at, searched, line))
			return LINE_OK;
	}
}

int
logformat_each_line(int fd, off_t from, off_t to, line_fn fn, void *arg, off_t *end)
{
	struct log_lines	 r;
	struct log_line		 line;
	enum line_got		 got;
	int			 rc = 0;

	logformat_lines_init(&r, fd, to, false);
	*end = from;
	while ((got = logformat_line(&r, *end, &line)) == LINE_OK) {
		if ((rc = fn(line.text, line.len, line.at, arg)) != 0)
			break;
		*end += (off_t)line.len + 1;
	}
	if (got == LINE_TOO_LONG)
		errno = EFBIG;
	if (got == LINE_TOO_LONG || got == LINE_ERROR)
		rc = -1;
	logformat_lines_free(&r);
	return rc;
}

/* --- the last line ------------------------------------------------------------------- */

/* The bytes [from, size) of the file into last->buf; -1 with errno (0: the file shrank). */
static int
read_tail(int fd, off_t from, off_t size, struct log_last *last)
{
	size_t	 len = (size_t)(size - from), done = 0;
	char	*buf;
	ssize_t	 n;

	if ((buf = realloc(last->buf, len > 0 ? len : 1)) == NULL)
		return -1;
	last->buf = buf;
	while (done < len) {
		if ((n = pread(fd, buf + done, len - done, from + (off_t)done)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * The last whole line in the window [from, size) read into last->buf: LINE_OK, or
 * LINE_END when the window must grow (or, at the file's start, holds no whole line).
 */
static enum line_got
last_in_window(struct log_last *last, off_t from, off_t size)
{
	size_t		 len = (size_t)(size - from);
	const char	*nl, *start;

	if ((nl = memrchr(last->buf, '\n', len)) == NULL) {
		last->torn = size - from;
		return len >= LOG_LINE_MAX ? LINE_TOO_LONG : LINE_END;
	}
	last->torn = size - (from + (off_t)(nl - last->buf) + 1);
	if ((start = memrchr(last->buf, '\n', (size_t)(nl - last->buf))) == NULL && from > 0)
		return (size_t)(nl - last->buf) >= LOG_LINE_MAX ? LINE_TOO_LONG : LINE_END;
	last->text = start != NULL ? start + 1 : last->buf;
	last->len = (size_t)(nl - last->text);
	return last->len >= LOG_LINE_MAX || last->torn >= (off_t)LOG_LINE_MAX ? LINE_TOO_LONG :
	    LINE_OK;
}

enum line_got
logformat_last_line(int fd, off_t size, struct log_last *last)
{
	enum line_got	 got;
	size_t		 window = TAIL_FIRST;
	off_t		 from;

	memset(last, 0, sizeof(*last));
	for (;;) {
		from = size > (off_t)window ? size - (off_t)window : 0;
		if (read_tail(fd, from, size, last) == -1)
			return LINE_ERROR;
		got = last_in_window(last, from, size);
		if (got != LINE_END || from == 0)
			return got;
		if (window >= TAIL_MAX)
			return LINE_TOO_LONG;
		window = window * 4 < TAIL_MAX ? window * 4 : TAIL_MAX;
	}
}
