/* SPDX-License-Identifier: ISC */
/*
 * log-consume.c: the loop shared by idwise-log follow and exec. Records come from the
 * stream in seq order; each one that passes the filters goes to the command, and the
 * cursor is saved after each one the command handled. Records the filters leave out move
 * the position too, but are saved only when it is due: before waiting for more, every
 * second while reading, and on the way out.
 *
 * SIGTERM, SIGINT and SIGHUP are blocked except while waiting, so they never cut a record
 * or a save in half: they are noticed between records, and end the loop with status 0.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "idwise-log.h"
#include "log-consume.h"
#include "util.h"

#define SAVE_EVERY_MS	1000

static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };
#define NSTOP	nitems(stop_signals)

static volatile sig_atomic_t	 stop_signal;
static sigset_t			 start_mask;	/* as started */
static sigset_t			 wait_mask;	/* as started, stop signals let through */

/* --- signals ------------------------------------------------------------------------- */

static void
on_stop(int sig)
{
	stop_signal = sig;
}

static int
signals_setup(void)
{
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < NSTOP; i++) {
		if (sigaction(stop_signals[i], &sa, NULL) == -1) {
			msg_errno("sigaction");
			return -1;
		}
		sigaddset(&block, stop_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, &start_mask) == -1) {
		msg_errno("sigprocmask");
		return -1;
	}
	wait_mask = start_mask;
	for (i = 0; i < NSTOP; i++)
		sigdelset(&wait_mask, stop_signals[i]);
	return 0;
}

bool
consume_stopping(void)
{
	sigset_t	 pending;
	size_t		 i;

	if (stop_signal != 0)
		return true;
	if (sigpending(&pending) == -1)
		return false;
	for (i = 0; i < NSTOP; i++)
		if (sigismember(&pending, stop_signals[i]))
			return true;
	return false;
}

const sigset_t *
consume_start_mask(void)
{
	return &start_mask;
}

int
consume_pause(long ms)
{
	struct timespec	 ts;
	int64_t		 end = monotonic_ms() + ms, left;

	while (!consume_stopping()) {
		if ((left = end - monotonic_ms()) <= 0)
			return 0;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		ppoll(NULL, 0, &ts, &wait_mask);
	}
	return -1;
}

void
consume_tick(struct consumer *c)
{
	if (c->tick != NULL)
		c->tick(c);
}

/* --- the arguments ------------------------------------------------------------------- */

/* 1: one of the shared options, taken; 0: not one of them; -1: a bad value (said why). */
static int
consume_option(struct consume_opts *o, int ch, const char *arg)
{
	long long	 seq;
	int		 rc;

	switch (ch) {
	case OPT_CURSOR:
		o->cursor = arg;
		return 1;
	case OPT_FROM_SEQ:
		if (parse_number(arg, 10, 1, INT64_MAX, &seq) == 0) {
			o->from_seq = (uint64_t)seq;
			return 1;
		}
		msg("--from-seq: not a seq (a number from 1): %s", arg);
		return -1;
	case OPT_SINCE:
		if (filter_since(&o->filter, arg) == 0)
			return 1;
		msg("--since: not an RFC 3339 time such as 2026-11-25T16:40:26Z: %s", arg);
		return -1;
	case OPT_ONCE:
		o->once = true;
		return 1;
	case OPT_STREAM:
		o->nats.stream = arg;
		return 1;
	case OPT_DURABLE:
		o->nats.durable = arg;
		return 1;
	case OPT_SUBJECT:
		o->nats.prefix = arg;
		return 1;
	default:
		if ((rc = filter_option(&o->filter, ch, arg)) != 0)
			return rc;
		return js_link_option(&o->nats.link, ch, arg);
	}
}

/* The options, then the rest: EX_OK, or EX_USAGE once usage is printed. */
static int
read_args(int argc, char **argv, const struct consume_args *args, struct consumer *c,
    struct consume_opts *o)
{
	int	 ch, rc;

	while ((ch = getopt_long(argc, argv, args->optstring, args->options, NULL)) != -1) {
		if ((rc = consume_option(o, ch, optarg)) == 0)
			rc = args->option(c, ch, optarg);
		if (rc != 1)
			return cmd_usage(argv[0]);
	}
	if (args->rest(c, o, argc - optind, argv + optind) == -1 ||
	    (o->nats.link.urls != NULL && js_consume_check(o) == -1))
		return cmd_usage(argv[0]);
	return EX_OK;
}

/* --- the loop ------------------------------------------------------------------------ */

struct run {
	const struct consume_opts	*o;
	struct consumer			*c;
	struct stream			*s;
	struct cursor			*cursor;
	int64_t				 saved_ms;
	bool				 save_failed;	/* said once, not tried again */
};

