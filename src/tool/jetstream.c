/* SPDX-License-Identifier: ISC */
/*
 * jetstream.c: the link to NATS JetStream (see jetstream.h): options and credentials, the
 * connection's state from the client's callbacks, connecting and closing.
 */
#include "autoconf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/crypto.h>

#include "jetstream.h"
#include "secret-file.h"
#include "util.h"

#define URLS_MAX		16
#define CONNECT_TIMEOUT_MS	2000
#define RECONNECT_WAIT_MS	1000
#define RECONNECT_JITTER_MS	200
#define PING_INTERVAL_MS	5000	/* a server that stops answering is dropped in ~10 s */
#define PINGS_OUT		2
#define CLOSE_WAIT_MS		3000

struct js_link {
	natsOptions	*opts;		/* until connected */
	natsConnection	*nc;
	jsCtx		*js;
	jsPubAckHandler	 ack_handler;
	void		*ack_closure;
	int64_t		 max_pending;
	atomic_int	 state;		/* enum js_state */
	atomic_uint	 reconnects;
};

/* ---- the connection's state, from the client's threads ---- */

static void
on_reconnected(natsConnection *nc, void *closure)
{
	struct js_link	*link = closure;

	(void)nc;
	atomic_fetch_add(&link->reconnects, 1);
	atomic_store(&link->state, JS_UP);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	struct js_link	*link = closure;

	(void)nc;
	if (atomic_load(&link->state) != JS_CLOSED)
		atomic_store(&link->state, JS_DOWN);
}

static void
on_closed(natsConnection *nc, void *closure)
{
	struct js_link	*link = closure;

	(void)nc;
	atomic_store(&link->state, JS_CLOSED);
}

/* Errors the client meets on its own (a slow consumer...): said, at most a few a second. */
static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
	(void)nc;
	(void)sub;
	(void)closure;
	msg("nats: %s", natsStatus_GetText(s));
}

enum js_state
js_link_state(struct js_link *link)
{
	return (enum js_state)atomic_load(&link->state);
}

unsigned int
js_link_reconnects(struct js_link *link)
{
	return atomic_load(&link->reconnects);
}

