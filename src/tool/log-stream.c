/* SPDX-License-Identifier: ISC */
/*
 * log-stream.c: the records of the event log in seq order, as they come, across rotations.
 *
 * The log is rotated by renaming it (logrotate's create and nocreate modes). Writers go on
 * in a new file at the path on their next append, but one that looked at the path just
 * before the rename still puts one record in the old file after it. So the old file is
 * read to its end for as long as no later file holds a record. Once one does, the old file
 * is final: writers append one at a time under one lock, each after looking at the path,
 * so the writer of that later record, and every writer after it, saw the rename, and the
 * late record (which has a smaller seq) was written before. The old file is read to its
 * end once more, and reading goes on in the file that holds the next seq. seq and prev are
 * checked on every record, so a record skipped or read twice stops the stream with an
 * error instead of passing silently.
 *
 * Waiting uses inotify on the log's directory: it reports new lines, renames and new
 * files at once and costs nothing while nothing happens. A one-second timeout backs it up
 * for what inotify does not see (NFS, an old file renamed into another directory), and
 * without inotify the files are polled every 250 ms.
 */
#include "autoconf.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-stream.h"
#include "logfile.h"
#include "util.h"

#define READ_MIN	(64 * 1024)
#define LINE_LIMIT	((size_t)128 * 1024 * 1024)
#define WAIT_MS		1000
#define POLL_MS		250
#define NOTE_MAX	256
#define WATCH_EVENTS	(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_FROM | \
			    IN_MOVED_TO | IN_DELETE)

struct lfile {
	int		 fd;		/* -1: none */
	uint64_t	 dev;
	uint64_t	 ino;
	char		*name;		/* as opened, for messages */
	off_t		 off;		/* where the next line starts */
	uint64_t	 first_seq;	/* of its first record; 0: none seen */
	bool		 seeking;	/* records up to last_seq are passed over */
	off_t		 warned;	/* a bad last line already reported, or -1 */
	char		*buf;		/* bytes [buf_off, buf_off + have) of the file */
	size_t		 size;
	size_t		 have;
	off_t		 buf_off;
};

struct stream {
	char			*path;
	char			*dir;
	char			*base;
	struct lfile		 cur;
	bool			 have_last;	/* the seq before the next record is known */
	bool			 have_hash;	/* and the hash of its line */
	uint64_t		 last_seq;
	unsigned char		 last_hash[SHA256_LEN];
	struct log_pos		 pos;
	bool			 peeked;
	struct stream_rec	 peek;
	bool			 wait_for_log;
	bool			 said_missing;
	int			 ifd;		/* inotify, or -1: polling */
	int			 status;
	char			 compressed[NOTE_MAX];	/* names seen by the last search */
	char			 note[NOTE_MAX + 64];
};

/* Rotated names that are the writer's own files or cannot be read. */
static const char *const writer_suffixes[] = { ".shm", ".idx", ".idx-lock", ".torn", NULL };
static const char *const compressed_suffixes[] = {
	".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".lzo", ".Z", ".br", NULL
};

enum sibling { NOT_OURS, ROTATED, COMPRESSED };
enum place { PLACE_TAKE, PLACE_SKIP, PLACE_BAD };

/* Does a file whose first record has seq `seq` beat the best so far (0: none)? */
typedef bool	(*pick_fn)(uint64_t seq, uint64_t best, uint64_t key);

static int	fail(struct stream *, int);

static void
lfile_init(struct lfile *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->warned = -1;
}

static void
lfile_close(struct lfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->name);
	free(f->buf);
	lfile_init(f);
}

/* 0, or -1 with errno and *why. */
static int
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
	return 0;
}

static bool
is_cur(const struct stream *s, uint64_t dev, uint64_t ino)
{
	return s->cur.fd != -1 && s->cur.dev == dev && s->cur.ino == ino;
}

/* The line number of the line at off, for messages. */
static unsigned long long
line_number(const struct lfile *f, off_t off)
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

/* " (compressed files cannot be read: ...)" when the last search saw some. */
static const char *
compressed_note(struct stream *s)
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

/* --- reading lines ------------------------------------------------------------------ */

