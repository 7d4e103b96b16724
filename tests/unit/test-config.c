/* SPDX-License-Identifier: ISC */
/* test-config.c: the configuration file of idwise-fcgi.conf(5): keys, defaults, errors, secret files. */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "allowlist.h"
#include "auth.h"
#include "tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define F		"/srv/idwise/idwise-fcgi.conf"	/* file named by config_parse tests */
#define CONF_DIR	"/srv/idwise"
#define MISSING_AUTH	F ": auth: missing (required: none, basic, bearer or header)"
#define SECRET_MARK	"SECRET"	/* every secret in this file holds it */

static char tmpdir[] = "/tmp/test-config-XXXXXX";
static char realdir[128];		/* tmpdir with symlinks resolved */

/* Configurations config_parse must refuse, and how the error line must start. */
static const struct {
	const char	*text;
	const char	*want;
} bad_configs[] = {
	{ "auth = none\nfoo = 1\n",		F ":2: foo: unknown key" },
	{ "auth = none\nAuth = none\n",		F ":2: Auth: unknown key" },
	{ "auth = none\nmax body = 1\n",	F ":2: max body: unknown key" },
	{ "auth = none\nauth = basic\n",	F ":2: auth: given twice (first on line 1)" },
	{ "auth = none\nenv = a\n\nenv = a\n",	F ":4: env: given twice (first on line 2)" },
	{ "auth = none\njust some words\n",	F ":2: expected \"key = value\"" },
	{ "auth = none\n= none\n",		F ":2: expected \"key = value\"" },
	{ "auth = none\nlog\n",			F ":2: expected \"key = value\"" },
	{ "auth =\n",				F ":1: auth: empty value" },
	{ "auth = none\nlog =  \t \n",		F ":2: log: empty value" },
	{ "auth = none\nenv = \r\n",		F ":2: env: empty value" },
	{ "auth = ldap\n",	F ":1: auth: must be none, basic, bearer or header" },
	{ "auth = None\n",	F ":1: auth: must be none, basic, bearer or header" },
	{ "",					MISSING_AUTH },
	{ "# only a comment\n\n",		MISSING_AUTH },
	{ "env = sandbox\n",			MISSING_AUTH },
	{ "auth = none\nmax_body = 0\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = 000\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = -1\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = +5\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = 12x\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = 64k\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\ndedup_window = 24\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\ndedup_window = 0h\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\ndedup_window = 2w\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\ndedup_window = 1.5h\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\ndedup_window = 367d\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\ndedup_window = h\n",
	    F ":2: dedup_window: not a duration from 1s to 366d (a number and s, m, h or d)" },
	{ "auth = none\nmax_body = 0x100\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = 1 000\n",
	    F ":2: max_body: not a positive number of bytes" },
	{ "auth = none\nmax_body = 67108865\n",
	    F ":2: max_body: more than 67108864 bytes (64 MiB)" },
	{ "auth = none\nmax_body = 99999999999999999999999999\n",
	    F ":2: max_body: more than 67108864 bytes (64 MiB)" },
	{ "auth = none\nunknown_events = drop\n",
	    F ":2: unknown_events: must be accept or reject" },
	{ "auth = none\nunknown_events = ACCEPT\n",
	    F ":2: unknown_events: must be accept or reject" },
	{ "auth = none\nsync = full\n",		F ":2: sync: must be data or none" },
	{ "auth = none\nsync = fsync\n",	F ":2: sync: must be data or none" },
	{ "auth = none\nenv = live env\n",
	    F ":2: env: must be 1 to 64 of A-Z a-z 0-9 . _ -" },
	{ "auth = none\nenv = eu/west\n",	F ":2: env: must be 1 to 64" },
	{ "auth = none\nenv = \xc3\xa9t\xc3\xa9\n",	F ":2: env: must be 1 to 64" },
	{ "auth = none\nenv = "
	    "a123456789b123456789c123456789d123456789e123456789f123456789g1234\n",
	    F ":2: env: must be 1 to 64" },
	{ "auth = header\nheader_name = X_Token\nheader_value_file = /v\n",
	    F ":2: header_name: must be letters, digits and '-' only" },
	{ "auth = header\nheader_name = X Token\nheader_value_file = /v\n",
	    F ":2: header_name: must be letters, digits and '-' only" },
	{ "auth = header\nheader_name = X-Token: v\nheader_value_file = /v\n",
	    F ":2: header_name: must be letters, digits and '-' only" },
	{ "auth = header\nheader_name = X-Token # the header\nheader_value_file = /v\n",
	    F ":2: header_name: must be letters, digits and '-' only" },
	{ "auth = header\nheader_name = Authorization\nheader_value_file = /v\n",
	    F ":2: header_name: Authorization cannot carry the credential" },
	{ "auth = header\nheader_name = content-type\nheader_value_file = /v\n",
	    F ":2: header_name: Content-Type cannot carry the credential" },
	{ "auth = header\nheader_name = CONTENT-LENGTH\nheader_value_file = /v\n",
	    F ":2: header_name: Content-Length cannot carry the credential" },
	{ "auth = none\nallow_from = 10.0.0.0/33\n",
	    F ":2: allow_from: entry 1: prefix length must be 0 to 32" },
	{ "auth = none\nallow_from = 10.0.0.1,,10.0.0.2\n",
	    F ":2: allow_from: entry 2 is empty" },
	{ "auth = none\nallow_from = 10.0.0.1, example.com\n",
	    F ":2: allow_from: entry 2: not an IPv4 or IPv6 address" },
	{ "auth = none\nallow_from = 10.0.0.1 10.0.0.2\n",
	    F ":2: allow_from: entry 1: one address or block per entry" },
	{ "auth = basic\nbasic_user = alice\nbasic_password_file = /p\n"
	    "bearer_token_file = /t\n",
	    F ":4: bearer_token_file: not used with auth = basic" },
	{ "auth = bearer\nbearer_token_file = /t\nbasic_user = alice\n",
	    F ":3: basic_user: not used with auth = bearer" },
	{ "header_value_file = /v\nauth = bearer\nbearer_token_file = /t\n",
	    F ":1: header_value_file: not used with auth = bearer" },
	{ "auth = none\nheader_name = X-Token\n",
	    F ":2: header_name: not used with auth = none" },
	{ "auth = none\nbasic_password_file = /p\n",
	    F ":2: basic_password_file: not used with auth = none" },
	{ "auth = basic\nbasic_password_file = /p\n",
	    F ": basic_user: missing (required with auth = basic)" },
	{ "auth = basic\nbasic_user = alice\n",
	    F ": basic_password_file: missing (required with auth = basic)" },
	{ "auth = bearer\n",
	    F ": bearer_token_file: missing (required with auth = bearer)" },
	{ "auth = header\nheader_value_file = /v\n",
	    F ": header_name: missing (required with auth = header)" },
	{ "auth = header\nheader_name = X-Token\n",
	    F ": header_value_file: missing (required with auth = header)" },
	{ "auth = basic\nbasic_user = al:ice\nbasic_password_file = /p\n",
	    F ":2: basic_user: must not contain ':' or control characters" },
	{ "auth = basic\nbasic_user = al\x01ice\nbasic_password_file = /p\n",
	    F ":2: basic_user: must not contain ':' or control characters" },
	{ "auth = none\ntok-SECRET-pasted-by-mistake\n",	F ":2: expected \"key = value\"" },
	{ "auth = none\ndG9rLXNlY3JldC1iYXNlNjQ=\n",
	    F ":2: unknown key (not shown: it may be a secret)" },
	{ "auth = none\na-token-that-is-long-enough = x\n",
	    F ":2: unknown key (not shown: it may be a secret)" },
	{ "auth = none\nsecret42 = x\n",	F ":2: unknown key (not shown: it may be a secret)" },
	{ "auth = none\nAbCdEf = x\n",	F ":2: unknown key (not shown: it may be a secret)" },
	{ "auth = none\nbasic-user = x\n",	F ":2: basic-user: unknown key" },
	{ "auth = none\nMax_Body = x\n",	F ":2: unknown key (not shown: it may be a secret)" },
};

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
one_line(const char *s)
{
	return s[0] != '\0' && strchr(s, '\n') == NULL && strchr(s, '\r') == NULL;
}