void
js_init(void)
{
	/* No libcrypto clean-up at exit (see jetstream.h); harmless where NATS is not used. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
		msg("OPENSSL_init_crypto failed; a crash at exit is possible with TLS");
}

/* ---- options ---- */

/* Where each of JS_LINK_LONG_OPTIONS goes. */
static const struct {
	int	 opt;
	size_t	 off;
} link_options[] = {
	{ JS_OPT_NATS,		offsetof(struct js_link_opts, urls) },
	{ JS_OPT_CREDS,		offsetof(struct js_link_opts, creds) },
	{ JS_OPT_USER,		offsetof(struct js_link_opts, user) },
	{ JS_OPT_PASSWORD_FILE,	offsetof(struct js_link_opts, password_file) },
	{ JS_OPT_TOKEN_FILE,	offsetof(struct js_link_opts, token_file) },
	{ JS_OPT_TLS_CA,	offsetof(struct js_link_opts, tls_ca) },
};

int
js_link_option(struct js_link_opts *lo, int ch, const char *arg)
{
	size_t	 i;

	for (i = 0; i < nitems(link_options); i++) {
		if (link_options[i].opt == ch) {
			*(const char **)((char *)lo + link_options[i].off) = arg;
			return 1;
		}
	}
	return 0;
}

int
js_link_opts_check(const struct js_link_opts *lo)
{
	int	 kinds = (lo->creds != NULL) + (lo->password_file != NULL) +
		    (lo->token_file != NULL);

	if (kinds > 1) {
		msg("give one of --creds, --user with --password-file, or --token-file");
		return -1;
	}
	if ((lo->user != NULL) != (lo->password_file != NULL)) {
		msg("--user and --password-file go together");
		return -1;
	}
	return 0;
}

/* URL[,URL...] into urls[] (pointers into copy); their number, or -1 when it is no list. */
static int
split_urls(char *copy, const char *urls[URLS_MAX])
{
	char	*url, *save = NULL;
	int	 n = 0;

	for (url = strtok_r(copy, ", ", &save); url != NULL; url = strtok_r(NULL, ", ", &save)) {
		if (n == URLS_MAX)
			return -1;
		urls[n++] = url;
	}
	return n > 0 ? n : -1;
}

static int
set_servers(natsOptions *o, const char *list)
{
	const char	*urls[URLS_MAX];
	char		*copy;
	int		 n, rc = 0;

	if ((copy = strdup(list)) == NULL) {
		msg("out of memory");
		return EX_OSERR;
	}
	if ((n = split_urls(copy, urls)) == -1) {
		msg("--nats: want URL[,URL...] (at most %d), such as nats://10.0.0.1:4222", URLS_MAX);
		rc = EX_USAGE;
	} else if (natsOptions_SetServers(o, urls, n) != NATS_OK) {
		msg("--nats: not a list of server URLs the NATS client takes");
		rc = EX_USAGE;
	}
	free(copy);
	return rc;
}

/* The credentials asked for, each read from its file; the secrets are wiped once handed. */
static int
set_auth(natsOptions *o, const struct js_link_opts *lo)
{
	natsStatus	 s = NATS_OK;
	char		*secret;

	if (lo->creds != NULL) {
		if (secret_file_check(lo->creds) == -1)
			return EX_NOPERM;
		s = natsOptions_SetUserCredentialsFromFiles(o, lo->creds, NULL);
	} else if (lo->password_file != NULL || lo->token_file != NULL) {
		secret = secret_file_read(lo->password_file != NULL ? lo->password_file :
		    lo->token_file);
		if (secret == NULL)
			return EX_NOPERM;
		s = lo->password_file != NULL ? natsOptions_SetUserInfo(o, lo->user, secret) :
		    natsOptions_SetToken(o, secret);
		secret_free(secret);
	}
	if (s != NATS_OK) {
		msg("nats: the credentials were not taken: %s", natsStatus_GetText(s));
		return EX_SOFTWARE;
	}
	return 0;
}

static int
set_tls(natsOptions *o, const char *ca)
{
	natsStatus	 s;

	if (ca == NULL)
		return 0;
	if ((s = natsOptions_SetSecure(o, true)) == NATS_OK)
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	if (s != NATS_OK) {
		msg("%s: not a CA certificate file the NATS client can load: %s", ca,
		    natsStatus_GetText(s));
		return EX_CONFIG;
	}
	return 0;
}

/* Reconnecting for ever, with the callbacks that keep link->state. */
static int
set_behaviour(natsOptions *o, struct js_link *link, const char *name)
{
	natsStatus	 s;

	s = natsOptions_SetName(o, name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(o, RECONNECT_JITTER_MS, RECONNECT_JITTER_MS);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, PING_INTERVAL_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, PINGS_OUT);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, link);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, link);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, on_closed, link);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_error, link);
	if (s != NATS_OK) {
		msg("nats: setting up the client: %s", natsStatus_GetText(s));
		return EX_SOFTWARE;
	}
	return 0;
}

static int
make_options(natsOptions **o, struct js_link *link, const struct js_link_opts *lo)
{
	int	 rc;

	if (natsOptions_Create(o) != NATS_OK) {
		msg("nats: out of memory");
		return EX_OSERR;
	}
	if ((rc = set_servers(*o, lo->urls)) != 0 || (rc = set_auth(*o, lo)) != 0 ||
	    (rc = set_tls(*o, lo->tls_ca)) != 0 || (rc = set_behaviour(*o, link, lo->name)) != 0) {
		natsOptions_Destroy(*o);
		*o = NULL;
	}
	return rc;
}

/* ---- opening and closing ---- */

/* The client's last error for this thread, without its "(file.c:123): " in front. */
static const char *
last_error(natsStatus fallback)
{
	const char	*text, *end;
	natsStatus	 s;

	text = nats_GetLastError(&s);
	if (text == NULL || *text == '\0')
		return natsStatus_GetText(fallback);
	if (*text == '(' && (end = strstr(text, "): ")) != NULL)
		text = end + 3;
	return text;
}


static int
make_context(struct js_link *link)
{
	jsOptions	 jo;
	natsStatus	 s;

	jsOptions_Init(&jo);
	jo.Wait = JS_WAIT_MS;
	jo.PublishAsync.AckHandler = link->ack_handler;
	jo.PublishAsync.AckHandlerClosure = link->ack_closure;
	jo.PublishAsync.MaxPending = link->max_pending;
	if ((s = natsConnection_JetStream(&link->js, link->nc, &jo)) != NATS_OK) {
		msg("nats: JetStream context: %s", natsStatus_GetText(s));
		return EX_SOFTWARE;
	}
	return 0;
}

