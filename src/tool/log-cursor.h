/* SPDX-License-Identifier: ISC */
/*
 * log-cursor.h: a consumer's position in the event log, kept in a small file so that a
 * restart continues right after the last record it handled.
 */
#ifndef IDW_LOG_CURSOR_H
#define IDW_LOG_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* The last record handled: where its line is, and what it was. seq 0: no position. */
struct log_pos {
	uint64_t	 seq;
	uint64_t	 dev;		/* the file it is in */
	uint64_t	 ino;
	uint64_t	 end;		/* offset just after its '\n' */
	uint64_t	 len;		/* its line's length with the '\n' */
	unsigned char	 hash[SHA256_LEN];	/* SHA-256 of that line with its '\n' */
};

/* Where follow's standard output, when it is a regular file, ended after that record. */
struct out_pos {
	uint64_t	 dev;
	uint64_t	 ino;
	uint64_t	 size;
};

struct cursor {
	char		*path;
	int		 fd;
	uint64_t	 gen;		/* of the newest valid slot */
	struct log_pos	 pos;
	struct out_pos	 out;
};

/*
 * Open (creating it) and lock the cursor file, and read the position in it. Returns 0, or
 * the exit status to end with once the reason is printed.
 */
int	cursor_open(struct cursor *, const char *path);
/* Store a new position durably; 0, or the exit status. */
int	cursor_save(struct cursor *, const struct log_pos *, const struct out_pos *);
/* Whether there is nothing to save: pos is no position (seq 0), or the record c holds. */
bool	cursor_holds(const struct cursor *c, const struct log_pos *pos);
void	cursor_close(struct cursor *);

#endif
