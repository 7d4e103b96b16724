/* SPDX-License-Identifier: ISC */
/*
 * test-reload.c: the running configuration read again (reload.h): what a reload may
 * change, what it refuses and how it says so, a token rotation.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "reload.h"
#include "snapshot.h"
#include "tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define F		"/srv/idwise/idwise-fcgi.conf"
#define BASE		"auth = none\nlog = /srv/idwise/events.jsonl\nenv = live\n"
#define OLD_TOKEN	"old-SECRET-4b1d"
#define NEW_TOKEN	"new-SECRET-9c2e"

static char tmpdir[] = "/tmp/test-reload-XXXXXX";
static char conf_path[256], tokens_path[256], said_path[256];
static struct file_owner self;

/* Keys a reload may change or must refuse, from BASE plus one line. */
static const struct {
	const char	*line;
	const char	*want;		/* the key config_restart_key names, or NULL */
} changes[] = {
	{ "",					NULL },
	{ "log = /srv/idwise/other.jsonl\n",	"log" },
	{ "log = events.jsonl\n",		NULL },	/* the same file, relative to F */
	{ "env = sandbox\n",			"env" },
	{ "sync = none\n",			"sync" },
	{ "sync = data\n",			NULL },	/* the default, written out */
	{ "dedup_window = 7d\n",		"dedup_window" },
	{ "dedup_window = 24h\n",		NULL },	/* the default, in other words */
	{ "allow_from = 10.0.0.0/8\n",		NULL },
	{ "max_body = 1024\n",			NULL },
	{ "unknown_events = reject\n",		NULL },
	{ "reject_log = /srv/idwise/rejects.jsonl\n", NULL },
	{ "log_level = debug\n",		NULL },
	{ "status_path = /idwise/status\n",	NULL },
	{ "status_allow_from = 192.0.2.1\n",	NULL },
};

static int
parse(struct config *cfg, const char *text)
{
	char	 err[CONFIG_ERR_LEN];

	if (config_parse(cfg, text, strlen(text), F, "/srv/idwise", err, sizeof(err)) == 0)
		return 0;
	printf("#   %s\n", err);
	return -1;
}

static void
test_restart_keys(void)
{
	struct config	 running, next;
	char		 text[512];
	size_t		 i;

	if (parse(&running, BASE) == -1) {
		ok(0, "the base configuration parses");
		return;
	}
	for (i = 0; i < nitems(changes); i++) {
		snprintf(text, sizeof(text), BASE "%s", changes[i].line);
		/* a key given twice is an error: the line replaces BASE's */
		if (strncmp(changes[i].line, "log =", 5) == 0)
			snprintf(text, sizeof(text), "auth = none\nenv = live\n%s", changes[i].line);
		if (strncmp(changes[i].line, "env =", 5) == 0)
			snprintf(text, sizeof(text), "auth = none\n"
			    "log = /srv/idwise/events.jsonl\n%s", changes[i].line);
		if (parse(&next, text) == -1) {
			ok(0, "parses: %s", changes[i].line);
			continue;
		}
		is_str(config_restart_key(&running, &next), changes[i].want,
		    "a reload adding \"%.*s\" %s", (int)strcspn(changes[i].line, "\n"),
		    changes[i].line, changes[i].want != NULL ? "takes a restart" :
		    "is applied live");
		config_free(&next);
	}
	config_free(&running);
}

/* --- a running configuration read again from files ----------------------------------- */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) == -1 ||
	    close(fd) == -1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* A bearer config with its log at tmpdir/log_name, the tokens in tmpdir/tokens, extra. */
static void
write_conf(const char *log_name, const char *extra)
{
	char	 text[1024];

	snprintf(text, sizeof(text), "log = %s/%s\nauth = bearer\n"
	    "bearer_token_file = tokens\n%s", tmpdir, log_name, extra);
	write_file(conf_path, text, 0600);
}

