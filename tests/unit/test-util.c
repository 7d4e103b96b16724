/* test-util.c: hex, SHA-256 and RFC 3339 time stamps. */
#include "autoconf.h"

#include <string.h>

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

int
main(void)
{
	test_sha256_hex();
	test_time();
	return done_testing();
}
