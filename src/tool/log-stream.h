/* SPDX-License-Identifier: ISC */
/*
 * log-stream.h: the records of the event log in seq order, as they come, across
 * rotations, checked against seq and prev as they are read.
 */
#ifndef IDW_LOG_STREAM_H
#define IDW_LOG_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log-cursor.h"
#include "record.h"

struct stream;

/* A record read but not taken yet. The line (without its '\n') lives until stream_take. */
struct stream_rec {
	const char		*line;
	size_t			 len;
	struct record_view	 view;
};

struct stream	*stream_new(const char *path);
void		 stream_free(struct stream *);

/*
 * Where to begin: right after the record `after` names (found by its file's identity,
 * else by seq among the rotated files next to the log), else at seq from_seq, else (both
 * 0) at the start of the file at the path. wait: a log that is not there yet is waited
 * for rather than an error. 0, or -1 once the reason is printed (see stream_status).
 */
int	stream_start(struct stream *, const struct log_pos *after, uint64_t from_seq,
	    bool wait);
/* 1 and the next record (the same one again until stream_take), 0 when none is there now, -1. */
int	stream_next(struct stream *, struct stream_rec **);
/* Move past the record stream_next gave. */
void	stream_take(struct stream *);
/* The last record taken (or the position started after); seq 0 when there is none. */
const struct log_pos *stream_pos(const struct stream *);
/* Sleep until the log may have changed, a while passed, or a signal not in mask came. */
int	stream_wait(struct stream *, const sigset_t *mask);
/* The exit status that goes with the last -1. */
int	stream_status(const struct stream *);

#endif
