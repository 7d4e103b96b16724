/* SPDX-License-Identifier: ISC */
/*
 * config-keys.h: the keys of the configuration file, one row each (name, parser, the field
 * it fills, the auth kind it belongs to), and the parsers of their values. config.c reads
 * the file and checks it whole; a new key is a row in config-keys.c.
 */
#ifndef IDW_CONFIG_KEYS_H
#define IDW_CONFIG_KEYS_H

#include <stddef.h>

#include "config.h"

#define CONFIG_NKEYS	17	/* the rows of config_keys[] (a static assertion checks) */
#define KEY_ANY_AUTH	(-1)	/* a key of every auth kind */

/* What a key's parser gets: the config to fill, where relative paths start, a reason. */
struct parse_ctx {
	struct config	*cfg;
	const char	*dir;
	char		*why;		/* why a value is refused (never the value) */
	size_t		 whylen;
};

struct word;

struct keydef {
	const char		*name;
	/* 0, or -1 with ctx->why filled. */
	int			(*parse)(struct parse_ctx *, const struct keydef *,
				    const char *value);
	size_t			 field;	/* offsetof what it fills: string, enum or text */
	size_t			 list;	/* address lists: offsetof the struct allowlist * */
	const struct word	*words;	/* a key whose value is one word of a table */
	int			 auth;	/* the auth kind it belongs to, or KEY_ANY_AUTH */
};

/* CONFIG_NKEYS rows, in the order the checks of a whole file name them. */
extern const struct keydef *const config_keys;

const struct keydef *config_key_find(const char *name);	/* NULL: no such key */
/* The string a key fills (for the secret file keys). */
char	**config_key_string(struct config *, const struct keydef *);
/* The key naming the secret file an auth kind reads; NULL for auth = none. */
const struct keydef *config_secret_key(enum auth_kind);
/* "none, basic, bearer or header": the words of the auth key (config.h: one of them). */
void	 config_auth_choices(char *buf, size_t len);

#endif
