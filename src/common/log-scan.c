/* SPDX-License-Identifier: ISC */
/* log-scan.c: the log's lines, file after file, numbered, read through logformat.h. */
#include "autoconf.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log-scan.h"
#include "util.h"

static int
open_all(char *const files[], int nfiles, int *fds, struct scan_at *at)
{
	int	 i;

	for (i = 0; i < nfiles; i++) {
		if ((fds[i] = open(files[i], O_RDONLY | O_CLOEXEC)) == -1) {
			msg_errno("%s", files[i]);
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
			msg_errno("%s: close", files[i]);
}

/* The end of one file's lines: why they ended. */
static enum scan_end
scan_end_of(enum line_got got, const struct log_line *line, const char *file)
{
	switch (got) {
	case LINE_END:
		return line->len == 0 ? SCAN_DONE : SCAN_TORN;
	case LINE_TOO_LONG:
		return SCAN_TOO_LONG;
	default:
		msg_errno("%s: read", file);
		return SCAN_UNREADABLE;
	}
}

static enum scan_end
scan_file(int fd, const char *file, scan_fn fn, void *arg, struct scan_at *at)
{
	struct scan_line	 sl = { file, 0, NULL, 0 };
	struct log_lines	 lines;
	struct log_line		 line;
	enum line_got		 got;
	enum scan_end		 end = SCAN_STOPPED;
	off_t			 off = 0;

	at->file = file;
	logformat_lines_init(&lines, fd, -1, true);
	for (;;) {
		at->lineno = sl.lineno + 1;
		if ((got = logformat_line(&lines, off, &line)) != LINE_OK) {
			end = scan_end_of(got, &line, file);
			break;
		}
		sl.lineno++;
		sl.text = line.text;
		sl.len = line.len;
		off += (off_t)line.len + 1;
		if (fn(&sl, arg) != 0)
			break;
	}
	logformat_lines_free(&lines);
	return end;
}

enum scan_end
log_scan(char *const files[], int nfiles, scan_fn fn, void *arg, struct scan_at *at)
{
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
		end = scan_file(fds[i], files[i], fn, arg, at);
	close_all(files, fds, nfiles);
	free(fds);
	return end;
}
