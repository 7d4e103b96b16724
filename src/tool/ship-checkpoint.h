/* SPDX-License-Identifier: ISC */
/*
 * ship-checkpoint.h: idwise-log ship --checkpoint FILE: the log's latest signed checkpoint
 * (what `idwise-log checkpoint --out FILE` writes, idwise-proofs(5)) published to the
 * stream on PREFIX.checkpoints each time the file changes, so that the checkpoints live
 * off the host. Its Nats-Msg-Id is "checkpoint-" and the note's hex SHA-256: the same
 * note published again is kept once.
 */
#ifndef IDW_SHIP_CHECKPOINT_H
#define IDW_SHIP_CHECKPOINT_H

#include "js-stream.h"

struct ship_checkpoint;

struct ship_checkpoint	*ship_checkpoint_new(const char *path);
void			 ship_checkpoint_free(struct ship_checkpoint *);

/*
 * If the file holds a note not published yet, publish it and wait for the stream's ack.
 * A file that cannot be read, or a publish that fails, is said once (until it works) and
 * tried again on the next call.
 */
void	ship_checkpoint_publish(struct ship_checkpoint *, struct js_link *, const char *stream,
	    const char *prefix);

#endif
