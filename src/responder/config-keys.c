/* SPDX-License-Identifier: ISC */
/*
 * config-keys.c: the keys of the configuration file and the parsers of their values (see
 * config-keys.h). A parser checks one value and fills the config; it says why a value is
 * refused without repeating it, since a secret pasted at the wrong key must not be printed.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allowlist.h"
#include "config-keys.h"
#include "util.h"

#define DIGITS			"0123456789"
#define MAX_BODY_LIMIT		67108864LL	/* 64 MiB */
#define DURATION_DIGITS_MAX	9
#define DEDUP_WINDOW_MAX_MS	((int64_t)366 * 24 * 3600 * 1000)
#define NOT_A_DURATION \
	"not a duration from 1s to 366d (a number and s, m, h or d)"
#define ENV_MAX			64
#define ENV_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define HEADER_NAME_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"

/* A word keys are filled from: the enum members of struct config, as int. */
_Static_assert(sizeof(enum auth_kind) == sizeof(int), "auth is filled as an int");
_Static_assert(sizeof(enum unknown_policy) == sizeof(int), "unknown_events: an int");
_Static_assert(sizeof(enum sync_mode) == sizeof(int), "sync is filled as an int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "log_level is filled as an int");

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

/* --- filling the config ------------------------------------------------------------- */

static void *
member(struct config *cfg, size_t offset)
{
	return (char *)cfg + offset;
}

char **
config_key_string(struct config *cfg, const struct keydef *kd)
{
	return member(cfg, kd->field);
}

/* Why the value is refused, into ctx->why. Returns -1. */
static int __attribute__((format(printf, 2, 3)))
refuse(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ctx->why, ctx->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The key's string becomes s (a new copy, or NULL when making it failed). */
static int
set_string(struct parse_ctx *ctx, const struct keydef *kd, char *s)
{
	char	**field = config_key_string(ctx->cfg, kd);

	if (s == NULL)
		return refuse(ctx, "%s", strerror(errno));
	free(*field);
	*field = s;
	return 0;
}

/* --- words -------------------------------------------------------------------------- */

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

/* One word of the key's table; the enum it fills is an int (asserted above). */
static int
parse_word(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	char	 choices[128];
	size_t	 i;

	for (i = 0; kd->words[i].name != NULL; i++) {
		if (strcmp(kd->words[i].name, value) == 0) {
			*(int *)member(ctx->cfg, kd->field) = kd->words[i].value;
			return 0;
		}
	}
	format_choices(kd->words, choices, sizeof(choices));
	return refuse(ctx, "must be %s", choices);
}

const char *
config_auth_name(enum auth_kind kind)
{
	size_t	 i;

	for (i = 0; auth_words[i].name != NULL; i++)
		if (auth_words[i].value == (int)kind)
			return auth_words[i].name;
	return "?";
}

void
config_auth_choices(char *buf, size_t len)
{
	format_choices(auth_words, buf, len);
}

/* --- paths and names ---------------------------------------------------------------- */

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
	if (value[0] != '/' && (ctx->dir == NULL || ctx->dir[0] != '/'))
		return refuse(ctx, "a relative path, and no absolute directory to start "
		    "from");
	return set_string(ctx, kd, resolve_path(ctx->dir, value));
}

static int
parse_env(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	size_t	 len = strlen(value);

	if (len > ENV_MAX || strspn(value, ENV_CHARS) != len)
		return refuse(ctx, "must be 1 to %d of A-Z a-z 0-9 . _ -", ENV_MAX);
	return set_string(ctx, kd, strdup(value));
}

/* A URL path such as /idwise/status: a '/' then printable characters, no query. */
static int
parse_url_path(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	const char	*p;

	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			break;
	if (value[0] != '/' || *p != '\0')
		return refuse(ctx, "not a URL path such as /idwise/status");
	return set_string(ctx, kd, strdup(value));
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
static int
parse_user(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	if (strchr(value, ':') != NULL || has_control_char(value))
		return refuse(ctx, "must not contain ':' or control characters");
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

	if (strspn(value, HEADER_NAME_CHARS) != strlen(value))
		return refuse(ctx, "must be letters, digits and '-' only");
	for (i = 0; i < nitems(reserved_headers); i++)
		if (strcasecmp(value, reserved_headers[i]) == 0)
			return refuse(ctx, "%s cannot carry the credential (choose "
			    "a header of your own, e.g. X-Idwise-Token)", reserved_headers[i]);
	if (set_string(ctx, kd, strdup(value)) == -1)
		return -1;
	free(ctx->cfg->header_param);
	if ((ctx->cfg->header_param = header_param_of(value)) == NULL)
		return refuse(ctx, "%s", strerror(errno));
	return 0;
}

/* An address list (allowlist.h), and its text as written, for summaries. */
static int
parse_allow(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	struct allowlist	**list = member(ctx->cfg, kd->list);

	allowlist_free(*list);
	*list = NULL;
	if (set_string(ctx, kd, strdup(value)) == -1)
		return -1;
	return allowlist_parse(value, list, ctx->why, ctx->whylen);
}

/* --- numbers ------------------------------------------------------------------------ */

/*
 * Plain decimal bytes, 1 to 64 MiB: digits only, so no sign, no 0x and no unit (a '+'
 * parse_number would take is refused here).
 */
static int
parse_max_body(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	long long	 v;

	(void)kd;
	if (strspn(value, DIGITS) != strlen(value))
		return refuse(ctx, "not a positive number of bytes");
	/* Digits only: parse_number can only find it out of range. */
	if (parse_number(value, 10, 0, MAX_BODY_LIMIT, &v) == -1)
		return refuse(ctx, "more than %lld bytes (64 MiB)", MAX_BODY_LIMIT);
	if (v == 0)
		return refuse(ctx, "not a positive number of bytes");
	ctx->cfg->max_body = (size_t)v;
	return 0;
}

/* A duration: 1 to 9 digits and a unit (s, m, h or d), from 1 second to 366 days. */
static int
parse_duration(struct parse_ctx *ctx, const struct keydef *kd, const char *value)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{ 's', 1000 }, { 'm', 60 * 1000 }, { 'h', 3600 * 1000 },
		{ 'd', 24 * 3600 * 1000 },
	};
	char		 number[DURATION_DIGITS_MAX + 1];
	size_t		 digits = strspn(value, DIGITS), i;
	long long	 n;

	(void)kd;
	if (digits == 0 || digits > DURATION_DIGITS_MAX || strlen(value) != digits + 1)
		return refuse(ctx, NOT_A_DURATION);
	memcpy(number, value, digits);
	number[digits] = '\0';
	if (parse_number(number, 10, 1, LLONG_MAX, &n) == -1)
		return refuse(ctx, NOT_A_DURATION);
	for (i = 0; i < nitems(units); i++) {
		if (value[digits] != units[i].unit || n * units[i].ms > DEDUP_WINDOW_MAX_MS)
			continue;
		ctx->cfg->dedup_window_ms = n * units[i].ms;
		return 0;
	}
	return refuse(ctx, NOT_A_DURATION);
}

