/* SPDX-License-Identifier: ISC */
/* log-scan.h: the log's complete lines, file after file in rotation order, read in bulk. */
#ifndef IDW_LOG_SCAN_H
#define IDW_LOG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "logformat.h"

struct scan_line {
	const char	*file;		/* as given */
	uint64_t	 lineno;	/* from 1 in each file */
	const char	*text;		/* text[len] is the line's '\n' */
	size_t		 len;
};

typedef int	(*scan_fn)(const struct scan_line *, void *);

enum scan_end {
	SCAN_DONE,		/* every line of every file went to fn */
	SCAN_STOPPED,		/* fn returned non-zero for the line at *at */
	SCAN_TORN,		/* the file's last line, number at->lineno, has no '\n' */
	SCAN_TOO_LONG,		/* line at->lineno is longer than LOG_LINE_MAX */
	SCAN_UNREADABLE		/* at->file could not be opened or read: said on stderr */
};

struct scan_at {
	const char	*file;
	uint64_t	 lineno;
};

/*
 * Open every file first (so a wrong name fails at once), then hand each complete line to
 * fn in order. Files are read in order with read(2) (logformat.h's sequential lines), so
 * pipes (<(zcat events.jsonl.2.gz)) work.
 */
enum scan_end	log_scan(char *const files[], int nfiles, scan_fn fn, void *arg,
		    struct scan_at *at);

#endif
