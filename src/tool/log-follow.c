/* SPDX-License-Identifier: ISC */
/*
 * log-follow.c: idwise-log follow: print the records as they come, across rotations: the
 * line as stored, or an aligned line of text.
 *
 * A record is emitted when write(2) of its whole output returned. With a cursor and a
 * standard output that is a regular file, the file is synced before each save and the
 * cursor keeps the file's size: a follow killed between writing a record and saving the
 * cursor finds that record at the end of the file when it starts again, and does not write
 * it a second time (exactly once into a file). Into a pipe there is no way to know, and
 * that one record is written again (at least once).
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-consume.h"
#include "util.h"

enum { OPT_FORMAT = OPT_CONSUME_END };

#define FOLLOW_BATCH	256	/* records a stream hands out at once (--nats) */

struct follow {
	struct consumer	 c;		/* first: the loop hands this back */
	int		 (*format)(struct follow *, const struct stream_rec *);
	bool		 to_file;	/* standard output is a regular file */
	uint64_t	 out_dev;
	uint64_t	 out_ino;
	bool		 resume;	/* compare the file's tail with the first record */
	uint64_t	 resume_at;
	char		*buf;
	size_t		 size;
	size_t		 len;
};

/* --- formats: the stored line, or aligned text -------------------------------------- */

static int
room(struct follow *f, size_t need)
{
	return grow_buffer(&f->buf, &f->size, need, 4096);
}

static int
format_json(struct follow *f, const struct stream_rec *rec)
{
	if (room(f, rec->len + 1) == -1)
		return -1;
	memcpy(f->buf, rec->line, rec->len);
	f->buf[rec->len] = '\n';
	f->len = rec->len + 1;
	return 0;
}

