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

#include "log-cursor.h"
#include "log-filter.h"
#include "log-stream.h"

enum {
	OPT_CURSOR = 256,
	OPT_FROM_SEQ,
	OPT_SINCE,
	OPT_ONCE,
	OPT_CONSUME_END		/* a command's own options are numbered from here */
};

#define CONSUME_LONG_OPTIONS						\
	{ "cursor",	required_argument,	NULL, OPT_CURSOR },	\
	{ "from-seq",	required_argument,	NULL, OPT_FROM_SEQ },	\
	FILTER_MEMBER_LONG_OPTIONS,					\
	FILTER_LOOKUP_LONG_OPTIONS,					\
	{ "since",	required_argument,	NULL, OPT_SINCE },	\
	{ "once",	no_argument,		NULL, OPT_ONCE }

struct consume_opts {
	const char	*log;
	const char	*cursor;
	uint64_t	 from_seq;	/* 0: not given */
	struct filter	 filter;
	bool		 once;
};

enum act {
	ACT_DONE,	/* move past the record */
	ACT_STOP	/* stop before it, ending with consumer->status */
};

/* A command: what it does with each record that passes the filters. */
struct consumer {
	/* Once the cursor (NULL without one) is open, before the first record; may be NULL. */
	int		 (*start)(struct consumer *, const struct cursor *);
	enum act	 (*act)(struct consumer *, const struct stream_rec *);
	/* Before the cursor is saved: where the output stands; may be NULL. 0 or exit status. */
	int		 (*before_save)(struct consumer *, struct out_pos *);
	int		 status;
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

/* Has SIGTERM, SIGINT or SIGHUP come? (They are blocked outside the waits.) */
bool	consume_stopping(void);
/* Sleep ms; -1 at once when a stop signal comes. */
int	consume_pause(long ms);
/* The signal mask idwise-log was started with, for the commands it runs. */
const sigset_t *consume_start_mask(void);

#endif