static int
grow(struct stream *s, struct lfile *f)
{
	size_t	 size = f->size == 0 ? READ_MIN : f->size * 2;
	char	*buf;

	if (size > LINE_LIMIT) {
		msg("%s: line %llu: longer than %zu MiB", f->name, line_number(f, f->off),
		    LINE_LIMIT >> 20);
		return fail(s, EXIT_DAMAGED);
	}
	if ((buf = realloc(f->buf, size)) == NULL) {
		msg("out of memory");
		return fail(s, EX_OSERR);
	}
	f->buf = buf;
	f->size = size;
	return 0;
}

/* Nothing at f->off: is the file shorter than what was read of it? */
static int
check_size(struct stream *s, struct lfile *f)
{
	struct stat	 st;

	if (fstat(f->fd, &st) == -1) {
		msg("%s: fstat: %s", f->name, strerror(errno));
		return fail(s, EXIT_UNREADABLE);
	}
	if (st.st_size >= f->off)
		return 0;
	msg("%s: now %lld bytes, fewer than the %lld already read: truncated or rewritten in "
	    "place (copytruncate is not supported)", f->name, (long long)st.st_size,
	    (long long)f->off);
	return fail(s, EXIT_DAMAGED);
}

/*
 * What was read is made durable before any of it is handed out: the writer syncs a
 * record only after other processes can read it, and a record a consumer acted on must
 * not be taken back by a power cut (its seq would go to another record).
 */
static int
sync_read(struct stream *s, struct lfile *f)
{
	if (fdatasync(f->fd) == 0)
		return 0;
	msg("%s: fdatasync: %s", f->name, strerror(errno));
	return fail(s, EXIT_UNREADABLE);
}

/* Read from f->off until the buffer holds a '\n' or the end of the file; made durable. */
static int
fill(struct stream *s, struct lfile *f)
{
	ssize_t	 n;

	f->buf_off = f->off;
	f->have = 0;
	for (;;) {
		if (f->have == f->size && grow(s, f) == -1)
			return -1;
		n = pread(f->fd, f->buf + f->have, f->size - f->have, f->off + (off_t)f->have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg("%s: read: %s", f->name, strerror(errno));
			return fail(s, EXIT_UNREADABLE);
		}
		if (n == 0)
			return f->have == 0 ? check_size(s, f) : sync_read(s, f);
		f->have += (size_t)n;
		if (memchr(f->buf + f->have - (size_t)n, '\n', (size_t)n) != NULL)
			return sync_read(s, f);
	}
}

/* 1 with the line at f->off (without its '\n'), 0 when no whole line is there yet, -1. */
static int
read_line(struct stream *s, struct lfile *f, const char **line, size_t *len)
{
	const char	*start, *nl;
	size_t		 at;
	int		 pass;

	for (pass = 0; pass < 2; pass++) {
		if (f->off >= f->buf_off && f->off < f->buf_off + (off_t)f->have) {
			at = (size_t)(f->off - f->buf_off);
			start = f->buf + at;
			if ((nl = memchr(start, '\n', f->have - at)) != NULL) {
				*line = start;
				*len = (size_t)(nl - start);
				return 1;
			}
		}
		if (pass == 0 && fill(s, f) == -1)
			return -1;
	}
	return 0;
}

/* Sets f->first_seq (0 when its first line is not a record, or not there yet). */
static int
read_first_seq(struct stream *s, struct lfile *f)
{
	struct record_view	 view;
	const char		*line, *why;
	size_t			 len;
	off_t			 was = f->off;
	int			 rc;

	f->off = 0;
	rc = read_line(s, f, &line, &len);
	f->off = was;
	if (rc != 1)
		return rc;
	if (record_parse(line, len, &view, &why) == 0) {
		f->first_seq = view.seq;
		record_view_free(&view);
	}
	return 0;
}

/* --- checking records as they come -------------------------------------------------- */

static int
spot_record(const char *line, size_t len, off_t at, void *arg)
{
	struct record_view	 view;
	const char		*why;

	(void)at;
	(void)arg;
	if (record_parse(line, len, &view, &why) == -1)
		return 0;
	record_view_free(&view);
	return 1;
}

/*
 * A line that is no record. Whole records after it mean damage. Otherwise it is a torn
 * tail, which the next append cuts off (SPEC §4): wait for that, saying so once.
 */
