/* SPDX-License-Identifier: ISC */
/* test-util.c: hex, SHA-256, RFC 3339 time stamps, client values made safe to show, numbers, clocks, messages. */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static void
test_sha256_hex(void)
{
	unsigned char	 digest[SHA256_LEN], back[SHA256_LEN];
	char		 hex[SHA256_HEX_LEN + 1];

	sha256("abc", 3, digest);
	hex_encode(digest, SHA256_LEN, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "SHA-256 of \"abc\" in hex");
	ok(hex_decode(hex, SHA256_HEX_LEN, back) == 0 && memcmp(back, digest, SHA256_LEN) == 0,
	    "hex decodes back");
	sha256("", 0, digest);
	hex_encode(digest, SHA256_LEN, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "SHA-256 of the empty string");
	sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, digest);
	hex_encode(digest, SHA256_LEN, hex);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	    "SHA-256 of the two-block FIPS 180-2 vector (the implementation is reused)");
	ok(hex_decode("0g", 2, back) == -1, "hex_decode refuses a non-hex digit");
	ok(hex_decode("ABCD", 4, back) == -1, "hex_decode refuses upper case (we write lower)");
	ok(hex_decode("abc", 3, back) == -1, "hex_decode refuses an odd length");
}

static void
test_time(void)
{
	struct timespec	 ts = { 1795624826, 123456789 };
	char		 text[RFC3339_MS_LEN + 1];
	int64_t		 ms;

	format_rfc3339_ms(&ts, text);
	is_str(text, "2026-11-25T16:40:26.123Z", "RFC 3339 with milliseconds, UTC");
	ok(parse_rfc3339_ms(text, &ms) == 0 && ms == 1795624826123LL, "parses back to ms");
	is_int(timespec_to_ms(&ts), 1795624826123LL, "timespec_to_ms");
	ok(parse_rfc3339_ms("2026-11-25T16:40:26Z", &ms) == -1, "refuses without ms");
	ok(parse_rfc3339_ms("2026-11-25T16:40:26.12Z", &ms) == -1, "refuses two-digit ms");
	ok(parse_rfc3339_ms("2026-11-25T16:40:26.123+01:00", &ms) == -1, "refuses an offset");
	ok(parse_rfc3339_ms("2026-11-25T16:40:26.1a3Z", &ms) == -1, "refuses a letter in ms");
}

/* What format_rfc3339_ms() wrote before it did its own arithmetic. */
static void
reference_rfc3339(const struct timespec *ts, char *out)
{
	struct tm	 tm;
	time_t		 secs = ts->tv_sec;
	char		 text[64];

	gmtime_r(&secs, &tm);
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
	memcpy(out, text, RFC3339_MS_LEN);
	out[RFC3339_MS_LEN] = '\0';
}

static void
test_time_sweep(void)
{
	struct timespec	 ts;
	char		 got[RFC3339_MS_LEN + 1], want[RFC3339_MS_LEN + 1];
	long long	 s, bad = 0, n = 0;
	long long	 edges[] = { 0, 59, 86399, 86400, 951782400, 951868799, 4107542400LL,
	    253402300799LL, 253402300800LL, -1, -86401 };
	size_t		 i;

	/* Every 13th day from 1970 to 9999, at a second of the day that moves. */
	for (s = 0; s < 253402300800LL; s += 13 * 86400 + 7919) {
		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)(s % 1000000000);
		format_rfc3339_ms(&ts, got);
		reference_rfc3339(&ts, want);
		bad += strcmp(got, want) != 0;
		n++;
	}
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		ts.tv_sec = (time_t)edges[i];
		ts.tv_nsec = 999999999;
		format_rfc3339_ms(&ts, got);
		reference_rfc3339(&ts, want);
		bad += strcmp(got, want) != 0;
		n++;
	}
	ok(bad == 0 && n > 200000, "RFC 3339 time stamps as gmtime_r and snprintf wrote them "
	    "(%lld of %lld differ)", bad, n);
}

static void
test_escape_shown(void)
{
	char	 buf[SHOWN_ESCAPED_LEN(8)];

	is_str(escape_shown("12a", 8, buf), "12a", "a printable value is shown as it is");
	is_str(escape_shown("", 8, buf), "", "an empty value stays empty");
	is_str(escape_shown("1\"2\\3", 8, buf), "1\\x222\\x5c3",
	    "quote and backslash are escaped");
	is_str(escape_shown("\n\r\x1b\x7f\xff", 8, buf), "\\x0a\\x0d\\x1b\\x7f\\xff",
	    "control bytes, DEL and high bytes are escaped");
	is_str(escape_shown("123456789", 8, buf), "12345678...", "cut after max bytes");
	is_str(escape_shown("12345678", 8, buf), "12345678", "exactly max bytes: no cut");
	is_str(escape_shown("\xff\xff\xff\xff\xff\xff\xff\xff\xff", 8, buf),
	    "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff...",
	    "the worst case fits SHOWN_ESCAPED_LEN");
	ok(strlen(buf) + 1 == sizeof(buf), "and fills it exactly");
}