static int
parse_in(struct config *cfg, const char *text, const char *file, const char *dir,
    char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(cfg, text, strlen(text), file, dir, err, errlen);
}

static int
parse(struct config *cfg, const char *text, char *err, size_t errlen)
{
	return parse_in(cfg, text, F, CONF_DIR, err, errlen);
}

static bool	unreadable_refused(const char *);

static void
test_defaults(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];

	is_int(parse(&cfg, "auth = none\n", err, sizeof(err)), 0, "minimal config parses");
	is_str(cfg.path, F, "path is the file");
	is_int(cfg.auth, AUTH_NONE, "auth none");
	is_str(cfg.log, LOCALSTATEDIR "/lib/idwise-fcgi/events.jsonl", "default log");
	is_str(cfg.env, "live", "default env");
	is_int(cfg.max_body, 65536, "default max_body");
	is_int(cfg.unknown_events, UNKNOWN_ACCEPT, "default unknown_events accept");
	is_int(cfg.sync, SYNC_DATA, "default sync data");
	is_int(cfg.dedup_window_ms, 24LL * 3600 * 1000, "default dedup_window 24 hours");
	ok(cfg.allow == NULL, "default allow_from: any address");
	ok(allowlist_permits(cfg.allow, "203.0.113.5"), "default permits any address");
	ok(cfg.basic_user == NULL && cfg.basic_password_file == NULL &&
	    cfg.bearer_token_file == NULL && cfg.header_name == NULL &&
	    cfg.header_value_file == NULL && cfg.header_param == NULL,
	    "no auth keys set by default");
	ok(cfg.creds == NULL, "config_parse loads no secret");
	config_free(&cfg);
	ok(cfg.path == NULL && cfg.log == NULL, "config_free clears the struct");
	config_free(&cfg);
	ok(1, "config_free twice is harmless");
}