static int
bad_line(struct stream *s, struct lfile *f, size_t len, const char *why)
{
	struct stat	 st;
	off_t		 end;
	int		 rc;

	if (fstat(f->fd, &st) == -1) {
		msg("%s: fstat: %s", f->name, strerror(errno));
		return fail(s, EXIT_UNREADABLE);
	}
	rc = logfile_lines(f->fd, f->off + (off_t)len + 1, st.st_size, spot_record, NULL, &end);
	if (rc == -1) {
		msg("%s: read: %s", f->name, strerror(errno));
		return fail(s, EXIT_UNREADABLE);
	}
	if (rc == 1) {
		msg("%s: line %llu: not a record (%s), and records follow it: the log is damaged; "
		    "check it with idwise-log verify", f->name, line_number(f, f->off), why);
		return fail(s, EXIT_DAMAGED);
	}
	if (f->warned != f->off)
		msg("%s: line %llu: not a whole record (%s); waiting for the next append to cut it",
		    f->name, line_number(f, f->off), why);
	f->warned = f->off;
	return 0;
}

/* Is the record the one after the last one taken? Records before it are passed over. */
static enum place
place(struct stream *s, struct lfile *f, const struct stream_rec *r)
{
	unsigned char	 hash[SHA256_LEN];
	const char	*why = NULL;

	if (!s->have_last)
		return PLACE_TAKE;
	if (r->view.seq <= s->last_seq && f->seeking) {
		if (r->view.seq != s->last_seq || !s->have_hash)
			return PLACE_SKIP;
		sha256(r->line, r->len + 1, hash);
		if (memcmp(hash, s->last_hash, SHA256_LEN) == 0)
			return PLACE_SKIP;
		why = "not the record the cursor was saved after: the log was replaced or edited";
	} else if (s->have_hash)
		why = record_follows(&r->view, s->last_seq, s->last_hash);
	else if (r->view.seq != s->last_seq + 1)
		why = "seq does not follow the previous record's";
	if (why != NULL) {
		msg("%s: line %llu: seq %llu: %s (seq %llu came before); check the log with "
		    "idwise-log verify", f->name, line_number(f, f->off),
		    (unsigned long long)r->view.seq, why, (unsigned long long)s->last_seq);
		fail(s, EXIT_DAMAGED);
		return PLACE_BAD;
	}
	f->seeking = false;
	return PLACE_TAKE;
}

/* 1 with s->peek, the next record of f; 0 when f holds none now; -1. */
static int
next_record(struct stream *s, struct lfile *f)
{
	struct stream_rec	*r = &s->peek;
	const char		*why;
	int			 rc;

	for (;;) {
		if ((rc = read_line(s, f, &r->line, &r->len)) != 1)
			return rc;
		if (record_parse(r->line, r->len, &r->view, &why) == -1)
			return bad_line(s, f, r->len, why);
		if (f->off == 0)
			f->first_seq = r->view.seq;
		switch (place(s, f, r)) {
		case PLACE_TAKE:
			s->peeked = true;
			return 1;
		case PLACE_SKIP:
			record_view_free(&r->view);
			f->off += (off_t)r->len + 1;
			break;
		default:
			record_view_free(&r->view);
			return -1;
		}
	}
}

/* --- the files of the log ------------------------------------------------------------ */

static bool
has_suffix(const char *name, const char *suffix)
{
	size_t	 n = strlen(name), m = strlen(suffix);

	return n >= m && strcmp(name + n - m, suffix) == 0;
}

/* Could this entry of the log's directory be a rotated log (events.jsonl.1, -20261125)? */
static enum sibling
sibling_kind(const struct stream *s, const char *name)
{
	size_t	 n = strlen(s->base), i;

	if (strncmp(name, s->base, n) != 0 || (name[n] != '.' && name[n] != '-'))
		return NOT_OURS;
	for (i = 0; writer_suffixes[i] != NULL; i++)
		if (strcmp(name + n, writer_suffixes[i]) == 0)
			return NOT_OURS;
	for (i = 0; compressed_suffixes[i] != NULL; i++)
		if (has_suffix(name, compressed_suffixes[i]))
			return COMPRESSED;
	return ROTATED;
}

static bool
pick_successor(uint64_t seq, uint64_t best, uint64_t after)
{
	return seq > after && (best == 0 || seq < best);
}

static bool
pick_holder(uint64_t seq, uint64_t best, uint64_t target)
{
	return seq <= target && seq > best;
}

static bool
pick_oldest(uint64_t seq, uint64_t best, uint64_t unused)
{
	(void)unused;
	return best == 0 || seq < best;
}

