/* SPDX-License-Identifier: ISC */
/*
 * recovery.c: reading the log into the index, under the lock. The records after the head
 * (the last one indexed) are taken in, a torn tail is cut into <log>.torn, and damage
 * stops the appends. Rebuilding starts the index over, from the rotated files back to the
 * dedup window.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "dedup.h"
#include "eventlog-internal.h"
#include "eventlog.h"
#include "log-check.h"
#include "logfile.h"
#include "logformat.h"
#include "record.h"
#include "rotation.h"
#include "shm.h"
#include "util.h"

/* --- a scan: the lines taken in while they continue the chain ----------------------- */

/* What a scan of the log found after the index's head. */
struct scan {
	struct eventlog	*el;
	off_t		 bad_at;	/* -1, or where the first line that does not fit is */
	off_t		 bad_end;	/* and where it ends */
	char		 bad_why[160];	/* why (copied: the parser's reason is reused) */
	bool		 any_record;	/* for the damage check: a record seen */
	bool		 dedup_failed;
	bool		 open_start;	/* the first record may have any seq */
	bool		 bad_is_record;	/* the line at bad_at is a record out of chain */
	int64_t		 index_since;	/* older records are not indexed (dedup_window) */
	const char	*path;		/* the file being read, for messages */
	bool		 warn_jump;	/* false: a jump at open_start was already told */
};

static void
scan_start(struct scan *sc, struct eventlog *el, const char *path, bool open_start,
    int64_t index_since)
{
	memset(sc, 0, sizeof(*sc));
	sc->el = el;
	sc->bad_at = -1;
	sc->open_start = open_start;
	sc->warn_jump = true;
	sc->index_since = index_since;
	sc->path = path;
}

static int
stop_at(struct scan *sc, off_t at, size_t len, const char *why, bool record)
{
	sc->bad_at = at;
	sc->bad_end = at + (off_t)len + 1;
	snprintf(sc->bad_why, sizeof(sc->bad_why), "%s", why);
	sc->bad_is_record = record;
	return 1;
}

/*
 * The first record of a file read with open_start need not follow the head: the file
 * before it is not at hand (head.seq 0), or the chain has a gap between rotated files,
 * which idwise-log verify reports; the index just goes on from there.
 */
static void
start_anywhere(struct scan *sc, const struct record_view *view)
{
	struct log_head	*head = &sc->el->head;

	if (record_follows(view, head->seq, head->hash) == NULL)
		return;
	if (head->seq != 0 && sc->warn_jump)
		msg("%s: its first record (seq %llu) does not follow seq %llu of the file "
		    "before it; check the files with idwise-log verify", sc->path,
		    (unsigned long long)view->seq, (unsigned long long)head->seq);
	head->seq = view->seq - 1;
	if (hex_decode(view->prev, SHA256_HEX_LEN, head->hash) == -1)
		memset(head->hash, 0xff, sizeof(head->hash));
}

/* The record's id into the index, with its canonical body digest (dedup tells a conflict). */
static int
index_record(struct scan *sc, const struct record_view *view)
{
	unsigned char	 digest[SHA256_LEN];

	if (view->received_ms < sc->index_since)
		return 0;
	if (record_body_digest(view, digest) == -1 || dedup_add(sc->el->dedup, view->id,
	    view->id_len, digest, view->seq, view->received_ms) == -1) {
		sc->dedup_failed = true;
		return -1;
	}
	return 0;
}

/*
 * Does the record fit after the head? NULL, or why not, with *in_chain false for a line
 * that is only repeated or misplaced (the index only goes forward).
 */
static const char *
misfit(struct scan *sc, const struct record_view *view, bool *in_chain)
{
	struct log_head	*head = &sc->el->head;

	*in_chain = false;
	if (sc->open_start && head->seq != 0 && view->seq <= head->seq)
		return "seq goes back";
	if (sc->open_start)
		start_anywhere(sc, view);
	sc->open_start = false;
	*in_chain = true;
	return record_follows(view, head->seq, head->hash);
}

