/* SPDX-License-Identifier: ISC */
/*
 * log-stream-int.h: what the three files of a stream share (the commands use
 * log-stream.h): log-stream.c reads records in order and goes on into the next file,
 * log-stream-files.c opens the log's files and finds the one to read, log-stream-start.c
 * says where to begin and waits for more.
 */
#ifndef IDW_LOG_STREAM_INT_H
#define IDW_LOG_STREAM_INT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "log-check.h"
#include "log-stream.h"
#include "logformat.h"

#define NOTE_MAX	256

/* One file of the log, being read. */
struct lfile {
	int			 fd;		/* -1: none */
	uint64_t		 dev;
	uint64_t		 ino;
	char			*name;		/* as opened, for messages */
	off_t			 off;		/* where the next line starts */
	uint64_t		 first_seq;	/* of its first record; 0: none seen */
	bool			 seeking;	/* records up to last_seq are passed over */
	off_t			 warned;	/* a bad last line already reported, or -1 */
	off_t			 synced;	/* what is before it is on disk (on_disk()) */
	struct log_lines	 lines;
};

struct stream {
	const char		*path;		/* in names[] */
	const char		*dir;		/* the path's directory: in names[], or "." */
	struct log_reader	*reader;
	struct lfile		 cur;
	bool			 have_last;	/* the seq before the next record is known */
	bool			 have_hash;	/* and the hash of its line */
	uint64_t		 last_seq;
	unsigned char		 last_hash[SHA256_LEN];
	struct log_pos		 pos;
	bool			 peeked;
	struct stream_rec	 peek;
	bool			 wait_for_log;
	bool			 said_missing;
	int			 ifd;		/* inotify, or -1: polling */
	int			 status;
	char			 compressed[NOTE_MAX];	/* names seen by the last search */
	char			 note[NOTE_MAX + 64];
	char			 names[];	/* the path, and a copy for dirname() */
};

/* Does a file whose first record has seq `seq` beat the best so far (0: none)? */
typedef bool	(*pick_fn)(uint64_t seq, uint64_t best, uint64_t key);

/* log-stream.c */
int	stream_fail(struct stream *, int status);	/* -1, the status kept */

/* log-stream-files.c: a file of the log */
void	lfile_init(struct lfile *);
void	lfile_close(struct lfile *);
int	lfile_open(struct lfile *, const char *name, const char **why);	/* -1: errno */
bool	lfile_is_cur(const struct stream *, uint64_t dev, uint64_t ino);
unsigned long long lfile_line_number(const struct lfile *, off_t);	/* for messages */
/* 1 with the line at f->off (without its '\n'), 0 when no whole line is there yet, -1. */
int	lfile_line(struct stream *, struct lfile *, const char **line, size_t *len);
/* Sets f->first_seq (0 when its first line is not a record, or not there yet). */
int	lfile_first_seq(struct stream *, struct lfile *);

/* log-stream-files.c: finding the file to read */
bool	pick_successor(uint64_t seq, uint64_t best, uint64_t after);
bool	pick_holder(uint64_t seq, uint64_t best, uint64_t target);
bool	pick_oldest(uint64_t seq, uint64_t best, uint64_t unused);
/* The file at the path or a rotated one, not the one being read, that pick likes best. */
int	stream_search(struct stream *, pick_fn, uint64_t key, struct lfile *best);
/* " (compressed files cannot be read: ...)" when the last search saw some. */
const char *stream_compressed_note(struct stream *);
/* 1 with f open on the file with that identity: the one at the path or a rotated one. */
int	stream_open_identity(struct stream *, uint64_t dev, uint64_t ino, struct lfile *);
/* Does the line ending at pos->end hash to pos->hash (not a reused inode number)? */
int	stream_pos_holds(struct stream *, const struct lfile *, const struct log_pos *);

/* log-stream-start.c */
/* Open the file at the path, or (waiting for the log) note once that it is not there. */
int	stream_open_path(struct stream *);

#endif