static void
test_every_key(void)
{
	static const char text[] =
	    "# every key\n"
	    "log = /var/log/idwise/events.jsonl\n"
	    "env = sandbox-2.eu_west\n"
	    "auth = header\n"
	    "header_name = X-Idwise-Token\n"
	    "header_value_file = /etc/idwise/header-value\n"
	    "allow_from = 10.0.0.0/8, 2001:db8::/32\n"
	    "max_body = 1048576\n"
	    "unknown_events = reject\n"
	    "sync = none\n";
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];

	is_int(parse(&cfg, text, err, sizeof(err)), 0, "config with every key parses: %s",
	    err);
	is_str(cfg.log, "/var/log/idwise/events.jsonl", "log");
	is_str(cfg.env, "sandbox-2.eu_west", "env");
	is_int(cfg.auth, AUTH_HEADER, "auth header");
	is_str(cfg.header_name, "X-Idwise-Token", "header_name");
	is_str(cfg.header_param, "HTTP_X_IDWISE_TOKEN", "header_param");
	is_str(cfg.header_value_file, "/etc/idwise/header-value", "header_value_file");
	ok(cfg.allow != NULL, "allow_from set");
	ok(allowlist_permits(cfg.allow, "10.20.30.40"), "allow_from permits 10.20.30.40");
	ok(allowlist_permits(cfg.allow, "2001:db8::9"), "allow_from permits 2001:db8::9");
	ok(!allowlist_permits(cfg.allow, "11.0.0.1"), "allow_from refuses 11.0.0.1");
	is_int(cfg.max_body, 1048576, "max_body");
	is_int(cfg.unknown_events, UNKNOWN_REJECT, "unknown_events reject");
	is_int(cfg.sync, SYNC_NONE, "sync none");
	config_free(&cfg);

	is_int(parse(&cfg, "auth = basic\nbasic_user = idwise@example.com\n"
	    "basic_password_file = /etc/idwise/password\n", err, sizeof(err)), 0,
	    "basic config parses: %s", err);
	is_int(cfg.auth, AUTH_BASIC, "auth basic");
	is_str(cfg.basic_user, "idwise@example.com", "basic_user");
	is_str(cfg.basic_password_file, "/etc/idwise/password", "basic_password_file");
	ok(cfg.header_param == NULL, "basic: no header_param");
	config_free(&cfg);

	is_int(parse(&cfg, "auth = bearer\nbearer_token_file = /etc/idwise/token\n",
	    err, sizeof(err)), 0, "bearer config parses: %s", err);
	is_int(cfg.auth, AUTH_BEARER, "auth bearer");
	is_str(cfg.bearer_token_file, "/etc/idwise/token", "bearer_token_file");
	config_free(&cfg);

	is_int(parse(&cfg, "auth = none\nunknown_events = accept\nsync = data\n", err,
	    sizeof(err)), 0, "explicit accept and data parse");
	is_int(cfg.unknown_events, UNKNOWN_ACCEPT, "unknown_events accept");
	is_int(cfg.sync, SYNC_DATA, "sync data");
	config_free(&cfg);

	{
		static const struct { const char *text; long long ms; } windows[] = {
			{ "1s", 1000 }, { "30m", 1800000 }, { "24h", 86400000 },
			{ "7d", 604800000 }, { "366d", 31622400000LL },
		};
		char	 conf[64];
		size_t	 i;

		for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
			snprintf(conf, sizeof(conf), "auth = none\ndedup_window = %s\n",
			    windows[i].text);
			is_int(parse(&cfg, conf, err, sizeof(err)), 0, "dedup_window %s accepted",
			    windows[i].text);
			is_int(cfg.dedup_window_ms, windows[i].ms, "dedup_window %s in ms",
			    windows[i].text);
			config_free(&cfg);
		}
	}
	is_int(parse(&cfg, "auth = none\nmax_body = 1\n", err, sizeof(err)), 0,
	    "max_body 1 accepted");
	is_int(cfg.max_body, 1, "max_body 1");
	config_free(&cfg);
	is_int(parse(&cfg, "auth = none\nmax_body = 67108864\n", err, sizeof(err)), 0,
	    "max_body 64 MiB accepted");
	is_int(cfg.max_body, 67108864, "max_body 67108864");
	config_free(&cfg);
	is_int(parse(&cfg, "auth = none\nenv = "
	    "a123456789b123456789c123456789d123456789e123456789f123456789g123\n", err,
	    sizeof(err)), 0, "env of 64 characters accepted");
	config_free(&cfg);
}

