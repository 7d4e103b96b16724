/* SPDX-License-Identifier: ISC */
/* config.h: the configuration file, parsed and checked whole at start. */
#ifndef IDW_CONFIG_H
#define IDW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct allowlist;
struct credset;
struct file_owner;

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER, AUTH_HEADER };
enum unknown_policy { UNKNOWN_ACCEPT, UNKNOWN_REJECT };
enum sync_mode { SYNC_DATA, SYNC_NONE };
enum log_level { LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct config {
	char			*path;		/* the file it came from */
	char			*log;
	char			*env;
	enum auth_kind		 auth;
	char			*basic_user;
	char			*basic_password_file;
	char			*bearer_token_file;
	char			*header_name;
	char			*header_value_file;
	char			*header_param;	/* header_name as a CGI variable: HTTP_X_... */
	struct allowlist	*allow;		/* NULL: any address */
	char			*allow_text;	/* as written, for summaries */
	size_t			 max_body;
	enum unknown_policy	 unknown_events;
	enum sync_mode		 sync;
	int64_t			 dedup_window_ms;	/* ids are known at least this long */
	char			*reject_log;	/* NULL: none */
	enum log_level		 log_level;	/* debug: a line for every accept too */
	char			*status_path;	/* NULL: no status page */
	struct allowlist	*status_allow;	/* who may read it (default: loopback) */
	char			*status_allow_text;	/* NULL: the default */
	struct credset		*creds;		/* digests of accepted credentials */
};

#define CONFIG_ERR_LEN	512

/*
 * Parse config text. Relative paths are taken from dir. On error fills err with one line
 * "file:line: key: reason" and returns -1. Secret files are not read here.
 */
int	config_parse(struct config *, const char *text, size_t len, const char *file,
	    const char *dir, char *err, size_t errlen);
/*
 * Read and parse the file, then load and check the secret files. The file must not be
 * writable by others nor owned by anyone but root or the service's user; the secret files
 * must be root's or the service user's (credset_load_file). config_load_as: the service
 * is that account (the --user one); config_load: the effective user and group.
 */
int	config_load_as(struct config *, const char *path, const struct file_owner *service,
	    char *err, size_t errlen);
int	config_load(struct config *, const char *path, char *err, size_t errlen);
/* The same checks of the file as config_load, but no secret file is read. */
int	config_read(struct config *, const char *path, char *err, size_t errlen);
void	config_free(struct config *);
const char *config_default_path(void);
/* The word of the auth key for kind: "none", "basic", "bearer" or "header". */
const char *config_auth_name(enum auth_kind);

#endif
