/* SPDX-License-Identifier: ISC */
/*
 * log-stream-files.c: the files a stream reads: one file of the log opened and read line
 * by line, and the search among the file at the path and the rotated ones (logformat.h
 * says which) for the one that holds a seq, or comes next.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-stream-int.h"
#include "util.h"

#define WHY_LEN		160

/* --- a file of the log --------------------------------------------------------------- */

void
lfile_init(struct lfile *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->warned = -1;
}

void
lfile_close(struct lfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->name);
	logformat_lines_free(&f->lines);
	lfile_init(f);
}

int
lfile_open(struct lfile *f, const char *name, const char **why)
{
	struct stat	 st;
	int		 fd, saved = 0;

	lfile_init(f);
	if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		*why = strerror(saved = errno);
	else if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		saved = EINVAL;
	} else if ((f->name = strdup(name)) == NULL)
		*why = strerror(saved = errno);
	if (f->name == NULL) {
		close(fd);
		errno = saved;
		return -1;
	}
	f->fd = fd;
	f->dev = (uint64_t)st.st_dev;
	f->ino = (uint64_t)st.st_ino;
	logformat_lines_init(&f->lines, fd, -1, false);
	return 0;
}

bool
lfile_is_cur(const struct stream *s, uint64_t dev, uint64_t ino)
{
	return s->cur.fd != -1 && s->cur.dev == dev && s->cur.ino == ino;
}

unsigned long long
lfile_line_number(const struct lfile *f, off_t off)
{
	char			 buf[64 * 1024];
	unsigned long long	 line = 1;
	off_t			 at = 0;
	ssize_t			 n, i;

	while (at < off) {
		n = pread(f->fd, buf, (size_t)(off - at < (off_t)sizeof(buf) ? off - at :
		    (off_t)sizeof(buf)), at);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			line += buf[i] == '\n';
		at += n;
	}
	return line;
}

/* A read of path failed (call is ": read", or "" for its directory), or memory ran out. */
static int
io_failed(struct stream *s, const char *path, const char *call)
{
	if (errno == ENOMEM) {
		msg("out of memory");
		return stream_fail(s, EX_OSERR);
	}
	msg_errno("%s%s", path, call);
	return stream_fail(s, EXIT_UNREADABLE);
}

/* Nothing at f->off: is the file shorter than what was read of it? */
static int
check_size(struct stream *s, struct lfile *f)
{
	struct stat	 st;

	if (fstat(f->fd, &st) == -1) {
		msg_errno("%s: fstat", f->name);
		return stream_fail(s, EXIT_UNREADABLE);
	}
	if (st.st_size >= f->off)
		return 0;
	msg("%s: now %lld bytes, fewer than the %lld already read: truncated or rewritten in "
	    "place (copytruncate is not supported)", f->name, (long long)st.st_size,
	    (long long)f->off);
	return stream_fail(s, EXIT_DAMAGED);
}

/*
 * A line is handed out only once it is on disk: the writer syncs a record after other
 * processes can read it, and a record a consumer acted on must not be taken back by a
 * power cut (its seq would go to another record). One fdatasync covers all that the file
 * held when it was called. 1, or -1.
 */
static int
on_disk(struct stream *s, struct lfile *f, off_t end)
{
	struct stat	 st;

	if (end <= f->synced)
		return 1;
	if (fstat(f->fd, &st) == -1)
		return io_failed(s, f->name, ": fstat");
	if (fdatasync(f->fd) == -1)
		return io_failed(s, f->name, ": fdatasync");
	f->synced = st.st_size;
	return 1;
}

int
lfile_line(struct stream *s, struct lfile *f, const char **text, size_t *len)
{
	struct log_line	 line;

	switch (logformat_line(&f->lines, f->off, &line)) {
	case LINE_OK:
		*text = line.text;
		*len = line.len;
		return on_disk(s, f, f->off + (off_t)line.len + 1);
	case LINE_END:
		return line.len == 0 ? check_size(s, f) : 0;
	case LINE_TOO_LONG:
		msg("%s: line %llu: longer than %zu MiB", f->name,
		    lfile_line_number(f, f->off), LOG_LINE_MAX >> 20);
		return stream_fail(s, EXIT_DAMAGED);
	default:
		return io_failed(s, f->name, ": read");
	}
}

int
lfile_first_seq(struct stream *s, struct lfile *f)
{
	struct log_record	 rec;
	const char		*line;
	char			 why[WHY_LEN];
	size_t			 len;
	off_t			 was = f->off;
	int			 rc;

	f->off = 0;
	rc = lfile_line(s, f, &line, &len);
	f->off = was;
	if (rc != 1)
		return rc;
	if (log_record_read(s->reader, line, len, &rec, why, sizeof(why)) == 0) {
		f->first_seq = rec.view.seq;
		log_record_free(&rec);
	}
	return 0;
}