/* Keep the file in *best if it holds a record and pick prefers it. */
static int
consider(struct stream *s, const char *name, struct lfile *best, pick_fn pick, uint64_t key)
{
	struct lfile	 f;
	const char	*why;

	if (lfile_open(&f, name, &why) == -1)
		return 0;	/* gone meanwhile, or not ours to read */
	if (is_cur(s, f.dev, f.ino) || read_first_seq(s, &f) == -1 || f.first_seq == 0 ||
	    !pick(f.first_seq, best->first_seq, key)) {
		lfile_close(&f);
		return s->status != 0 ? -1 : 0;
	}
	lfile_close(best);
	*best = f;
	return 0;
}

/* Search the file at the path and the rotated files next to it, except the one being read. */
static int
search(struct stream *s, pick_fn pick, uint64_t key, struct lfile *best)
{
	struct dirent	*e;
	DIR		*d;
	char		*name;
	int		 rc;

	lfile_init(best);
	s->compressed[0] = '\0';
	if ((rc = consider(s, s->path, best, pick, key)) == -1)
		return -1;
	if ((d = opendir(s->dir)) == NULL) {
		msg("%s: opendir: %s", s->dir, strerror(errno));
		return fail(s, EXIT_UNREADABLE);
	}
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		switch (sibling_kind(s, e->d_name)) {
		case ROTATED:
			if (asprintf(&name, "%s/%s", s->dir, e->d_name) == -1) {
				msg("out of memory");
				rc = fail(s, EX_OSERR);
				break;
			}
			rc = consider(s, name, best, pick, key);
			free(name);
			break;
		case COMPRESSED:
			note_compressed(s, e->d_name);
			break;
		default:
			break;
		}
	}
	if (rc == 0 && errno != 0) {
		msg("%s: readdir: %s", s->dir, strerror(errno));
		rc = fail(s, EXIT_UNREADABLE);
	}
	closedir(d);
	if (rc == -1)
		lfile_close(best);
	return rc;
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

