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
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "idwise-log.h"
#include "log-consume.h"
#include "logfile.h"
#include "util.h"

#define ATTEMPTS_DEFAULT	5
#define ATTEMPTS_MAX		1000
#define BACKOFF_DEFAULT_MS	1000
#define BACKOFF_MAX_MS		3600000
#define BACKOFF_DOUBLINGS	6		/* the delay stops growing at 64 times --backoff */
#define DEAD_LETTER_MODE	0640

extern char **environ;

enum {
	OPT_MAX_ATTEMPTS = OPT_CONSUME_END,
	OPT_BACKOFF,
	OPT_DEAD_LETTER
};

struct exec {
	struct consumer	 c;		/* first: the loop hands this back */
	char		**argv;
	uint64_t	 max_attempts;
	uint64_t	 backoff_ms;
	const char	*dead_letter;
	int		 dl_fd;
};

/* The record members a command finds in its environment (null or missing: ""). */
static const struct {
	const char	*var;
	const char	*member;
} env_members[] = {
	{ "IDWISE_ID",			"id" },
	{ "IDWISE_TYPE",		"type" },
	{ "IDWISE_OUTCOME",		"outcome" },
	{ "IDWISE_JOURNEY_ID",		"journey_id" },
	{ "IDWISE_REFERENCE_NO",	"reference_no" },
	{ "IDWISE_ENV",			"env" },
};
#define NMEMBERS	(sizeof(env_members) / sizeof(env_members[0]))
#define NOURS		(NMEMBERS + 2)	/* and IDWISE_SEQ, IDWISE_ATTEMPT */

struct cmd_env {
	char	**v;
	size_t	  own_from;	/* v[own_from..] are ours to free */
};

