/* SPDX-License-Identifier: ISC */
/*
 * log-consume.h: what idwise-log follow and exec share: their options, the loop that
 * hands each wanted record to the command, the cursor, and the signals that stop it.
 */
#ifndef IDW_LOG_CONSUME_H
#define IDW_LOG_CONSUME_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "js-consume.h"
#include "log-cursor.h"
#include "log-filter.h"
#include "log-stream.h"

enum {
	OPT_CURSOR = 256,
	OPT_FROM_SEQ,
	OPT_SINCE,
	OPT_ONCE,
	OPT_STREAM,
	OPT_DURABLE,
	OPT_SUBJECT,
	OPT_CONSUME_END		/* a command's own options are numbered from here */
};

/* With JS_LINK_LONG_OPTIONS (jetstream.h) in a command's table, for --nats. */
#define CONSUME_LONG_OPTIONS						\
	{ "cursor",	required_argument,	NULL, OPT_CURSOR },	\
	{ "from-seq",	required_argument,	NULL, OPT_FROM_SEQ },	\
	FILTER_MEMBER_LONG_OPTIONS,					\
	FILTER_LOOKUP_LONG_OPTIONS,					\
	{ "since",	required_argument,	NULL, OPT_SINCE },	\
	{ "once",	no_argument,		NULL, OPT_ONCE },	\
	{ "stream",	required_argument,	NULL, OPT_STREAM },	\
	{ "durable",	required_argument,	NULL, OPT_DURABLE },	\
	{ "subject",	required_argument,	NULL, OPT_SUBJECT }

struct consume_opts {
	const char		*log;		/* NULL with --nats */
	const char		*cursor;
	uint64_t		 from_seq;	/* 0: not given */
	struct filter		 filter;
	bool			 once;
	struct js_consume_opts	 nats;		/* nats.link.urls: the stream, not a log */
};

enum act {
	ACT_DONE,	/* move past the record */
	ACT_STOP,	/* stop before it, ending with consumer->status */
	ACT_RETRY,	/* from a stream: have it again in consumer->retry_ms */
	ACT_GIVE_UP	/* move past it, given up on (dead letter): terminated on a stream */
};

/* A command: what it does with each record that passes the filters. */
struct consumer {
	/* Once the cursor (NULL without one) is open, before the first record; may be NULL. */
	int		 (*start)(struct consumer *, const struct cursor *);
	enum act	 (*act)(struct consumer *, const struct stream_rec *);
	/* Before the cursor is saved: where the output stands; may be NULL. 0 or exit status. */
	int		 (*before_save)(struct consumer *, struct out_pos *);
	/* Between records, and at least every second or so while none comes; may be NULL. */
	void		 (*tick)(struct consumer *);
	int		 status;
	/*
	 * Set by the loop before act: 0 for a record of a log (act tries again itself as
	 * long as it wants), else which delivery of the stream's message this is (from 1):
	 * act then tries once and returns ACT_RETRY to have it again.
	 */
	uint64_t	 delivery;
	long		 retry_ms;	/* with ACT_RETRY */
	/* Records a stream hands out at once (0: one; in order, each retry before the next). */
	unsigned int	 batch;
};

/* How a command reads its arguments: the shared options, its own, then the rest. */
struct consume_args {
	const char		*optstring;	/* getopt_long's: "" or "+" */
	const struct option	*options;	/* CONSUME_LONG_OPTIONS, then its own */
	/* One of its own options: 1 taken, 0 not one of them, -1 a bad value (said why). */
	int	(*option)(struct consumer *, int ch, const char *arg);
	/* The arguments after the options (LOG ...): 0, or -1 once it said what is wrong. */
	int	(*rest)(struct consumer *, struct consume_opts *, int argc, char **argv);
};

/*
 * A command's main: read the arguments as args says (usage on a bad one), then run
 * until --once finds the end, a stop signal, or a failure; returns the exit status.
 */
int	consume_command(int argc, char **argv, const struct consume_args *, struct consumer *);

/*
 * For a command with a loop of its own (ship): fds 0 to 2 taken and the stop signals
 * blocked, as consume() does, before any thread starts; *wait_mask is the mask to wait
 * with (stream_wait) so that a stop signal ends the wait. 0, or the exit status.
 */
int	consume_setup(const sigset_t **wait_mask);
/* The consumer's tick, if it has one (for the stream's loop in js-consume.c). */
void	consume_tick(struct consumer *);
/* Has SIGTERM, SIGINT or SIGHUP come? (They are blocked outside the waits.) */
bool	consume_stopping(void);
/* Sleep ms; -1 at once when a stop signal comes. */
int	consume_pause(long ms);
/* The signal mask idwise-log was started with, for the commands it runs. */
const sigset_t *consume_start_mask(void);

#endif
