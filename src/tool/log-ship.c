/* SPDX-License-Identifier: ISC */
/*
 * log-ship.c: `idwise-log ship`: its command line, checked whole before anything is
 * opened; the work is ship-loop.c's.
 */
#include "autoconf.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "idwise-log.h"
#include "ship-loop.h"
#include "ship-msg.h"
#include "ship-window.h"
#include "util.h"

#define WINDOW_DEFAULT	512

enum {
	OPT_STREAM = 256,
	OPT_SUBJECT,
	OPT_CURSOR_FILE,
	OPT_HOST,
	OPT_METRICS,
	OPT_CHECKPOINT,
	OPT_REPLICAS,
	OPT_DUPLICATE_WINDOW,
	OPT_START_SEQ,
	OPT_WINDOW,
	OPT_ONCE_ONLY
};

static const struct option options[] = {
	JS_LINK_LONG_OPTIONS,
	{ "stream",		required_argument,	NULL, OPT_STREAM },
	{ "subject",		required_argument,	NULL, OPT_SUBJECT },
	{ "cursor",		required_argument,	NULL, OPT_CURSOR_FILE },
	{ "host",		required_argument,	NULL, OPT_HOST },
	{ "metrics",		required_argument,	NULL, OPT_METRICS },
	{ "checkpoint",		required_argument,	NULL, OPT_CHECKPOINT },
	{ "replicas",		required_argument,	NULL, OPT_REPLICAS },
	{ "duplicate-window",	required_argument,	NULL, OPT_DUPLICATE_WINDOW },
	{ "from-seq",		required_argument,	NULL, OPT_START_SEQ },
	{ "window",		required_argument,	NULL, OPT_WINDOW },
	{ "once",		no_argument,		NULL, OPT_ONCE_ONLY },
	{ NULL,			0,			NULL, 0 }
};

/* The options kept as given: where each goes. */
static const struct {
	int	 opt;
	size_t	 off;
} string_options[] = {
	{ OPT_STREAM,		offsetof(struct ship_opts, stream.name) },
	{ OPT_SUBJECT,		offsetof(struct ship_opts, prefix) },
	{ OPT_CURSOR_FILE,	offsetof(struct ship_opts, cursor) },
	{ OPT_HOST,		offsetof(struct ship_opts, host) },
	{ OPT_METRICS,		offsetof(struct ship_opts, metrics) },
	{ OPT_CHECKPOINT,	offsetof(struct ship_opts, checkpoint) },
};

/* The options that are whole numbers: their ranges, and where each goes. */
static const struct {
	int		 opt;
	const char	*name;
	long long	 min, max;
	size_t		 off;
} number_options[] = {
	{ OPT_REPLICAS,	"--replicas", 1, JS_REPLICAS_MAX, offsetof(struct ship_opts, replicas) },
	{ OPT_START_SEQ, "--from-seq", 1, INT64_MAX, offsetof(struct ship_opts, from_seq) },
	{ OPT_WINDOW,	"--window", 1, WINDOW_MAX, offsetof(struct ship_opts, window) },
};

/* 0, or -1 once said why. */
static int
number_option(struct ship_opts *o, int ch, const char *arg)
{
	long long	 n;
	size_t		 i;

	if (ch == OPT_ONCE_ONLY) {
		o->once = true;
		return 0;
	}
	if (ch == OPT_DUPLICATE_WINDOW) {
		if (ship_parse_duration(arg, &o->stream.duplicates) == 0 &&
		    o->stream.duplicates >= 1000000000LL)
			return 0;
		msg("--duplicate-window: not a duration of 1s or more such as 24h, 90m, 1h30m: %s",
		    arg);
		return -1;
	}
	for (i = 0; i < nitems(number_options) && number_options[i].opt != ch; i++)
		;
	if (i == nitems(number_options))
		return -1;	/* getopt said what was wrong */
	if (parse_number(arg, 10, number_options[i].min, number_options[i].max, &n) == -1) {
		msg("%s: not a number from %lld to %lld: %s", number_options[i].name,
		    number_options[i].min, number_options[i].max, arg);
		return -1;
	}
	*(uint64_t *)((char *)o + number_options[i].off) = (uint64_t)n;
	return 0;
}

static int
take_option(struct ship_opts *o, int ch, const char *arg)
{
	size_t	 i;

	if (js_link_option(&o->link, ch, arg) == 1)
		return 0;
	for (i = 0; i < nitems(string_options); i++) {
		if (string_options[i].opt == ch) {
			*(const char **)((char *)o + string_options[i].off) = arg;
			return 0;
		}
	}
	return number_option(o, ch, arg);
}

/* This machine's name for the Idwise-Host header when --host is not given. */
static const char *
default_host(char *buf, size_t size)
{
	if (gethostname(buf, size) == -1) {
		msg_errno("gethostname (give --host NAME)");
		return NULL;
	}
	buf[size - 1] = '\0';
	return buf;
}

static int
check(struct ship_opts *o, char *hostbuf, size_t hostsize)
{
	if (o->link.urls == NULL || o->cursor == NULL) {
		msg("--nats and --cursor are needed");
		return -1;
	}
	if (!ship_name_valid(o->stream.name)) {
		msg("--stream: a name of letters, digits, '_' and '-' (at most %d): %s",
		    SHIP_NAME_MAX, o->stream.name);
		return -1;
	}
	if (!ship_prefix_valid(o->prefix)) {
		msg("--subject: a subject prefix such as idwise or acme.kyc (tokens of letters, "
		    "digits, '_' and '-', no wildcard): %s", o->prefix);
		return -1;
	}
	if (o->host == NULL && (o->host = default_host(hostbuf, hostsize)) == NULL)
		return -1;
	if (!ship_host_valid(o->host)) {
		msg("--host: printable, without spaces, at most %d bytes", SHIP_HOST_MAX);
		return -1;
	}
	return js_link_opts_check(&o->link);
}

int
cmd_ship(int argc, char **argv)
{
	struct ship_opts	 o;
	char			 host[HOST_NAME_MAX + 1], name[HOST_NAME_MAX + 32];
	int			 ch;

	memset(&o, 0, sizeof(o));
	o.stream.name = JS_STREAM_DEFAULT;
	o.stream.duplicates = JS_DUPLICATES_DEFAULT;
	o.prefix = SHIP_PREFIX_DEFAULT;
	o.window = WINDOW_DEFAULT;
	while ((ch = getopt_long(argc, argv, "", options, NULL)) != -1)
		if (take_option(&o, ch, optarg) == -1)
			return cmd_usage(argv[0]);
	if (argc - optind != 1) {
		msg("want one LOG after the options");
		return cmd_usage(argv[0]);
	}
	o.log = argv[optind];
	if (check(&o, host, sizeof(host)) == -1)
		return cmd_usage(argv[0]);
	o.stream.prefix = o.prefix;
	o.stream.replicas = (int64_t)o.replicas;
	snprintf(name, sizeof(name), "idwise-log ship %s", o.host);
	o.link.name = name;
	return ship_run(&o);
}
