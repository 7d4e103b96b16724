/* SPDX-License-Identifier: ISC */
/*
 * jetstream.h: idwise-log's link to a NATS JetStream cluster, through the NATS C client
 * (libnats): connecting with the credentials and TLS asked for, reconnecting on its own
 * for ever, and the connection's state as it changes (js-stream.h: the stream).
 *
 * Once connected, the connection never gives up: a server that goes away is replaced by
 * another, or tried again (every second, with jitter), while the caller goes on;
 * js_link_state says where it stands. Before that, the caller tries js_link_connect again
 * as long as it wants. Library threads call back into this module only; what they learn is read with
 * js_link_state, so that messages are said by the caller's thread, once per change.
 */
#ifndef IDW_JETSTREAM_H
#define IDW_JETSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#define JS_WAIT_MS		5000	/* for each request (stream info, a sync publish) */

/* How to reach the servers; the paths are read at js_link_open, the secrets never kept. */
struct js_link_opts {
	const char	*urls;		/* URL[,URL...] */
	const char	*creds;		/* a NATS .creds file (JWT and NKey seed) */
	const char	*user;		/* with password_file */
	const char	*password_file;
	const char	*token_file;
	const char	*tls_ca;	/* TLS, trusting the CA certificates in this file */
	const char	*name;		/* the connection's name the servers show */
	/* For asynchronous publishing (may be NULL): called for each message's ack or error. */
	jsPubAckHandler	 ack_handler;
	void		*ack_closure;
	int64_t		 max_pending;	/* async publishes in flight at most */
};

/* The options that say how to reach NATS, for every command that does. */
enum {
	JS_OPT_NATS = 0x2000,		/* apart from the commands' and the filters' (0x1000) */
	JS_OPT_CREDS,
	JS_OPT_USER,
	JS_OPT_PASSWORD_FILE,
	JS_OPT_TOKEN_FILE,
	JS_OPT_TLS_CA
};

#define JS_LINK_LONG_OPTIONS						\
	{ "nats",		required_argument, NULL, JS_OPT_NATS },	\
	{ "creds",		required_argument, NULL, JS_OPT_CREDS },	\
	{ "user",		required_argument, NULL, JS_OPT_USER },	\
	{ "password-file",	required_argument, NULL, JS_OPT_PASSWORD_FILE }, \
	{ "token-file",		required_argument, NULL, JS_OPT_TOKEN_FILE }, \
	{ "tls-ca",		required_argument, NULL, JS_OPT_TLS_CA }

/* One of JS_LINK_LONG_OPTIONS: 1 taken, 0 not one of them. */
int	js_link_option(struct js_link_opts *, int ch, const char *arg);
/* At most one kind of credential, and a user goes with a password file: 0, or -1 said. */
int	js_link_opts_check(const struct js_link_opts *);

enum js_state {
	JS_CONNECTING,		/* not connected yet: js_link_connect */
	JS_UP,			/* connected */
	JS_DOWN,		/* connection lost, reconnecting */
	JS_CLOSED		/* closed for good (not while reconnecting) */
};

struct js_link;

/*
 * Call first, before anything uses libcrypto: the NATS client (3.4) frees libssl's list
 * of compression methods when the process exits, and libcrypto's own clean-up at exit
 * would free it again (nats.c issue 904) and crash; so that clean-up is turned off.
 */
void		 js_init(void);

/*
 * Set up the client, reading the secret files; nothing is sent yet. 0, or the exit status
 * once the reason is said: EX_USAGE for a bad URL list, EX_NOPERM for a refused secret
 * file, EX_CONFIG for a CA file that cannot be loaded, EX_SOFTWARE when the client fails.
 */
int		 js_link_open(struct js_link **, const struct js_link_opts *);
/*
 * Try once to connect, to any of the servers (then the client keeps the connection and
 * reconnects on its own): 0 once connected; -1 and why when no server can be reached now
 * (try again later); or, once said, EX_NOPERM when the servers refuse the credentials and
 * EX_CONFIG when TLS does not fit (wanted, required, or failed).
 */
int		 js_link_connect(struct js_link *, char *why, size_t whylen);
/* Close the connection (what is in flight is dropped); js_link_state is JS_CLOSED after. */
void		 js_link_close(struct js_link *);
/*
 * Then, last: the client library is closed, its threads ended (no callback comes after
 * this, and no message of the client's may be freed any more), and the link freed.
 */
void		 js_link_free(struct js_link *);
enum js_state	 js_link_state(struct js_link *);
/* How many times the client has reconnected (to the same server or another). */
unsigned int	 js_link_reconnects(struct js_link *);
/* The connection's last error, as text in buf, e.g. "Authorization Violation". */
natsStatus	 js_link_error(struct js_link *, char *, size_t);
/* The server connected to, its user and password left out, for messages. */
void		 js_link_server(struct js_link *, char *, size_t);
jsCtx		*js_link_ctx(struct js_link *);
natsConnection	*js_link_conn(struct js_link *);

/* Text for a status and a JetStream error code from the client, for messages. */
void	js_describe(natsStatus, jsErrCode, char *, size_t);

#endif
