/* SPDX-License-Identifier: ISC */
/*
 * log-exec.c: idwise-log exec: run a command once for each record, with the record on its
 * standard input and its fields in its environment. The cursor moves past a record only
 * when the command exits 0. A failure is tried again after --backoff ms, then twice that,
 * four times... (at most 64 times), --max-attempts times in all; then the record goes to
 * the dead-letter file with the reason, and the stream goes on.
 *
 * The command is started with posix_spawnp, never through a shell. Its standard input is
 * a memfd holding the line (so it can read all, some or none of it, and never blocks us);
 * every other descriptor of ours is close-on-exec. Its signal mask and dispositions are
 * the ones idwise-log was started with.
 *
 * With --metrics FILE, the counts and the dead-letter file's size go to FILE (a textfile
 * for node_exporter: exec-metrics.h) at the start, every second between records and in
 * the backoff, and at the exit.
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exec-env.h"
#include "exec-metrics.h"
#include "idwise-log.h"
#include "log-consume.h"
#include "logfile.h"
#include "logformat.h"
#include "util.h"

#define ATTEMPTS_DEFAULT	5
#define ATTEMPTS_MAX		1000
#define BACKOFF_DEFAULT_MS	1000
#define BACKOFF_MAX_MS		3600000
#define BACKOFF_DOUBLINGS	6		/* the delay stops growing at 64 times --backoff */
#define DEAD_LETTER_MODE	0640

enum {
	OPT_MAX_ATTEMPTS = OPT_CONSUME_END,
	OPT_BACKOFF,
	OPT_DEAD_LETTER,
	OPT_METRICS
};

struct exec {
	struct consumer	 c;		/* first: the loop hands this back */
	char		**argv;
	uint64_t	 max_attempts;
	uint64_t	 backoff_ms;
	const char	*dead_letter;
	int		 dl_fd;
	struct exec_metrics	 m;
};

/* --- running the command ------------------------------------------------------------- */

static int
spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, int input)
{
	sigset_t	 dflt;

	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);	/* ignored here, not in the command */
	return posix_spawn_file_actions_adddup2(fa, input, STDIN_FILENO) != 0 ||
	    posix_spawnattr_setsigdefault(attr, &dflt) != 0 ||
	    posix_spawnattr_setsigmask(attr, consume_start_mask()) != 0 ||
	    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0 ?
	    -1 : 0;
}

/* Run the command once and wait for it; 0 with its wait status, -1 when it could not start. */
static int
run_once(struct exec *e, const struct stream_rec *rec, int input, uint64_t attempt,
    int *wstatus)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	struct cmd_env			 env;
	pid_t				 pid;
	int				 rc = -1;

	if (lseek(input, 0, SEEK_SET) == -1) {
		msg_errno("memfd: lseek");
		return -1;
	}
	if (exec_env_build(&env, rec, attempt) == -1) {
		msg("out of memory");
		return -1;
	}
	if (posix_spawn_file_actions_init(&fa) != 0)
		msg("posix_spawn: setting up: out of memory");
	else {
		if (posix_spawnattr_init(&attr) != 0)
			msg("posix_spawn: setting up: out of memory");
		else {
			if (spawn_setup(&fa, &attr, input) == -1)
				msg("posix_spawn: setting up: out of memory");
			else if ((rc = posix_spawnp(&pid, e->argv[0], &fa, &attr, e->argv,
			    env.v)) != 0) {
				msg("%s: %s", e->argv[0], strerror(rc));
				rc = -1;
			}
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	exec_env_free(&env);
	if (rc == 0)
		e->m.stats.runs++;
	while (rc == 0 && waitpid(pid, wstatus, 0) == -1) {
		if (errno != EINTR) {
			msg_errno("waitpid");
			rc = -1;
		}
	}
	return rc;
}

static void
describe(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exit %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "signal %d", WTERMSIG(wstatus));
	else
		snprintf(buf, size, "wait status %d", wstatus);
}

/* The wait before attempt n (from 2): backoff, twice that, four times... up to 64 times. */
static long
delay_ms(const struct exec *e, uint64_t attempt)
{
	uint64_t	 doublings = attempt - 2;

	if (doublings > BACKOFF_DOUBLINGS)
		doublings = BACKOFF_DOUBLINGS;
	return (long)(e->backoff_ms << doublings);
}

