/* SPDX-License-Identifier: ISC */
/*
 * config.c: the configuration file of SPEC §5. Every key is one row of a table (name,
 * parser, field, auth kind it belongs to); the file is parsed whole, then checked whole,
 * then the secret files of the chosen auth kind are loaded as digests.
 *
 * On error every function here leaves the struct config zeroed, so config_free() on it
 * is harmless.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "allowlist.h"
#include "auth.h"
#include "util.h"


#define BLANKS			" \t\r"
#define CONFIG_FILE_MAX		(1024 * 1024)
#define MAX_BODY_LIMIT		67108864UL	/* 64 MiB */
#define ENV_MAX			64
#define ENV_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define HEADER_NAME_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
#define KEY_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_- "
#define KEY_SHOWN_MAX		24	/* longer unknown keys are not echoed */
#define UTF8_BOM		"\xef\xbb\xbf"

#define DEFAULT_LOG		LOCALSTATEDIR "/lib/idwise-fcgi/events.jsonl"
#define DEFAULT_ENV		"live"
#define DEFAULT_MAX_BODY	65536
#define DEFAULT_PATH		SYSCONFDIR "/idwise-fcgi.conf"
#define DEFAULT_STATUS_ALLOW	"127.0.0.1, ::1"
#define DEFAULT_DEDUP_WINDOW_MS	((int64_t)24 * 3600 * 1000)
#define DEDUP_WINDOW_MAX_MS	((int64_t)366 * 24 * 3600 * 1000)

/* What a key's parser gets: the config to fill, where relative paths start, a reason. */
struct parse_ctx {
	struct config	*cfg;
	const char	*dir;
	char		*why;
	size_t		 whylen;
};

struct keydef {
	const char	*name;
	int		(*parse)(struct parse_ctx *, const struct keydef *, const char *);
	size_t		 field;		/* offsetof the char * it fills, for string keys */
	int		 auth;		/* the auth kind it belongs to, or -1 for any */
};

struct word {
	const char	*name;
	int		 value;
};

static const struct word auth_words[] = {
	{ "none",	AUTH_NONE },
	{ "basic",	AUTH_BASIC },
	{ "bearer",	AUTH_BEARER },
	{ "header",	AUTH_HEADER },
	{ NULL,		0 }
};

static const struct word unknown_words[] = {
	{ "accept",	UNKNOWN_ACCEPT },
	{ "reject",	UNKNOWN_REJECT },
	{ NULL,		0 }
};

static const struct word sync_words[] = {
	{ "data",	SYNC_DATA },
	{ "none",	SYNC_NONE },
	{ NULL,		0 }
};
static const struct word log_level_words[] = {
	{ "info",	LOG_LEVEL_INFO },
	{ "debug",	LOG_LEVEL_DEBUG },
	{ NULL,		0 }
};

/* Headers the web server passes otherwise (or not at all): not a custom header. */
static const char *const reserved_headers[] = {
	"Authorization", "Content-Type", "Content-Length"
};

/* The secret file each auth kind reads. */
static const struct {
	enum auth_kind	 kind;
	const char	*file_key;
} secret_keys[] = {
	{ AUTH_BASIC,	"basic_password_file" },
	{ AUTH_BEARER,	"bearer_token_file" },
	{ AUTH_HEADER,	"header_value_file" },
};

static char **
field_of(struct config *cfg, const struct keydef *kd)
{
	return (char **)(void *)((char *)cfg + kd->field);
}

static int
set_string(struct parse_ctx *ctx, const struct keydef *kd, char *s)
{
	char	**field = field_of(ctx->cfg, kd);

	if (s == NULL) {
		snprintf(ctx->why, ctx->whylen, "%s", strerror(errno));
		return -1;
	}
	free(*field);
	*field = s;
	return 0;
}

/* "a, b, c or d" from a word table. */
static void
format_choices(const struct word *words, char *buf, size_t len)
{
	size_t	 i, used = 0;

	buf[0] = '\0';
	for (i = 0; words[i].name != NULL && used < len; i++) {
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i == 0 ? "" : words[i + 1].name == NULL ? " or " : ", ", words[i].name);
	}
}