static void
test_syntax(void)
{
	static const char crlf[] =
	    "\xef\xbb\xbf# written on Windows\r\n"
	    "   # indented comment\r\n"
	    "\r\n"
	    "\t auth\t=\tnone \t\r\n"
	    "env=sandbox\r\n"
	    "  log   =   /var/log/a#b=c.jsonl   \r\n"
	    "#log = /ignored\r\n"
	    "max_body = 100";
	static const char with_nul[] = "auth = none\nenv = a\0b\n";
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];

	is_int(parse(&cfg, crlf, err, sizeof(err)), 0,
	    "comments, CRLF, blanks, BOM and no final newline: %s", err);
	is_int(cfg.auth, AUTH_NONE, "blanks and tabs around key and value trimmed");
	is_str(cfg.env, "sandbox", "no blank around '=' and CR dropped");
	is_str(cfg.log, "/var/log/a#b=c.jsonl", "'#' and '=' inside a value kept");
	is_int(cfg.max_body, 100, "last line without newline parsed");
	config_free(&cfg);

	err[0] = '\0';
	is_int(config_parse(&cfg, with_nul, sizeof(with_nul) - 1, F, CONF_DIR, err,
	    sizeof(err)), -1, "NUL byte refused");
	is_str(err, F ": contains a NUL byte", "NUL byte error");
}

static void
test_errors(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(bad_configs); i++) {
		memset(&cfg, 0xa5, sizeof(cfg));
		rc = parse(&cfg, bad_configs[i].text, err, sizeof(err));
		ok(rc == -1 && cfg.path == NULL && cfg.allow == NULL,
		    "refused: %s", bad_configs[i].want);
		ok(starts_with(err, bad_configs[i].want) && one_line(err),
		    "error line: %s", err);
	}
	is_str((parse(&cfg, "", err, sizeof(err)), err), MISSING_AUTH,
	    "missing auth: whole message");
	ok(strstr((parse(&cfg, "auth = none\ntok-SECRET-pasted\n", err, sizeof(err)),
	    err), SECRET_MARK) == NULL, "a stray line is not echoed");
	parse(&cfg, "auth = none\ndG9rLXNlY3JldC1iYXNlNjQ=\n", err, sizeof(err));
	ok(strstr(err, "dG9r") == NULL, "a pasted base64 token is not echoed: %s", err);
	parse(&cfg, "auth = none\nenv = a\x1b[31mb\n", err, sizeof(err));
	ok(strchr(err, '\x1b') == NULL, "control characters not echoed: %s", err);
	parse(&cfg, "auth = none\nfoo = 1\n", err, 10);
	is_str(err, "/srv/idwi", "short error buffer truncated, not overrun");
}

