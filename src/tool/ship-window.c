/* SPDX-License-Identifier: ISC */
/*
 * ship-window.c: the records in flight to the stream (see ship-window.h). Slot seq % cap
 * holds record seq: the window holds consecutive seqs, so no two share a slot. One mutex
 * guards the slots; the client's thread only marks a slot acknowledged or failed.
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ship-msg.h"
#include "ship-window.h"
#include "util.h"

enum slot_state { SLOT_FREE, SLOT_SENT, SLOT_ACKED, SLOT_FAILED };

struct slot {
	uint64_t	 seq;
	enum slot_state	 state;
	bool		 duplicate;
	natsMsg		*msg;		/* ours while FAILED; the client's while SENT */
	struct log_pos	 pos;
};

struct window {
	pthread_mutex_t		 mutex;
	pthread_cond_t		 cond;
	struct slot		*slots;
	size_t			 cap;
	uint64_t		 first;		/* the seq of the front record */
	size_t			 count;		/* records from first on */
	uint64_t		 events;	/* acks and failures so far */
	uint64_t		 seen;		/* events when window_wait last returned */
	int64_t			 ack_wait_ms;
	struct window_failure	 last;
};

struct window *
window_new(size_t cap, int64_t ack_wait_ms)
{
	pthread_condattr_t	 attr;
	struct window		*w;

	if (cap == 0 || cap > WINDOW_MAX || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->slots = calloc(cap, sizeof(*w->slots))) == NULL) {
		free(w);
		return NULL;
	}
	w->cap = cap;
	w->ack_wait_ms = ack_wait_ms;
	pthread_mutex_init(&w->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	return w;
}

void
window_drop(struct window *w)
{
	size_t	 i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mutex);
	for (i = 0; i < w->cap; i++) {
		if (w->slots[i].state == SLOT_FAILED)
			natsMsg_Destroy(w->slots[i].msg);
		memset(&w->slots[i], 0, sizeof(w->slots[i]));
	}
	w->count = 0;
	w->last.failed = 0;
	pthread_mutex_unlock(&w->mutex);
}

void
window_free(struct window *w)
{
	if (w == NULL)
		return;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mutex);
	free(w->slots);
	free(w);
}

/* The slot of record seq while it is in the window, else NULL. Under the mutex. */
static struct slot *
slot_of(struct window *w, uint64_t seq)
{
	struct slot	*s;

	if (seq < w->first || seq - w->first >= w->count)
		return NULL;
	s = &w->slots[seq % w->cap];
	return s->seq == seq ? s : NULL;
}

/* A slot's publish failed: keep its message to send again, and why. Under the mutex. */
static void
mark_failed(struct window *w, struct slot *s, natsMsg *msg, natsStatus status,
    jsErrCode code, const char *text)
{
	s->state = SLOT_FAILED;
	s->msg = msg;
	w->last.failed++;
	w->last.status = status;
	w->last.code = code;
	snprintf(w->last.text, sizeof(w->last.text), "%s",
	    text != NULL && *text != '\0' ? text : natsStatus_GetText(status));
	w->events++;
	pthread_cond_broadcast(&w->cond);
}

static uint64_t
msg_seq(natsMsg *msg)
{
	const char	*value = NULL;
	char		*end;
	uint64_t	 seq;

	if (natsMsgHeader_Get(msg, SHIP_HDR_SEQ, &value) != NATS_OK || value == NULL)
		return 0;
	errno = 0;
	seq = strtoull(value, &end, 10);
	return errno != 0 || *end != '\0' ? 0 : seq;
}

