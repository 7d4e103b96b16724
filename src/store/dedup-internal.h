/* SPDX-License-Identifier: ISC */
/*
 * dedup-internal.h: the index (dedup.h) in its two parts, and the struct they share; not
 * for use outside them. dedup.c: opening the file, the transactions, the tables.
 * dedup-env.c: the LMDB environment, and which way it writes.
 */
#ifndef IDW_DEDUP_INTERNAL_H
#define IDW_DEDUP_INTERNAL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "util.h"

/*
 * Two ways to write (see dedup_open()): through the mapping (MDB_WRITEMAP), where it is
 * safe, with map_size bytes of the file allocated and mapped; or with pwrite(2), for a
 * rebuild (bulk) and where the mapping is not safe.
 */
struct dedup {
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 meta, ids, seqs;
	int		 last_rc;
	uint64_t	 dev, ino;	/* the file */
	bool		 can_map;	/* writing through the mapping is safe here */
	bool		 mapped;	/* the env writes through it now */
	size_t		 map_size;	/* then: the bytes mapped, every one allocated */
	char		 key_of[128];	/* the last id hashed, if no longer */
	size_t		 key_of_len;	/* 0: none */
	unsigned char	 key[SHA256_LEN];	/* and its key */
};

/* Is writing through a shared mapping of the file at fd safe (no SIGBUS, no SIGXFSZ)? */
bool	dedup_mapping_safe(int fd);
/* Open the env and its tables on path (the file by its /proc/self/fd name), of file_size
 * bytes now; written through the mapping if dd->can_map. 0, or an LMDB or errno value. */
int	dedup_env_open(struct dedup *, const char *path, off_t file_size);
/* Between transactions: the same file, written with pwrite (bulk) or else through the
 * mapping if safe; the old env is kept if the new one cannot be had. */
int	dedup_env_switch(struct dedup *, bool bulk);
/* Before a write transaction: back to the mapping after a rebuild, the map grown. */
int	dedup_env_ready(struct dedup *);

#endif