static void
test_relative_paths(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];

	is_int(parse_in(&cfg, "auth = bearer\nlog = events.jsonl\n"
	    "bearer_token_file = secrets/token\n", F, CONF_DIR, err, sizeof(err)), 0,
	    "relative paths parse");
	is_str(cfg.log, CONF_DIR "/events.jsonl", "relative log resolved against dir");
	is_str(cfg.bearer_token_file, CONF_DIR "/secrets/token",
	    "relative secret file resolved against dir");
	config_free(&cfg);

	is_int(parse_in(&cfg, "auth = basic\nbasic_user = u\n"
	    "basic_password_file = ../pw\n", "/x.conf", "/", err, sizeof(err)), 0,
	    "relative path against /");
	is_str(cfg.basic_password_file, "/../pw", "no double slash after /");
	config_free(&cfg);

	is_int(parse_in(&cfg, "auth = none\nlog = ./e.jsonl\n", F, CONF_DIR "/", err,
	    sizeof(err)), 0, "dir with trailing slash");
	is_str(cfg.log, CONF_DIR "/./e.jsonl", "one slash between dir and path");
	config_free(&cfg);

	is_int(parse_in(&cfg, "auth = none\nlog = e.jsonl\n", F, NULL, err,
	    sizeof(err)), -1, "relative path without a dir refused");
	ok(starts_with(err, F ":2: log: a relative path"), "error: %s", err);
	is_int(parse_in(&cfg, "auth = none\nlog = /abs/e.jsonl\n", F, NULL, err,
	    sizeof(err)), 0, "absolute path without a dir accepted");
	config_free(&cfg);
}

/* tmpdir/name with the content and mode; returns a static path. */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char	 path[256];
	size_t		 len = strlen(text);
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1 ||
	    close(fd) == -1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

static char conf_path[256];

/* Write test.conf with text and config_load it. */
static int
load(struct config *cfg, const char *text, char *err, size_t errlen)
{
	snprintf(conf_path, sizeof(conf_path), "%s", write_file("test.conf", text, 0644));
	err[0] = '\0';
	return config_load(cfg, conf_path, err, errlen);
}

/* "FILE:LINE: key: REALDIR/name: rest", what a refused secret file must say. */
static const char *
secret_error(unsigned int line, const char *key, const char *name, const char *rest)
{
	static char	 buf[1024];

	snprintf(buf, sizeof(buf), "%s:%u: %s: %s/%s: %s", conf_path, line, key, realdir,
	    name, rest);
	return buf;
}

static void
test_load_bearer(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN], want[512];

	write_file("token", "tok-SECRET-new\n tok-SECRET-old \n", 0600);
	is_int(load(&cfg, "auth = bearer\nbearer_token_file = token\n", err, sizeof(err)),
	    0, "bearer: token file 0600 accepted: %s", err);
	is_str(cfg.path, conf_path, "path is the file given");
	snprintf(want, sizeof(want), "%s/token", realdir);
	is_str(cfg.bearer_token_file, want, "relative token file resolved: absolute");
	is_int(credset_count(cfg.creds), 2, "bearer: two tokens loaded");
	ok(auth_permits(&cfg, "Bearer tok-SECRET-new", NULL), "bearer: new token accepted");
	ok(auth_permits(&cfg, "Bearer tok-SECRET-old", NULL), "bearer: old token accepted");
	ok(!auth_permits(&cfg, "Bearer tok-SECRET", NULL), "bearer: other token refused");
	config_free(&cfg);

	write_file("token", "tok-SECRET-new\n", 0640);
	is_int(load(&cfg, "auth = bearer\nbearer_token_file = token\n", err, sizeof(err)),
	    0, "bearer: token file 0640 accepted: %s", err);
	config_free(&cfg);

	write_file("token", "tok-SECRET-new\n", 0644);
	is_int(load(&cfg, "auth = bearer\nbearer_token_file = token\n", err, sizeof(err)),
	    -1, "bearer: token file 0644 refused");
	is_str(err, secret_error(2, "bearer_token_file", "token",
	    "readable by others (mode 0644); make it 0600 or 0640"),
	    "error names file, line, key and secret file");
	ok(strstr(err, SECRET_MARK) == NULL, "token not in the error");
	ok(cfg.path == NULL && cfg.creds == NULL, "nothing left after refusal");

	write_file("token", "tok-SECRET-new\n", 0620);
	is_int(load(&cfg, "# comment\nauth = bearer\nbearer_token_file = token\n", err,
	    sizeof(err)), -1, "bearer: token file 0620 refused");
	is_str(err, secret_error(3, "bearer_token_file", "token",
	    "writable by its group (mode 0620); make it 0600 or 0640"),
	    "group-writable error with line 3");

	write_file("token", "\n  \n\t\r\n", 0600);
	is_int(load(&cfg, "auth = bearer\nbearer_token_file = token\n", err, sizeof(err)),
	    -1, "bearer: blank token file refused");
	is_str(err, secret_error(2, "bearer_token_file", "token", "no secret in it"),
	    "blank token file error");

	is_int(load(&cfg, "auth = bearer\nbearer_token_file = tok-SECRET-pasted\n", err,
	    sizeof(err)), -1, "bearer: missing token file refused");
	snprintf(want, sizeof(want), "%s:2: bearer_token_file: cannot open: "
	    "No such file or directory", conf_path);
	is_str(err, want, "missing token file error: file, line and key, not the value "
	    "(a token pasted as the path)");
}

