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
 * below the highest that is not in the ring was never handled by this run.
 */
struct seqring {
	uint64_t	 seq[SEQRING_SIZE];
	uint64_t	 max;		/* the highest seq added; 0: none */
	unsigned int	 next;		/* the slot the next seq goes to */
	unsigned int	 count;
};

void	seqring_add(struct seqring *, uint64_t seq);
bool	seqring_has(const struct seqring *, uint64_t seq);

#endif
