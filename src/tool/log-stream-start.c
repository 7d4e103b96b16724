/* SPDX-License-Identifier: ISC */
/*
 * log-stream-start.c: where a stream begins (after a cursor's record, found by its file's
 * identity or else by seq; at a seq; at the start of the file at the path), and waiting
 * for the log to change.
 *
 * Waiting uses inotify on the log's directory: it reports new lines, renames and new
 * files at once and costs nothing while nothing happens. A one-second timeout backs it up
 * for what inotify does not see (NFS, an old file renamed into another directory), and
 * without inotify the files are polled every 250 ms.
 */
#include "autoconf.h"

#include <sys/inotify.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-stream-int.h"
#include "util.h"

#define WAIT_MS		1000
#define POLL_MS		250
#define WATCH_EVENTS	(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_FROM | \
			    IN_MOVED_TO | IN_DELETE)

/* --- where to begin ------------------------------------------------------------------ */

int
stream_open_path(struct stream *s)
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
	return stream_fail(s, EXIT_UNREADABLE);
}

/* Begin in the file that holds seq target: the latest whose first record is not after it. */
static int
locate(struct stream *s, uint64_t target)
{
	struct lfile	 found, oldest;

	if (stream_search(s, pick_holder, target, &found) == -1)
		return -1;
	if (found.fd != -1) {
		s->cur = found;
		s->cur.seeking = true;
		return 0;
	}
	if (stream_search(s, pick_oldest, 0, &oldest) == -1)
		return -1;
	if (oldest.fd == -1)
		return stream_open_path(s);	/* no record anywhere yet: wait for the first */
	msg("%s: seq %llu is in no file that can be read; the oldest record left is seq %llu, "
	    "in %s%s", s->path, (unsigned long long)target,
	    (unsigned long long)oldest.first_seq, oldest.name, stream_compressed_note(s));
	lfile_close(&oldest);
	return stream_fail(s, EXIT_DAMAGED);
}

static int
start_after(struct stream *s, const struct log_pos *after)
{
	int	 rc;

	s->have_last = s->have_hash = true;
	s->last_seq = after->seq;
	memcpy(s->last_hash, after->hash, SHA256_LEN);
	s->pos = *after;
	if ((rc = stream_open_identity(s, after->dev, after->ino, &s->cur)) == -1)
		return -1;
	if (rc == 1) {
		if ((rc = stream_pos_holds(s, &s->cur, after)) == -1)
			return -1;
		if (rc == 1) {
			s->cur.off = (off_t)after->end;
			return lfile_first_seq(s, &s->cur);
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
		return stream_open_path(s);
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

/* --- waiting ------------------------------------------------------------------------- */

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
		msg_errno("ppoll");
		return stream_fail(s, EX_OSERR);
	}
	return n > 0 ? drain_events(s) : 0;
}
