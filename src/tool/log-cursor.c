/* SPDX-License-Identifier: ISC */
/*
 * log-cursor.c: the cursor file. It holds two slots of 512 bytes; each is one line: the
 * position as a JSON object, a tab, the hex SHA-256 of that JSON text, spaces, '\n'. A
 * save writes the slot the newest position is not in (one pwrite, one fdatasync), so a
 * save cut short by a crash spoils only that slot, and the other one still holds the
 * position before it. That is one sync per save, where a temporary file and a rename take
 * two syncs, a new inode and a directory sync. The file itself is made once, whole, and
 * put in place with link(2), which never replaces a cursor another process just made.
 */
#include "autoconf.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "idwise-log.h"
#include "log-cursor.h"
#include "logfile.h"
#include "util.h"

#define SLOT_SIZE	512
#define NSLOTS		2
#define CURSOR_MODE	0640
#define CURSOR_VERSION	1
#define OPEN_TRIES	5
#define SLOT_DEPTH	4

struct slot {
	uint64_t	 gen;
	struct log_pos	 pos;
	struct out_pos	 out;
};

/* The numbers in a slot, in the order they are written. */
static const struct {
	const char	*name;
	size_t		 off;
} slot_numbers[] = {
	{ "gen",	offsetof(struct slot, gen) },
	{ "seq",	offsetof(struct slot, pos.seq) },
	{ "dev",	offsetof(struct slot, pos.dev) },
	{ "ino",	offsetof(struct slot, pos.ino) },
	{ "end",	offsetof(struct slot, pos.end) },
	{ "len",	offsetof(struct slot, pos.len) },
	{ "out_dev",	offsetof(struct slot, out.dev) },
	{ "out_ino",	offsetof(struct slot, out.ino) },
	{ "out_size",	offsetof(struct slot, out.size) },
};

#define NNUMBERS	nitems(slot_numbers)

/* --- a slot: one line of JSON and its checksum --------------------------------------- */

static uint64_t *
slot_number(struct slot *s, size_t i)
{
	return (uint64_t *)((char *)s + slot_numbers[i].off);
}