static const char *
word_name(const struct word *words, int value)
{
	size_t	 i;

	for (i = 0; words[i].name != NULL; i++)
		if (words[i].value == value)
			return words[i].name;
	return "?";
}

static int
lookup_word(struct parse_ctx *ctx, const struct word *words, const char *value, int *out)
{
	char	 choices[128];
	size_t	 i;

	for (i = 0; words[i].name != NULL; i++) {
		if (strcmp(words[i].name, value) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	format_choices(words, choices, sizeof(choices));
	snprintf(ctx->why, ctx->whylen, "must be %s", choices);
	return -1;
}

/* dir + "/" + path, or path when it is absolute. */
static char *
resolve_path(const char *dir, const char *path)
{
	char	*s;
	size_t	 dlen;

	if (path[0] == '/')
		return strdup(path);
	dlen = strlen(dir);
	if (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	if (asprintf(&s, "%.*s/%s", (int)dlen, dir, path) == -1)
		return NULL;
	return s;
}

static int
parse_path(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	if (value[0] != '/' && (ctx->dir == NULL || ctx->dir[0] != '/')) {
		snprintf(ctx->why, ctx->whylen,
		    "a relative path, and no absolute directory to start from");
		return -1;
	}
	return set_string(ctx, kd, resolve_path(ctx->dir, value));
}

static int
parse_env(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	size_t	 len = strlen(value);

	if (len > ENV_MAX || strspn(value, ENV_CHARS) != len) {
		snprintf(ctx->why, ctx->whylen,
		    "must be 1 to %d of A-Z a-z 0-9 . _ -", ENV_MAX);
		return -1;
	}
	return set_string(ctx, kd, strdup(value));
}

static int
parse_auth(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	int	 v;

	(void)kd;
	if (lookup_word(ctx, auth_words, value, &v) == -1)
		return -1;
	ctx->cfg->auth = (enum auth_kind)v;
	return 0;
}

static int
parse_unknown(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	int	 v;

	(void)kd;
	if (lookup_word(ctx, unknown_words, value, &v) == -1)
		return -1;
	ctx->cfg->unknown_events = (enum unknown_policy)v;
	return 0;
}

static int
parse_sync(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	int	 v;

	(void)kd;
	if (lookup_word(ctx, sync_words, value, &v) == -1)
		return -1;
	ctx->cfg->sync = (enum sync_mode)v;
	return 0;
}

static bool
has_control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* HTTP Basic (RFC 7617): the user id cannot hold ':' nor control characters. */
/* A URL path such as /idwise/status: a '/' then printable characters, no query. */
static int
parse_url_path(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	const char	*p;

	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			break;
	if (value[0] != '/' || *p != '\0') {
		snprintf(ctx->why, ctx->whylen, "not a URL path such as /idwise/status");
		return -1;
	}
	return set_string(ctx, kd, strdup(value));
}

static int
parse_status_allow(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	(void)kd;
	allowlist_free(ctx->cfg->status_allow);
	ctx->cfg->status_allow = NULL;
	free(ctx->cfg->status_allow_text);
	if ((ctx->cfg->status_allow_text = strdup(value)) == NULL) {
		snprintf(ctx->why, ctx->whylen, "%s", strerror(errno));
		return -1;
	}
	return allowlist_parse(value, &ctx->cfg->status_allow, ctx->why, ctx->whylen);
}

static int
parse_log_level(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	int	 v;

	(void)kd;
	if (lookup_word(ctx, log_level_words, value, &v) == -1)
		return -1;
	ctx->cfg->log_level = (enum log_level)v;
	return 0;
}

static int
parse_user(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	if (strchr(value, ':') != NULL || has_control_char(value)) {
		snprintf(ctx->why, ctx->whylen,
		    "must not contain ':' or control characters");
		return -1;
	}
	return set_string(ctx, kd, strdup(value));
}

/* "X-Idwise-Token" -> "HTTP_X_IDWISE_TOKEN", the CGI variable the web server sets. */
static char *
header_param_of(const char *name)
{
	char	*param, *p;

	if (asprintf(&param, "HTTP_%s", name) == -1)
		return NULL;
	for (p = param; *p != '\0'; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return param;
}

/* Letters, digits and '-' only: nginx drops headers with '_' by default. */
static int
parse_header_name(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	size_t	 i;

	if (strspn(value, HEADER_NAME_CHARS) != strlen(value)) {
		snprintf(ctx->why, ctx->whylen,
		    "must be letters, digits and '-' only");
		return -1;
	}
	for (i = 0; i < nitems(reserved_headers); i++) {
		if (strcasecmp(value, reserved_headers[i]) == 0) {
			snprintf(ctx->why, ctx->whylen, "%s cannot carry the credential "
			    "(choose a header of your own, e.g. X-Idwise-Token)",
			    reserved_headers[i]);
			return -1;
		}
	}
	if (set_string(ctx, kd, strdup(value)) == -1)
		return -1;
	free(ctx->cfg->header_param);
	if ((ctx->cfg->header_param = header_param_of(value)) == NULL) {
		snprintf(ctx->why, ctx->whylen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
parse_allow(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	(void)kd;
	allowlist_free(ctx->cfg->allow);
	ctx->cfg->allow = NULL;
	free(ctx->cfg->allow_text);
	if ((ctx->cfg->allow_text = strdup(value)) == NULL) {
		snprintf(ctx->why, ctx->whylen, "%s", strerror(errno));
		return -1;
	}
	return allowlist_parse(value, &ctx->cfg->allow, ctx->why, ctx->whylen);
}

/* Plain decimal bytes, 1 to 64 MiB. */
static int
parse_max_body(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	unsigned long long	 v;

	(void)kd;
	errno = 0;
	if (strspn(value, "0123456789") != strlen(value) ||
	    (v = strtoull(value, NULL, 10)) == 0) {
		snprintf(ctx->why, ctx->whylen,
		    "not a positive number of bytes");
		return -1;
	}
	if (errno == ERANGE || v > MAX_BODY_LIMIT) {
		snprintf(ctx->why, ctx->whylen,
		    "more than %lu bytes (64 MiB)", MAX_BODY_LIMIT);
		return -1;
	}
	ctx->cfg->max_body = (size_t)v;
	return 0;
}

/* A duration: a number and a unit (s, m, h or d), from 1 second to 366 days. */
static int
parse_duration(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60 * 1000 }, { 'h', 3600 * 1000 },
		{ 'd', 24 * 3600 * 1000 },
	};
	unsigned long long	 n;
	size_t			 digits = strspn(value, "0123456789"), i;

	(void)kd;
	errno = 0;
	n = digits > 0 && digits <= 9 && strlen(value) == digits + 1 ?
	    strtoull(value, NULL, 10) : 0;
	for (i = 0; n > 0 && i < nitems(units); i++) {
		if (value[digits] != units[i].unit)
			continue;
		ctx->cfg->dedup_window_ms = (int64_t)n * units[i].ms;
		if (ctx->cfg->dedup_window_ms <= DEDUP_WINDOW_MAX_MS)
			return 0;
	}
	snprintf(ctx->why, ctx->whylen, "not a duration from 1s to 366d (a number and "
	    "s, m, h or d)");
	return -1;
}

#define STRING_FIELD(f)	offsetof(struct config, f)

static const struct keydef keys[] = {
	{ "log",		parse_path,	   STRING_FIELD(log),			-1 },
	{ "env",		parse_env,	   STRING_FIELD(env),			-1 },
	{ "auth",		parse_auth,	   0,					-1 },
	{ "basic_user",		parse_user,	   STRING_FIELD(basic_user),		AUTH_BASIC },
	{ "basic_password_file", parse_path,	   STRING_FIELD(basic_password_file),	AUTH_BASIC },
	{ "bearer_token_file",	parse_path,	   STRING_FIELD(bearer_token_file),	AUTH_BEARER },
	{ "header_name",	parse_header_name, STRING_FIELD(header_name),		AUTH_HEADER },
	{ "header_value_file",	parse_path,	   STRING_FIELD(header_value_file),	AUTH_HEADER },
	{ "allow_from",		parse_allow,	   0,					-1 },
	{ "max_body",		parse_max_body,	   0,					-1 },
	{ "unknown_events",	parse_unknown,	   0,					-1 },
	{ "sync",		parse_sync,	   0,					-1 },
	{ "dedup_window",	parse_duration,	   0,					-1 },
	{ "reject_log",		parse_path,	   STRING_FIELD(reject_log),		-1 },
	{ "log_level",		parse_log_level,   0,					-1 },
	{ "status_path",	parse_url_path,	   STRING_FIELD(status_path),		-1 },
	{ "status_allow_from",	parse_status_allow, 0,					-1 },
};

#define NKEYS	nitems(keys)

static const struct keydef *
find_key(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static size_t
key_index(const char *name)
{
	return (size_t)(find_key(name) - keys);
}

/* Control characters (from a value or a key) would break the one-line error. */
static void
sanitize_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* "file:line: key: reason"; line 0 and key NULL are left out. Returns -1. */
static int __attribute__((format(printf, 6, 7)))
config_error(char *err, size_t errlen, const char *file, unsigned int line,
    const char *key, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (line != 0)
		n = snprintf(err, errlen, "%s:%u: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (key != NULL && n >= 0 && (size_t)n < errlen)
		n += snprintf(err + n, errlen - (size_t)n, "%.64s: ", key);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	if (errlen > 0)
		sanitize_line(err);
	return -1;
}

/*
 * Keys are short lower-case words. Something else, such as a base64 token pasted by
 * mistake ("dG9rZW4=" parses as key "dG9rZW4"), may be a secret and is not echoed.
 */
static bool
looks_like_key(const char *s)
{
	size_t	 len = strlen(s), upper = 0;

	if (len > KEY_SHOWN_MAX || strspn(s, KEY_CHARS) != len)
		return false;
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			upper++;
	return upper <= 1;
}

static int
unknown_key(char *err, size_t errlen, const char *file, unsigned int line, const char *key)
{
	if (looks_like_key(key))
		return config_error(err, errlen, file, line, key, "unknown key");
	return config_error(err, errlen, file, line, NULL,
	    "unknown key (not shown: it may be a secret)");
}

static char *
trim(char *s)
{
	char	*end;

	s += strspn(s, BLANKS);
	for (end = s + strlen(s); end > s && strchr(BLANKS, end[-1]) != NULL; end--)
		;
	*end = '\0';
	return s;
}

/* One line: blank, comment or "key = value". lines[] remembers where each key was. */
static int
parse_line(struct parse_ctx *ctx, char *line, unsigned int lineno, const char *file,
    unsigned int *lines, char *err, size_t errlen)
{
	const struct keydef	*kd;
	char			*key, *value, *eq;
	size_t			 i;

	key = trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL || eq == key)
		return config_error(err, errlen, file, lineno, NULL,
		    "expected \"key = value\"");
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if ((kd = find_key(key)) == NULL)
		return unknown_key(err, errlen, file, lineno, key);
	i = (size_t)(kd - keys);
	if (lines[i] != 0)
		return config_error(err, errlen, file, lineno, key,
		    "given twice (first on line %u)", lines[i]);
	lines[i] = lineno;
	if (*value == '\0')
		return config_error(err, errlen, file, lineno, key, "empty value");
	if (kd->parse(ctx, kd, value) == -1)
		return config_error(err, errlen, file, lineno, key, "%s", ctx->why);
	return 0;
}

static int
parse_lines(struct parse_ctx *ctx, char *text, const char *file, unsigned int *lines,
    char *err, size_t errlen)
{
	char		*line, *next;
	unsigned int	 lineno = 0;

	if (strncmp(text, UTF8_BOM, strlen(UTF8_BOM)) == 0)
		text += strlen(UTF8_BOM);
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (parse_line(ctx, line, lineno, file, lines, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* auth is required; the keys of the chosen kind are required, those of others refused. */
static int
check_auth_keys(const struct config *cfg, const char *file, const unsigned int *lines,
    char *err, size_t errlen)
{
	char		 choices[128];
	const char	*kind = word_name(auth_words, (int)cfg->auth);
	size_t		 i;

	if (lines[key_index("auth")] == 0) {
		format_choices(auth_words, choices, sizeof(choices));
		return config_error(err, errlen, file, 0, "auth",
		    "missing (required: %s)", choices);
	}
	for (i = 0; i < NKEYS; i++)
		if (keys[i].auth != -1 && keys[i].auth != (int)cfg->auth && lines[i] != 0)
			return config_error(err, errlen, file, lines[i], keys[i].name,
			    "not used with auth = %s", kind);
	for (i = 0; i < NKEYS; i++)
		if (keys[i].auth == (int)cfg->auth && lines[i] == 0)
			return config_error(err, errlen, file, 0, keys[i].name,
			    "missing (required with auth = %s)", kind);
	return 0;
}

static int
config_init(struct config *cfg, const char *file)
{
	char	 why[128];

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = strdup(file);
	cfg->log = strdup(DEFAULT_LOG);
	cfg->env = strdup(DEFAULT_ENV);
	cfg->max_body = DEFAULT_MAX_BODY;
	cfg->unknown_events = UNKNOWN_ACCEPT;
	cfg->sync = SYNC_DATA;
	cfg->dedup_window_ms = DEFAULT_DEDUP_WINDOW_MS;
	if (cfg->path == NULL || cfg->log == NULL || cfg->env == NULL ||
	    allowlist_parse(DEFAULT_STATUS_ALLOW, &cfg->status_allow, why, sizeof(why)) == -1)
		return -1;
	return 0;
}

/* config_parse, also telling on which line each key was (0: not given). */
static int
parse_config(struct config *cfg, const char *text, size_t len, const char *file,
    const char *dir, unsigned int *lines, char *err, size_t errlen)
{
	struct parse_ctx	 ctx;
	char			 why[CONFIG_ERR_LEN];
	char			*copy;
	int			 rc = -1;

	memset(lines, 0, NKEYS * sizeof(lines[0]));
	if (config_init(cfg, file) == -1 || (copy = malloc(len + 1)) == NULL) {
		config_error(err, errlen, file, 0, NULL, "%s", strerror(errno));
		config_free(cfg);
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	ctx.cfg = cfg;
	ctx.dir = dir;
	ctx.why = why;
	ctx.whylen = sizeof(why);
	if (memchr(text, '\0', len) != NULL)
		config_error(err, errlen, file, 0, NULL, "contains a NUL byte");
	else if (parse_lines(&ctx, copy, file, lines, err, errlen) == 0 &&
	    check_auth_keys(cfg, file, lines, err, errlen) == 0)
		rc = 0;
	free(copy);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

int
config_parse(struct config *cfg, const char *text, size_t len, const char *file,
    const char *dir, char *err, size_t errlen)
{
	unsigned int	 lines[NKEYS];

	return parse_config(cfg, text, len, file, dir, lines, err, errlen);
}

/* Why a configuration file cannot be read, from its fstat; NULL if it can. */
static const char *
config_file_problem(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return strerror(EISDIR);
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_size > CONFIG_FILE_MAX)
		return "larger than 1 MiB";
	return NULL;
}

/*
 * Why a configuration file must not be believed; NULL if it may. It names the secret
 * files root reads and the log: nobody but root and the service's user may write it (a
 * group that may is only warned about, by --check-config).
 */
static const char *
config_owner_problem(const struct stat *st, uid_t service_uid)
{
	if ((st->st_mode & S_IWOTH) != 0)
		return "writable by others; make it 0640 or 0600";
	if (st->st_uid != 0 && st->st_uid != service_uid)
		return "owned by a user other than root or the service's user";
	return NULL;
}

/* Read to the end into buf (max + 1 bytes); more than max bytes is EFBIG. */
static int
read_all(int fd, char *buf, size_t max, size_t *len)
{
	ssize_t		 n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + *len, max + 1 - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* The whole file, at most CONFIG_FILE_MAX bytes, into a new buffer. */
static int
read_config_file(const char *path, uid_t service_uid, char **text, size_t *len,
    char *err, size_t errlen)
{
	struct stat	 st;
	const char	*problem;
	char		*buf = NULL;
	int		 fd;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO must not hang the start; fstat then refuses it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return config_error(err, errlen, path, 0, NULL, "cannot read: %s",
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		config_error(err, errlen, path, 0, NULL, "cannot read: %s", strerror(errno));
	else if ((problem = config_file_problem(&st)) != NULL)
		config_error(err, errlen, path, 0, NULL, "cannot read: %s", problem);
	else if ((problem = config_owner_problem(&st, service_uid)) != NULL)
		config_error(err, errlen, path, 0, NULL, "refused: %s (uid %lu, mode %04o)",
		    problem, (unsigned long)st.st_uid, (unsigned int)(st.st_mode & 07777));
	else if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL)
		config_error(err, errlen, path, 0, NULL, "%s", strerror(errno));
	else if (read_all(fd, buf, CONFIG_FILE_MAX, len) == -1) {
		config_error(err, errlen, path, 0, NULL, "cannot read: %s", strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (close(fd) == -1 && buf != NULL) {
		config_error(err, errlen, path, 0, NULL, "close: %s", strerror(errno));
		free(buf);
		buf = NULL;
	}
	*text = buf;
	return buf != NULL ? 0 : -1;
}

/* The absolute, resolved directory of path: where relative paths in it start. */
static char *
config_dir(const char *path, char *err, size_t errlen)
{
	char	*copy, *dir;
	int	 saved_errno;

	if ((copy = strdup(path)) == NULL) {
		config_error(err, errlen, path, 0, NULL, "%s", strerror(errno));
		return NULL;
	}
	dir = realpath(dirname(copy), NULL);
	saved_errno = errno;
	free(copy);
	if (dir == NULL)
		config_error(err, errlen, path, 0, NULL, "cannot resolve its directory: %s",
		    strerror(saved_errno));
	return dir;
}

/* The secret file of the chosen auth kind, as digests; errors name its key's line. */
static int
load_secrets(struct config *cfg, const unsigned int *lines,
    const struct file_owner *service, char *err, size_t errlen)
{
	const struct keydef	*kd = NULL;
	char			 why[CONFIG_ERR_LEN];
	char			*prefix = NULL;
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(secret_keys); i++)
		if (secret_keys[i].kind == cfg->auth)
			kd = find_key(secret_keys[i].file_key);
	if (kd == NULL)
		return 0;	/* auth = none: nothing to load */
	if ((cfg->creds = credset_new()) == NULL ||
	    (cfg->auth == AUTH_BASIC && asprintf(&prefix, "%s:", cfg->basic_user) == -1))
		return config_error(err, errlen, cfg->path, 0, NULL, "%s", strerror(errno));
	rc = credset_load_file(cfg->creds, *field_of(cfg, kd), prefix, service, why,
	    sizeof(why));
	free(prefix);
	if (rc == -1)
		return config_error(err, errlen, cfg->path, lines[kd - keys], kd->name,
		    "%s", why);
	return 0;
}

/* The file, parsed; then its secret files unless service is NULL. */
static int
load_config(struct config *cfg, const char *path, uid_t service_uid,
    const struct file_owner *service, char *err, size_t errlen)
{
	unsigned int	 lines[NKEYS];
	char		*text, *dir = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (read_config_file(path, service_uid, &text, &len, err, errlen) == -1)
		return -1;
	if ((dir = config_dir(path, err, errlen)) != NULL &&
	    parse_config(cfg, text, len, path, dir, lines, err, errlen) == 0) {
		rc = 0;
		if (service != NULL && (rc = load_secrets(cfg, lines, service, err,
		    errlen)) == -1)
			config_free(cfg);
	}
	free(text);
	free(dir);
	return rc;
}

int
config_load_as(struct config *cfg, const char *path, const struct file_owner *service,
    char *err, size_t errlen)
{
	return load_config(cfg, path, service->uid, service, err, errlen);
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct file_owner	 self = { geteuid(), getegid() };

	return load_config(cfg, path, self.uid, &self, err, errlen);
}

int
config_read(struct config *cfg, const char *path, char *err, size_t errlen)
{
	return load_config(cfg, path, geteuid(), NULL, err, errlen);
}

void
config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->log);
	free(cfg->env);
	free(cfg->basic_user);
	free(cfg->basic_password_file);
	free(cfg->bearer_token_file);
	free(cfg->header_name);
	free(cfg->header_value_file);
	free(cfg->header_param);
	free(cfg->reject_log);
	free(cfg->status_path);
	free(cfg->allow_text);
	free(cfg->status_allow_text);
	allowlist_free(cfg->allow);
	allowlist_free(cfg->status_allow);
	credset_free(cfg->creds);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_default_path(void)
{
	const char	*path = getenv("IDWISE_FCGI_CONFIG");

	if (path != NULL && path[0] != '\0')
		return path;
	return DEFAULT_PATH;
}
