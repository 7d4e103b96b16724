/* SPDX-License-Identifier: ISC */
/* ship-msg.c: the subject, Msg-Id, names and durations of what idwise-log ship publishes. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ship-msg.h"

#define PREFIX_MAX	128
#define DURATION_MAX_NS	((int64_t)365 * 24 * 3600 * 1000000000LL)

static bool
token_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

/* Are the n bytes at s all letters, digits, '_' and '-'? */
static bool
token_bytes(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!token_byte((unsigned char)s[i]))
			return false;
	return true;
}

bool
ship_prefix_valid(const char *prefix)
{
	const char	*dot;
	size_t		 n;

	if (strlen(prefix) > PREFIX_MAX)
		return false;
	for (;;) {
		dot = strchr(prefix, '.');
		n = dot != NULL ? (size_t)(dot - prefix) : strlen(prefix);
		if (n == 0 || !token_bytes(prefix, n))
			return false;
		if (dot == NULL)
			return true;
		prefix = dot + 1;
	}
}

bool
ship_name_valid(const char *name)
{
	size_t	 n = strlen(name);

	return n > 0 && n <= SHIP_NAME_MAX && token_bytes(name, n);
}

bool
ship_host_valid(const char *host)
{
	size_t	 i, n = strlen(host);

	if (n == 0 || n > SHIP_HOST_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (host[i] <= ' ' || host[i] > '~')
			return false;
	return true;
}

/* The length of the token at s (up to '.' or the end). */
static size_t
token_len(const char *s)
{
	const char	*dot = strchr(s, '.');

	return dot != NULL ? (size_t)(dot - s) : strlen(s);
}

/* Step past the token of length n and its '.', if any. */
static const char *
next_token(const char *s, size_t n)
{
	return s[n] == '.' ? s + n + 1 : s + n;
}

bool
ship_subject_covers(const char *pattern, const char *prefix)
{
	const char	*p = pattern, *t = prefix;
	size_t		 pn, tn;

	while (*p != '\0') {
		pn = token_len(p);
		if (pn == 1 && *p == '>')
			return p[1] == '\0';	/* every prefix token before it matched */
		if (*t == '\0')
			return false;	/* a token more than the prefix, and no '>' after it */
		tn = token_len(t);
		if (!(pn == 1 && *p == '*') && (pn != tn || memcmp(p, t, pn) != 0))
			return false;
		p = next_token(p, pn);
		t = next_token(t, tn);
	}
	return false;		/* no '>': only subjects of one length match */
}

void
ship_token(const char *value, char out[SHIP_TOKEN_SIZE])
{
	size_t	 i;

	if (value == NULL || *value == '\0') {
		strcpy(out, "_");
		return;
	}
	for (i = 0; value[i] != '\0' && i < SHIP_TOKEN_SIZE - 1; i++)
		out[i] = token_byte((unsigned char)value[i]) ? value[i] : '_';
	out[i] = '\0';
}

int
ship_subject(char *buf, size_t size, const char *prefix, const char *env, const char *type)
{
	char	 e[SHIP_TOKEN_SIZE], t[SHIP_TOKEN_SIZE];
	int	 n;

	ship_token(env, e);
	ship_token(type, t);
	n = snprintf(buf, size, "%s.%s.%s", prefix, e, t);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
ship_checkpoint_subject(char *buf, size_t size, const char *prefix)
{
	int	 n = snprintf(buf, size, "%s.checkpoints", prefix);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void
ship_msg_id(const char *id, size_t id_len, const unsigned char body_digest[SHA256_LEN],
    char out[SHA256_HEX_LEN + 1])
{
	unsigned char	 in[2 * SHA256_LEN], md[SHA256_LEN];

	sha256(id, id_len, in);
	memcpy(in + SHA256_LEN, body_digest, SHA256_LEN);
	sha256(in, sizeof(in), md);
	hex_encode(md, SHA256_LEN, out);
}

/* ---- durations ---- */

static const struct {
	const char	*name;
	int64_t		 ns;
} units[] = {
	{ "ms",	1000000LL },		/* before "m" */
	{ "d",	86400000000000LL },
	{ "h",	3600000000000LL },
	{ "m",	60000000000LL },
	{ "s",	1000000000LL },
};

/* The unit at s: its length and size, or 0. */
static size_t
unit_at(const char *s, int64_t *ns)
{
	size_t	 i, n;

	for (i = 0; i < nitems(units); i++) {
		n = strlen(units[i].name);
		if (strncmp(s, units[i].name, n) == 0) {
			*ns = units[i].ns;
			return n;
		}
	}
	return 0;
}

int
ship_parse_duration(const char *text, int64_t *ns)
{
	const char	*s = text;
	int64_t		 total = 0, unit, v;
	size_t		 n;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > DURATION_MAX_NS / 1000000LL)
				return -1;
		}
		if ((n = unit_at(s, &unit)) == 0 || v > (DURATION_MAX_NS - total) / unit)
			return -1;
		total += v * unit;
		s += n;
	}
	*ns = total;
	return 0;
}

/* Write v and the unit after the used bytes of buf (cut short when it is full). */
static void
append(char *buf, size_t size, size_t *used, int64_t v, const char *unit)
{
	int	 n;

	if (*used + 1 >= size)
		return;
	if ((n = snprintf(buf + *used, size - *used, "%" PRId64 "%s", v, unit)) < 0)
		return;
	*used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

void
ship_format_duration(int64_t ns, char *buf, size_t size)
{
	int64_t	 h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
	int64_t	 s = ns / 1000000000LL % 60;
	size_t	 used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (ns < 1000000000LL) {
		append(buf, size, &used, ns / 1000000LL, "ms");
		return;
	}
	if (h > 0)
		append(buf, size, &used, h, "h");
	if (m > 0)
		append(buf, size, &used, m, "m");
	if (s > 0 || used == 0)
		append(buf, size, &used, s, "s");
}
