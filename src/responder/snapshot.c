/* SPDX-License-Identifier: ISC */
/*
 * snapshot.c: reference-counted snapshots of a value (see snapshot.h). The cell counts as
 * one holder of its current snapshot; taking one counts under the cell's lock, so a
 * snapshot being replaced cannot be freed between reading the pointer and counting it.
 * Letting go needs no lock: the last one to let go frees it.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "snapshot.h"

struct snapshot {
	atomic_ulong	 holders;	/* takers that have not let go, and the cell */
	void		*value;
	void		(*free_value)(void *);
};

struct snapshot_cell {
	pthread_mutex_t	 lock;		/* current */
	struct snapshot	*current;
	void		(*free_value)(void *);
};

static struct snapshot *
snapshot_new(void *value, void (*free_value)(void *))
{
	struct snapshot	*s;

	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	atomic_init(&s->holders, 1);	/* the cell's */
	s->value = value;
	s->free_value = free_value;
	return s;
}

struct snapshot_cell *
snapshot_cell_new(void *value, void (*free_value)(void *))
{
	struct snapshot_cell	*cell;

	if ((cell = malloc(sizeof(*cell))) == NULL)
		return NULL;
	cell->free_value = free_value;
	if ((cell->current = snapshot_new(value, free_value)) != NULL &&
	    pthread_mutex_init(&cell->lock, NULL) == 0)
		return cell;
	free(cell->current);
	free(cell);
	return NULL;
}

void
snapshot_cell_free(struct snapshot_cell *cell)
{
	if (cell == NULL)
		return;
	snapshot_let_go(cell->current);
	pthread_mutex_destroy(&cell->lock);
	free(cell);
}

struct snapshot *
snapshot_take(struct snapshot_cell *cell)
{
	struct snapshot	*s;

	pthread_mutex_lock(&cell->lock);
	s = cell->current;
	atomic_fetch_add(&s->holders, 1);
	pthread_mutex_unlock(&cell->lock);
	return s;
}

void *
snapshot_value(const struct snapshot *s)
{
	return s->value;
}

void
snapshot_let_go(struct snapshot *s)
{
	if (s == NULL || atomic_fetch_sub(&s->holders, 1) != 1)
		return;
	s->free_value(s->value);
	free(s);
}

int
snapshot_replace(struct snapshot_cell *cell, void *value)
{
	struct snapshot	*next, *old;

	if ((next = snapshot_new(value, cell->free_value)) == NULL)
		return -1;
	pthread_mutex_lock(&cell->lock);
	old = cell->current;
	cell->current = next;
	pthread_mutex_unlock(&cell->lock);
	snapshot_let_go(old);	/* the cell's hold on it */
	return 0;
}