static json_object *
slot_json(struct slot *s)
{
	json_object	*obj;
	char		 hex[SHA256_HEX_LEN + 1];
	size_t		 i;
	int		 rc;

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	rc = json_put(obj, "v", json_object_new_int(CURSOR_VERSION));
	for (i = 0; i < NNUMBERS; i++)
		rc |= json_put(obj, slot_numbers[i].name, json_object_new_uint64(*slot_number(s, i)));
	hex_encode(s->pos.hash, SHA256_LEN, hex);
	rc |= json_put(obj, "hash", json_object_new_string(hex));
	if (rc != 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* The checksum of a slot's JSON text: its SHA-256 in hex. */
static void
slot_sum(const char *text, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char	 digest[SHA256_LEN];

	sha256(text, len, digest);
	hex_encode(digest, SHA256_LEN, hex);
}

/* The slot's line: JSON, tab, its SHA-256, spaces, '\n'. */
static int
slot_format(struct slot *s, char buf[SLOT_SIZE])
{
	json_object	*obj;
	const char	*text;
	char		 hex[SHA256_HEX_LEN + 1];
	size_t		 len;
	int		 rc = -1;

	if ((obj = slot_json(s)) == NULL)
		return -1;
	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	if (text != NULL && len + 1 + SHA256_HEX_LEN + 1 <= SLOT_SIZE) {
		memset(buf, ' ', SLOT_SIZE);
		memcpy(buf, text, len);
		buf[len] = '\t';
		slot_sum(text, len, hex);
		memcpy(buf + len + 1, hex, SHA256_HEX_LEN);
		buf[SLOT_SIZE - 1] = '\n';
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

static int
get_u64(json_object *obj, const char *name, uint64_t *v)
{
	json_object	*m;

	if (!json_object_object_get_ex(obj, name, &m) || !json_object_is_type(m, json_type_int))
		return -1;
	*v = json_object_get_uint64(m);
	return 0;
}

static int
slot_fill(json_object *obj, struct slot *s)
{
	json_object	*hash;
	uint64_t	 v;
	size_t		 i;

	if (get_u64(obj, "v", &v) == -1 || v != CURSOR_VERSION)
		return -1;
	for (i = 0; i < NNUMBERS; i++)
		if (get_u64(obj, slot_numbers[i].name, slot_number(s, i)) == -1)
			return -1;
	if (!json_object_object_get_ex(obj, "hash", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    json_object_get_string_len(hash) != SHA256_HEX_LEN)
		return -1;
	return hex_decode(json_object_get_string(hash), SHA256_HEX_LEN, s->pos.hash);
}

/* A slot whose checksum holds and whose JSON is a position; -1 otherwise. */
static int
slot_parse(const char buf[SLOT_SIZE], struct slot *s)
{
	struct json_tokener	*tok;
	json_object		*obj;
	const char		*tab;
	char			 hex[SHA256_HEX_LEN + 1];
	size_t			 len;
	int			 rc = -1;

	if (buf[SLOT_SIZE - 1] != '\n' || (tab = memchr(buf, '\t', SLOT_SIZE - 1)) == NULL)
		return -1;
	len = (size_t)(tab - buf);
	if (len + 1 + SHA256_HEX_LEN >= SLOT_SIZE)
		return -1;
	slot_sum(buf, len, hex);
	if (memcmp(hex, tab + 1, SHA256_HEX_LEN) != 0)
		return -1;
	if ((tok = json_tokener_new_ex(SLOT_DEPTH)) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj != NULL && json_tokener_get_parse_end(tok) == len &&
	    json_object_is_type(obj, json_type_object))
		rc = slot_fill(obj, s);
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

/* --- the file ------------------------------------------------------------------------ */

/* A new file: both slots hold "no position"; made aside, synced, linked in place. */
static int
create(const char *path)
{
	struct slot	 empty;
	char		 buf[NSLOTS * SLOT_SIZE], *tmp;
	int		 fd, rc = EX_CANTCREAT;

	memset(&empty, 0, sizeof(empty));
	if (slot_format(&empty, buf) == -1 || asprintf(&tmp, "%s.new.%ld", path,
	    (long)getpid()) == -1) {
		msg("%s: out of memory", path);
		return EX_OSERR;
	}
	memcpy(buf + SLOT_SIZE, buf, SLOT_SIZE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, CURSOR_MODE);
	if (fd == -1)
		msg_errno("%s: open", tmp);
	else if (write_all(fd, buf, sizeof(buf)) == -1 || fsync(fd) == -1)
		msg_errno("%s: write", tmp);
	else if (link(tmp, path) == -1 && errno != EEXIST)
		msg_errno("%s: link", path);
	else if (logfile_sync_dir(path) == 0)
		rc = 0;
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* 0 with c->fd open and locked; 1 to try again; else the exit status. */
static int
open_locked(struct cursor *c)
{
	struct stat	 st, now;
	int		 fd, rc;

	if ((fd = open(c->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno != ENOENT) {
			msg_errno("%s: open", c->path);
			return EX_CANTCREAT;
		}
		return (rc = create(c->path)) == 0 ? 1 : rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			msg("%s: in use by another idwise-log", c->path);
		else
			msg_errno("%s: flock", c->path);
		close(fd);
		return errno == EWOULDBLOCK ? EX_TEMPFAIL : EX_IOERR;
	}
	if (fstat(fd, &st) == -1) {
		msg_errno("%s: fstat", c->path);
		close(fd);
		return EX_IOERR;
	}
	if (!S_ISREG(st.st_mode)) {
		msg("%s: not a regular file", c->path);
		close(fd);
		return EX_CANTCREAT;
	}
	/* Locked the file someone replaced meanwhile? Lock the one at the path. */
	if (stat(c->path, &now) == -1 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		close(fd);
		return 1;
	}
	/* Its name on disk before a position saved in it counts (it may be made by hand). */
	if (logfile_sync_dir(c->path) != 0) {
		close(fd);
		return EX_IOERR;
	}
	c->fd = fd;
	return 0;
}

/* The slot read or just written is the cursor's position now. */
static void
take_slot(struct cursor *c, const struct slot *s)
{
	c->gen = s->gen;
	c->pos = s->pos;
	c->out = s->out;
}

/* The newest valid slot; an empty file (made by hand) holds no position yet. */
static int
load(struct cursor *c)
{
	struct slot	 s, best;
	char		 buf[NSLOTS * SLOT_SIZE];
	ssize_t		 n;
	size_t		 i;
	bool		 found = false;

	memset(&best, 0, sizeof(best));
	do
		n = pread(c->fd, buf, sizeof(buf), 0);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		msg_errno("%s: read", c->path);
		return EX_IOERR;
	}
	for (i = 0; i < NSLOTS; i++) {
		memset(&s, 0, sizeof(s));
		if ((size_t)n >= (i + 1) * SLOT_SIZE && slot_parse(buf + i * SLOT_SIZE, &s) == 0 &&
		    (!found || s.gen > best.gen)) {
			best = s;
			found = true;
		}
	}
	if (!found && n != 0) {
		msg("%s: holds no valid position (damaged?); move it away to start again",
		    c->path);
		return EX_DATAERR;
	}
	take_slot(c, &best);
	return 0;
}

/* --- the cursor ---------------------------------------------------------------------- */

int
cursor_open(struct cursor *c, const char *path)
{
	int	 tries, rc;

	memset(c, 0, sizeof(*c));
	c->path = (char *)path;
	c->fd = -1;
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		if ((rc = open_locked(c)) == 0) {
			if ((rc = load(c)) != 0)
				cursor_close(c);
			return rc;
		}
		if (rc != 1)
			return rc;
	}
	msg("%s: replaced again and again while being opened", path);
	return EX_TEMPFAIL;
}

int
cursor_save(struct cursor *c, const struct log_pos *pos, const struct out_pos *out)
{
	struct slot	 s;
	char		 buf[SLOT_SIZE];
	ssize_t		 n;

	memset(&s, 0, sizeof(s));
	s.gen = c->gen + 1;
	s.pos = *pos;
	if (out != NULL)
		s.out = *out;
	if (slot_format(&s, buf) == -1) {
		msg("%s: out of memory", c->path);
		return EX_OSERR;
	}
	do
		n = pwrite(c->fd, buf, SLOT_SIZE, (off_t)(s.gen % NSLOTS) * SLOT_SIZE);
	while (n == -1 && errno == EINTR);
	if (n != SLOT_SIZE || fdatasync(c->fd) == -1) {
		msg("%s: write: %s", c->path, n == -1 || n == SLOT_SIZE ? strerror(errno) :
		    "short write");
		return EX_IOERR;
	}
	take_slot(c, &s);
	return 0;
}

bool
cursor_holds(const struct cursor *c, const struct log_pos *pos)
{
	return pos->seq == 0 || (pos->seq == c->pos.seq &&
	    memcmp(pos->hash, c->pos.hash, SHA256_LEN) == 0);
}

void
cursor_close(struct cursor *c)
{
	if (c->fd != -1 && close(c->fd) == -1)
		msg_errno("%s: close", c->path);
	c->fd = -1;
}
