/* SPDX-License-Identifier: ISC */
/*
 * jsonstrict.c: the lexical rules of RFC 8259 that json-c 0.16 lets through even with
 * JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8: single-quoted strings, NaN and
 * Infinity, "1.", raw control characters in strings, overlong and surrogate UTF-8, lone
 * \u surrogates (json-c turns them into U+FFFD), integers beyond 64 bits (json-c clamps
 * them) and \u0000 in member names (json-c cuts the name there). Structure and depth stay
 * json-c's job; this pass only looks at tokens.
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonstrict.h"

#define NUMBER_MAX	400	/* longest number we accept, in characters */

/* --- the lexer ------------------------------------------------------------------------ */

struct lexer {
	const unsigned char	*p;
	const unsigned char	*end;
	const char		*why;
};

static bool
fail(struct lexer *lx, const char *why)
{
	lx->why = why;
	return false;
}

size_t
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	size_t		 len, i;
	uint32_t	 cp, min;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; cp = p[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if ((size_t)(end - p) < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	int	 i, d;

	if (end - p < 4)
		return -1;
	*out = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		*out = *out << 4 | (uint32_t)d;
	}
	return 0;
}

/* After the "\u" of an escape: four hex digits, and a whole surrogate pair if one starts. */
static bool
lex_unicode_escape(struct lexer *lx, bool *nul)
{
	uint32_t	 cp, low;

	if (hex4(lx->p, lx->end, &cp) == -1)
		return fail(lx, "bad \\u escape");
	lx->p += 4;
	if (cp == 0)
		*nul = true;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(lx, "lone low surrogate in \\u escape");
	if (cp < 0xd800 || cp > 0xdbff)
		return true;
	if (lx->end - lx->p < 6 || lx->p[0] != '\\' || lx->p[1] != 'u' ||
	    hex4(lx->p + 2, lx->end, &low) == -1 || low < 0xdc00 || low > 0xdfff)
		return fail(lx, "lone high surrogate in \\u escape");
	lx->p += 6;
	return true;
}

static bool
lex_escape(struct lexer *lx, bool *nul)
{
	if (lx->p == lx->end)
		return fail(lx, "unterminated string");
	switch (*lx->p++) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return true;
	case 'u':
		return lex_unicode_escape(lx, nul);
	default:
		return fail(lx, "bad escape in string");
	}
}

/* From just after the opening quote to just after the closing one. */
static bool
lex_string(struct lexer *lx, bool *nul)
{
	size_t	 n;

	*nul = false;
	while (lx->p < lx->end) {
		if (*lx->p == '"') {
			lx->p++;
			return true;
		}
		if (*lx->p == '\\') {
			lx->p++;
			if (!lex_escape(lx, nul))
				return false;
			continue;
		}
		if (*lx->p < 0x20)
			return fail(lx, "control character in string");
		if ((n = utf8_sequence(lx->p, lx->end)) == 0)
			return fail(lx, "invalid UTF-8");
		lx->p += n;
	}
	return fail(lx, "unterminated string");
}

static size_t
span_digits(const unsigned char *p, const unsigned char *end)
{
	const unsigned char	*q = p;

	while (q < end && *q >= '0' && *q <= '9')
		q++;
	return (size_t)(q - p);
}

/* Does the number, which follows JSON's grammar, fit what json-c keeps without change? */
static bool
number_fits(const char *text, bool integer)
{
	double	 d;
	char	*end;

	errno = 0;
	if (integer && text[0] == '-')
		(void)strtoll(text, &end, 10);
	else if (integer)
		(void)strtoull(text, &end, 10);
	else {
		d = strtod(text, &end);
		return isfinite(d);
	}
	return errno != ERANGE;
}

