/* SPDX-License-Identifier: ISC */
/* test-seqring.c: the seqs a consumer run handled, kept one by one: out of order too. */
#include "autoconf.h"

#include <stdlib.h>

#include "seqring.h"
#include "tap.h"

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
	ok(!seqring_has(r, 1), "an empty ring has nothing");
	ok(!seqring_has(r, 0), "  nor seq 0");
	seqring_add(r, 10);
	seqring_add(r, 12);
	seqring_add(r, 13);
	ok(seqring_has(r, 10) && seqring_has(r, 12) && seqring_has(r, 13), "what was added is there");
	ok(!seqring_has(r, 11), "a seq below the highest that was never added is not "
	    "(handed out after later ones: it must still be handled)");
	ok(!seqring_has(r, 14), "nor one above the highest");
	seqring_add(r, 11);
	ok(seqring_has(r, 11), "added late, it is there");
	seqring_add(r, 11);
	is_int(r->count, 4, "adding a seq twice keeps one slot");
	for (s = 100; s < 100 + SEQRING_SIZE; s++)
		seqring_add(r, s);
	ok(!seqring_has(r, 10), "the oldest fall out once the ring is full");
	for (s = 100; s < 100 + SEQRING_SIZE; s++)
		missing += !seqring_has(r, s);
	is_int(missing, 0, "and the last SEQRING_SIZE are all there");
	is_int((int)(r->max - 100), SEQRING_SIZE - 1, "the highest is kept");
	free(r);
	return done_testing();
}