/* Is this environ entry one of the variables we set? */
static bool
ours(const char *entry)
{
	static const char *const extra[] = { "IDWISE_SEQ", "IDWISE_ATTEMPT" };
	size_t	 i, n;

	for (i = 0; i < NOURS; i++) {
		const char *name = i < NMEMBERS ? env_members[i].var : extra[i - NMEMBERS];

		n = strlen(name);
		if (strncmp(entry, name, n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

static int
env_add(struct cmd_env *env, size_t *k, const char *var, const char *value)
{
	if (asprintf(&env->v[*k], "%s=%s", var, value != NULL ? value : "") == -1) {
		env->v[*k] = NULL;
		return -1;
	}
	(*k)++;
	return 0;
}

static void
env_free(struct cmd_env *env)
{
	size_t	 i;

	if (env->v == NULL)
		return;
	for (i = env->own_from; env->v[i] != NULL; i++)
		free(env->v[i]);
	free(env->v);
	env->v = NULL;
}

static int
env_build(struct cmd_env *env, const struct stream_rec *rec, uint64_t attempt)
{
	char	 num[2][24];
	size_t	 n, i, k = 0;
	int	 rc = 0;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env->v = calloc(n + NOURS + 1, sizeof(*env->v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!ours(environ[i]))
			env->v[k++] = environ[i];
	env->own_from = k;
	snprintf(num[0], sizeof(num[0]), "%" PRIu64, rec->view.seq);
	snprintf(num[1], sizeof(num[1]), "%" PRIu64, attempt);
	rc |= env_add(env, &k, "IDWISE_SEQ", num[0]);
	rc |= env_add(env, &k, "IDWISE_ATTEMPT", num[1]);
	for (i = 0; i < NMEMBERS && rc == 0; i++)
		rc |= env_add(env, &k, env_members[i].var,
		    record_string(&rec->view, env_members[i].member));
	if (rc != 0)
		env_free(env);
	return rc;
}

/* The line and its '\n' in an anonymous file: the command's standard input. */
static int
record_input(const struct stream_rec *rec)
{
	int	 fd;

	if ((fd = memfd_create("idwise-record", MFD_CLOEXEC)) == -1) {
		msg("memfd_create: %s", strerror(errno));
		return -1;
	}
	if (write_all(fd, rec->line, rec->len) == -1 || write_all(fd, "\n", 1) == -1) {
		msg("memfd: write: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

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
		msg("memfd: lseek: %s", strerror(errno));
		return -1;
	}
	if (env_build(&env, rec, attempt) == -1) {
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
	env_free(&env);
	while (rc == 0 && waitpid(pid, wstatus, 0) == -1) {
		if (errno != EINTR) {
			msg("waitpid: %s", strerror(errno));
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

static int
add(json_object *obj, const char *name, json_object *value)
{
	if (value == NULL)
		return -1;
	if (json_object_object_add(obj, name, value) == 0)
		return 0;
	json_object_put(value);
	return -1;
}

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
	rc = add(obj, "seq", json_object_new_uint64(rec->view.seq));
	rc |= add(obj, "id", json_object_new_string_len(rec->view.id, (int)rec->view.id_len));
	rc |= add(obj, "attempts", json_object_new_uint64(attempts));
	rc |= add(obj, "last_status", json_object_new_string(why));
	rc |= add(obj, "failed_at", json_object_new_string(at));
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
		msg("%s: write: %s", e->dead_letter, strerror(errno));
		free(line);
		e->c.status = EX_IOERR;
		return ACT_STOP;
	}
	free(line);
	msg("seq %" PRIu64 ": put in %s after %" PRIu64 " attempts", rec->view.seq,
	    e->dead_letter, attempts);
	return ACT_DONE;
}

/* Stop before the record, not past it: it runs again on the next start. */
static enum act
stop(struct exec *e, int input, int status)
{
	if (input != -1)
		close(input);
	e->c.status = status;
	return ACT_STOP;
}

static enum act
exec_act(struct consumer *c, const struct stream_rec *rec)
{
	struct exec	*e = (struct exec *)c;
	uint64_t	 attempt;
	char		 why[64];
	int		 input, wstatus;

	if ((input = record_input(rec)) == -1)
		return stop(e, -1, EX_OSERR);
	for (attempt = 1; ; attempt++) {
		if (attempt > 1 && consume_pause(delay_ms(e, attempt)) == -1)
			return stop(e, input, EX_OK);
		if (run_once(e, rec, input, attempt, &wstatus) == -1)
			return stop(e, input, EX_UNAVAILABLE);
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
			close(input);
			return ACT_DONE;
		}
		describe(wstatus, why, sizeof(why));
		msg("seq %" PRIu64 ": %s: %s (attempt %" PRIu64 " of %" PRIu64 ")",
		    rec->view.seq, e->argv[0], why, attempt, e->max_attempts);
		/* A stop may be what failed it (systemd signals the whole group): not its fault. */
		if (consume_stopping())
			return stop(e, input, EX_OK);
		if (attempt >= e->max_attempts)
			break;
	}
	close(input);
	return dead_letter(e, rec, attempt, why);
}

static int
any_line(const char *line, size_t len, off_t at, void *arg)
{
	(void)line;
	(void)len;
	(void)at;
	(void)arg;
	return 0;
}

/*
 * A last line without its newline is one whose write a power cut or a crash stopped
 * before its sync (so its record was not passed): cut off, lest the next line join it.
 */
static int
cut_torn_line(struct exec *e)
{
	struct stat	 st;
	off_t		 end;

	if (fstat(e->dl_fd, &st) == -1 ||
	    logfile_lines(e->dl_fd, 0, st.st_size, any_line, NULL, &end) == -1) {
		msg("%s: read: %s", e->dead_letter, strerror(errno));
		return -1;
	}
	if (end == st.st_size)
		return 0;
	if (ftruncate(e->dl_fd, end) == -1 || fdatasync(e->dl_fd) == -1) {
		msg("%s: cutting a torn last line: %s", e->dead_letter, strerror(errno));
		return -1;
	}
	msg("%s: cut a torn last line of %lld bytes (written, never synced)", e->dead_letter,
	    (long long)(st.st_size - end));
	return 0;
}

/*
 * The dead-letter file is opened at the start, so that a bad path shows at once; its
 * directory is synced, so that its name is on disk before a line in it counts.
 */
static int
exec_start(struct consumer *c, const struct cursor *cursor)
{
	struct exec	*e = (struct exec *)c;

	(void)cursor;
	signal(SIGPIPE, SIG_IGN);
	if (e->dead_letter == NULL)
		return 0;
	e->dl_fd = open(e->dead_letter, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    DEAD_LETTER_MODE);
	if (e->dl_fd == -1) {
		msg("%s: open: %s", e->dead_letter, strerror(errno));
		return EX_CANTCREAT;
	}
	if (cut_torn_line(e) == -1 || logfile_sync_dir(e->dead_letter) != 0)
		return EX_IOERR;
	return 0;
}

static int
usage_error(struct consume_opts *o, const char *self)
{
	consume_opts_free(o);
	return cmd_usage(self);
}

/* 1: one of exec's own options, taken; -1: a bad value. */
static int
exec_option(struct exec *e, int ch, const char *arg)
{
	switch (ch) {
	case OPT_MAX_ATTEMPTS:
		if (parse_u64(arg, 1, ATTEMPTS_MAX, &e->max_attempts) == 0)
			return 1;
		msg("--max-attempts: not a number from 1 to %d: %s", ATTEMPTS_MAX, arg);
		return -1;
	case OPT_BACKOFF:
		if (parse_u64(arg, 0, BACKOFF_MAX_MS, &e->backoff_ms) == 0)
			return 1;
		msg("--backoff: not a number of ms from 0 to %d: %s", BACKOFF_MAX_MS, arg);
		return -1;
	case OPT_DEAD_LETTER:
		e->dead_letter = arg;
		return 1;
	default:
		return 0;
	}
}

int
cmd_exec(int argc, char **argv)
{
	static const struct option options[] = {
		CONSUME_LONG_OPTIONS,
		{ "max-attempts",	required_argument,	NULL, OPT_MAX_ATTEMPTS },
		{ "backoff",		required_argument,	NULL, OPT_BACKOFF },
		{ "dead-letter",	required_argument,	NULL, OPT_DEAD_LETTER },
		{ NULL,			0,			NULL, 0 }
	};
	struct consume_opts	 o;
	struct exec		 e;
	int			 ch, rc;

	memset(&o, 0, sizeof(o));
	memset(&e, 0, sizeof(e));
	e.c.start = exec_start;
	e.c.act = exec_act;
	e.max_attempts = ATTEMPTS_DEFAULT;
	e.backoff_ms = BACKOFF_DEFAULT_MS;
	e.dl_fd = -1;
	/* "+": options end at LOG, so that the command's own options stay its own. */
	while ((ch = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if ((rc = consume_option(&o, ch, optarg)) == 0)
			rc = exec_option(&e, ch, optarg);
		if (rc != 1)
			return usage_error(&o, argv[0]);
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0) {
		msg("want LOG -- COMMAND [ARG...] after the options");
		return usage_error(&o, argv[0]);
	}
	o.log = argv[optind];
	e.argv = argv + optind + 2;
	rc = consume(&o, &e.c);
	if (e.dl_fd != -1 && close(e.dl_fd) == -1)
		msg("%s: close: %s", e.dead_letter, strerror(errno));
	consume_opts_free(&o);
	return rc;
}