/* --- the table ---------------------------------------------------------------------- */

#define ANY	KEY_ANY_AUTH
#define STRING_KEY(name, parse, f, auth) \
	{ name, parse, offsetof(struct config, f), 0, NULL, auth }
#define WORD_KEY(name, f, words) \
	{ name, parse_word, offsetof(struct config, f), 0, words, KEY_ANY_AUTH }
#define LIST_KEY(name, f, text) \
	{ name, parse_allow, offsetof(struct config, text), offsetof(struct config, f), \
	    NULL, KEY_ANY_AUTH }
#define VALUE_KEY(name, parse) \
	{ name, parse, 0, 0, NULL, KEY_ANY_AUTH }

static const struct keydef keys[] = {
	STRING_KEY("log",                 parse_path,        log,                 ANY),
	STRING_KEY("env",                 parse_env,         env,                 ANY),
	WORD_KEY("auth",                  auth,              auth_words),
	STRING_KEY("basic_user",          parse_user,        basic_user,          AUTH_BASIC),
	STRING_KEY("basic_password_file", parse_path,        basic_password_file, AUTH_BASIC),
	STRING_KEY("bearer_token_file",   parse_path,        bearer_token_file,   AUTH_BEARER),
	STRING_KEY("header_name",         parse_header_name, header_name,         AUTH_HEADER),
	STRING_KEY("header_value_file",   parse_path,        header_value_file,   AUTH_HEADER),
	LIST_KEY("allow_from",            allow,             allow_text),
	VALUE_KEY("max_body",             parse_max_body),
	WORD_KEY("unknown_events",        unknown_events,    unknown_words),
	WORD_KEY("sync",                  sync,              sync_words),
	VALUE_KEY("dedup_window",         parse_duration),
	STRING_KEY("reject_log",          parse_path,        reject_log,          ANY),
	WORD_KEY("log_level",             log_level,         log_level_words),
	STRING_KEY("status_path",         parse_url_path,    status_path,         ANY),
	LIST_KEY("status_allow_from",     status_allow,      status_allow_text),
};

_Static_assert(nitems(keys) == CONFIG_NKEYS, "CONFIG_NKEYS counts the rows of keys[]");

const struct keydef *const config_keys = keys;

static int
key_named(const void *name, const void *row)
{
	return strcmp(name, ((const struct keydef *)row)->name);
}

const struct keydef *
config_key_find(const char *name)
{
	size_t	 n = CONFIG_NKEYS;

	return lfind(name, keys, &n, sizeof(keys[0]), key_named);
}

const struct keydef *
config_secret_key(enum auth_kind kind)
{
	size_t	 i;

	for (i = 0; i < nitems(secret_keys); i++)
		if (secret_keys[i].kind == kind)
			return config_key_find(secret_keys[i].file_key);
	return NULL;
}
