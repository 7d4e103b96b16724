/* SPDX-License-Identifier: ISC */
/* test-ship-msg.c: what idwise-log ship calls a record's message, and the names it takes. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "ship-msg.h"
#include "tap.h"

static void
test_covers(void)
{
	static const struct {
		const char	*pattern;
		const char	*prefix;
		bool		 covers;
	} cases[] = {
		{ "idwise.>",		"idwise",	true },
		{ ">",			"idwise",	true },
		{ "*.>",		"idwise",	true },
		{ "acme.>",		"acme.kyc",	true },
		{ "acme.*.>",		"acme.kyc",	true },
		{ "acme.kyc.>",		"acme.kyc",	true },
		{ "idwise.*.*",		"idwise",	false },	/* not PREFIX.checkpoints */
		{ "idwise.live.>",	"idwise",	false },
		{ "idwise",		"idwise",	false },
		{ "other.>",		"idwise",	false },
		{ "idwisex.>",		"idwise",	false },
		{ "idw.>",		"idwise",	false },
		{ "acme.kyc.x.>",	"acme.kyc",	false },
		{ "idwise.>.x",		"idwise",	false },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(ship_subject_covers(cases[i].pattern, cases[i].prefix), cases[i].covers,
		    "%s %s %s.>", cases[i].pattern, cases[i].covers ? "covers" : "does not cover",
		    cases[i].prefix);
}

static void
test_names(void)
{
	ok(ship_prefix_valid("idwise"), "idwise is a prefix");
	ok(ship_prefix_valid("acme.kyc-eu_1"), "acme.kyc-eu_1 is a prefix");
	ok(!ship_prefix_valid(""), "the empty prefix is not");
	ok(!ship_prefix_valid("a..b"), "an empty token is not");
	ok(!ship_prefix_valid(".a") && !ship_prefix_valid("a."), "nor a dot at either end");
	ok(!ship_prefix_valid("a.*") && !ship_prefix_valid("a.>"), "nor a wildcard");
	ok(!ship_prefix_valid("a b"), "nor a space");
	ok(ship_name_valid("IDWISE") && ship_name_valid("kyc-live_2"), "stream names");
	ok(!ship_name_valid("a.b") && !ship_name_valid("a b") && !ship_name_valid(""),
	    "a dot, a space or nothing is no stream name");
	ok(ship_host_valid("web-1.example.com"), "a host name is a host");
	ok(!ship_host_valid("a b") && !ship_host_valid("a\nb") && !ship_host_valid(""),
	    "a space, a newline or nothing is not");
}

static void
test_subjects(void)
{
	char	 buf[SHIP_SUBJECT_MAX], token[SHIP_TOKEN_SIZE], long_env[200];

	ok(ship_subject(buf, sizeof(buf), "idwise", "live", "finished_journey") == 0,
	    "a subject fits");
	is_str(buf, "idwise.live.finished_journey", "PREFIX.ENV.TYPE");
	ship_subject(buf, sizeof(buf), "idwise", "eu.live *>", "unknown");
	is_str(buf, "idwise.eu_live___.unknown", "dots, spaces and wildcards in env become _");
	ship_subject(buf, sizeof(buf), "idwise", "", "finished_step");
	is_str(buf, "idwise._.finished_step", "an empty env is _");
	ship_subject(buf, sizeof(buf), "idwise", NULL, "finished_step");
	is_str(buf, "idwise._.finished_step", "and so is a missing one");
	memset(long_env, 'e', sizeof(long_env) - 1);
	long_env[sizeof(long_env) - 1] = '\0';
	ship_token(long_env, token);
	is_int(strlen(token), SHIP_TOKEN_SIZE - 1, "a token is cut at 64 bytes");
	ok(ship_subject(buf, 10, "idwise", "live", "finished_journey") == -1,
	    "a subject that does not fit is refused");
	ship_checkpoint_subject(buf, sizeof(buf), "acme.kyc");
	is_str(buf, "acme.kyc.checkpoints", "checkpoints go on PREFIX.checkpoints");
}

static void
test_msg_id(void)
{
	unsigned char	 d1[SHA256_LEN], d2[SHA256_LEN], in[2 * SHA256_LEN], md[SHA256_LEN];
	char		 a[SHA256_HEX_LEN + 1], b[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];

	memset(d1, 1, sizeof(d1));
	memset(d2, 2, sizeof(d2));
	ship_msg_id("ev-1", 4, d1, a);
	ship_msg_id("ev-1", 4, d1, b);
	is_str(a, b, "the same id and body digest: the same Msg-Id (one message)");
	ship_msg_id("ev-1", 4, d2, b);
	ok(strcmp(a, b) != 0, "another body digest: another Msg-Id (a conflict of its own)");
	ship_msg_id("ev-2", 4, d1, b);
	ok(strcmp(a, b) != 0, "another id: another Msg-Id");
	ship_msg_id("ev\0x", 4, d1, b);
	ship_msg_id("ev\0y", 4, d1, a);
	ok(strcmp(a, b) != 0, "ids are bytes: a NUL does not end them");
	sha256("ev-1", 4, in);
	memcpy(in + SHA256_LEN, d1, SHA256_LEN);
	sha256(in, sizeof(in), md);
	hex_encode(md, SHA256_LEN, want);
	ship_msg_id("ev-1", 4, d1, a);
	is_str(a, want, "the Msg-Id is hex SHA-256(SHA-256(id) || body digest), as documented");
}

static void
test_durations(void)
{
	static const struct {
		const char	*text;
		long long	 ns;
		const char	*shown;
	} good[] = {
		{ "24h",	86400000000000LL,	"24h" },
		{ "90m",	5400000000000LL,	"1h30m" },
		{ "1h30m",	5400000000000LL,	"1h30m" },
		{ "45s",	45000000000LL,		"45s" },
		{ "500ms",	500000000LL,		"500ms" },
		{ "2d",		172800000000000LL,	"48h" },
		{ "1m1s",	61000000000LL,		"1m1s" },
	};
	static const char *const bad[] = { "", "h", "10", "10x", "-5s", "1h 30m", "366d",
	    "99999999999999999999s" };
	char	 shown[32];
	int64_t	 ns;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = 0;
		ok(ship_parse_duration(good[i].text, &ns) == 0 && ns == good[i].ns,
		    "%s is %lld ns", good[i].text, good[i].ns);
		ship_format_duration(good[i].ns, shown, sizeof(shown));
		ok(strcmp(shown, good[i].shown) == 0, "and is shown as %s (got %s)", good[i].shown,
		    shown);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(ship_parse_duration(bad[i], &ns) == -1, "'%s' is no duration", bad[i]);
}

int
main(void)
{
	test_covers();
	test_names();
	test_subjects();
	test_msg_id();
	test_durations();
	return done_testing();
}