static void
test_parse_number(void)
{
	long long	 v = -7;

	ok(parse_number("42", 10, 1, 100, &v) == 0 && v == 42, "a number in range is read");
	ok(parse_number("0755", 8, 0, 0777, &v) == 0 && v == 0755, "in the base asked for");
	ok(parse_number("9223372036854775807", 10, 0, LLONG_MAX, &v) == 0 && v == LLONG_MAX,
	    "up to LLONG_MAX");
	errno = 0;
	ok(parse_number("101", 10, 1, 100, &v) == -1 && errno == ERANGE, "above max: ERANGE");
	errno = 0;
	ok(parse_number("0", 10, 1, 100, &v) == -1 && errno == ERANGE, "below min: ERANGE");
	errno = 0;
	ok(parse_number("99999999999999999999", 10, 0, LLONG_MAX, &v) == -1 && errno == ERANGE,
	    "beyond long long: ERANGE");
	errno = 0;
	ok(parse_number("-1", 10, 0, 100, &v) == -1 && errno == EINVAL,
	    "a sign where min is not negative: EINVAL");
	errno = 0;
	ok(parse_number("+3", 10, 0, 100, &v) == -1 && errno == EINVAL,
	    "a plus sign where min is not negative: EINVAL");
	ok(parse_number("-5", 10, -10, 10, &v) == 0 && v == -5, "a sign where min is negative");
	ok(parse_number("", 10, 0, 100, &v) == -1, "empty: refused");
	ok(parse_number(" 5", 10, 0, 100, &v) == -1, "leading space: refused");
	ok(parse_number("5 ", 10, 0, 100, &v) == -1, "trailing space: refused");
	ok(parse_number("5x", 10, 0, 100, &v) == -1, "trailing garbage: refused");
	ok(parse_number("8", 8, 0, 100, &v) == -1, "a digit outside the base: refused");
	v = 3;
	parse_number("x", 10, 0, 100, &v);
	is_int(v, 3, "a refused number leaves *out alone");
}

static void
test_clocks(void)
{
	struct timespec	 now;
	int64_t		 before, after;

	clock_gettime(CLOCK_REALTIME, &now);
	before = timespec_to_ms(&now);
	after = realtime_ms();
	ok(after >= before && after - before < 1000, "realtime_ms is CLOCK_REALTIME in ms");
	clock_gettime(CLOCK_MONOTONIC, &now);
	before = timespec_to_ms(&now);
	after = monotonic_ms();
	ok(after >= before && after - before < 1000, "monotonic_ms is CLOCK_MONOTONIC in ms");
}

/* msg_errno: the message, then ": " and strerror(errno), on stderr (here a pipe). */
static void
test_msg_errno(void)
{
	char	 line[256];
	int	 fds[2], saved;
	ssize_t	 n;

	if (pipe(fds) == -1 || (saved = dup(STDERR_FILENO)) == -1) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stderr);
	dup2(fds[1], STDERR_FILENO);
	set_progname("test-util");
	errno = ENOENT;
	msg_errno("%s: open", "/x/y");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	line[n > 0 ? n : 0] = '\0';
	is_str(line, "test-util: /x/y: open: No such file or directory\n",
	    "msg_errno appends strerror(errno)");
}

static void
test_grow_buffer(void)
{
	char	*buf = NULL;
	size_t	 size = 0;

	ok(grow_buffer(&buf, &size, 10, 64) == 0 && buf != NULL && size == 64,
	    "grow_buffer: the first size when it is enough");
	memset(buf, 'x', size);
	ok(grow_buffer(&buf, &size, 64, 64) == 0 && size == 64, "  no change when it holds need");
	ok(grow_buffer(&buf, &size, 200, 64) == 0 && size == 256 && buf[63] == 'x',
	    "  doubled until it holds need, the bytes kept");
	ok(grow_buffer(&buf, &size, SIZE_MAX, 64) == -1 && errno == ENOMEM && size == 256,
	    "  too much: ENOMEM, the buffer as it was");
	free(buf);
}

/* RFC 4648's test vectors, and what a strict decoder refuses. */
static void
test_base64(void)
{
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	unsigned char	 back[16], digest[SHA256_LEN], whole[SHA256_LEN];
	char		 text[32];
	size_t		 i;
	long		 n;

	for (i = 0; i < nitems(vectors); i++) {
		base64_encode((const unsigned char *)vectors[i][0], strlen(vectors[i][0]), text);
		is_str(text, vectors[i][1], "base64 of \"%s\"", vectors[i][0]);
		n = base64_decode_canonical(text, strlen(text), back, sizeof(back));
		ok(n == (long)strlen(vectors[i][0]) && memcmp(back, vectors[i][0], (size_t)n) == 0,
		    "... and back");
	}
	ok(base64_decode_canonical("Zm9", 3, back, sizeof(back)) == -1, "base64: a length not a multiple of 4");
	ok(base64_decode_canonical("Zm9=Yg==", 8, back, sizeof(back)) == -1, "base64: '=' in the middle");
	ok(base64_decode_canonical("Zh==", 4, back, sizeof(back)) == -1, "base64: unused bits not zero");
	ok(base64_decode_canonical("Zm 9", 4, back, sizeof(back)) == -1, "base64: a space");
	ok(base64_decode_canonical("Zm9vYmFy", 8, back, 5) == -1, "base64: more bytes than room for");
	ok(base64_decode_canonical("Zm9vYg==", 8, back, 4) == 4, "base64: room for the bytes, not the padding");
	sha256_pair("ab", 2, "c", 1, digest);
	sha256("abc", 3, whole);
	ok(memcmp(digest, whole, SHA256_LEN) == 0, "sha256_pair hashes a then b as one text");
}

int
main(void)
{
	test_parse_number();
	test_clocks();
	test_msg_errno();
	test_sha256_hex();
	test_escape_shown();
	test_time();
	test_time_sweep();
	test_grow_buffer();
	test_base64();
	return done_testing();
}
