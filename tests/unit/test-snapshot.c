/* SPDX-License-Identifier: ISC */
/* test-snapshot.c: snapshots a thread replaces while others hold them (snapshot.h). */
#include "autoconf.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "tap.h"

#define LIVE_MAGIC	0x5eed5eedu
#define READERS		4
#define READS		200000
#define REPLACEMENTS	20000

/* A value that knows whether it was freed, and how many values are alive. */
struct value {
	unsigned	 magic;		/* LIVE_MAGIC until freed */
	int		 number;
};

static atomic_int	 alive, freed;

static struct value *
value_new(int number)
{
	struct value	*v = malloc(sizeof(*v));

	if (v == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	v->magic = LIVE_MAGIC;
	v->number = number;
	atomic_fetch_add(&alive, 1);
	return v;
}

static void
value_free(void *p)
{
	struct value	*v = p;

	v->magic = 0;
	atomic_fetch_sub(&alive, 1);
	atomic_fetch_add(&freed, 1);
	free(v);
}

static int
number_of(const struct snapshot *s)
{
	return ((const struct value *)snapshot_value(s))->number;
}

static void
test_one_thread(void)
{
	struct snapshot_cell	*cell;
	struct snapshot		*a, *a2, *b;

	atomic_store(&freed, 0);
	cell = snapshot_cell_new(value_new(1), value_free);
	ok(cell != NULL, "snapshot_cell_new");
	a = snapshot_take(cell);
	a2 = snapshot_take(cell);
	is_int(number_of(a), 1, "a snapshot holds the cell's value");
	ok(a == a2, "two takes of one value are the same snapshot");
	is_int(snapshot_replace(cell, value_new(2)), 0, "snapshot_replace");
	is_int(number_of(a), 1, "a snapshot held across a replacement still holds the old value");
	is_int(atomic_load(&freed), 0, "the old value is not freed while it is held");
	b = snapshot_take(cell);
	is_int(number_of(b), 2, "a snapshot taken after the replacement holds the new value");
	snapshot_let_go(a);
	is_int(atomic_load(&freed), 0, "nor when one of its two holders let go");
	snapshot_let_go(a2);
	is_int(atomic_load(&freed), 1, "the old value is freed when its last holder lets go");
	is_int(snapshot_replace(cell, value_new(3)), 0, "replaced again, while the second is held");
	is_int(snapshot_replace(cell, value_new(4)), 0, "and again, the third held by nobody");
	is_int(atomic_load(&freed), 2, "a replaced value nobody holds is freed at once");
	snapshot_cell_free(cell);
	is_int(atomic_load(&freed), 3, "snapshot_cell_free frees the current value");
	is_int(number_of(b), 2, "a snapshot still held outlives its cell");
	snapshot_let_go(b);
	is_int(atomic_load(&alive), 0, "every value was freed once, by the last to let go");
	snapshot_let_go(NULL);
	snapshot_cell_free(NULL);
	ok(1, "snapshot_let_go(NULL) and snapshot_cell_free(NULL) are harmless");
}

struct reader {
	pthread_t		 thread;
	struct snapshot_cell	*cell;
	long			 bad;		/* values seen freed or going backwards */
};

/* Take, look twice (the value must stay), let go; the numbers never go back. */
static void *
read_loop(void *arg)
{
	struct reader	*r = arg;
	struct snapshot	*s;
	const struct value *v;
	int		 i, last = 0, seen;

	for (i = 0; i < READS; i++) {
		s = snapshot_take(r->cell);
		v = snapshot_value(s);
		seen = v->number;
		if (v->magic != LIVE_MAGIC || seen < last)
			r->bad++;
		last = seen;
		if (i % 64 == 0)
			sched_yield();
		if (v->magic != LIVE_MAGIC || v->number != seen)
			r->bad++;
		snapshot_let_go(s);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct snapshot_cell	*cell;
	struct reader		 readers[READERS];
	long			 bad = 0;
	int			 i, started = 0;

	atomic_store(&freed, 0);
	cell = snapshot_cell_new(value_new(0), value_free);
	for (i = 0; i < READERS; i++) {
		readers[i].cell = cell;
		readers[i].bad = 0;
		if (pthread_create(&readers[i].thread, NULL, read_loop, &readers[i]) == 0)
			started++;
	}
	is_int(started, READERS, "%d reader threads started", READERS);
	for (i = 1; i <= REPLACEMENTS; i++)
		if (snapshot_replace(cell, value_new(i)) == -1)
			bad++;
	for (i = 0; i < started; i++) {
		pthread_join(readers[i].thread, NULL);
		bad += readers[i].bad;
	}
	is_int(bad, 0, "%d readers, %d reads each, while %d replacements: no value was seen "
	    "freed or changed while held", READERS, READS, REPLACEMENTS);
	is_int(atomic_load(&freed), REPLACEMENTS, "every replaced value was freed");
	snapshot_cell_free(cell);
	is_int(atomic_load(&alive), 0, "and the last with the cell: nothing leaked");
}

int
main(void)
{
	test_one_thread();
	test_threads();
	return done_testing();
}
