/* SPDX-License-Identifier: ISC */
/*
 * snapshot.h: a value one thread replaces whole while others use it. A user takes the
 * current snapshot and holds it until it lets go, so a replacement never changes what a
 * user holds; a replaced value is freed when its last holder lets go (or at once, if none
 * holds it). Any thread may take, let go or replace. The configuration a running responder
 * serves with is one (reload.h): each request holds the one it began under.
 */
#ifndef IDW_SNAPSHOT_H
#define IDW_SNAPSHOT_H

struct snapshot;
struct snapshot_cell;

/* A cell whose value is value, freed by free_value once nothing holds it. NULL: no memory. */
struct snapshot_cell	*snapshot_cell_new(void *value, void (*free_value)(void *));
/* The cell's current value goes once let go by all; snapshots still held stay valid. */
void			 snapshot_cell_free(struct snapshot_cell *);

/* The current snapshot, held until snapshot_let_go(). */
struct snapshot		*snapshot_take(struct snapshot_cell *);
void			*snapshot_value(const struct snapshot *);
void			 snapshot_let_go(struct snapshot *);	/* NULL: nothing */

/* value becomes the current one. 0, or -1 out of memory (value is not taken then). */
int			 snapshot_replace(struct snapshot_cell *, void *value);

#endif