/* A record taken at a rebuild, ending at byte end of its file: tell the reindex's caller. */
static void
tell_progress(struct eventlog *el, off_t end)
{
	struct rebuild_progress	*p = &el->progress;

	if (p->to == NULL)
		return;
	p->records++;
	p->to->fn(p->to->arg, p->records, p->done + (uint64_t)end, p->total);
}

/* A line of the log, in order: take it into the index if it continues the chain. */
static int
take_line(const char *line, size_t len, off_t at, void *arg)
{
	struct scan		*sc = arg;
	struct eventlog		*el = sc->el;
	struct log_record	 rec;
	const char		*why;
	char			 reason[160];
	bool			 in_chain;
	int			 rc = 0;

	if (log_record_read(el->reader, line, len, &rec, reason, sizeof(reason)) == -1)
		return stop_at(sc, at, len, reason, false);
	if ((why = misfit(sc, &rec.view, &in_chain)) != NULL)
		rc = stop_at(sc, at, len, why, in_chain);
	else if (index_record(sc, &rec.view) == -1)
		rc = -1;
	else {
		el->head.seq = rec.view.seq;
		sha256(line, len + 1, el->head.hash);
		el->head.end = (uint64_t)at + len + 1;
		tell_progress(el, (off_t)el->head.end);
	}
	log_record_free(&rec);
	return rc;
}

/* --- where a scan stopped: a torn tail, or damage ----------------------------------- */

static bool
whole_record(struct eventlog *el, const char *line, size_t len)
{
	struct log_record	 rec;
	char			 why[160];

	if (log_record_read(el->reader, line, len, &rec, why, sizeof(why)) == -1)
		return false;
	log_record_free(&rec);
	return true;
}

/*
 * Is there any whole record after a line that did not fit? Then it is damage, not a
 * tear.
 */
static int
spot_record(const char *line, size_t len, off_t at, void *arg)
{
	struct scan	*sc = arg;

	(void)at;
	if (!whole_record(sc->el, line, len))
		return 0;
	sc->any_record = true;
	return 1;
}

/*
 * Under the lock: an fdatasync outside the group commit (a file about to be let go, a
 * torn tail just cut). A failure spoils later syncs just the same (commit.h).
 */
int
el_sync_file(struct eventlog *el, int fd, const char *path)
{
	if (fdatasync(fd) == 0)
		return 0;
	msg_errno("%s: fdatasync", path);
	commit_fail(shm_commit(el->locked));
	return -1;
}

/*
 * After a scan stopped at `at` (a line that is no record, or an unfinished last line):
 * cut the rest into the .torn file, unless it is a record out of the chain or whole
 * records follow, which means the log was damaged: then stop appending and say so.
 */
static int
handle_tail(struct eventlog *el, struct logfile *lf, struct scan *sc, off_t at, off_t size)
{
	off_t	 end;

	if (at >= size)
		return 0;
	if (sc->bad_is_record)
		sc->any_record = true;
	else if (sc->bad_at != -1 &&
	    logformat_each_line(lf->fd, at + 1, size, spot_record, sc, &end) == -1) {
		msg_errno("%s: read", lf->path);
		return -1;
	}
	if (sc->any_record) {
		msg("%s: damaged at byte %lld: %s; records follow it, so nothing is appended "
		    "until the log is repaired (check it with idwise-log verify)", lf->path,
		    (long long)at, sc->bad_why);
		return -1;
	}
	if (logfile_cut(lf, at, el->torn_path) == -1)
		return -1;
	return el_sync_file(el, lf->fd, lf->path);
}

/* --- the file the head is in -------------------------------------------------------- */

/*
 * Take in the records from `from` to the end of the open file lf, and cut a torn tail.
 * With open_start, the first record may start the chain anywhere (see start_anywhere()).
 */
int
el_roll_forward(struct eventlog *el, struct logfile *lf, off_t from, bool open_start,
    int64_t index_since)
{
	struct scan	 sc;
	off_t		 size, end;
	int		 rc;

	scan_start(&sc, el, lf->path, open_start, index_since);
	if ((size = logfile_size(lf)) == -1)
		return -1;
	rc = logformat_each_line(lf->fd, from, size, take_line, &sc, &end);
	if (sc.dedup_failed)
		return el_index_failed(el, "adding a record");
	if (rc == -1) {
		msg_errno("%s: read", lf->path);
		return -1;
	}
	return handle_tail(el, lf, &sc, sc.bad_at != -1 ? sc.bad_at : end, size);
}

