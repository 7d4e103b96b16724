/* SPDX-License-Identifier: ISC */
/* test-seqring.c: the seqs a consumer run handled, one by one (out of order too), and what. */
#include "autoconf.h"

#include <stdlib.h>

#include "seqring.h"
#include "tap.h"

#define T	0x1234abcdULL	/* the tag of the message handled at a seq */

/* Whether seq was handled with the message of tag T. */
static int
seen(const struct seqring *r, uint64_t seq)
{
	return seqring_seen(r, seq, T) == SEQRING_SAME;
}

int
main(void)
{
	struct seqring	*r;
	uint64_t	 s;
	int		 missing = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		ok(0, "a ring");
		return done_testing();
	}
	ok(seqring_seen(r, 1, T) == SEQRING_NEW, "an empty ring has nothing");
	ok(seqring_seen(r, 0, T) == SEQRING_NEW, "  nor seq 0");
	seqring_add(r, 10, T);
	seqring_add(r, 12, T);
	seqring_add(r, 13, T);
	ok(seen(r, 10) && seen(r, 12) && seen(r, 13), "what was added is there");
	ok(seqring_seen(r, 11, T) == SEQRING_NEW, "a seq below the highest that was never "
	    "added is not (handed out after later ones: it must still be handled)");
	ok(seqring_seen(r, 14, T) == SEQRING_NEW, "nor one above the highest");
	seqring_add(r, 11, T);
	ok(seen(r, 11), "added late, it is there");
	seqring_add(r, 11, T);
	is_int(r->count, 4, "adding a seq twice keeps one slot");
	ok(seqring_seen(r, 12, T + 1) == SEQRING_OTHER,
	    "a seq handed out with another message than the one handled there is told apart");
	seqring_add(r, 12, T + 1);
	ok(seqring_seen(r, 12, T + 1) == SEQRING_SAME && r->count == 4,
	    "  and once handled, its slot holds the new one");
	ok(seqring_seen(r, 12, T) == SEQRING_OTHER, "  the old one is then the other");
	for (s = 100; s < 100 + SEQRING_SIZE; s++)
		seqring_add(r, s, T);
	ok(seqring_seen(r, 10, T) == SEQRING_NEW, "the oldest fall out once the ring is full");
	for (s = 100; s < 100 + SEQRING_SIZE; s++)
		missing += !seen(r, s);
	is_int(missing, 0, "and the last SEQRING_SIZE are all there");
	is_int((int)(r->max - 100), SEQRING_SIZE - 1, "the highest is kept");
	free(r);
	return done_testing();
}
