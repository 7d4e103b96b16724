/* SPDX-License-Identifier: ISC */
/*
 * progress.h: one line on stderr that says how far long work over a log is (reindex,
 * verify, checkpoint): records, MB read and of how many, MB/s, and the time left, taken
 * from the bytes read over the bytes of all the files. It is drawn only when stderr is a
 * terminal, first once the work has taken PROGRESS_EVERY_MS, then at most once each
 * PROGRESS_EVERY_MS, over itself ('\r'); progress_end() wipes it, so what the command
 * prints next starts on a clean line.
 *
 *	struct progress *p = progress_start("verify");	   (NULL: quiet; every call takes it)
 *	for each record: progress_update(p, records, bytes_read, total_bytes);
 *	progress_end(p);				   (before printing the result)
 *
 * The store's reindex takes progress_report and p as its callback (eventlog.h).
 */
#ifndef IDW_PROGRESS_H
#define IDW_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_EVERY_MS	250	/* at most 4 lines a second */

struct progress;

/* what: the command, at the start of the line. NULL when stderr is not a terminal. */
struct progress	*progress_start(const char *what);
/*
 * Cheap (a clock read) unless a line is due. total: the bytes of every file the work
 * reads, 0 when not known (a pipe): then no time left is said.
 */
void	progress_update(struct progress *, uint64_t records, uint64_t bytes, uint64_t total);
/* progress_update with a void *: the callback of eventlog_reindex (eventlog.h). */
void	progress_report(void *progress, uint64_t records, uint64_t bytes, uint64_t total);
/* Wipe the line if one was drawn, and free. */
void	progress_end(struct progress *);

/* The bytes of the files together, for total: 0 when one is not a regular file. */
uint64_t progress_files_size(char *const files[], int nfiles);

/* The pure part, for tests: the line's text for these figures (elapsed_ms from the start). */
struct progress_figures {
	uint64_t	 records;
	uint64_t	 bytes;
	uint64_t	 total;
	int64_t		 elapsed_ms;
};

/* Like snprintf: "verify: 52000 records, 30.1 of 61.2 MB, 85.2 MB/s, 0:04 left". */
int	progress_format(char *buf, size_t size, const char *what,
	    const struct progress_figures *);

#endif