/* --- rebuilding: the rotated files, then the log ------------------------------------ */

/*
 * A rotated file, read-only: index its records of the window. One older than the window
 * only gives the head, for the file after it to follow. Rotated files are not repaired: a
 * line that is no record is skipped and a break in the chain is reported, and the index
 * goes on past both, so that no stored id is forgotten.
 */
static int
take_rotated(struct eventlog *el, const struct log_ends *file, int64_t since)
{
	struct scan	 sc;
	struct stat	 st;
	off_t		 from = 0, end;
	int		 fd, rc;

	if (file->last_ms < since) {
		el->head.seq = file->last_seq;
		memcpy(el->head.hash, file->last_hash, SHA256_LEN);
		return 0;
	}
	if ((fd = open(file->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		msg_errno("%s", file->path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	scan_start(&sc, el, file->path, true, since);
	do {
		sc.bad_at = -1;
		rc = logformat_each_line(fd, from, st.st_size, take_line, &sc, &end);
		if (rc == -1 || sc.dedup_failed || sc.bad_at == -1)
			break;
		msg("%s: %s at byte %lld; check it with idwise-log verify", file->path,
		    sc.bad_why, (long long)sc.bad_at);
		/* A record out of chain is taken from there on; anything else is skipped. */
		from = sc.bad_is_record ? sc.bad_at : sc.bad_end;
		sc.open_start = true;
		sc.warn_jump = false;
	} while (from < st.st_size);
	close(fd);
	el->progress.done += (uint64_t)st.st_size;
	if (sc.dedup_failed)
		return el_index_failed(el, "adding a record");
	if (rc == -1)
		msg("%s: read error at byte %lld", file->path, (long long)end);
	return 0;
}

/* The bytes a rebuild reads, for its progress: the files of the window, and the log. */
static uint64_t
rebuild_size(struct eventlog *el, const struct log_ends *files, size_t n, int64_t since)
{
	struct stat	 st;
	uint64_t	 total = 0;
	off_t		 size;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (files[i].last_ms >= since && stat(files[i].path, &st) == 0)
			total += (uint64_t)st.st_size;
	if ((size = logfile_size(&el->log)) > 0)
		total += (uint64_t)size;
	return total;
}

/*
 * Start the index over: the rotated files that hold the chain back to the dedup window
 * (found by following the chain from the current file), then the whole current file.
 */
int
el_rebuild(struct eventlog *el)
{
	struct log_ends	 current, *files;
	int64_t		 since = realtime_ms() - el->dedup_window_ms;
	size_t		 n, i;
	bool		 have_current;
	int		 rc = 0;

	if (dedup_clear(el->dedup) == -1)
		return el_index_failed(el, "clearing");
	memset(&el->head, 0, sizeof(el->head));
	have_current = rotation_ends(el->log.path, &current) == 0;
	if (rotation_chain(el->log.path, have_current ? &current : NULL, since, &files,
	    &n) == -1) {
		msg_errno("%s: looking for rotated files", el->log.path);
		return -1;
	}
	if (!have_current && n == 0 && logformat_has_compressed(el->log.path)) {
		msg("%s: cannot find where the chain ends: the log has no record yet and the "
		    "rotated file before it is compressed; decompress the newest one (keep "
		    "delaycompress in the logrotate config) so that seq goes on, not from 1",
		    el->log.path);
		return -1;
	}
	if (el->progress.to != NULL)
		el->progress.total = rebuild_size(el, files, n, since);
	for (i = 0; rc == 0 && i < n; i++)
		rc = take_rotated(el, &files[i], since);
	rotation_free(files, n);
	if (rc == -1)
		return -1;
	el->head.dev = el->log.dev;
	el->head.ino = el->log.ino;
	el->head.end = 0;
	return el_roll_forward(el, &el->log, 0, true, since);
}