/* "Basic " + base64(userpass), in a static buffer. */
static const char *
basic(const char *userpass)
{
	static char	 buf[256];
	unsigned char	 b64[200];

	EVP_EncodeBlock(b64, (const unsigned char *)userpass, (int)strlen(userpass));
	snprintf(buf, sizeof(buf), "Basic %s", (char *)b64);
	return buf;
}

static void
test_load_basic(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];
	char		 pw[256];

	snprintf(pw, sizeof(pw), "%s",
	    write_file("password", "pw-SECRET-1\npw-SECRET-2\n", 0600));
	is_int(load(&cfg, "auth = basic\nbasic_user = idwise\nbasic_password_file = password\n",
	    err, sizeof(err)), 0, "basic: loads: %s", err);
	ok(auth_permits(&cfg, basic("idwise:pw-SECRET-1"), NULL), "basic: first password");
	ok(auth_permits(&cfg, basic("idwise:pw-SECRET-2"), NULL), "basic: second password");
	ok(!auth_permits(&cfg, basic("other:pw-SECRET-1"), NULL), "basic: other user refused");
	ok(!auth_permits(&cfg, basic("idwise:pw-SECRET-3"), NULL), "basic: wrong password");
	config_free(&cfg);

	if (chmod(pw, 0604) == -1)
		printf("# chmod: %s\n", strerror(errno));
	is_int(load(&cfg, "auth = basic\nbasic_password_file = password\nbasic_user = idwise\n",
	    err, sizeof(err)), -1, "basic: password file 0604 refused");
	is_str(err, secret_error(2, "basic_password_file", "password",
	    "readable by others (mode 0604); make it 0600 or 0640"),
	    "basic: error names basic_password_file");
	ok(strstr(err, SECRET_MARK) == NULL, "password not in the error");
}

static void
test_load_header(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN];
	char		 longline[5000];

	write_file("value", "hdr-SECRET-value\n", 0400);
	is_int(load(&cfg, "auth = header\nheader_name = X-Idwise-Key\n"
	    "header_value_file = value\n", err, sizeof(err)), 0, "header: loads: %s", err);
	is_str(cfg.header_param, "HTTP_X_IDWISE_KEY", "header: param");
	ok(auth_permits(&cfg, NULL, "hdr-SECRET-value"), "header: value accepted");
	ok(!auth_permits(&cfg, NULL, "hdr-SECRET-valu"), "header: near miss refused");
	config_free(&cfg);

	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "hdr-SECRET-", 11);
	longline[sizeof(longline) - 1] = '\0';
	write_file("value", longline, 0600);
	is_int(load(&cfg, "auth = header\nheader_name = X-Idwise-Key\n"
	    "header_value_file = value\n", err, sizeof(err)), -1,
	    "header: value longer than 4096 bytes refused");
	ok(starts_with(err, secret_error(3, "header_value_file", "value", "line 1")),
	    "header: long value error: %s", err);
	ok(strstr(err, SECRET_MARK) == NULL, "long value not in the error");

	is_int(load(&cfg, "auth = header\nheader_name = X-Idwise-Key\n"
	    "header_value_file = /dev/null\n", err, sizeof(err)), -1,
	    "header: device as value file refused");
	ok(strstr(err, ":3: header_value_file: /dev/null: not a regular file") != NULL,
	    "device error: %s", err);
}

