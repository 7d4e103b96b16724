/* SPDX-License-Identifier: ISC */
/*
 * log-tree.h: the log's Merkle tree (merkle.h) made from its files in one pass: leaf i is
 * the line of the record with seq i + 1, its bytes and its newline. The files are given
 * oldest first (read through log-scan.h); every line's seq must be the one after the
 * line before it. A pass can start from a tree signed earlier (its right edge and the
 * leaf of its last record) when the files no longer start at seq 1, and gathers what a
 * command asks for: roots at some sizes, a proof, a record's line. It is the one loop over
 * every line that checkpoint and prove run.
 */
#ifndef IDW_LOG_TREE_H
#define IDW_LOG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merkle.h"

#define TREE_SIZES_MAX	2

/* A tree signed before: enough to go on from it without the lines it covers. */
struct tree_start {
	struct merkle_edge	 edge;		/* edge.size records */
	merkle_hash		 last_leaf;	/* the leaf hash of record edge.size */
};

struct tree_want {
	const struct tree_start	*start;		/* NULL: the files must start at seq 1 */
	uint64_t		 sizes[TREE_SIZES_MAX];	/* roots wanted at these sizes */
	size_t			 nsizes;
	struct merkle_proof	*proof;		/* planned, to be filled; or NULL */
	uint64_t		 record;	/* the seq of a line to keep; 0: none */
	const char		*what;		/* names the progress line (a terminal only) */
};

struct tree_got {
	struct merkle_edge	 edge;		/* the whole tree */
	merkle_hash		 last_leaf;	/* of its last record (when it has one) */
	uint64_t		 first_seq;	/* of the first line read; 0: none */
	merkle_hash		 roots[TREE_SIZES_MAX];
	bool			 have_root[TREE_SIZES_MAX];
	char			*record;	/* that line with its '\n' (to free), or NULL */
	size_t			 record_len;
	bool			 torn;		/* the last file ends in a line without '\n' */
};

/*
 * Read files[0..nfiles) into the tree. EX_OK; EXIT_DAMAGED once the line that does not
 * fit is named (a seq out of place, a line that is no record, files that start after
 * the tree given, a record that is not the one it signed); EXIT_UNREADABLE.
 */
int	tree_read(char *const files[], int nfiles, const struct tree_want *, struct tree_got *);
void	tree_got_free(struct tree_got *);

#endif
