/* SPDX-License-Identifier: ISC */
/*
 * fuzz-config.c: config_parse() on any text. It reads no file (secret files are loaded by
 * config_load), so the input is the whole world. Oracles: an accepted config holds values in
 * range (idwise-fcgi.conf(5)); a refused one leaves the struct zeroed and says why in one
 * printable line that starts with the file name; parsing the same text twice agrees.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define FILE_NAME	"/etc/idwise/idwise-fcgi.conf"
#define DIR_NAME	"/etc/idwise"
#define MAX_BODY_LIMIT	67108864UL
#define ENV_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool
absolute(const char *path)
{
	return path != NULL && path[0] == '/';
}

static void
check_accepted(const struct config *cfg)
{
	const char	*p;

	FUZZ_CHECK(cfg->path != NULL && strcmp(cfg->path, FILE_NAME) == 0, "path kept");
	FUZZ_CHECK(absolute(cfg->log), "log is an absolute path");
	FUZZ_CHECK(cfg->env != NULL && strlen(cfg->env) >= 1 && strlen(cfg->env) <= 64 &&
	    strspn(cfg->env, ENV_CHARS) == strlen(cfg->env), "env is 1 to 64 of its characters");
	FUZZ_CHECK(cfg->max_body >= 1 && cfg->max_body <= MAX_BODY_LIMIT, "max_body in range");
	FUZZ_CHECK(cfg->dedup_window_ms >= 1000 &&
	    cfg->dedup_window_ms <= (int64_t)366 * 24 * 3600 * 1000, "dedup_window in range");
	FUZZ_CHECK(cfg->creds == NULL, "config_parse reads no secret");
	switch (cfg->auth) {
	case AUTH_NONE:
		FUZZ_CHECK(cfg->basic_user == NULL && cfg->bearer_token_file == NULL &&
		    cfg->header_name == NULL, "auth none: no key of another kind");
		break;
	case AUTH_BASIC:
		FUZZ_CHECK(cfg->basic_user != NULL && strchr(cfg->basic_user, ':') == NULL &&
		    absolute(cfg->basic_password_file), "auth basic: user and password file");
		break;
	case AUTH_BEARER:
		FUZZ_CHECK(absolute(cfg->bearer_token_file), "auth bearer: token file");
		break;
	case AUTH_HEADER:
		FUZZ_CHECK(cfg->header_name != NULL && absolute(cfg->header_value_file) &&
		    cfg->header_param != NULL && strncmp(cfg->header_param, "HTTP_", 5) == 0,
		    "auth header: name, CGI variable and value file");
		for (p = cfg->header_param; *p != '\0'; p++)
			FUZZ_CHECK((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_', "header_param is a CGI variable name");
		break;
	default:
		FUZZ_CHECK(0, "auth is one of the four kinds");
	}
}

static void
check_refused(const struct config *cfg, const char *err, size_t errlen)
{
	static const struct config	 zero;
	size_t				 len = strnlen(err, errlen), i;

	FUZZ_CHECK(memcmp(cfg, &zero, sizeof(zero)) == 0, "a refused config is left zeroed");
	FUZZ_CHECK(len > 0 && len < errlen, "an error says something, NUL-terminated");
	FUZZ_CHECK(strncmp(err, FILE_NAME ":", strlen(FILE_NAME ":")) == 0,
	    "the error starts with the file name");
	for (i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)err[i] >= 0x20 && err[i] != 0x7f,
		    "the error is one printable line");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg, again;
	char		 err[CONFIG_ERR_LEN], err2[CONFIG_ERR_LEN];
	char		*text;
	int		 rc, rc2;

	/* An exact copy, so that reading past the end is caught. */
	if ((text = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	memset(err, 0, sizeof(err));
	rc = config_parse(&cfg, text, size, FILE_NAME, DIR_NAME, err, sizeof(err));
	if (rc == 0)
		check_accepted(&cfg);
	else {
		FUZZ_CHECK(rc == -1, "config_parse returns 0 or -1");
		check_refused(&cfg, err, sizeof(err));
	}
	memset(err2, 0, sizeof(err2));
	rc2 = config_parse(&again, text, size, FILE_NAME, DIR_NAME, err2, sizeof(err2));
	FUZZ_CHECK(rc2 == rc, "the same text, the same verdict");
	FUZZ_CHECK(rc == 0 || strcmp(err, err2) == 0, "the same text, the same error");
	if (rc == 0) {
		FUZZ_CHECK(again.max_body == cfg.max_body && again.auth == cfg.auth &&
		    strcmp(again.env, cfg.env) == 0 && strcmp(again.log, cfg.log) == 0,
		    "the same text, the same values");
		config_free(&again);
	}
	config_free(&cfg);
	free(text);
	return 0;
}