/* Store the position if it moved since the last save. */
static int
save(struct run *r)
{
	const struct log_pos	*pos = stream_pos(r->s);
	struct out_pos		 out;
	int			 rc;

	if (r->cursor == NULL || r->save_failed || cursor_holds(r->cursor, pos))
		return 0;
	memset(&out, 0, sizeof(out));
	if ((r->c->before_save != NULL && (rc = r->c->before_save(r->c, &out)) != 0) ||
	    (rc = cursor_save(r->cursor, pos, &out)) != 0) {
		r->save_failed = true;
		return rc;
	}
	r->saved_ms = monotonic_ms();
	return 0;
}

/*
 * A cursor with no position yet gets where the output starts (follow into a file), before
 * anything is written there: a run stopped before its first save then finds its first
 * record at the end of the file, as it finds any later one.
 */
static int
save_output_start(struct run *r)
{
	struct out_pos	 out;
	int		 rc;

	if (r->cursor == NULL || r->c->before_save == NULL || r->cursor->pos.seq != 0 ||
	    r->cursor->out.ino != 0)
		return 0;
	memset(&out, 0, sizeof(out));
	if ((rc = r->c->before_save(r->c, &out)) != 0 || out.ino == 0)
		return rc;
	return cursor_save(r->cursor, &r->cursor->pos, &out);
}

/* One record: 0 to go on, else the exit status (-1: stop with 0). */
static int
handle(struct run *r, const struct stream_rec *rec)
{
	if (!filter_match(&r->o->filter, &rec->view)) {
		stream_take(r->s);
		return monotonic_ms() - r->saved_ms >= SAVE_EVERY_MS ? save(r) : 0;
	}
	if (r->c->act(r->c, rec) == ACT_STOP)	/* ACT_GIVE_UP moves on, as ACT_DONE */
		return r->c->status != 0 ? r->c->status : -1;
	stream_take(r->s);
	return save(r);
}

static int
run(struct run *r)
{
	struct stream_rec	*rec;
	int			 rc, status = 0;

	while (status == 0 && !consume_stopping()) {
		consume_tick(r->c);
		if ((rc = stream_next(r->s, &rec)) == -1)
			status = stream_status(r->s);
		else if (rc == 1)
			status = handle(r, rec);
		else if ((status = save(r)) == 0 && r->o->once)
			break;
		else if (status == 0 && stream_wait(r->s, &wait_mask) == -1)
			status = stream_status(r->s);
	}
	if (status == -1)
		status = 0;
	/* Records taken before the end (left out by the filters) need not be read again. */
	if ((rc = save(r)) != 0 && status == 0)
		status = rc;
	return status;
}

/* Make sure fds 0, 1 and 2 are taken, so that no file of ours becomes one of them. */
static int
std_fds_open(void)
{
	int	 fd;

	for (;;) {
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
			msg_errno("/dev/null: open");
			return -1;
		}
		if (fd > STDERR_FILENO)
			break;
		/* A standard descriptor must survive exec: keep the copy without close-on-exec. */
		if (fcntl(fd, F_SETFD, 0) == -1) {
			msg_errno("/dev/null: fcntl");
			return -1;
		}
	}
	close(fd);
	return 0;
}

int
consume_setup(const sigset_t **mask)
{
	if (std_fds_open() == -1 || signals_setup() == -1)
		return EX_OSERR;
	*mask = &wait_mask;
	return 0;
}

static int
consume(const struct consume_opts *o, struct consumer *c)
{
	struct cursor	 cursor;
	struct run	 r;
	int		 status;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.c = c;
	if (std_fds_open() == -1 || signals_setup() == -1)
		return EX_OSERR;
	if (o->nats.link.urls != NULL)
		return js_consume_run(o, c);
	if ((r.s = stream_new(o->log)) == NULL) {
		msg("out of memory");
		return EX_OSERR;
	}
	if (o->cursor != NULL && (status = cursor_open(&cursor, o->cursor)) != 0) {
		stream_free(r.s);
		return status;
	}
	if (o->cursor != NULL)
		r.cursor = &cursor;
	r.saved_ms = monotonic_ms();
	status = c->start != NULL ? c->start(c, r.cursor) : 0;
	if (status == 0)
		status = save_output_start(&r);
	if (status == 0 && stream_start(r.s, r.cursor != NULL ? &cursor.pos : NULL,
	    o->from_seq, !o->once) == -1)
		status = stream_status(r.s);
	else if (status == 0)
		status = run(&r);
	if (r.cursor != NULL)
		cursor_close(&cursor);
	stream_free(r.s);
	return status;
}

int
consume_command(int argc, char **argv, const struct consume_args *args, struct consumer *c)
{
	struct consume_opts	 o;
	int			 rc;

	memset(&o, 0, sizeof(o));
	if ((rc = read_args(argc, argv, args, c, &o)) == EX_OK)
		rc = consume(&o, c);
	filter_free(&o.filter);
	return rc;
}
