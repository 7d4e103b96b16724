/* SPDX-License-Identifier: ISC */
/*
 * rotation.h: the files a log was rotated into (renamed by logrotate: events.jsonl.1,
 * events.jsonl-20261125, ...), found again by following the chain backwards from the
 * current file: a file belongs when its last record is the one the next file's first
 * record names as prev. Compressed files cannot be read and end the search. Which names
 * are rotated files is logformat.h's to say.
 */
#ifndef IDW_ROTATION_H
#define IDW_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A log file's first and last records. */
struct log_ends {
	char		*path;
	uint64_t	 first_seq;
	unsigned char	 first_prev[SHA256_LEN];
	uint64_t	 last_seq;
	unsigned char	 last_hash[SHA256_LEN];	/* of the last line, '\n' included */
	int64_t		 last_ms;
};

/* Read the first and last whole records of the file at path; -1 if it has none. */
int	rotation_ends(const char *path, struct log_ends *);

/*
 * The rotated files before the current log, oldest first, going back until a file's last
 * record is older than since_ms (that file is included: it holds the chain's head when the
 * current file is empty). current is the current file's ends, or NULL when it is empty:
 * then the rotated file with the highest seq is taken as the newest.
 */
int	rotation_chain(const char *logpath, const struct log_ends *current, int64_t since_ms,
	    struct log_ends **files, size_t *n);
void	rotation_free(struct log_ends *, size_t);

#endif
