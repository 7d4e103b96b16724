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
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-stream-int.h"
#include "util.h"

#define WHY_LEN		160

enum place { PLACE_TAKE, PLACE_SKIP, PLACE_BAD };

/* --- checking records as they come --------------------------------------------------- */

/* Is the line a record? Then the bad line before it is damage. */
static int
spot_record(const char *line, size_t len, off_t at, void *arg)
{
	struct stream		*s = arg;
	struct log_record	 rec;
	char			 why[WHY_LEN];

	(void)at;
	if (log_record_read(s->reader, line, len, &rec, why, sizeof(why)) == -1)
		return 0;
	log_record_free(&rec);
	return 1;
}

/*
 * A line that is no record. Whole records after it mean damage. Otherwise it is a torn
 * tail, which the next append cuts off: wait for that, saying so once.
 */
static int
bad_line(struct stream *s, struct lfile *f, size_t len, const char *why)
{
	struct stat	 st;
	off_t		 end;
	int		 rc;

	if (fstat(f->fd, &st) == -1) {
		msg_errno("%s: fstat", f->name);
		return stream_fail(s, EXIT_UNREADABLE);
	}
	rc = logformat_each_line(f->fd, f->off + (off_t)len + 1, st.st_size, spot_record, s,
	    &end);
	if (rc == -1) {
		msg_errno("%s: read", f->name);
		return stream_fail(s, EXIT_UNREADABLE);
	}
	if (rc == 1) {
		msg("%s: line %llu: not a record (%s), and records follow it: the log is damaged; "
		    "check it with idwise-log verify", f->name, lfile_line_number(f, f->off), why);
		return stream_fail(s, EXIT_DAMAGED);
	}
	if (f->warned != f->off)
		msg("%s: line %llu: not a whole record (%s); waiting for the next append to cut it",
		    f->name, lfile_line_number(f, f->off), why);
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
		    "idwise-log verify", f->name, lfile_line_number(f, f->off),
		    (unsigned long long)r->view.seq, why, (unsigned long long)s->last_seq);
		stream_fail(s, EXIT_DAMAGED);
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
	struct log_record	 rec;
	char			 why[WHY_LEN];
	int			 rc;

	for (;;) {
		if ((rc = lfile_line(s, f, &r->line, &r->len)) != 1)
			return rc;
		if (log_record_read(s->reader, r->line, r->len, &rec, why, sizeof(why)) == -1)
			return bad_line(s, f, r->len, why);
		r->view = rec.view;
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

/* --- going on in the next file ------------------------------------------------------- */

/* 1 with *f open on the file at the path, when it is another file and holds a record. */
static int
path_record(struct stream *s, struct lfile *f)
{
	const char	*why;

	if (lfile_open(f, s->path, &why) == -1)
		return 0;
	if (lfile_is_cur(s, f->dev, f->ino) || lfile_first_seq(s, f) == -1 || f->first_seq == 0) {
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
	if (stat(s->path, &st) == 0 && lfile_is_cur(s, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
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
		return stream_fail(s, EXIT_DAMAGED);
	}
	/* Not the next seq at the path (or nothing there): look at the rotated files too. */
	lfile_close(next);
	if (stream_search(s, pick_successor, s->cur.first_seq != 0 ? s->cur.first_seq : s->last_seq,
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
		    stream_compressed_note(s));
		lfile_close(next);
		return stream_fail(s, EXIT_DAMAGED);
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
		if (s->cur.fd == -1 && (stream_open_path(s) == -1 || s->cur.fd == -1))
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

/* --- the rest ------------------------------------------------------------------------ */

int
stream_fail(struct stream *s, int status)
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
	struct log_reader	*reader;
	struct stream		*s;
	size_t			 len = strlen(path) + 1;

	if ((reader = log_reader_new()) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s) + 2 * len)) == NULL) {
		log_reader_free(reader);
		return NULL;
	}
	s->reader = reader;
	lfile_init(&s->cur);
	s->ifd = -1;
	memcpy(s->names, path, len);
	memcpy(s->names + len, path, len);
	s->path = s->names;
	s->dir = dirname(s->names + len);
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
	log_reader_free(s->reader);
	free(s);
}
