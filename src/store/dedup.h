/* SPDX-License-Identifier: ISC */
/*
 * dedup.h: the index next to the log (<log>.idx, LMDB): every stored id with its body
 * digest and seq, and the head of the chain (last seq, its line's hash, where the log
 * ends). It is a cache of the log, rebuilt from it whenever in doubt, and it does no
 * locking of its own: every call is made under the append lock (shm.h).
 */
#ifndef IDW_DEDUP_H
#define IDW_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct dedup;

struct log_head {
	uint64_t	 seq;			/* 0: nothing stored yet */
	unsigned char	 hash[SHA256_LEN];	/* of the last line, '\n' included */
	uint64_t	 dev;			/* the file it is in */
	uint64_t	 ino;
	uint64_t	 end;			/* and where that file ends */
};

enum dedup_match {
	DEDUP_NEW,		/* id never stored */
	DEDUP_SAME,		/* id stored with this body: *seq is that record's */
	DEDUP_CONFLICT,		/* id stored, but only with other bodies */
	DEDUP_ERROR
};

/*
 * Open (creating) the index, a regular file of the service's user (ownfile.h), never
 * through a symbolic link. Call under the append lock. NULL and why in err; *refused
 * when it is what is at the path that is wrong (to be removed by its owner, not by us).
 */
struct dedup	*dedup_open(const char *path, bool *refused, char *err, size_t errlen);
/* The index file's identity. */
void		 dedup_identity(const struct dedup *, uint64_t *dev, uint64_t *ino);
void		 dedup_close(struct dedup *);
/*
 * Remove the index file (when damaged or stale). What is not ours to use (ownfile.h) is
 * left in place, for dedup_open() to refuse.
 */
int		 dedup_remove(const char *path);

/* One write transaction at a time; every other call happens inside it. */
int	dedup_begin(struct dedup *);
int	dedup_commit(struct dedup *);
void	dedup_abort(struct dedup *);

/* 0 found, 1 none yet (new or emptied index), -1 error. */
int	dedup_get_head(struct dedup *, struct log_head *);
int	dedup_put_head(struct dedup *, const struct log_head *);
enum dedup_match dedup_find(struct dedup *, const char *id, size_t idlen,
	    const unsigned char digest[SHA256_LEN], uint64_t *seq);
int	dedup_add(struct dedup *, const char *id, size_t idlen,
	    const unsigned char digest[SHA256_LEN], uint64_t seq, int64_t received_ms);
/*
 * Forget at most max ids stored before before_ms, oldest first (the seq order is the time
 * order); *forgotten says how many went.
 */
int	dedup_expire(struct dedup *, int64_t before_ms, int max, int *forgotten);
/* Forget everything (before a rebuild). */
int	dedup_clear(struct dedup *);
/* The last error, for messages. */
const char *dedup_error(const struct dedup *);

#endif
