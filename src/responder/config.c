/* SPDX-License-Identifier: ISC */
/*
 * config.c: the configuration file, read and checked whole at start. The file must be a
 * regular file nobody but root and the service's user may write; its lines are "key =
 * value", each key one row of the table in config-keys.c; then the keys are checked
 * together (those of the chosen auth kind are required, those of others refused); then
 * the secret files of the chosen auth kind are loaded as digests (auth.c).
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
#include <unistd.h>

#include "allowlist.h"
#include "auth.h"
#include "config.h"
#include "config-keys.h"
#include "util.h"

#define BLANKS			" \t\r"
#define CONFIG_FILE_MAX		(1024 * 1024)
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

/* --- errors -------------------------------------------------------------------------- */

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

/* --- the text ------------------------------------------------------------------------ */

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
	if ((kd = config_key_find(key)) == NULL)
		return unknown_key(err, errlen, file, lineno, key);
	i = (size_t)(kd - config_keys);
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
	const struct keydef	*kd;
	char			 choices[128];
	const char		*kind = config_auth_name(cfg->auth);
	size_t			 i;

	if (lines[config_key_find("auth") - config_keys] == 0) {
		config_auth_choices(choices, sizeof(choices));
		return config_error(err, errlen, file, 0, "auth",
		    "missing (required: %s)", choices);
	}
	for (i = 0, kd = config_keys; i < CONFIG_NKEYS; i++, kd++)
		if (kd->auth != KEY_ANY_AUTH && kd->auth != (int)cfg->auth && lines[i] != 0)
			return config_error(err, errlen, file, lines[i], kd->name,
			    "not used with auth = %s", kind);
	for (i = 0, kd = config_keys; i < CONFIG_NKEYS; i++, kd++)
		if (kd->auth == (int)cfg->auth && lines[i] == 0)
			return config_error(err, errlen, file, 0, kd->name,
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

	memset(lines, 0, CONFIG_NKEYS * sizeof(lines[0]));
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
	unsigned int	 lines[CONFIG_NKEYS];

	return parse_config(cfg, text, len, file, dir, lines, err, errlen);
}

/* --- the file ------------------------------------------------------------------------ */

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

/* --- loading: the file, then its secrets --------------------------------------------- */

/* The secret file of the chosen auth kind, as digests; errors name its key's line. */
static int
load_secrets(struct config *cfg, const unsigned int *lines,
    const struct file_owner *service, char *err, size_t errlen)
{
	const struct keydef	*kd;
	char			 why[CONFIG_ERR_LEN];
	char			*prefix = NULL;
	int			 rc;

	if ((kd = config_secret_key(cfg->auth)) == NULL)
		return 0;	/* auth = none: nothing to load */
	if ((cfg->creds = credset_new()) == NULL ||
	    (cfg->auth == AUTH_BASIC && asprintf(&prefix, "%s:", cfg->basic_user) == -1))
		return config_error(err, errlen, cfg->path, 0, NULL, "%s", strerror(errno));
	rc = credset_load_file(cfg->creds, *config_key_string(cfg, kd), prefix, service,
	    why, sizeof(why));
	free(prefix);
	if (rc == -1)
		return config_error(err, errlen, cfg->path, lines[kd - config_keys],
		    kd->name, "%s", why);
	return 0;
}

/* The file, parsed; then its secret files unless service is NULL. */
static int
load_config(struct config *cfg, const char *path, uid_t service_uid,
    const struct file_owner *service, char *err, size_t errlen)
{
	unsigned int	 lines[CONFIG_NKEYS];
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