int
js_link_open(struct js_link **out, const struct js_link_opts *lo)
{
	struct js_link	*link;
	int		 rc;

	*out = NULL;
	if ((link = calloc(1, sizeof(*link))) == NULL) {
		msg("out of memory");
		return EX_OSERR;
	}
	atomic_init(&link->state, JS_CONNECTING);
	atomic_init(&link->reconnects, 0);
	link->ack_handler = lo->ack_handler;
	link->ack_closure = lo->ack_closure;
	link->max_pending = lo->max_pending;
	if ((rc = make_options(&link->opts, link, lo)) != 0) {
		free(link);
		return rc;
	}
	*out = link;
	return 0;
}

/* What a failed first connection means: a refusal to say and stop for, or 0 (try again). */
static int
refusal(natsStatus s)
{
	switch (s) {
	case NATS_CONNECTION_AUTH_FAILED:
	case NATS_NOT_PERMITTED:
		return EX_NOPERM;
	case NATS_SECURE_CONNECTION_WANTED:
	case NATS_SECURE_CONNECTION_REQUIRED:
	case NATS_SSL_ERROR:
	case NATS_INVALID_ARG:
		return EX_CONFIG;
	default:
		return 0;
	}
}

int
js_link_connect(struct js_link *link, char *why, size_t whylen)
{
	natsStatus	 s;
	int		 rc;

	if (link->nc != NULL)
		return 0;
	if ((s = natsConnection_Connect(&link->nc, link->opts)) != NATS_OK) {
		link->nc = NULL;
		snprintf(why, whylen, "%s", last_error(s));
		if ((rc = refusal(s)) != 0)
			msg("nats: refused: %s", why);
		return rc != 0 ? rc : -1;
	}
	natsOptions_Destroy(link->opts);
	link->opts = NULL;
	atomic_store(&link->state, JS_UP);
	return make_context(link);
}

void
js_link_close(struct js_link *link)
{
	if (link == NULL)
		return;
	/* Each of these takes NULL: a link that never connected, or is closed already. */
	natsConnection_Close(link->nc);
	jsCtx_Destroy(link->js);
	natsConnection_Destroy(link->nc);
	natsOptions_Destroy(link->opts);
	link->js = NULL;
	link->nc = NULL;
	link->opts = NULL;
}

void
js_link_free(struct js_link *link)
{
	/* The client's threads may still call back (on_closed) until they have ended. */
	if (nats_CloseAndWait(CLOSE_WAIT_MS) != NATS_OK)
		msg("nats: the client's threads did not end in %d ms", CLOSE_WAIT_MS);
	free(link);
}

jsCtx *
js_link_ctx(struct js_link *link)
{
	return link->js;
}

natsConnection *
js_link_conn(struct js_link *link)
{
	return link->nc;
}

void
js_link_server(struct js_link *link, char *buf, size_t size)
{
	char	*scheme, *at, *slash;

	if (natsConnection_GetConnectedUrl(link->nc, buf, size) != NATS_OK || buf[0] == '\0') {
		snprintf(buf, size, "no server");
		return;
	}
	/* scheme://user:password@host:port: the user and password are left out. */
	if ((scheme = strstr(buf, "://")) == NULL)
		return;
	scheme += 3;
	at = strchr(scheme, '@');
	slash = strchr(scheme, '/');
	if (at != NULL && (slash == NULL || at < slash))
		memmove(scheme, at + 1, strlen(at + 1) + 1);
}

natsStatus
js_link_error(struct js_link *link, char *buf, size_t size)
{
	const char	*text = NULL;
	natsStatus	 s;

	s = natsConnection_GetLastError(link->nc, &text);
	snprintf(buf, size, "%s", text != NULL && *text != '\0' ? text : natsStatus_GetText(s));
	return s;
}

void
js_describe(natsStatus s, jsErrCode ec, char *buf, size_t size)
{
	if (ec == 0)
		snprintf(buf, size, "%s", natsStatus_GetText(s));
	else
		snprintf(buf, size, "%s (JetStream error %d)", last_error(s), (int)ec);
}