/* --- the dead-letter file ------------------------------------------------------------ */

/*
 * {"seq":N,"id":"...","attempts":N,"last_status":"exit 3","failed_at":"...","record":{...}}
 * with the record exactly as stored, so that its hash still matches the chain.
 */
static char *
dead_letter_line(const struct stream_rec *rec, uint64_t attempts, const char *why,
    size_t *len)
{
	json_object	*obj;
	struct timespec	 now;
	const char	*head;
	char		 at[RFC3339_MS_LEN + 1], *line = NULL;
	size_t		 hlen;
	int		 rc;

	clock_gettime(CLOCK_REALTIME, &now);
	format_rfc3339_ms(&now, at);
	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	rc = json_put(obj, "seq", json_object_new_uint64(rec->view.seq));
	rc |= json_put(obj, "id", json_object_new_string_len(rec->view.id, (int)rec->view.id_len));
	rc |= json_put(obj, "attempts", json_object_new_uint64(attempts));
	rc |= json_put(obj, "last_status", json_object_new_string(why));
	rc |= json_put(obj, "failed_at", json_object_new_string(at));
	if (rc == 0 && (head = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &hlen)) != NULL &&
	    hlen >= 2 && head[hlen - 1] == '}' &&
	    asprintf(&line, "%.*s,\"record\":%.*s}\n", (int)(hlen - 1), head, (int)rec->len,
	    rec->line) != -1)
		*len = strlen(line);
	json_object_put(obj);
	return line;
}

static enum act
dead_letter(struct exec *e, const struct stream_rec *rec, uint64_t attempts, const char *why)
{
	char	*line;
	size_t	 len = 0;

	if (e->dl_fd == -1) {
		msg("seq %" PRIu64 ": gave up after %" PRIu64 " attempts; with no --dead-letter "
		    "file, stopping here (the record is run again on the next start)",
		    rec->view.seq, attempts);
		e->c.status = EX_TEMPFAIL;
		return ACT_STOP;
	}
	if ((line = dead_letter_line(rec, attempts, why, &len)) == NULL) {
		msg("out of memory");
		e->c.status = EX_OSERR;
		return ACT_STOP;
	}
	if (write_all(e->dl_fd, line, len) == -1 || fdatasync(e->dl_fd) == -1) {
		msg_errno("%s: write", e->dead_letter);
		free(line);
		e->c.status = EX_IOERR;
		return ACT_STOP;
	}
	free(line);
	e->m.stats.given_up++;
	e->m.stats.last_seq = rec->view.seq;
	msg("seq %" PRIu64 ": put in %s after %" PRIu64 " attempts", rec->view.seq,
	    e->dead_letter, attempts);
	return ACT_GIVE_UP;
}

/* --- each record --------------------------------------------------------------------- */

/* Stop before the record, not past it: it runs again on the next start. */
static enum act
stop(struct exec *e, int input, int status)
{
	if (input != -1)
		close(input);
	e->c.status = status;
	return ACT_STOP;
}

/*
 * One attempt: ACT_DONE when the command exited 0, ACT_RETRY when it failed (why says
 * how), ACT_STOP when it could not be started or a stop came.
 */
static enum act
attempt(struct exec *e, const struct stream_rec *rec, int input, uint64_t n, char *why,
    size_t whylen)
{
	int	 wstatus;

	if (run_once(e, rec, input, n, &wstatus) == -1) {
		e->c.status = EX_UNAVAILABLE;
		return ACT_STOP;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		e->m.stats.done++;
		e->m.stats.last_seq = rec->view.seq;
		return ACT_DONE;
	}
	e->m.stats.failures++;
	describe(wstatus, why, whylen);
	msg("seq %" PRIu64 ": %s: %s (attempt %" PRIu64 " of %" PRIu64 ")", rec->view.seq,
	    e->argv[0], why, n, e->max_attempts);
	/* A stop may be what failed it (systemd signals the whole group): not its fault. */
	if (consume_stopping()) {
		e->c.status = EX_OK;
		return ACT_STOP;
	}
	return ACT_RETRY;
}