/* --- finding the file to read -------------------------------------------------------- */

bool
pick_successor(uint64_t seq, uint64_t best, uint64_t after)
{
	return seq > after && (best == 0 || seq < best);
}

bool
pick_holder(uint64_t seq, uint64_t best, uint64_t target)
{
	return seq <= target && seq > best;
}

bool
pick_oldest(uint64_t seq, uint64_t best, uint64_t unused)
{
	(void)unused;
	return best == 0 || seq < best;
}

const char *
stream_compressed_note(struct stream *s)
{
	s->note[0] = '\0';
	if (s->compressed[0] != '\0')
		snprintf(s->note, sizeof(s->note), " (compressed files cannot be read: %s)",
		    s->compressed);
	return s->note;
}

static void
note_compressed(struct stream *s, const char *name)
{
	size_t	 used = strlen(s->compressed);

	if (used + strlen(name) + 3 >= sizeof(s->compressed))
		return;
	snprintf(s->compressed + used, sizeof(s->compressed) - used, "%s%s",
	    used > 0 ? ", " : "", name);
}

/* What a search looks for, and the best file found so far. */
struct search {
	struct stream	*s;
	pick_fn		 pick;
	uint64_t	 key;
	struct lfile	*best;
};

/* Keep the file in q->best if it holds a record and q->pick prefers it. */
static int
consider(struct search *q, const char *name)
{
	struct stream	*s = q->s;
	struct lfile	 f;
	const char	*why;

	if (lfile_open(&f, name, &why) == -1)
		return 0;	/* gone meanwhile, or not ours to read */
	if (lfile_is_cur(s, f.dev, f.ino) || lfile_first_seq(s, &f) == -1 || f.first_seq == 0 ||
	    !q->pick(f.first_seq, q->best->first_seq, q->key)) {
		lfile_close(&f);
		return s->status != 0 ? -1 : 0;
	}
	lfile_close(q->best);
	*q->best = f;
	return 0;
}

static int
consider_sibling(const struct log_sibling *sib, void *arg)
{
	struct search	*q = arg;

	if (sib->kind == LOG_NAME_COMPRESSED) {
		note_compressed(q->s, sib->name);
		return 0;
	}
	return consider(q, sib->path);
}

int
stream_search(struct stream *s, pick_fn pick, uint64_t key, struct lfile *best)
{
	struct search	 q = { s, pick, key, best };

	lfile_init(best);
	s->compressed[0] = '\0';
	if (consider(&q, s->path) == -1)
		return -1;
	if (logformat_siblings(s->path, consider_sibling, &q) == 0)
		return 0;
	lfile_close(best);
	return s->status != 0 ? -1 : io_failed(s, s->dir, "");
}

static int
open_if_same(const char *name, uint64_t dev, uint64_t ino, struct lfile *f)
{
	const char	*why;

	if (lfile_open(f, name, &why) == -1)
		return 0;
	if (f->dev == dev && f->ino == ino)
		return 1;
	lfile_close(f);
	return 0;
}

int
stream_open_identity(struct stream *s, uint64_t dev, uint64_t ino, struct lfile *f)
{
	struct stat	 st;
	char		*name;
	int		 rc;

	lfile_init(f);
	if (stat(s->path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino &&
	    open_if_same(s->path, dev, ino, f) == 1)
		return 1;
	if ((rc = logformat_find_rotated(s->path, dev, ino, &name)) == -1)
		return io_failed(s, s->dir, "");
	if (rc == 0)
		return 0;
	rc = open_if_same(name, dev, ino, f);
	free(name);
	return rc;
}

int
stream_pos_holds(struct stream *s, const struct lfile *f, const struct log_pos *pos)
{
	unsigned char	 hash[SHA256_LEN];
	char		*buf, before = '\n';
	off_t		 start;
	bool		 same = false;

	if (pos->len == 0 || pos->len > LOG_LINE_MAX || pos->end < pos->len)
		return 0;
	start = (off_t)(pos->end - pos->len);
	if ((buf = malloc(pos->len)) == NULL) {
		msg("out of memory");
		return stream_fail(s, EX_OSERR);
	}
	if (pread(f->fd, buf, pos->len, start) == (ssize_t)pos->len &&
	    buf[pos->len - 1] == '\n' &&
	    (start == 0 || pread(f->fd, &before, 1, start - 1) == 1) && before == '\n') {
		sha256(buf, pos->len, hash);
		same = memcmp(hash, pos->hash, SHA256_LEN) == 0;
	}
	free(buf);
	return same;
}
