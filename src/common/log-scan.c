/* SPDX-License-Identifier: ISC */
/* log-scan.c: the log's lines, file after file, in large reads. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log-scan.h"
#include "util.h"

#define SCAN_CHUNK	((size_t)1024 * 1024)

struct reader {
	char	*buf;
	size_t	 size;
	size_t	 have;		/* bytes in buf, the start of a line at buf[0] */
};

static int
open_all(char *const files[], int nfiles, int *fds, struct scan_at *at)
{
	int	 i;

	for (i = 0; i < nfiles; i++) {
		if ((fds[i] = open(files[i], O_RDONLY | O_CLOEXEC)) == -1) {
			msg("%s: %s", files[i], strerror(errno));
			at->file = files[i];
			return -1;
		}
	}
	return 0;
}

static void
close_all(char *const files[], int *fds, int nfiles)
{
	int	 i;

	for (i = 0; i < nfiles; i++)
		if (fds[i] != -1 && close(fds[i]) == -1)
			msg("%s: close: %s", files[i], strerror(errno));
}

/* Room for at least one more chunk; -1 when the line in hand is too long. */
static int
make_room(struct reader *r)
{
	char	*grown;
	size_t	 size;

	if (r->size - r->have >= SCAN_CHUNK / 2)
		return 0;
	size = r->size == 0 ? SCAN_CHUNK : r->size * 2;
	if (size > SCAN_LINE_MAX + SCAN_CHUNK)
		return -1;
	if ((grown = realloc(r->buf, size)) == NULL)
		return -1;
	r->buf = grown;
	r->size = size;
	return 0;
}

/* Hand the complete lines in the buffer to fn; keep the incomplete rest at its start. */
static int
emit(struct reader *r, struct scan_line *line, scan_fn fn, void *arg)
{
	const char	*p = r->buf, *end = r->buf + r->have, *nl;
	int		 rc = 0;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line->lineno++;
		line->text = p;
		line->len = (size_t)(nl - p);
		p = nl + 1;
		if ((rc = fn(line, arg)) != 0)
			break;
	}
	r->have = (size_t)(end - p);
	memmove(r->buf, p, r->have);
	return rc;
}

static enum scan_end
scan_file(struct reader *r, int fd, const char *file, scan_fn fn, void *arg,
    struct scan_at *at)
{
	struct scan_line	 line = { file, 0, NULL, 0 };
	ssize_t			 n;

	r->have = 0;
	at->file = file;
	for (;;) {
		at->lineno = line.lineno + 1;
		if (make_room(r) == -1) {
			if (r->size >= SCAN_LINE_MAX)
				return SCAN_TOO_LONG;
			msg("%s: out of memory", file);
			return SCAN_UNREADABLE;
		}
		n = read(fd, r->buf + r->have, r->size - r->have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			msg("%s: read: %s", file, strerror(errno));
			return SCAN_UNREADABLE;
		}
		if (n == 0)
			return r->have == 0 ? SCAN_DONE : SCAN_TORN;
		r->have += (size_t)n;
		if (emit(r, &line, fn, arg) != 0) {
			at->lineno = line.lineno;
			return SCAN_STOPPED;
		}
	}
}

enum scan_end
log_scan(char *const files[], int nfiles, scan_fn fn, void *arg, struct scan_at *at)
{
	struct reader	 r = { NULL, 0, 0 };
	enum scan_end	 end = SCAN_DONE;
	int		*fds, i;

	at->file = NULL;
	at->lineno = 0;
	if ((fds = calloc((size_t)nfiles + 1, sizeof(*fds))) == NULL) {
		msg("out of memory");
		return SCAN_UNREADABLE;
	}
	for (i = 0; i < nfiles; i++)
		fds[i] = -1;
	if (open_all(files, nfiles, fds, at) == -1)
		end = SCAN_UNREADABLE;
	for (i = 0; end == SCAN_DONE && i < nfiles; i++)
		end = scan_file(&r, fds[i], files[i], fn, arg, at);
	close_all(files, fds, nfiles);
	free(fds);
	free(r.buf);
	return end;
}