/* running_config_reload() with its stderr into said_path; what it returned. */
static int
reload(struct running_config *rc)
{
	int	 fd, saved, rv;

	fflush(stderr);
	if ((fd = open(said_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1 || dup2(fd, STDERR_FILENO) == -1) {
		printf("Bail out! %s: %s\n", said_path, strerror(errno));
		exit(1);
	}
	close(fd);
	rv = running_config_reload(rc);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return rv;
}

/* What the last reload said: one line, starting with prefix, holding want, no secret. */
static void
said_one_line(const char *prefix, const char *want, const char *what)
{
	char	 buf[2048];
	ssize_t	 n;
	int	 fd, lines = 0;
	char	*p;

	buf[0] = '\0';
	if ((fd = open(said_path, O_RDONLY)) != -1) {
		if ((n = read(fd, buf, sizeof(buf) - 1)) >= 0)
			buf[n] = '\0';
		close(fd);
	}
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	is_int(lines, 1, "%s: said in one line", what);
	p = strstr(buf, prefix);
	ok(p != NULL && strstr(p + strlen(prefix), want) != NULL,
	    "%s: the line says \"%s%s\"", what, prefix, want);
	if (p == NULL || strstr(p + strlen(prefix), want) == NULL)
		printf("#   said: %s", buf);
	ok(strstr(buf, OLD_TOKEN) == NULL && strstr(buf, NEW_TOKEN) == NULL &&
	    strstr(buf, "SECRET") == NULL, "%s: no secret in it", what);
}

static bool
accepts(const struct snapshot *s, const char *token)
{
	char	 authz[128];

	snprintf(authz, sizeof(authz), "Bearer %s", token);
	return auth_permits(snapshot_config(s), authz, NULL);
}

/* Only the current configuration's tokens, as the next request would see them. */
static void
now_accepts(struct running_config *rc, bool old_ok, bool new_ok, const char *what)
{
	struct snapshot	*s = running_config_take(rc);

	ok(accepts(s, OLD_TOKEN) == old_ok, "%s: the old token is %s", what,
	    old_ok ? "accepted" : "refused");
	ok(accepts(s, NEW_TOKEN) == new_ok, "%s: the new token is %s", what,
	    new_ok ? "accepted" : "refused");
	snapshot_let_go(s);
}

static void
test_rotation(struct running_config *rc)
{
	struct snapshot	*before;

	now_accepts(rc, true, false, "at start");
	before = running_config_take(rc);
	write_file(tokens_path, OLD_TOKEN "\n" NEW_TOKEN "\n", 0600);
	is_int(reload(rc), 0, "a reload with the new token added");
	said_one_line(conf_path, ": reloaded", "the reload");
	now_accepts(rc, true, true, "new token added");
	ok(accepts(before, OLD_TOKEN) && !accepts(before, NEW_TOKEN),
	    "a request begun before the reload keeps the configuration it began under");
	write_file(tokens_path, NEW_TOKEN "\n", 0600);
	is_int(reload(rc), 0, "a reload with the old token removed");
	now_accepts(rc, false, true, "old token removed");
	ok(accepts(before, OLD_TOKEN), "  and the one begun before both still has the old one");
	snapshot_let_go(before);
}

/* Each refused with one line; the configuration in use stays (only the new token). */
static void
test_refused(struct running_config *rc)
{
	static const struct {
		const char	*what;
		const char	*log;		/* the log's name in tmpdir */
		const char	*extra;		/* config lines added */
		const char	*tokens;	/* what the token file becomes; NULL: removed */
		mode_t		 mode;
		const char	*want;
	} refusals[] = {
		{ "a syntax error", "events.jsonl", "max_body = lots\n", NEW_TOKEN "\n", 0600,
		    "max_body: not a positive number of bytes" },
		{ "an unknown key", "events.jsonl", "bearer_token = " NEW_TOKEN "\n",
		    NEW_TOKEN "\n", 0600, "unknown key" },
		{ "a missing secret file", "events.jsonl", "", NULL, 0,
		    "bearer_token_file: cannot open" },
		{ "a secret file others may read", "events.jsonl", "", NEW_TOKEN "\n", 0644,
		    "readable by others" },
		{ "an empty secret file", "events.jsonl", "", "\n", 0600, "no secret in it" },
		{ "a change of log", "other.jsonl", "", NEW_TOKEN "\n", 0600,
		    "log: changed, and only a restart changes it" },
		{ "a change of sync", "events.jsonl", "sync = none\n", NEW_TOKEN "\n", 0600,
		    "sync: changed, and only a restart changes it" },
	};
	size_t	 i;

	for (i = 0; i < nitems(refusals); i++) {
		write_conf(refusals[i].log, refusals[i].extra);
		unlink(tokens_path);
		if (refusals[i].tokens != NULL)
			write_file(tokens_path, refusals[i].tokens, refusals[i].mode);
		is_int(reload(rc), -1, "%s is refused", refusals[i].what);
		said_one_line("reload refused, the configuration in use is kept: ",
		    refusals[i].want, refusals[i].what);
		now_accepts(rc, false, true, refusals[i].what);
	}
	write_conf("events.jsonl", "max_body = 1024\n");
	write_file(tokens_path, NEW_TOKEN "\n", 0600);
	is_int(reload(rc), 0, "fixed again, a reload is applied");
	{
		struct snapshot	*s = running_config_take(rc);

		is_int(snapshot_config(s)->max_body, 1024, "  with the new max_body");
		snapshot_let_go(s);
	}
}

static void
test_running(void)
{
	struct running_config	*rc;
	struct config		 cfg;
	char			 err[CONFIG_ERR_LEN];

	snprintf(conf_path, sizeof(conf_path), "%s/idwise-fcgi.conf", tmpdir);
	snprintf(tokens_path, sizeof(tokens_path), "%s/tokens", tmpdir);
	snprintf(said_path, sizeof(said_path), "%s/said", tmpdir);
	write_conf("events.jsonl", "");
	write_file(tokens_path, OLD_TOKEN "\n", 0600);
	if (config_load_as(&cfg, conf_path, &self, err, sizeof(err)) == -1) {
		printf("#   %s\n", err);
		ok(0, "the first configuration loads");
		return;
	}
	rc = running_config_new(&cfg, &self);
	ok(rc != NULL, "running_config_new");
	ok(cfg.path == NULL && cfg.creds == NULL, "  moves the configuration in");
	config_free(&cfg);
	test_rotation(rc);
	test_refused(rc);
	running_config_free(rc);
}

int
main(void)
{
	self.uid = geteuid();
	self.gid = getegid();
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_restart_keys();
	test_running();
	unlink(conf_path);
	unlink(tokens_path);
	unlink(said_path);
	rmdir(tmpdir);
	return done_testing();
}