/* A value for a column: "-" for none; control characters and blanks would break it. */
static char *
column(const struct stream_rec *rec, const char *member)
{
	const char	*value = record_string(&rec->view, member);
	char		*s, *p;

	if ((s = strdup(value == NULL || *value == '\0' ? "-" : value)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			*p = '?';
	return s;
}

/* received_at, seq, type, outcome, journey_id, reference_no, env: one aligned line. */
static const char *const text_members[] = {
	"received_at", "type", "outcome", "journey_id", "reference_no", "env"
};
#define NTEXT	nitems(text_members)

static int
format_text(struct follow *f, const struct stream_rec *rec)
{
	char	*v[NTEXT];
	size_t	 i, need = 64;
	int	 n = -1;

	for (i = 0; i < NTEXT; i++) {
		v[i] = column(rec, text_members[i]);
		need += v[i] != NULL ? strlen(v[i]) + 32 : 0;
	}
	for (i = 0; i < NTEXT && v[i] != NULL; i++)
		;
	if (i == NTEXT && room(f, need) == 0)
		n = snprintf(f->buf, f->size, "%-24s %8llu %-29s %-12s %-24s %-16s %s\n",
		    v[0], (unsigned long long)rec->view.seq, v[1], v[2], v[3], v[4], v[5]);
	for (i = 0; i < NTEXT; i++)
		free(v[i]);
	if (n < 0 || (size_t)n >= f->size)
		return -1;
	f->len = (size_t)n;
	return 0;
}

static const struct {
	const char	*name;
	int		 (*fn)(struct follow *, const struct stream_rec *);
} formats[] = {
	{ "json",	format_json },
	{ "text",	format_text },
};

static int
set_format(struct follow *f, const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(formats); i++) {
		if (strcmp(formats[i].name, name) == 0) {
			f->format = formats[i].fn;
			return 0;
		}
	}
	msg("--format: json or text, not %s", name);
	return -1;
}

/* --- the output file: what a run before left at its end ----------------------------- */

static size_t
common_prefix(const char *a, const char *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

static bool
all_zeros(const char *p, size_t n)
{
	return n > 0 && p[0] == '\0' && memcmp(p, p + 1, n - 1) == 0;
}

/*
 * How much of this output a run killed before its save left at the end of the file: all of
 * the n bytes there, or their start when zeros follow it (a power cut in the middle of
 * that write: its pages never reached the disk); the zeros are cut off. -1: not ours.
 */
static ssize_t
own_tail(struct follow *f, int fd, size_t n)
{
	char	*tail;
	ssize_t	 done = -1;
	size_t	 same;

	if ((tail = malloc(n)) == NULL)
		return -1;
	if (pread(fd, tail, n, (off_t)f->resume_at) == (ssize_t)n) {
		same = common_prefix(tail, f->buf, n);
		if (same == n)
			done = (ssize_t)n;
		else if (all_zeros(tail + same, n - same) &&
		    ftruncate(STDOUT_FILENO, (off_t)(f->resume_at + same)) == 0) {
			msg("stdout: cut %zu zero bytes a power loss left after the last record "
			    "written", n - same);
			done = (ssize_t)same;
		}
	}
	free(tail);
	return done;
}

/* How much of this output a run killed before its save left at the end of the file. */
static size_t
already_written(struct follow *f)
{
	struct stat	 st;
	ssize_t		 done = -1;
	size_t		 n;
	int		 fd;

	f->resume = false;
	if (fstat(STDOUT_FILENO, &st) == -1 || (uint64_t)st.st_size <= f->resume_at)
		return 0;
	n = (size_t)((uint64_t)st.st_size - f->resume_at);
	/* fd 1 may be write-only: read the same file through another descriptor. */
	fd = n <= f->len ? open("/proc/self/fd/1", O_RDONLY | O_CLOEXEC) : -1;
	if (fd != -1 && fstat(fd, &st) == 0 && (uint64_t)st.st_dev == f->out_dev &&
	    (uint64_t)st.st_ino == f->out_ino)
		done = own_tail(f, fd, n);
	if (fd != -1)
		close(fd);
	if (done == -1)
		msg("stdout: %zu bytes after where the cursor left the file were not written by "
		    "this follow; appending after them", n);
	return done == -1 ? 0 : (size_t)done;
}

/* --- the command -------------------------------------------------------------------- */

static enum act
follow_act(struct consumer *c, const struct stream_rec *rec)
{
	struct follow	*f = (struct follow *)c;
	size_t		 done = 0;

	if (f->format(f, rec) == -1) {
		msg("out of memory");
		c->status = EX_OSERR;
		return ACT_STOP;
	}
	if (f->resume)
		done = already_written(f);
	if (write_all(STDOUT_FILENO, f->buf + done, f->len - done) == -1) {
		msg_errno("stdout: write");
		c->status = EX_IOERR;
		return ACT_STOP;
	}
	return ACT_DONE;
}

static int
follow_start(struct consumer *c, const struct cursor *cursor)
{
	struct follow	*f = (struct follow *)c;
	struct stat	 st;

	if (fstat(STDOUT_FILENO, &st) == -1) {
		msg_errno("stdout: fstat");
		return EX_IOERR;
	}
	f->to_file = S_ISREG(st.st_mode);
	f->out_dev = (uint64_t)st.st_dev;
	f->out_ino = (uint64_t)st.st_ino;
	/* by inode: a device's number may change across a reboot */
	f->resume = cursor != NULL && f->to_file && cursor->out.ino != 0 &&
	    cursor->out.ino == f->out_ino && (uint64_t)st.st_size > cursor->out.size;
	f->resume_at = cursor != NULL ? cursor->out.size : 0;
	return 0;
}

/* The output file is on disk before the cursor says the record was emitted. */
static int
follow_before_save(struct consumer *c, struct out_pos *out)
{
	struct follow	*f = (struct follow *)c;
	struct stat	 st;

	if (!f->to_file)
		return 0;
	if (fdatasync(STDOUT_FILENO) == -1 || fstat(STDOUT_FILENO, &st) == -1) {
		msg_errno("stdout: fdatasync");
		return EX_IOERR;
	}
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	return 0;
}

/* --format json|text */
static int
follow_option(struct consumer *c, int ch, const char *arg)
{
	if (ch != OPT_FORMAT)
		return 0;
	return set_format((struct follow *)c, arg) == 0 ? 1 : -1;
}

/* LOG */
static int
follow_rest(struct consumer *c, struct consume_opts *o, int argc, char **argv)
{
	(void)c;
	if (o->nats.link.urls != NULL) {
		if (argc == 0)
			return 0;
		msg("with --nats, no LOG");
		return -1;
	}
	if (argc != 1) {
		msg("%s", argc == 0 ? "no LOG given" : "one LOG only");
		return -1;
	}
	o->log = argv[0];
	return 0;
}

static const struct option follow_options[] = {
	CONSUME_LONG_OPTIONS,
	JS_LINK_LONG_OPTIONS,
	{ "format",	required_argument,	NULL, OPT_FORMAT },
	{ NULL,		0,			NULL, 0 }
};

static const struct consume_args follow_args = { "", follow_options, follow_option,
	follow_rest };

int
cmd_follow(int argc, char **argv)
{
	struct follow	 f = {
		.c = {
			.start = follow_start,
			.act = follow_act,
			.before_save = follow_before_save,
			.batch = FOLLOW_BATCH,
		},
		.format = format_json,
	};
	int		 rc;

	rc = consume_command(argc, argv, &follow_args, &f.c);
	free(f.buf);
	return rc;
}
