/* SPDX-License-Identifier: ISC */
/* util.h: small helpers every module shares: SHA-256, hex, time stamps, messages. */
#ifndef IDW_UTIL_H
#define IDW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SHA256_LEN	32
#define SHA256_HEX_LEN	64
#define RFC3339_MS_LEN	24	/* 2026-11-25T16:40:26.123Z */

void	sha256(const void *, size_t, unsigned char [SHA256_LEN]);
/* SHA-256 of a's bytes followed by b's, without copying them together. */
void	sha256_pair(const void *a, size_t alen, const void *b, size_t blen,
	    unsigned char [SHA256_LEN]);
void	hex_encode(const unsigned char *, size_t, char *);	/* writes 2n+1 bytes */
int	hex_decode(const char *, size_t, unsigned char *);	/* 0, or -1 on bad digit */
/* Standard base64 (RFC 4648 section 4), with padding, no line breaks. */
#define BASE64_LEN(n)	(((n) + 2) / 3 * 4)
void	base64_encode(const unsigned char *, size_t, char *);	/* writes BASE64_LEN(n)+1 */
/*
 * Decode exactly the base64 text of len bytes (only the 64 digits, '=' padding to a
 * multiple of 4, unused bits zero) into at most max bytes: their count, or -1.
 */
long	base64_decode_canonical(const char *, size_t len, unsigned char *, size_t max);
void	format_rfc3339_ms(const struct timespec *, char [RFC3339_MS_LEN + 1]);
int	parse_rfc3339_ms(const char *, int64_t *);	/* to ms since epoch */
int64_t	timespec_to_ms(const struct timespec *);
int64_t	monotonic_ms(void);		/* CLOCK_MONOTONIC, in ms */
int64_t	realtime_ms(void);		/* CLOCK_REALTIME, in ms since the epoch */

/* The number of elements of an array (not of a pointer). */
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * text as a whole number in base (like OpenBSD's strtonum): no sign unless min < 0, no
 * space, nothing after it, within [min, max]. 0, or -1 with errno EINVAL (not a number)
 * or ERANGE (out of range).
 */
int	parse_number(const char *text, int base, long long min, long long max, long long *out);
/* All of buf, across short writes and EINTR: 0, or -1 with errno set. */
int	write_all(int fd, const void *buf, size_t len);
/*
 * Make the malloc'd *buf of *size bytes (NULL and 0 at first) hold at least need bytes:
 * its size doubles from first (> 0) until it does. 0, or -1 (errno ENOMEM), both unchanged.
 */
int	grow_buffer(char **buf, size_t *size, size_t need, size_t first);

/*
 * A client-given value for a one-line message, cut to at most max bytes: printable ASCII
 * but '"' and '\' kept, every other byte as \xHH, "..." after a cut. out holds
 * SHOWN_ESCAPED_LEN(max) bytes; the result is out.
 */
#define SHOWN_ESCAPED_LEN(max)	((max) * 4 + sizeof("..."))
char	*escape_shown(const char *, size_t max, char *out);

void	set_progname(const char *);
/* One line on stderr, "progname: ...", rate-limited (see util.c); msg_reject for rejections. */
void	msg(const char *, ...) __attribute__((format(printf, 1, 2)));
void	msg_reject(const char *, ...) __attribute__((format(printf, 1, 2)));
/* msg, then ": " and strerror(errno) of errno as it was at the call. */
void	msg_errno(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