void
window_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct window	*w = closure;
	struct slot	*s;
	natsMsg		*spent = msg;

	(void)js;
	pthread_mutex_lock(&w->mutex);
	if ((s = slot_of(w, msg_seq(msg))) != NULL && s->state == SLOT_SENT) {
		if (pa != NULL && pae == NULL) {
			s->state = SLOT_ACKED;
			s->duplicate = pa->Duplicate;
			w->events++;
			pthread_cond_broadcast(&w->cond);
		} else {
			mark_failed(w, s, msg, pae != NULL ? pae->Err : NATS_ERR,
			    pae != NULL ? pae->ErrCode : 0, pae != NULL ? pae->ErrText : NULL);
			spent = NULL;
		}
	}
	pthread_mutex_unlock(&w->mutex);
	natsMsg_Destroy(spent);
}

bool
window_full(struct window *w)
{
	bool	 full;

	pthread_mutex_lock(&w->mutex);
	full = w->count >= w->cap;
	pthread_mutex_unlock(&w->mutex);
	return full;
}

size_t
window_in_flight(struct window *w)
{
	size_t	 n;

	pthread_mutex_lock(&w->mutex);
	n = w->count;
	pthread_mutex_unlock(&w->mutex);
	return n;
}

/* Hand the slot's message to the client; the slot is SENT, and FAILED again if refused. */
static bool
publish(struct window *w, jsCtx *js, struct slot *s, natsMsg *msg)
{
	jsPubOptions	 po;
	natsStatus	 rc;

	jsPubOptions_Init(&po);
	po.MaxWait = w->ack_wait_ms;
	if ((rc = js_PublishMsgAsync(js, &msg, &po)) == NATS_OK || msg == NULL)
		return true;
	pthread_mutex_lock(&w->mutex);
	mark_failed(w, s, msg, rc, 0, NULL);
	pthread_mutex_unlock(&w->mutex);
	return false;
}

void
window_send(struct window *w, jsCtx *js, natsMsg *msg, uint64_t seq,
    const struct log_pos *pos)
{
	struct slot	*s;

	pthread_mutex_lock(&w->mutex);
	if (w->count == 0)
		w->first = seq;
	s = &w->slots[seq % w->cap];
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->state = SLOT_SENT;
	s->pos = *pos;
	w->count++;
	pthread_mutex_unlock(&w->mutex);
	publish(w, js, s, msg);
}

void
window_collect(struct window *w, struct window_acks *acks)
{
	struct slot	*s;

	memset(acks, 0, sizeof(*acks));
	pthread_mutex_lock(&w->mutex);
	while (w->count > 0 && (s = &w->slots[w->first % w->cap])->state == SLOT_ACKED) {
		acks->acked++;
		acks->duplicates += s->duplicate;
		acks->pos = s->pos;
		s->state = SLOT_FREE;
		w->first++;
		w->count--;
	}
	pthread_mutex_unlock(&w->mutex);
}

void
window_failure(struct window *w, struct window_failure *failure)
{
	pthread_mutex_lock(&w->mutex);
	*failure = w->last;
	pthread_mutex_unlock(&w->mutex);
}

size_t
window_resend(struct window *w, jsCtx *js)
{
	struct slot	*s;
	natsMsg		*msg;
	uint64_t	 seq;
	size_t		 sent = 0;

	pthread_mutex_lock(&w->mutex);
	for (seq = w->first; seq - w->first < w->count && w->last.failed > 0; seq++) {
		if ((s = slot_of(w, seq)) == NULL || s->state != SLOT_FAILED)
			continue;
		msg = s->msg;
		s->msg = NULL;
		s->state = SLOT_SENT;
		w->last.failed--;
		pthread_mutex_unlock(&w->mutex);
		if (!publish(w, js, s, msg))
			return sent;	/* the client refuses now: the rest waits too */
		sent++;
		pthread_mutex_lock(&w->mutex);
	}
	pthread_mutex_unlock(&w->mutex);
	return sent;
}

void
window_wait(struct window *w, long ms)
{
	struct timespec	 until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mutex);
	while (w->events == w->seen &&
	    pthread_cond_timedwait(&w->cond, &w->mutex, &until) != ETIMEDOUT)
		;
	w->seen = w->events;
	pthread_mutex_unlock(&w->mutex);
}
