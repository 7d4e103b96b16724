/* SPDX-License-Identifier: ISC */
/*
 * checkpoint-state.h: what `idwise-log checkpoint` remembers of the last checkpoint it
 * signed with a key, so that it never signs one inconsistent with it: the origin, the
 * tree's right edge (its size and complete subtrees) and the leaf of its last record.
 * A small text file, replaced durably after each signature and locked while in use.
 */
#ifndef IDW_CHECKPOINT_STATE_H
#define IDW_CHECKPOINT_STATE_H

#include <stdbool.h>

#include "log-tree.h"
#include "note.h"

struct ckpt_state {
	bool			 present;	/* false: no checkpoint signed yet */
	char			 origin[NOTE_NAME_MAX + 1];
	struct tree_start	 tree;
};

/*
 * Take the lock (path.lock, made if missing) for as long as *fd stays open: 0, or the
 * exit status once the reason is said (another checkpoint holds it).
 */
int	ckpt_state_lock(const char *path, int *fd);
/* Read the state at path (missing: none yet): EX_OK, EXIT_DAMAGED or EXIT_UNREADABLE. */
int	ckpt_state_read(const char *path, struct ckpt_state *);
/* Replace it durably; 0, or -1 once the reason is said. */
int	ckpt_state_write(const char *path, const struct ckpt_state *);

#endif
