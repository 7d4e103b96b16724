/* SPDX-License-Identifier: ISC */
/* checkpoint-state.c: the last signed checkpoint's tree, in a text file, written durably. */
#include "autoconf.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint-state.h"
#include "idwise-log.h"
#include "tlog.h"
#include "util.h"

#define STATE_HEADER	"idwise-log checkpoint state 1"
#define STATE_MAX	8192	/* a header, origin, size, leaf and 64 edge hashes */

int
ckpt_state_lock(const char *path, int *fd)
{
	char	*lock;
	int	 rc = EXIT_UNREADABLE;

	if (asprintf(&lock, "%s.lock", path) == -1) {
		msg("out of memory");
		return EXIT_UNREADABLE;
	}
	if ((*fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		msg_errno("%s", lock);
	else if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			msg("%s: another idwise-log checkpoint is signing with this state", lock);
		else
			msg_errno("%s: flock", lock);
		close(*fd);
		*fd = -1;
	} else
		rc = EX_OK;
	free(lock);
	return rc;
}

/* "WORD VALUE\n" at *at: the value, NUL-ended in place; NULL when the line is not that. */
static char *
field(char *text, size_t *at, const char *word)
{
	size_t	 wl = strlen(word);
	char	*line = text + *at, *nl;

	if ((nl = strchr(line, '\n')) == NULL || strncmp(line, word, wl) != 0 || line[wl] != ' ')
		return NULL;
	*nl = '\0';
	*at += (size_t)(nl - line) + 1;
	return line + wl + 1;
}

static int
hex_hash(const char *text, merkle_hash out)
{
	return text != NULL && strlen(text) == SHA256_HEX_LEN &&
	    hex_decode(text, SHA256_HEX_LEN, out) == 0 ? 0 : -1;
}

/* The state's text; -1 when it is not one. */
static int
parse_state(char *text, struct ckpt_state *st)
{
	struct merkle_edge	*e = &st->tree.edge;
	const char		*origin, *size;
	size_t			 at = strlen(STATE_HEADER) + 1;
	long long		 n;

	if (strncmp(text, STATE_HEADER "\n", at) != 0 ||
	    (origin = field(text, &at, "origin")) == NULL || !note_name_ok(origin) ||
	    (size = field(text, &at, "size")) == NULL ||
	    parse_number(size, 10, 0, INT64_MAX, &n) == -1 ||
	    hex_hash(field(text, &at, "leaf"), st->tree.last_leaf) == -1)
		return -1;
	snprintf(st->origin, sizeof(st->origin), "%s", origin);
	merkle_edge_init(e);
	e->size = (uint64_t)n;
	while (text[at] != '\0') {
		if (e->n == MERKLE_EDGE_MAX || hex_hash(field(text, &at, "edge"), e->hash[e->n]) == -1)
			return -1;
		e->n++;
	}
	return merkle_edge_fits(e->size, e->n) ? 0 : -1;
}

int
ckpt_state_read(const char *path, struct ckpt_state *st)
{
	char	*text;
	size_t	 len;
	int	 rc = EX_OK;

	memset(st, 0, sizeof(*st));
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return EX_OK;
	if (tlog_read_file(path, STATE_MAX, &text, &len) == -1)
		return EXIT_UNREADABLE;
	if (strlen(text) != len || parse_state(text, st) == -1) {
		msg("%s: not a checkpoint state idwise-log wrote; it is what keeps checkpoints "
		    "consistent: restore it, do not remove it", path);
		rc = EXIT_DAMAGED;
	} else
		st->present = true;
	free(text);
	return rc;
}

int
ckpt_state_write(const char *path, const struct ckpt_state *st)
{
	const struct merkle_edge	*e = &st->tree.edge;
	char				 text[STATE_MAX], hex[SHA256_HEX_LEN + 1];
	size_t				 len;
	unsigned			 i;

	hex_encode(st->tree.last_leaf, MERKLE_HASH_LEN, hex);
	len = (size_t)snprintf(text, sizeof(text), STATE_HEADER "\norigin %s\nsize %" PRIu64
	    "\nleaf %s\n", st->origin, e->size, hex);
	for (i = 0; i < e->n && len < sizeof(text); i++) {
		hex_encode(e->hash[i], MERKLE_HASH_LEN, hex);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "edge %s\n", hex);
	}
	if (len >= sizeof(text)) {
		msg("%s: the state does not fit", path);
		return -1;
	}
	return tlog_write_file(path, text, len, 0600);
}
