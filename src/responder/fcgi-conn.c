/* SPDX-License-Identifier: ISC */
/*
 * fcgi-conn.c: one FastCGI connection on the edge (see fcgi-edge.h). What it sends is
 * read without blocking and fed to the record layer (fcgi-proto.c) against one deadline a
 * request; a complete request is handed to a worker; what the protocol itself answers is
 * written at once; a refused request is answered 400 and the connection closed after the
 * client's remaining bytes are read away (lingering). An idle kept connection has no
 * deadline; the oldest one goes when room is needed (fcgi-loop.c). A request holds the
 * configuration that was current at its first byte until it is answered (reload.h), so a
 * reload meanwhile changes nothing of it: not its body limit here, nor how it is handled.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>

#include <openssl/crypto.h>

#include "config.h"
#include "fcgi-edge.h"
#include "handler.h"
#include "reload.h"
#include "snapshot.h"
#include "util.h"

#define IN_MAX		(FCGI_RECORD_MAX + 16384)	/* unparsed bytes per connection */
#define READ_CHUNK	16384
#define LINGER_MS	2000	/* to read what a refused client still sends, before close */

/* --- writing to a client ------------------------------------------------------------- */

/* Its socket is non-blocking: poll() waits for room, until the deadline. */
int
conn_send(const struct conn *c, const unsigned char *buf, size_t len, int64_t deadline)
{
	struct pollfd	 pfd = { c->fd, POLLOUT, 0 };
	ssize_t		 n;
	int64_t		 left;

	while (len > 0) {
		if ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			return -1;
		if ((left = deadline - monotonic_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* A reply of the edge's own, for a request it cannot hand on. */
static void
put_refusal(struct bytes *out, uint16_t id, const char *why)
{
	static const char	 head[] = "Status: 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n\r\n{\"error\":\"";
	struct bytes		 text = { NULL, 0, 0 };

	if (bytes_put(&text, head, sizeof(head) - 1) == 0 &&
	    bytes_put(&text, why, strlen(why)) == 0 && bytes_put(&text, "\"}\n", 3) == 0 &&
	    fcgi_put_record(out, FCGI_STDOUT, id, text.data, text.len) == 0 &&
	    fcgi_put_record(out, FCGI_STDOUT, id, NULL, 0) == 0)
		(void)fcgi_put_end_request(out, id, 0, FCGI_REQUEST_COMPLETE);
	bytes_free(&text);
}

/* --- the configuration of its request ----------------------------------------------- */

/* Bytes of a request came: it is read and served with the configuration now. */
static void
hold_config(struct edge *e, struct conn *c)
{
	if (c->config != NULL || c->in.len == 0)
		return;
	c->config = running_config_take(e->running);
	c->parser.body_cap = snapshot_config(c->config)->max_body + 1;
}

/* No request under way: the next one takes the configuration current then. */
static void
let_go_config(struct conn *c)
{
	snapshot_let_go(c->config);
	c->config = NULL;
}

/* --- the states of a connection ------------------------------------------------------ */

static int
arm(struct edge *e, struct conn *c)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(e->epfd, c->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		msg_errno("epoll_ctl");
		return -1;
	}
	c->armed = true;
	return 0;
}

void
conn_free(struct edge *e, struct conn *c)
{
	if (close(c->fd) == -1)
		msg_errno("close");
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bytes_free(&c->in);
	fcgi_parser_free(&c->parser);
	let_go_config(c);
	free(c);
	e->nconns--;
}

struct conn *
conn_new(struct edge *e, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		msg_errno("calloc");
		return NULL;
	}
	c->fd = fd;
	c->state = CONN_READING;
	c->deadline = monotonic_ms() + e->io_timeout_ms;
	fcgi_parser_init(&c->parser, 0, e->max_conns);	/* its limit: hold_config() */
	c->next = e->conns;
	if (e->conns != NULL)
		e->conns->prev = c;
	e->conns = c;
	e->nconns++;
	return c;
}

/* Answered and not kept, with bytes perhaps still coming: read them away, then close. */
static void
conn_linger(struct edge *e, struct conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1 || e->stopping) {
		conn_free(e, c);
		return;
	}
	c->state = CONN_LINGER;
	c->deadline = monotonic_ms() + LINGER_MS;
	if (arm(e, c) == -1)
		conn_free(e, c);
}

/*
 * Write the protocol's own answers the parser queued, without waiting: they are small, and
 * a client that lets its socket fill instead of reading them is given up (-1), so that it
 * cannot slow the edge down.
 */
static int
flush_answers(struct conn *c)
{
	int	 rc = 0;

	if (c->parser.out.len == 0)
		return 0;
	rc = conn_send(c, c->parser.out.data, c->parser.out.len, monotonic_ms());
	bytes_wipe(&c->parser.out);
	return rc;
}

/*
 * A connection is taken only while a worker is free for it: a process does not hoard
 * connections it cannot serve now, which its siblings on the same socket could.
 */
static void
hand_to_worker(struct edge *e, struct conn *c)
{
	c->state = CONN_BUSY;
	if (++e->busy >= e->threads)
		edge_stop_listening(e);
	workers_hand(e, c);
}

static void
refuse(struct edge *e, struct conn *c)
{
	msg_reject("refused a FastCGI request: %s", c->parser.error);
	put_refusal(&c->parser.out, c->parser.req.id, c->parser.error);
	if (flush_answers(c) == -1) {
		conn_free(e, c);
		return;
	}
	conn_linger(e, c);
}

/* Take what the parser can from c->in and act on it; false if c was handed on or freed. */
static bool
advance(struct edge *e, struct conn *c)
{
	enum fcgi_step	 step;
	size_t		 used;

	hold_config(e, c);
	step = fcgi_feed(&c->parser, c->in.data, c->in.len, &used);
	bytes_consume(&c->in, used);
	if (!c->parser.active && c->in.len == 0)
		let_go_config(c);
	if (flush_answers(c) == -1) {
		conn_free(e, c);
		return false;
	}
	switch (step) {
	case FCGI_STEP_REQUEST:
		hand_to_worker(e, c);
		return false;
	case FCGI_STEP_REFUSE:
		refuse(e, c);
		return false;
	case FCGI_STEP_CLOSE:
		msg_reject("closed a FastCGI connection: %s", c->parser.error);
		conn_free(e, c);
		return false;
	case FCGI_STEP_MORE:
		break;
	}
	if (c->served && !c->parser.active && c->in.len == 0) {
		if (e->stopping) {
			conn_free(e, c);
			return false;
		}
		c->state = CONN_IDLE;
		c->idle_since = monotonic_ms();
	}
	return true;
}

/* Read what the client sent: into the parser, or thrown away after a refusal. */
void
conn_read(struct edge *e, struct conn *c)
{
	unsigned char	 buf[READ_CHUNK];
	ssize_t		 n;
	int		 rc;

	for (;;) {
		n = read(c->fd, buf, c->state == CONN_LINGER ? sizeof(buf) :
		    IN_MAX - c->in.len < sizeof(buf) ? IN_MAX - c->in.len : sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_free(e, c);
			return;
		}
		if (c->state == CONN_LINGER)
			continue;
		if (c->state == CONN_IDLE) {
			c->state = CONN_READING;
			c->deadline = monotonic_ms() + e->io_timeout_ms;
		}
		rc = bytes_put(&c->in, buf, (size_t)n);
		OPENSSL_cleanse(buf, (size_t)n);
		if (rc == -1) {
			msg("out of memory reading a FastCGI connection");
			conn_free(e, c);
			return;
		}
		if (!advance(e, c))
			return;
	}
	if (arm(e, c) == -1)
		conn_free(e, c);
}

/* A deadline passed: a begun request is answered with what came, anything else closed. */
void
conn_expire(struct edge *e, struct conn *c)
{
	if (c->state == CONN_READING && fcgi_request_started(&c->parser)) {
		c->close_after = c->linger = true;
		hand_to_worker(e, c);
		return;
	}
	if (c->state == CONN_READING)
		msg_reject("closed a FastCGI connection: no whole request in %d s",
		    e->io_timeout_ms / 1000);
	conn_free(e, c);
}

/* A worker is done with c: keep it for the next request, or let it go. */
void
conn_resume(struct edge *e, struct conn *c)
{
	e->busy--;
	let_go_config(c);
	if (c->close_after) {
		if (c->linger)
			conn_linger(e, c);
		else
			conn_free(e, c);
		return;
	}
	c->served = true;
	c->state = CONN_READING;
	c->deadline = monotonic_ms() + e->io_timeout_ms;
	if (!advance(e, c))
		return;
	if (arm(e, c) == -1)
		conn_free(e, c);
}
