/* SPDX-License-Identifier: ISC */
/*
 * refjson.c: a plain recursive-descent JSON checker for the fuzzers' oracles. It shares no
 * code with src/jsonstrict.c on purpose: UTF-8 is checked against the table of well-formed
 * byte sequences (Unicode 3-7) rather than by decoding, and integers are compared as digit
 * strings rather than with strtoll/strtoull.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refjson.h"

#define NUMBER_MAX	400

struct rj {
	const unsigned char	*p;
	const unsigned char	*end;
	int			 depth;
	int			 maxdepth;
};

/* A decoded string. */
struct rbuf {
	unsigned char	*s;
	size_t		 len;
	size_t		 cap;
};

static int	value(struct rj *, struct refjson_top *);

static void
rbuf_free(struct rbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

static int
rbuf_put(struct rbuf *b, const unsigned char *s, size_t n)
{
	unsigned char	*grown;
	size_t		 cap;

	if (b->len + n > b->cap) {
		cap = (b->len + n) * 2 + 16;
		if ((grown = realloc(b->s, cap)) == NULL)
			abort();
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	return 0;
}

static int
rbuf_put_cp(struct rbuf *b, uint32_t cp)
{
	unsigned char	 u[4];

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return rbuf_put(b, u, 1);
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return rbuf_put(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return rbuf_put(b, u, 3);
	}
	u[0] = (unsigned char)(0xf0 | cp >> 18);
	u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return rbuf_put(b, u, 4);
}

static void
skip_ws(struct rj *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' ||
	    *r->p == '\r'))
		r->p++;
}

static bool
in(const unsigned char *p, const unsigned char *end, unsigned char lo, unsigned char hi)
{
	return p < end && *p >= lo && *p <= hi;
}

/* Well-formed UTF-8 byte sequences (The Unicode Standard, table 3-7): length or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char	 c = *p;

	if (c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return in(p + 1, end, 0x80, 0xbf) ? 2 : 0;
	if (c == 0xe0)
		return in(p + 1, end, 0xa0, 0xbf) && in(p + 2, end, 0x80, 0xbf) ? 3 : 0;
	if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
		return in(p + 1, end, 0x80, 0xbf) && in(p + 2, end, 0x80, 0xbf) ? 3 : 0;
	if (c == 0xed)
		return in(p + 1, end, 0x80, 0x9f) && in(p + 2, end, 0x80, 0xbf) ? 3 : 0;
	if (c == 0xf0)
		return in(p + 1, end, 0x90, 0xbf) && in(p + 2, end, 0x80, 0xbf) &&
		    in(p + 3, end, 0x80, 0xbf) ? 4 : 0;
	if (c >= 0xf1 && c <= 0xf3)
		return in(p + 1, end, 0x80, 0xbf) && in(p + 2, end, 0x80, 0xbf) &&
		    in(p + 3, end, 0x80, 0xbf) ? 4 : 0;
	if (c == 0xf4)
		return in(p + 1, end, 0x80, 0x8f) && in(p + 2, end, 0x80, 0xbf) &&
		    in(p + 3, end, 0x80, 0xbf) ? 4 : 0;
	return 0;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p. */
static int
hex4(struct rj *r, uint32_t *out)
{
	int	 i, d;

	if (r->end - r->p < 4)
		return -1;
	*out = 0;
	for (i = 0; i < 4; i++) {
		if ((d = hexval(r->p[i])) == -1)
			return -1;
		*out = *out * 16 + (uint32_t)d;
	}
	r->p += 4;
	return 0;
}

