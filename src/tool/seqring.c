/* SPDX-License-Identifier: ISC */
/* seqring.c: the stream seqs a consumer run handled last (see seqring.h). */
#include "autoconf.h"

#include "seqring.h"

void
seqring_add(struct seqring *r, uint64_t seq)
{
	if (seqring_has(r, seq))
		return;
	r->seq[r->next] = seq;
	r->next = (r->next + 1) % SEQRING_SIZE;
	if (r->count < SEQRING_SIZE)
		r->count++;
	if (seq > r->max)
		r->max = seq;
}

/* Whether seq was added, among the last SEQRING_SIZE; a seq above all of them is not. */
bool
seqring_has(const struct seqring *r, uint64_t seq)
{
	unsigned int	 i;

	if (seq == 0 || seq > r->max)
		return false;
	for (i = 0; i < r->count; i++)
		if (r->seq[i] == seq)
			return true;
	return false;
}