/* The backoff: -1 when a stop came. The metrics are kept fresh meanwhile. */
static int
pause_between(struct exec *e, long ms)
{
	long	 step;

	do {
		step = ms < TEXTFILE_EVERY_MS ? ms : TEXTFILE_EVERY_MS;
		exec_metrics_tick(&e->m, e->dl_fd, false);
		if (consume_pause(step) == -1)
			return -1;
	} while ((ms -= step) > 0);
	return 0;
}

/* From a log: every attempt here, with the backoff between them. */
static enum act
exec_record(struct exec *e, const struct stream_rec *rec, int input)
{
	enum act	 a;
	uint64_t	 n;
	char		 why[64];

	for (n = 1; ; n++) {
		if (n > 1 && pause_between(e, delay_ms(e, n)) == -1)
			return stop(e, input, EX_OK);
		if ((a = attempt(e, rec, input, n, why, sizeof(why))) != ACT_RETRY) {
			close(input);
			return a;
		}
		if (n >= e->max_attempts)
			break;
	}
	close(input);
	return dead_letter(e, rec, n, why);
}

/* From a stream: this delivery's attempt; the stream brings the record again for the next. */
static enum act
exec_delivery(struct exec *e, const struct stream_rec *rec, int input)
{
	uint64_t	 n = e->c.delivery;
	enum act	 a;
	char		 why[64];

	a = attempt(e, rec, input, n, why, sizeof(why));
	close(input);
	if (a != ACT_RETRY)
		return a;
	if (n >= e->max_attempts)
		return dead_letter(e, rec, n, why);
	e->c.retry_ms = delay_ms(e, n + 1);
	return ACT_RETRY;
}

static enum act
exec_act(struct consumer *c, const struct stream_rec *rec)
{
	struct exec	*e = (struct exec *)c;
	enum act	 a;
	int		 input;

	if ((input = exec_input_new(rec)) == -1)
		return stop(e, -1, EX_OSERR);
	a = c->delivery > 0 ? exec_delivery(e, rec, input) : exec_record(e, rec, input);
	exec_metrics_tick(&e->m, e->dl_fd, false);
	return a;
}

/* Between records, and at least every second while waiting for one. */
static void
exec_tick(struct consumer *c)
{
	struct exec	*e = (struct exec *)c;

	exec_metrics_tick(&e->m, e->dl_fd, false);
}

/*
 * A last line without its newline is one whose write a power cut or a crash stopped
 * before its sync (so its record was not passed): cut off, lest the next line join it.
 */
static int
cut_torn_line(struct exec *e)
{
	struct log_last	 last;
	struct stat	 st;
	int		 rc = -1;

	memset(&last, 0, sizeof(last));
	if (fstat(e->dl_fd, &st) == -1)
		msg_errno("%s: fstat", e->dead_letter);
	else if (st.st_size == 0)
		rc = 0;
	else if (logformat_last_line(e->dl_fd, st.st_size, &last) == LINE_ERROR)
		msg_errno("%s: read", e->dead_letter);
	else if (last.torn == 0)
		rc = 0;
	else if (ftruncate(e->dl_fd, st.st_size - last.torn) == -1 ||
	    fdatasync(e->dl_fd) == -1)
		msg_errno("%s: cutting a torn last line", e->dead_letter);
	else {
		msg("%s: cut a torn last line of %lld bytes (written, never synced)",
		    e->dead_letter, (long long)last.torn);
		rc = 0;
	}
	free(last.buf);
	return rc;
}

/*
 * The dead-letter file is opened at the start, so that a bad path shows at once; its
 * directory is synced, so that its name is on disk before a line in it counts. Then the
 * metrics file is written a first time.
 */
