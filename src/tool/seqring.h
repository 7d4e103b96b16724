/* SPDX-License-Identifier: ISC */
/* seqring.h: the stream seqs a consumer run handled last, to know a message handed out again. */
#ifndef IDW_SEQRING_H
#define IDW_SEQRING_H

#include <stdbool.h>
#include <stdint.h>

#define SEQRING_SIZE	4096	/* seqs remembered: a redelivery older than that is not known */

/*
 * The stream hands messages out mostly in seq order, but not always: a redelivery after a
 * broker failover, or after an ack that came too late, can come after later ones. So what
 * a run handled is kept as the seqs themselves, not as the highest one only; a message
 * below the highest that is not in the ring was never handled by this run. Each seq keeps
 * a tag of the message handled at it (the caller's digest of its payload): a seq handed
 * out again with another message is not one handled (nats-server 2.9's replicas were seen
 * to hold different messages at one seq after a whole cluster's restart).
 */
struct seqring {
	uint64_t	 seq[SEQRING_SIZE];
	uint64_t	 tag[SEQRING_SIZE];	/* the message handled at seq[i] */
	uint64_t	 max;		/* the highest seq added; 0: none */
	unsigned int	 next;		/* the slot the next seq goes to */
	unsigned int	 count;
};

enum seqring_seen {
	SEQRING_NEW,		/* not handled by this run (or fallen out of the ring) */
	SEQRING_SAME,		/* handled, with this same message */
	SEQRING_OTHER,		/* handled, with another message at the same seq */
};

/* seq handled with the message of tag; a seq added again takes the new tag. */
void			seqring_add(struct seqring *, uint64_t seq, uint64_t tag);
enum seqring_seen	seqring_seen(const struct seqring *, uint64_t seq, uint64_t tag);

#endif