static int
escape(struct rj *r, struct rbuf *out, bool *nul)
{
	static const char	 from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*e;
	unsigned char		 c;
	uint32_t		 hi, lo;

	if (r->p == r->end)
		return -1;
	c = *r->p++;
	if (c != 'u') {
		if (c == '\0' || (e = strchr(from, c)) == NULL)
			return -1;
		return rbuf_put(out, (const unsigned char *)&to[e - from], 1);
	}
	if (hex4(r, &hi) == -1)
		return -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1;
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return -1;
		r->p += 2;
		if (hex4(r, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (hi == 0)
		*nul = true;
	return rbuf_put_cp(out, hi);
}

/* At the opening quote; decodes into out. */
static int
string(struct rj *r, struct rbuf *out, bool *nul)
{
	size_t	 n;

	*nul = false;
	r->p++;
	while (r->p < r->end) {
		if (*r->p == '"') {
			r->p++;
			return 0;
		}
		if (*r->p == '\\') {
			r->p++;
			if (escape(r, out, nul) == -1)
				return -1;
			continue;
		}
		if (*r->p < 0x20 || (n = utf8_len(r->p, r->end)) == 0)
			return -1;
		rbuf_put(out, r->p, n);
		r->p += n;
	}
	return -1;
}

static size_t
digits(struct rj *r)
{
	const unsigned char	*start = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return (size_t)(r->p - start);
}

/* Is the digit string d (no leading zero) at most max (same kind of string)? */
static bool
digits_at_most(const unsigned char *d, size_t n, const char *max)
{
	size_t	 mlen = strlen(max);

	if (n != mlen)
		return n < mlen;
	return memcmp(d, max, n) <= 0;
}

static int
number(struct rj *r)
{
	const unsigned char	*start = r->p, *int_digits;
	char			 text[NUMBER_MAX + 1], *end;
	size_t			 n, len;
	bool			 neg = false, integer = true;
	double			 d;

	if (*r->p == '-') {
		neg = true;
		r->p++;
	}
	int_digits = r->p;
	if ((n = digits(r)) == 0 || (n > 1 && *int_digits == '0'))
		return -1;
	if (r->p < r->end && *r->p == '.') {
		integer = false;
		r->p++;
		if (digits(r) == 0)
			return -1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		integer = false;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (digits(r) == 0)
			return -1;
	}
	if ((len = (size_t)(r->p - start)) > NUMBER_MAX)
		return -1;
	if (integer)
		return digits_at_most(int_digits, n,
		    neg ? "9223372036854775808" : "18446744073709551615") ? 0 : -1;
	memcpy(text, start, len);
	text[len] = '\0';
	d = strtod(text, &end);
	return d - d == 0 ? 0 : -1;	/* finite */
}

static int
literal(struct rj *r, const char *word)
{
	size_t	 len = strlen(word);

	if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
		return -1;
	r->p += len;
	return 0;
}

/* Note the root's "event" and "body" members. */
static void
note_top(struct refjson_top *top, const struct rbuf *name, const unsigned char *at,
    const unsigned char *end)
{
	struct rj	 sub = { at, end, 0, 0 };
	struct rbuf	 val = { NULL, 0, 0 };
	bool		 nul;

	if (name->len == 4 && memcmp(name->s, "body", 4) == 0)
		top->body_object = *at == '{';
	if (name->len != 5 || memcmp(name->s, "event", 5) != 0)
		return;
	top->event_string = *at == '"';
	if (*at == '"' && string(&sub, &val, &nul) == 0 && val.len > 0) {
		top->event_len = val.len;
		memcpy(top->event, val.s, val.len < sizeof(top->event) ? val.len :
		    sizeof(top->event));
	}
	rbuf_free(&val);
}

static int
object(struct rj *r, struct refjson_top *top)
{
	struct rbuf	*names = NULL, *grown;
	size_t		 n = 0, i;
	bool		 nul;
	int		 rc = -1;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		skip_ws(r);
		if (r->p == r->end || *r->p != '"')
			break;
		if ((grown = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			abort();
		names = grown;
		memset(&names[n], 0, sizeof(names[n]));
		if (string(r, &names[n++], &nul) == -1 || nul)
			break;
		for (i = 0; i + 1 < n; i++)
			if (names[i].len == names[n - 1].len && (names[i].len == 0 ||
			    memcmp(names[i].s, names[n - 1].s, names[i].len) == 0))
				break;
		if (i + 1 < n)
			break;
		skip_ws(r);
		if (r->p == r->end || *r->p++ != ':')
			break;
		skip_ws(r);
		if (top != NULL && r->p < r->end)
			note_top(top, &names[n - 1], r->p, r->end);
		if (value(r, NULL) == -1)
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			rc = 0;
		}
		break;
	}
	for (i = 0; i < n; i++)
		rbuf_free(&names[i]);
	free(names);
	return rc;
}

static int
array(struct rj *r)
{
	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		if (value(r, NULL) == -1)
			return -1;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return -1;
	}
}

static int
value(struct rj *r, struct refjson_top *top)
{
	struct rbuf	 discard = { NULL, 0, 0 };
	bool		 nul;
	int		 rc;

	skip_ws(r);
	if (r->p == r->end)
		return -1;
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > r->maxdepth)
			return -1;
		rc = *r->p == '{' ? object(r, top) : array(r);
		r->depth--;
		return rc;
	case '"':
		rc = string(r, &discard, &nul);
		rbuf_free(&discard);
		return rc;
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return number(r);
		return -1;
	}
}

int
refjson_check(const unsigned char *text, size_t len, int maxdepth, struct refjson_top *top)
{
	struct rj	 r = { text, text + len, 0, maxdepth };

	if (top != NULL) {
		memset(top, 0, sizeof(*top));
		skip_ws(&r);
		top->object = r.p < r.end && *r.p == '{';
	}
	if (value(&r, top) == -1)
		return -1;
	skip_ws(&r);
	return r.p == r.end ? 0 : -1;
}