/* 1 with f open on the file with that identity: the one at the path or a rotated one. */
static int
open_identity(struct stream *s, uint64_t dev, uint64_t ino, struct lfile *f)
{
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;
	char		*name;
	int		 found = 0;

	lfile_init(f);
	if (stat(s->path, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino &&
	    open_if_same(s->path, dev, ino, f) == 1)
		return 1;
	if ((d = opendir(s->dir)) == NULL) {
		msg("%s: opendir: %s", s->dir, strerror(errno));
		return fail(s, EXIT_UNREADABLE);
	}
	while (found == 0 && (e = readdir(d)) != NULL) {
		if (sibling_kind(s, e->d_name) != ROTATED ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino)
			continue;
		if (asprintf(&name, "%s/%s", s->dir, e->d_name) == -1) {
			msg("out of memory");
			found = fail(s, EX_OSERR);
			break;
		}
		found = open_if_same(name, dev, ino, f);
		free(name);
	}
	closedir(d);
	return found;
}

/* Does the line ending at pos->end hash to pos->hash (not a reused inode number)? */
static int
pos_holds(struct stream *s, const struct lfile *f, const struct log_pos *pos)
{
	unsigned char	 hash[SHA256_LEN];
	char		*buf, before = '\n';
	off_t		 start;
	bool		 same = false;

	if (pos->len == 0 || pos->len > LINE_LIMIT || pos->end < pos->len)
		return 0;
	start = (off_t)(pos->end - pos->len);
	if ((buf = malloc(pos->len)) == NULL) {
		msg("out of memory");
		return fail(s, EX_OSERR);
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

/* --- where to begin ------------------------------------------------------------------ */

static int
open_path(struct stream *s)
{
	const char	*why;

	if (lfile_open(&s->cur, s->path, &why) == 0) {
		s->cur.seeking = s->have_last;
		return 0;
	}
	if (errno == ENOENT && s->wait_for_log) {
		if (!s->said_missing)
			msg("%s: not there yet; waiting for it", s->path);
		s->said_missing = true;
		return 0;
	}
	msg("%s: %s", s->path, why);
	return fail(s, EXIT_UNREADABLE);
}

/* Begin in the file that holds seq target: the latest whose first record is not after it. */
static int
locate(struct stream *s, uint64_t target)
{
	struct lfile	 found, oldest;

	if (search(s, pick_holder, target, &found) == -1)
		return -1;
	if (found.fd != -1) {
		s->cur = found;
		s->cur.seeking = true;
		return 0;
	}
	if (search(s, pick_oldest, 0, &oldest) == -1)
		return -1;
	if (oldest.fd == -1)
		return open_path(s);	/* no record anywhere yet: wait for the first */
	msg("%s: seq %llu is in no file that can be read; the oldest record left is seq %llu, "
	    "in %s%s", s->path, (unsigned long long)target,
	    (unsigned long long)oldest.first_seq, oldest.name, compressed_note(s));
	lfile_close(&oldest);
	return fail(s, EXIT_DAMAGED);
}

static int
start_after(struct stream *s, const struct log_pos *after)
{
	int	 rc;

	s->have_last = s->have_hash = true;
	s->last_seq = after->seq;
	memcpy(s->last_hash, after->hash, SHA256_LEN);
	s->pos = *after;
	if ((rc = open_identity(s, after->dev, after->ino, &s->cur)) == -1)
		return -1;
	if (rc == 1) {
		if ((rc = pos_holds(s, &s->cur, after)) == -1)
			return -1;
		if (rc == 1) {
			s->cur.off = (off_t)after->end;
			return read_first_seq(s, &s->cur);
		}
		lfile_close(&s->cur);
	}
	return locate(s, after->seq + 1);
}

/* Set up before the first read, so that nothing written after that read goes unnoticed. */
static void
watch_start(struct stream *s)
{
	if ((s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		msg("inotify: %s; polling every %d ms instead", strerror(errno), POLL_MS);
	else if (inotify_add_watch(s->ifd, s->dir, WATCH_EVENTS) == -1) {
		msg("%s: inotify_add_watch: %s; polling every %d ms instead", s->dir,
		    strerror(errno), POLL_MS);
		close(s->ifd);
		s->ifd = -1;
	}
}

static int
start_at(struct stream *s, const struct log_pos *after, uint64_t from_seq)
{
	if (after != NULL && after->seq > 0)
		return start_after(s, after);
	if (from_seq == 0)
		return open_path(s);
	s->have_last = true;
	s->last_seq = from_seq - 1;
	s->have_hash = from_seq == 1;	/* seq 1's prev is the hash of nothing: all zeros */
	return locate(s, from_seq);
}

int
stream_start(struct stream *s, const struct log_pos *after, uint64_t from_seq, bool wait)
{
	s->wait_for_log = wait;
	if (start_at(s, after, from_seq) == -1)
		return -1;
	if (wait)
		watch_start(s);
	return 0;
}

/* --- going on in the next file ------------------------------------------------------- */

/* 1 with *f open on the file at the path, when it is another file and holds a record. */
static int
path_record(struct stream *s, struct lfile *f)
{
	const char	*why;

	if (lfile_open(f, s->path, &why) == -1)
		return 0;
	if (is_cur(s, f->dev, f->ino) || read_first_seq(s, f) == -1 || f->first_seq == 0) {
		lfile_close(f);
		return s->status != 0 ? -1 : 0;
	}
	return 1;
}

/* 1 with *next open on the file after the one being read, once one holds a record. */
static int
successor(struct stream *s, struct lfile *next)
{
	struct stat	 st;
	int		 rc;

	lfile_init(next);
	if (stat(s->path, &st) == 0 && is_cur(s, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
		return 0;
	if ((rc = path_record(s, next)) == -1 || !s->have_last)
		return rc;
	if (rc == 1 && next->first_seq == s->last_seq + 1)
		return 1;
	if (rc == 1 && s->cur.first_seq != 0 && next->first_seq <= s->cur.first_seq) {
		msg("%s: the file now at the path starts at seq %llu, before the file being read "
		    "(seq %llu): the log was started over; move the cursor away to start again",
		    s->path, (unsigned long long)next->first_seq,
		    (unsigned long long)s->cur.first_seq);
		lfile_close(next);
		return fail(s, EXIT_DAMAGED);
	}
	/* Not the next seq at the path (or nothing there): look at the rotated files too. */
	lfile_close(next);
	if (search(s, pick_successor, s->cur.first_seq != 0 ? s->cur.first_seq : s->last_seq,
	    next) == -1)
		return -1;
	return next->fd != -1;
}

static int
switch_to(struct stream *s, struct lfile *next)
{
	char	 missing[64];

	if (s->have_last && next->first_seq > s->last_seq + 1) {
		if (next->first_seq == s->last_seq + 2)
			snprintf(missing, sizeof(missing), "seq %llu is",
			    (unsigned long long)s->last_seq + 1);
		else
			snprintf(missing, sizeof(missing), "seq %llu to %llu are",
			    (unsigned long long)s->last_seq + 1,
			    (unsigned long long)next->first_seq - 1);
		msg("%s: %s in no file that can be read (the next one, %s, starts at seq %llu)%s",
		    s->path, missing, next->name, (unsigned long long)next->first_seq,
		    compressed_note(s));
		lfile_close(next);
		return fail(s, EXIT_DAMAGED);
	}
	lfile_close(&s->cur);
	s->cur = *next;
	s->cur.off = 0;
	s->cur.seeking = s->have_last && s->cur.first_seq <= s->last_seq;
	return 0;
}

int
stream_next(struct stream *s, struct stream_rec **rec)
{
	struct lfile	 next;
	int		 rc;

	*rec = &s->peek;
	if (s->peeked)
		return 1;
	for (;;) {
		if (s->cur.fd == -1 && (open_path(s) == -1 || s->cur.fd == -1))
			return s->status != 0 ? -1 : 0;
		if ((rc = next_record(s, &s->cur)) != 0)
			return rc;
		if ((rc = successor(s, &next)) != 1)
			return rc;
		/* A later file holds a record, so nothing more comes to this one: drain it. */
		if ((rc = next_record(s, &s->cur)) != 0) {
			lfile_close(&next);
			return rc;
		}
		if (switch_to(s, &next) == -1)
			return -1;
	}
}

void
stream_take(struct stream *s)
{
	struct stream_rec	*r = &s->peek;

	if (!s->peeked)
		return;
	s->last_seq = r->view.seq;
	sha256(r->line, r->len + 1, s->last_hash);
	s->have_last = s->have_hash = true;
	s->cur.off += (off_t)r->len + 1;
	s->pos.seq = s->last_seq;
	s->pos.dev = s->cur.dev;
	s->pos.ino = s->cur.ino;
	s->pos.end = (uint64_t)s->cur.off;
	s->pos.len = r->len + 1;
	memcpy(s->pos.hash, s->last_hash, SHA256_LEN);
	record_view_free(&r->view);
	s->peeked = false;
}

const struct log_pos *
stream_pos(const struct stream *s)
{
	return &s->pos;
}

/* --- waiting -------------------------------------------------------------------------- */

static int
drain_events(struct stream *s)
{
	char	 buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t	 n;

	for (;;) {
		n = read(s->ifd, buf, sizeof(buf));
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == -1 && errno != EAGAIN) {
			msg("inotify: read: %s; polling every %d ms instead", strerror(errno),
			    POLL_MS);
			close(s->ifd);
			s->ifd = -1;
		}
		return 0;
	}
}

int
stream_wait(struct stream *s, const sigset_t *mask)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	int		 ms = s->ifd != -1 ? WAIT_MS : POLL_MS, n;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	pfd.fd = s->ifd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if ((n = ppoll(&pfd, 1, &ts, mask)) == -1 && errno != EINTR) {
		msg("ppoll: %s", strerror(errno));
		return fail(s, EX_OSERR);
	}
	return n > 0 ? drain_events(s) : 0;
}

/* --- the rest ------------------------------------------------------------------------ */

static int
fail(struct stream *s, int status)
{
	s->status = status;
	return -1;
}

int
stream_status(const struct stream *s)
{
	return s->status != 0 ? s->status : EX_SOFTWARE;
}

struct stream *
stream_new(const char *path)
{
	struct stream	*s;
	char		*a = NULL, *b = NULL;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	lfile_init(&s->cur);
	s->ifd = -1;
	if ((s->path = strdup(path)) == NULL || (a = strdup(path)) == NULL ||
	    (b = strdup(path)) == NULL || (s->dir = strdup(dirname(a))) == NULL ||
	    (s->base = strdup(basename(b))) == NULL) {
		free(a);
		free(b);
		stream_free(s);
		return NULL;
	}
	free(a);
	free(b);
	return s;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->peeked)
		record_view_free(&s->peek.view);
	lfile_close(&s->cur);
	if (s->ifd != -1)
		close(s->ifd);
	free(s->path);
	free(s->dir);
	free(s->base);
	free(s);
}
