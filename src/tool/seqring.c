/* SPDX-License-Identifier: ISC */
/* seqring.c: the stream seqs a consumer run handled last (see seqring.h). */
#include "autoconf.h"

#include "seqring.h"

/* The slot holding seq, among the last SEQRING_SIZE added; -1: none. */
static int
slot_of(const struct seqring *r, uint64_t seq)
{
	unsigned int	 i;

	if (seq == 0 || seq > r->max)
		return -1;
	for (i = 0; i < r->count; i++)
		if (r->seq[i] == seq)
			return (int)i;
	return -1;
}

void
seqring_add(struct seqring *r, uint64_t seq, uint64_t tag)
{
	int	 i = slot_of(r, seq);

	if (i >= 0) {
		r->tag[i] = tag;
		return;
	}
	r->seq[r->next] = seq;
	r->tag[r->next] = tag;
	r->next = (r->next + 1) % SEQRING_SIZE;
	if (r->count < SEQRING_SIZE)
		r->count++;
	if (seq > r->max)
		r->max = seq;
}

enum seqring_seen
seqring_seen(const struct seqring *r, uint64_t seq, uint64_t tag)
{
	int	 i = slot_of(r, seq);

	if (i < 0)
		return SEQRING_NEW;
	return r->tag[i] == tag ? SEQRING_SAME : SEQRING_OTHER;
}