static void
test_load_files(void)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN], want[512], big_name[256];
	char		*big;
	const char	*path;

	is_int(load(&cfg, "auth = none\nlog = events.jsonl\n", err, sizeof(err)), 0,
	    "none: loads: %s", err);
	ok(cfg.creds == NULL, "none: no secret loaded");
	snprintf(want, sizeof(want), "%s/events.jsonl", realdir);
	is_str(cfg.log, want, "relative log resolved against the config's directory");
	config_free(&cfg);

	if (chdir(tmpdir) == -1)
		printf("# chdir: %s\n", strerror(errno));
	is_int(config_load(&cfg, "test.conf", err, sizeof(err)), 0,
	    "relative config path loads: %s", err);
	is_str(cfg.path, "test.conf", "path kept as given");
	is_str(cfg.log, want, "log absolute with a relative config path");
	config_free(&cfg);
	if (chdir("/") == -1)
		printf("# chdir: %s\n", strerror(errno));

	err[0] = '\0';
	snprintf(want, sizeof(want), "%s/none.conf", tmpdir);
	is_int(config_load(&cfg, want, err, sizeof(err)), -1, "missing config refused");
	strcat(want, ": cannot read: No such file or directory");
	is_str(err, want, "missing config error");

	is_int(config_load(&cfg, tmpdir, err, sizeof(err)), -1, "directory refused");
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
	is_str(err, want, "directory error");

	big = malloc(1024 * 1024 + 2);
	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	snprintf(big_name, sizeof(big_name), "%s", write_file("big.conf", big, 0644));
	free(big);
	is_int(config_load(&cfg, big_name, err, sizeof(err)), -1, "config over 1 MiB refused");
	snprintf(want, sizeof(want), "%s: cannot read: larger than 1 MiB", big_name);
	is_str(err, want, "big config error");

	path = write_file("secret.conf", "auth = none\n", 0000);
	ok(unreadable_refused(path), "unreadable config refused with \"cannot read: "
	    "Permission denied\"");

	is_int(load(&cfg, "auth = none\nfoo = bar\n", err, sizeof(err)), -1,
	    "config_load reports parse errors");
	snprintf(want, sizeof(want), "%s:2: foo: unknown key", conf_path);
	is_str(err, want, "parse error names the file as given");
}

/*
 * Root reads every file, so as root the check runs in a child that has become nobody
 * (the directory on the way is 0700, which refuses nobody the same way).
 */
static bool
unreadable_refused(const char *path)
{
	struct config	 c;
	char		 e[CONFIG_ERR_LEN];
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0)
		return config_load(&c, path, e, sizeof(e)) == -1 &&
		    strstr(e, ": cannot read: Permission denied") != NULL;
	if ((pid = fork()) == -1)
		return false;
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		_exit(config_load(&c, path, e, sizeof(e)) == -1 &&
		    strstr(e, ": cannot read: Permission denied") != NULL ? 0 : 1);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0;
}

/* A token pasted as any key's value: refused, naming file, line and key, not the value. */
static void
test_values_not_echoed(void)
{
	static const struct {
		const char	*before;	/* the lines before the key's */
		const char	*key;
		const char	*after;
	} keys[] = {
		{ "auth = none\n", "env", "" },
		{ "auth = none\n", "status_path", "" },
		{ "auth = none\n", "max_body", "" },
		{ "auth = none\n", "unknown_events", "" },
		{ "auth = none\n", "sync", "" },
		{ "auth = none\n", "dedup_window", "" },
		{ "auth = none\n", "log_level", "" },
		{ "auth = none\n", "allow_from", "" },
		{ "auth = none\n", "status_allow_from", "" },
		{ "# auth below\n", "auth", "" },
		{ "auth = basic\n", "basic_user", "basic_password_file = /p\n" },
		{ "auth = header\n", "header_name", "header_value_file = /v\n" },
	};
	static const char *const values[] = {
		"tok+SECRET/pasted:by-mistake==",
		"tok:SECRET pasted+",
		"SECRET:99=",
	};
	struct config	 cfg;
	char		 err[CONFIG_ERR_LEN], text[512], want[128];
	size_t		 i, j;

	for (i = 0; i < nitems(keys); i++) {
		for (j = 0; j < nitems(values); j++) {
			snprintf(text, sizeof(text), "%s%s = %s\n%s", keys[i].before,
			    keys[i].key, values[j], keys[i].after);
			snprintf(want, sizeof(want), F ":2: %s: ", keys[i].key);
			is_int(parse(&cfg, text, err, sizeof(err)), -1, "%s = \"%s\" refused",
			    keys[i].key, values[j]);
			ok(starts_with(err, want) && strstr(err, SECRET_MARK) == NULL,
			    "%s: file, line and key, not the value: %s", keys[i].key, err);
		}
	}
	/* Paths: relative with no absolute directory to start from. */
	is_int(parse_in(&cfg, "auth = none\nlog = tok-SECRET-path\n", F, "relative", err,
	    sizeof(err)), -1, "relative log with a relative directory refused");
	ok(starts_with(err, F ":2: log: ") && strstr(err, SECRET_MARK) == NULL,
	    "log: file, line and key, not the value: %s", err);
}

/* Write name in tmpdir with mode, owned by uid. */
static const char *
owned_conf(const char *name, const char *text, mode_t mode, uid_t uid)
{
	const char	*path = write_file(name, text, mode);

	if (chown(path, uid, (gid_t)-1) == -1)
		printf("# chown %s: %s\n", path, strerror(errno));
	return path;
}