static bool
lex_number(struct lexer *lx)
{
	const unsigned char	*start = lx->p;
	char			 text[NUMBER_MAX + 1];
	size_t			 n;
	bool			 integer = true;

	if (lx->p < lx->end && *lx->p == '-')
		lx->p++;
	if ((n = span_digits(lx->p, lx->end)) == 0)
		return fail(lx, "bad number");
	if (n > 1 && *lx->p == '0')
		return fail(lx, "number with a leading zero");
	lx->p += n;
	if (lx->p < lx->end && *lx->p == '.') {
		integer = false;
		if ((n = span_digits(++lx->p, lx->end)) == 0)
			return fail(lx, "bad number");
		lx->p += n;
	}
	if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
		integer = false;
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
			lx->p++;
		if ((n = span_digits(lx->p, lx->end)) == 0)
			return fail(lx, "bad number");
		lx->p += n;
	}
	if ((size_t)(lx->p - start) > NUMBER_MAX)
		return fail(lx, "number too long");
	memcpy(text, start, (size_t)(lx->p - start));
	text[lx->p - start] = '\0';
	if (!number_fits(text, integer))
		return fail(lx, "number out of range");
	return true;
}

static bool
lex_literal(struct lexer *lx, const char *word)
{
	size_t	 len = strlen(word);

	if ((size_t)(lx->end - lx->p) < len || memcmp(lx->p, word, len) != 0)
		return fail(lx, "unexpected character");
	lx->p += len;
	return true;
}

/* A token must end at whitespace, punctuation or the end (no "truex", "1x"). */
static bool
at_delimiter(const struct lexer *lx)
{
	return lx->p == lx->end || strchr(" \t\r\n,:]}", *lx->p) != NULL;
}

static bool
lex_scalar(struct lexer *lx)
{
	bool	 ok;

	switch (*lx->p) {
	case 't':
		ok = lex_literal(lx, "true");
		break;
	case 'f':
		ok = lex_literal(lx, "false");
		break;
	case 'n':
		ok = lex_literal(lx, "null");
		break;
	default:
		if (*lx->p != '-' && (*lx->p < '0' || *lx->p > '9'))
			return fail(lx, "unexpected character");
		ok = lex_number(lx);
		break;
	}
	if (ok && !at_delimiter(lx))
		return fail(lx, "unexpected character");
	return ok;
}

/* --- the checks ----------------------------------------------------------------------- */

int
jsonstrict_check(const unsigned char *text, size_t len, size_t *names, const char **why)
{
	struct lexer	 lx = { text, text + len, NULL };
	bool		 after_string = false, string_nul = false, ok = true;

	*names = 0;
	while (ok && lx.p < lx.end) {
		switch (*lx.p) {
		case ' ': case '\t': case '\r': case '\n':
			lx.p++;
			continue;
		case '"':
			lx.p++;
			ok = lex_string(&lx, &string_nul);
			after_string = true;
			continue;
		case ':':
			if (after_string && string_nul)
				ok = fail(&lx, "member name contains \\u0000");
			else if (after_string)
				(*names)++;
			lx.p++;
			break;
		case '{': case '}': case '[': case ']': case ',':
			lx.p++;
			break;
		default:
			ok = lex_scalar(&lx);
			break;
		}
		after_string = false;
	}
	if (!ok) {
		*why = lx.why;
		return -1;
	}
	return 0;
}

json_object *
jsonstrict_new_string(const char *s)
{
	const unsigned char	*p, *end;
	json_object		*str;
	char			*clean, *q;
	size_t			 n, len = strlen(s);

	p = (const unsigned char *)s;
	end = p + len;
	while (p < end && (n = utf8_sequence(p, end)) != 0)
		p += n;
	if (p == end)
		return json_object_new_string(s);
	if (len > INT32_MAX / 3 || (clean = malloc(len * 3)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s, q = clean; p < end; p += n) {
		if ((n = utf8_sequence(p, end)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);	/* U+FFFD */
			q += 3;
			n = 1;
		} else {
			memcpy(q, p, n);
			q += n;
		}
	}
	str = json_object_new_string_len(clean, (int)(q - clean));
	free(clean);
	return str;
}
