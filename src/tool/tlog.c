/* SPDX-License-Identifier: ISC */
/* tlog.c: checkpoint and proof texts written and read, and their files. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logfile.h"
#include "tlog.h"
#include "util.h"

#define ROOT_B64_LEN	BASE64_LEN(MERKLE_HASH_LEN)

/* --- checkpoints ------------------------------------------------------------------------- */

int
checkpoint_text(const struct checkpoint *c, char *out, size_t size)
{
	char	 root[ROOT_B64_LEN + 1];
	int	 n;

	base64_encode(c->root, MERKLE_HASH_LEN, root);
	n = snprintf(out, size, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size, root);
	return n > 0 && (size_t)n < size ? n : -1;
}

/* A line of text from *at up to its newline: its length, and *at moved past it; -1 at the end. */
static long
next_line(const char *text, size_t len, size_t *at, const char **line)
{
	const char	*nl;
	size_t		 n;

	if (*at >= len || (nl = memchr(text + *at, '\n', len - *at)) == NULL)
		return -1;
	*line = text + *at;
	n = (size_t)(nl - *line);
	*at += n + 1;
	return (long)n;
}

/* A decimal number with no sign, no leading zero (but 0 itself), at most 2^63-1. */
static int
parse_count(const char *text, size_t len, uint64_t *out)
{
	char		 buf[24];
	long long	 n;

	if (len == 0 || len >= sizeof(buf) || (text[0] == '0' && len > 1))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (parse_number(buf, 10, 0, INT64_MAX, &n) == -1)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

static int
parse_hash(const char *text, size_t len, merkle_hash out)
{
	return len == ROOT_B64_LEN &&
	    base64_decode_canonical(text, len, out, MERKLE_HASH_LEN) == MERKLE_HASH_LEN ? 0 : -1;
}

/* The text of a checkpoint: origin, size, root; extension lines after them are allowed. */
static int
checkpoint_parse(const char *text, size_t len, struct checkpoint *c, char *why, size_t whylen)
{
	const char	*origin = NULL, *size = NULL, *root = NULL;
	long		 no, ns, nr;
	size_t		 at = 0;

	memset(c, 0, sizeof(*c));
	no = next_line(text, len, &at, &origin);
	ns = next_line(text, len, &at, &size);
	nr = next_line(text, len, &at, &root);
	if (no <= 0 || no > NOTE_NAME_MAX || ns <= 0 || nr <= 0) {
		snprintf(why, whylen, "not a checkpoint: its text is not an origin, a tree size "
		    "and a root hash, one a line");
		return -1;
	}
	memcpy(c->origin, origin, (size_t)no);
	if (parse_count(size, (size_t)ns, &c->size) == -1) {
		snprintf(why, whylen, "not a checkpoint: its tree size is not a number");
		return -1;
	}
	if (parse_hash(root, (size_t)nr, c->root) == -1) {
		snprintf(why, whylen, "not a checkpoint: its root is not the base64 of 32 bytes");
		return -1;
	}
	return 0;
}

int
checkpoint_open(const struct note_key *key, const char *note, size_t len,
    struct checkpoint *c, char *why, size_t whylen)
{
	size_t	 textlen;

	if (key != NULL && note_open(key, note, len, &textlen, why, whylen) == -1)
		return -1;
	if (key == NULL && (textlen = note_text_length(note, len)) == 0) {
		snprintf(why, whylen, "not a signed note (text, an empty line, signatures)");
		return -1;
	}
	return checkpoint_parse(note, textlen, c, why, whylen);
}

/* --- proofs ------------------------------------------------------------------------------ */

int
tlog_proof_print(FILE *out, const struct tlog_proof *p)
{
	char	 hash[ROOT_B64_LEN + 1], *extra;
	size_t	 i;

	if (p->kind == PROOF_INCLUSION) {
		fprintf(out, TLOG_INCLUSION_HEADER "\n");
		if (p->extra != NULL) {
			if ((extra = malloc(BASE64_LEN(p->extra_len) + 1)) == NULL)
				return -1;
			base64_encode((const unsigned char *)p->extra, p->extra_len, extra);
			fprintf(out, "extra %s\n", extra);
			free(extra);
		}
		fprintf(out, "index %" PRIu64 "\n", p->at);
	} else
		fprintf(out, TLOG_CONSISTENCY_HEADER "\nold %" PRIu64 "\n", p->at);
	for (i = 0; i < p->n; i++) {
		base64_encode(p->hash[i], MERKLE_HASH_LEN, hash);
		fprintf(out, "%s\n", hash);
	}
	fprintf(out, "\n");
	fwrite(p->note, 1, p->note_len, out);
	return ferror(out) ? -1 : 0;
}

/* "extra BASE64": the record's line, decoded. */
static int
take_extra(struct tlog_proof *p, const char *line, size_t n)
{
	long	 got;

	if (n <= 6 || (p->extra = malloc(n)) == NULL)
		return -1;
	if ((got = base64_decode_canonical(line + 6, n - 6, (unsigned char *)p->extra, n)) <= 0)
		return -1;
	p->extra_len = (size_t)got;
	return 0;
}

/* After the header: [extra], index or old, the hashes, an empty line. */
static int
parse_body(const char *text, size_t len, size_t *at, struct tlog_proof *p)
{
	const char	*line, *word = p->kind == PROOF_INCLUSION ? "index " : "old ";
	size_t		 wl = strlen(word);
	long		 n;

	n = next_line(text, len, at, &line);
	if (p->kind == PROOF_INCLUSION && n > 6 && memcmp(line, "extra ", 6) == 0) {
		if (take_extra(p, line, (size_t)n) == -1)
			return -1;
		n = next_line(text, len, at, &line);
	}
	if (n <= (long)wl || memcmp(line, word, wl) != 0 ||
	    parse_count(line + wl, (size_t)n - wl, &p->at) == -1)
		return -1;
	while ((n = next_line(text, len, at, &line)) > 0) {
		if (p->n == MERKLE_PROOF_MAX || parse_hash(line, (size_t)n, p->hash[p->n]) == -1)
			return -1;
		p->n++;
	}
	return n == 0 ? 0 : -1;
}

int
tlog_proof_parse(const char *text, size_t len, struct tlog_proof *p, char *why, size_t whylen)
{
	const char	*line;
	size_t		 at = 0;
	long		 n;

	memset(p, 0, sizeof(*p));
	n = next_line(text, len, &at, &line);
	if (n == (long)strlen(TLOG_INCLUSION_HEADER) && memcmp(line, TLOG_INCLUSION_HEADER,
	    (size_t)n) == 0)
		p->kind = PROOF_INCLUSION;
	else if (n == (long)strlen(TLOG_CONSISTENCY_HEADER) && memcmp(line,
	    TLOG_CONSISTENCY_HEADER, (size_t)n) == 0)
		p->kind = PROOF_CONSISTENCY;
	else {
		snprintf(why, whylen, "not a proof: the first line is neither "
		    TLOG_INCLUSION_HEADER " nor " TLOG_CONSISTENCY_HEADER);
		return -1;
	}
	if (parse_body(text, len, &at, p) == -1 || at >= len) {
		snprintf(why, whylen, "not a proof: %s", p->kind == PROOF_INCLUSION ?
		    "[extra LINE,] index N, hashes, an empty line, the checkpoint" :
		    "old N, hashes, an empty line, the checkpoint");
		tlog_proof_free(p);
		return -1;
	}
	p->note = text + at;
	p->note_len = len - at;
	return 0;
}

void
tlog_proof_free(struct tlog_proof *p)
{
	free(p->extra);
	p->extra = NULL;
}

/* --- small files ------------------------------------------------------------------------- */

int
tlog_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	char	*data = NULL;
	size_t	 size = 0, have = 0;
	ssize_t	 n;
	int	 fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		msg_errno("%s", path);
		return -1;
	}
	for (;;) {
		if (grow_buffer(&data, &size, have + 2, 4096) == -1) {
			msg("%s: out of memory", path);
			break;
		}
		if ((n = read(fd, data + have, size - have - 1)) == -1 && errno == EINTR)
			continue;
		if (n == -1)
			msg_errno("%s: read", path);
		else if (n == 0) {
			data[have] = '\0';
			close(fd);
			*buf = data;
			*len = have;
			return 0;
		} else if ((have += (size_t)n) > max)
			msg("%s: longer than %zu bytes: not a file idwise-log wrote", path, max);
		if (n <= 0 || have > max)
			break;
	}
	close(fd);
	free(data);
	return -1;
}

int
tlog_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char	*tmp;
	int	 fd, rc = -1;

	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		msg("%s: out of memory", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)) == -1)
		msg_errno("%s", tmp);
	else if (write_all(fd, data, len) == -1 || fsync(fd) == -1)
		msg_errno("%s: write", tmp);
	else if (close(fd) == -1) {
		fd = -1;
		msg_errno("%s: close", tmp);
	} else if ((fd = -1, rename(tmp, path)) == -1)
		msg_errno("%s: rename to %s", tmp, path);
	else if (logfile_sync_dir(path) == 0)
		rc = 0;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}