/* The config file itself: nobody but root and the service's user may write it. */
static void
test_config_file_owner(void)
{
	const struct file_owner	 other = { 12345, 12345 };
	struct config		 cfg;
	char			 err[CONFIG_ERR_LEN], want[512];
	const char		*path;

	path = write_file("ww.conf", "auth = none\n", 0666);
	is_int(config_load(&cfg, path, err, sizeof(err)), -1, "config others may write refused");
	snprintf(want, sizeof(want), "%s: refused: writable by others; make it 0640 or 0600 "
	    "(uid %lu, mode 0666)", path, (unsigned long)geteuid());
	is_str(err, want, "  saying why");
	path = write_file("ow.conf", "auth = none\n", 0602);
	is_int(config_load(&cfg, path, err, sizeof(err)), -1, "config mode 0602 refused");
	path = write_file("gw.conf", "auth = none\n", 0664);
	is_int(config_load(&cfg, path, err, sizeof(err)), 0,
	    "config its group may write accepted (--check-config warns): %s", err);
	config_free(&cfg);
	if (geteuid() != 0) {
		ok(1, "# SKIP config owners: only root can give files away");
		return;
	}
	path = owned_conf("foreign.conf", "auth = none\n", 0644, 23456);
	is_int(config_load(&cfg, path, err, sizeof(err)), -1,
	    "config owned by another user refused");
	snprintf(want, sizeof(want), "%s: refused: owned by a user other than root or the "
	    "service's user (uid 23456, mode 0644)", path);
	is_str(err, want, "  saying why");
	is_int(config_load_as(&cfg, path, &other, err, sizeof(err)), -1,
	    "  also with another service user");
	path = owned_conf("service.conf", "auth = none\n", 0644, 12345);
	is_int(config_load_as(&cfg, path, &other, err, sizeof(err)), 0,
	    "config owned by the service's user accepted: %s", err);
	config_free(&cfg);
	is_int(config_read(&cfg, path, err, sizeof(err)), -1,
	    "  not when the service is root (config_read checks the file too)");

	/* Secret files through config_load_as: the service's user's, or root's. */
	owned_conf("svc-token", "tok-SECRET-svc\n", 0600, 12345);
	path = owned_conf("svc-bearer.conf", "auth = bearer\nbearer_token_file = svc-token\n",
	    0644, 0);
	is_int(config_load_as(&cfg, path, &other, err, sizeof(err)), 0,
	    "a token file of the service's user accepted: %s", err);
	ok(auth_permits(&cfg, "Bearer tok-SECRET-svc", NULL), "  and its token loaded");
	config_free(&cfg);
	is_int(config_load(&cfg, path, err, sizeof(err)), -1,
	    "  refused when the service is root");
	ok(strstr(err, ":2: bearer_token_file: ") != NULL && strstr(err, "svc-token: owned "
	    "by uid 12345") != NULL && strstr(err, SECRET_MARK) == NULL,
	    "  naming the line, key, file and owner: %s", err);
	is_int(config_read(&cfg, path, err, sizeof(err)), 0,
	    "config_read reads no secret file: %s", err);
	ok(cfg.creds == NULL, "  and loads none");
	config_free(&cfg);
}

static void
test_default_path(void)
{
	setenv("IDWISE_FCGI_CONFIG", "/opt/idwise/alt.conf", 1);
	is_str(config_default_path(), "/opt/idwise/alt.conf", "IDWISE_FCGI_CONFIG overrides");
	setenv("IDWISE_FCGI_CONFIG", "", 1);
	is_str(config_default_path(), SYSCONFDIR "/idwise-fcgi.conf",
	    "empty IDWISE_FCGI_CONFIG ignored");
	unsetenv("IDWISE_FCGI_CONFIG");
	is_str(config_default_path(), SYSCONFDIR "/idwise-fcgi.conf", "default path");
}

static void
remove_tmpdir(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int
main(void)
{
	char	*resolved;

	if (mkdtemp(tmpdir) == NULL || (resolved = realpath(tmpdir, NULL)) == NULL) {
		printf("Bail out! %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	if (strlen(resolved) >= sizeof(realdir)) {
		printf("Bail out! %s: path too long\n", resolved);
		return 1;
	}
	memcpy(realdir, resolved, strlen(resolved) + 1);
	free(resolved);
	test_defaults();
	test_every_key();
	test_syntax();
	test_errors();
	test_relative_paths();
	test_load_bearer();
	test_load_basic();
	test_load_header();
	test_load_files();
	test_values_not_echoed();
	test_config_file_owner();
	test_default_path();
	remove_tmpdir();
	return done_testing();
}