static int
exec_start(struct consumer *c, const struct cursor *cursor)
{
	struct exec	*e = (struct exec *)c;

	(void)cursor;
	signal(SIGPIPE, SIG_IGN);
	if (e->dead_letter != NULL) {
		e->dl_fd = open(e->dead_letter,
		    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, DEAD_LETTER_MODE);
		if (e->dl_fd == -1) {
			msg_errno("%s: open", e->dead_letter);
			return EX_CANTCREAT;
		}
		if (cut_torn_line(e) == -1 || logfile_sync_dir(e->dead_letter) != 0)
			return EX_IOERR;
	}
	e->m.stats.dead_letter = e->dead_letter;
	e->m.started = true;
	exec_metrics_tick(&e->m, e->dl_fd, true);
	return 0;
}

/* --- the arguments ------------------------------------------------------------------- */

/* exec's options that are numbers: their ranges, and where each goes. */
static const struct {
	int		 ch;
	const char	*name;
	const char	*what;
	long long	 min, max;
	size_t		 off;
} number_options[] = {
	{ OPT_MAX_ATTEMPTS, "--max-attempts", "a number", 1, ATTEMPTS_MAX,
	    offsetof(struct exec, max_attempts) },
	{ OPT_BACKOFF, "--backoff", "a number of ms", 0, BACKOFF_MAX_MS,
	    offsetof(struct exec, backoff_ms) },
};

/* 1: one of exec's own options, taken; 0: not one of them; -1: a bad value. */
static int
exec_option(struct consumer *c, int ch, const char *arg)
{
	struct exec	*e = (struct exec *)c;
	long long	 n;
	size_t		 i;

	if (ch == OPT_DEAD_LETTER) {
		e->dead_letter = arg;
		return 1;
	}
	if (ch == OPT_METRICS) {
		e->m.file.path = arg;
		return 1;
	}
	for (i = 0; i < nitems(number_options) && number_options[i].ch != ch; i++)
		;
	if (i == nitems(number_options))
		return 0;
	if (parse_number(arg, 10, number_options[i].min, number_options[i].max, &n) == -1) {
		msg("%s: not %s from %lld to %lld: %s", number_options[i].name,
		    number_options[i].what, number_options[i].min, number_options[i].max, arg);
		return -1;
	}
	*(uint64_t *)((char *)e + number_options[i].off) = (uint64_t)n;
	return 1;
}

/* LOG -- COMMAND [ARG...] */
static int
exec_rest(struct consumer *c, struct consume_opts *o, int argc, char **argv)
{
	struct exec	*e = (struct exec *)c;

	if (o->nats.link.urls != NULL) {
		/* getopt took the "--" that ends the options. */
		if (argc < 1 || strcmp(argv[-1], "--") != 0) {
			msg("with --nats, want -- COMMAND [ARG...] after the options (no LOG)");
			return -1;
		}
		e->argv = argv;
		e->m.stats.stream = o->nats.stream;
		e->m.stats.durable = o->nats.durable;
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		msg("want LOG -- COMMAND [ARG...] after the options");
		return -1;
	}
	o->log = argv[0];
	e->m.stats.log = o->log;
	e->argv = argv + 2;
	return 0;
}

static const struct option exec_options[] = {
	CONSUME_LONG_OPTIONS,
	JS_LINK_LONG_OPTIONS,
	{ "max-attempts",	required_argument,	NULL, OPT_MAX_ATTEMPTS },
	{ "backoff",		required_argument,	NULL, OPT_BACKOFF },
	{ "dead-letter",	required_argument,	NULL, OPT_DEAD_LETTER },
	{ "metrics",		required_argument,	NULL, OPT_METRICS },
	{ NULL,			0,			NULL, 0 }
};

/* "+": options end at LOG, so that the command's own options stay its own. */
static const struct consume_args exec_args = { "+", exec_options, exec_option, exec_rest };

int
cmd_exec(int argc, char **argv)
{
	struct exec	 e = {
		.c = { .start = exec_start, .act = exec_act, .tick = exec_tick },
		.max_attempts = ATTEMPTS_DEFAULT,
		.backoff_ms = BACKOFF_DEFAULT_MS,
		.dl_fd = -1,
	};
	int		 rc;

	rc = consume_command(argc, argv, &exec_args, &e.c);
	exec_metrics_tick(&e.m, e.dl_fd, true);		/* however it ended, once started */
	if (e.dl_fd != -1 && close(e.dl_fd) == -1)
		msg_errno("%s: close", e.dead_letter);
	return rc;
}
