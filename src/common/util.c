/* SPDX-License-Identifier: ISC */
/* util.c: SHA-256, hex, RFC 3339 time stamps and stderr messages. */
#include "autoconf.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ratelimit.h"
#include "util.h"

static const char *progname = "idwise-fcgi";

/* --- SHA-256 and hex ------------------------------------------------------------------ */

/*
 * OpenSSL 3's SHA256() and EVP_sha256() look the implementation up in the provider store
 * (locks, a hash table) on every call: fetch it once per process instead.
 */
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD		*sha256_md;

static void
sha256_fetch(void)
{
	if ((sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		msg("EVP_MD_fetch: SHA256 is not available; using SHA256()");
}

static const EVP_MD *
sha256_impl(void)
{
	int	 rc;

	if ((rc = pthread_once(&sha256_once, sha256_fetch)) != 0) {
		msg("pthread_once: %s", strerror(rc));
		return NULL;
	}
	return sha256_md;
}

/* A digest we cannot compute would put a wrong hash in the chain: stop instead. */
static void
sha256_failed(void)
{
	msg("sha256: libcrypto failed to compute a digest");
	abort();
}

void
sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	const EVP_MD	*md = sha256_impl();
	unsigned int	 outlen = 0;

	if (md != NULL && EVP_Digest(data, len, out, &outlen, md, NULL) == 1 &&
	    outlen == SHA256_LEN)
		return;
	/* The way it was done before: slower, but needs no fetched implementation. */
	if (SHA256(data, len, out) == NULL)
		sha256_failed();
}

void
sha256_pair(const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[SHA256_LEN])
{
	const EVP_MD	*md = sha256_impl();
	EVP_MD_CTX	*ctx;
	unsigned int	 outlen = 0;
	int		 done;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		sha256_failed();
	done = EVP_DigestInit_ex(ctx, md != NULL ? md : EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1 && outlen == SHA256_LEN;
	EVP_MD_CTX_free(ctx);
	if (!done)
		sha256_failed();
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *in, size_t len, unsigned char *out)
{
	size_t	 i;
	int	 hi, lo;

	if (len % 2 != 0)
		return -1;
	for (i = 0; i < len / 2; i++) {
		hi = hex_digit(in[2 * i]);
		lo = hex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
base64_encode(const unsigned char *in, size_t len, char *out)
{
	if (len == 0) {
		out[0] = '\0';
		return;
	}
	(void)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static bool
base64_digit(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

long
base64_decode_canonical(const char *in, size_t len, unsigned char *out, size_t max)
{
	unsigned char	 buf[3];
	char		 again[4 + 1];
	size_t		 pad = 0, i, n;

	if (len % 4 != 0 || len > (size_t)INT_MAX)
		return -1;
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!base64_digit(in[i]))
			return -1;
	n = len / 4 * 3 - pad;
	if (n > max)
		return -1;
	/* Block by block, so that out needs no room for the padding's bytes. */
	for (i = 0; i < len; i += 4) {
		if (EVP_DecodeBlock(buf, (const unsigned char *)in + i, 4) != 3)
			return -1;
		memcpy(out + i / 4 * 3, buf, i + 4 < len ? 3 : 3 - pad);
	}
	/* The bits the padding leaves over must be zero: one text for each value. */
	if (len > 0) {
		base64_encode(out + (len - 4) / 4 * 3, 3 - pad, again);
		if (memcmp(again, in + len - 4, 4) != 0)
			return -1;
	}
	return (long)n;
}

/* --- time stamps ---------------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted). */
static void
civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t		 era, y;
	unsigned	 doe, yoe, doy, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = y + (*month <= 2);
}

static void
put_digits(char *out, unsigned value, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + value % 10);
		value /= 10;
	}
}

/* The snprintf() way, for what the fast one does not cover (years before 1970 or after 9999). */
static void
format_rfc3339_ms_slow(const struct timespec *ts, char out[RFC3339_MS_LEN + 1])
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

/* Once per record, under the log's lock: arithmetic, no snprintf(), no gmtime_r() lock. */
void
format_rfc3339_ms(const struct timespec *ts, char out[RFC3339_MS_LEN + 1])
{
	int64_t		 secs = ts->tv_sec, year;
	unsigned	 sod;
	int		 month, day;

	if (secs < 0 || secs >= (int64_t)253402300800 || ts->tv_nsec < 0 ||
	    ts->tv_nsec >= 1000000000) {
		format_rfc3339_ms_slow(ts, out);
		return;
	}
	civil_from_days(secs / 86400, &year, &month, &day);
	sod = (unsigned)(secs % 86400);
	memcpy(out, "0000-00-00T00:00:00.000Z", RFC3339_MS_LEN + 1);
	put_digits(out, (unsigned)year, 4);
	put_digits(out + 5, (unsigned)month, 2);
	put_digits(out + 8, (unsigned)day, 2);
	put_digits(out + 11, sod / 3600, 2);
	put_digits(out + 14, sod / 60 % 60, 2);
	put_digits(out + 17, sod % 60, 2);
	put_digits(out + 20, (unsigned)(ts->tv_nsec / 1000000), 3);
}

int
parse_rfc3339_ms(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*end;
	unsigned int	 frac;
	time_t		 secs;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || strlen(end) != 5 || end[0] != '.' || end[4] != 'Z' ||
	    !isdigit((unsigned char)end[1]) || !isdigit((unsigned char)end[2]) ||
	    !isdigit((unsigned char)end[3]))
		return -1;
	frac = (unsigned int)((end[1] - '0') * 100 + (end[2] - '0') * 10 + (end[3] - '0'));
	secs = timegm(&tm);
	if (secs == (time_t)-1)
		return -1;
	*ms = (int64_t)secs * 1000 + frac;
	return 0;
}

int64_t
timespec_to_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* --- messages ------------------------------------------------------------------------- */

char *
escape_shown(const char *s, size_t max, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 c;
	size_t			 i, o = 0;

	for (i = 0; i < max && s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = digits[c >> 4];
		out[o++] = digits[c & 0xf];
	}
	if (s[i] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

void
set_progname(const char *name)
{
	const char	*slash = strrchr(name, '/');

	progname = slash != NULL ? slash + 1 : name;
}

/* One line on stderr, written with one call so lines from many processes do not mix. */
static void __attribute__((format(printf, 3, 0)))
vmsg(struct ratelimit *rl, int errnum, const char *fmt, va_list ap)
{
	char		 line[1024];
	unsigned long	 suppressed;
	size_t		 used;
	int		 n, saved_errno = errno;

	if (!ratelimit_take(rl, &suppressed)) {
		errno = saved_errno;
		return;
	}
	if (suppressed > 0)
		n = snprintf(line, sizeof(line), "%s: (%lu similar lines dropped) ", progname,
		    suppressed);
	else
		n = snprintf(line, sizeof(line), "%s: ", progname);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	used = strlen(line);
	if (errnum != 0)
		snprintf(line + used, sizeof(line) - used - 1, ": %s", strerror(errnum));
	strcat(line, "\n");
	fputs(line, stderr);
	fflush(stderr);
	errno = saved_errno;
}

/*
 * Errors: at most a burst of 50, then 5 a second, per process, so that a failing disk
 * under a flood of requests cannot fill the web server's error log.
 */
static struct ratelimit error_limit = RATELIMIT_INIT(50, 5);
/* Rejected requests: more of them are expected; 20, then 2 a second. */
static struct ratelimit reject_limit = RATELIMIT_INIT(20, 2);

/* The body of msg, msg_reject and msg_errno: vmsg() with their arguments. */
#define VMSG_ARGS(limit, errnum) do {		\
	va_list	 ap_;				\
						\
	va_start(ap_, fmt);			\
	vmsg((limit), (errnum), fmt, ap_);	\
	va_end(ap_);				\
} while (0)

void
msg(const char *fmt, ...)
{
	VMSG_ARGS(&error_limit, 0);
}

void
msg_reject(const char *fmt, ...)
{
	VMSG_ARGS(&reject_limit, 0);
}

/* errno as it was at the call: va_start does not touch it. */
void
msg_errno(const char *fmt, ...)
{
	VMSG_ARGS(&error_limit, errno);
}

/* --- numbers, clocks, writes and buffers --------------------------------------------- */

int
parse_number(const char *text, int base, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (text[0] == '\0' || (strchr("+-", text[0]) != NULL && min >= 0) ||
	    isspace((unsigned char)text[0])) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(text, &end, base);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int64_t
realtime_ms(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_REALTIME, &now);
	return timespec_to_ms(&now);
}

int64_t
monotonic_ms(void)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return timespec_to_ms(&now);
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char	*at = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, at, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		at += n;
		len -= (size_t)n;
	}
	return 0;
}

int
grow_buffer(char **buf, size_t *size, size_t need, size_t first)
{
	size_t	 want = *size > 0 ? *size : first;
	char	*grown;

	while (want < need) {
		if (want > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		want *= 2;
	}
	if (want == *size)
		return 0;
	if ((grown = realloc(*buf, want)) == NULL)
		return -1;
	*buf = grown;
	*size = want;
	return 0;
}
