/* SPDX-License-Identifier: ISC */
/* test-allowlist.c: address lists: which addresses a list permits, and the lists refused. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "allowlist.h"
#include "tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* One address against one list: the rows of the CIDR table below. */
struct permit_case {
	const char	*list;
	const char	*addr;
	bool		 permitted;
};

static const struct permit_case permit_cases[] = {
	{ "10.0.0.0/8",			"10.0.0.0",		true },
	{ "10.0.0.0/8",			"10.255.255.255",	true },
	{ "10.0.0.0/8",			"9.255.255.255",	false },
	{ "10.0.0.0/8",			"11.0.0.0",		false },
	{ "10.1.2.3/8",			"10.200.0.1",		true },	/* host bits masked */
	{ "0.0.0.0/0",			"0.0.0.0",		true },
	{ "0.0.0.0/0",			"255.255.255.255",	true },
	{ "0.0.0.0/0",			"::ffff:203.0.113.9",	true },
	{ "0.0.0.0/0",			"2001:db8::1",		false },
	{ "::/0",			"2001:db8::1",		true },
	{ "::/0",			"::",			true },
	{ "::/0",			"203.0.113.9",		false },
	{ "192.0.2.7",			"192.0.2.7",		true },
	{ "192.0.2.7",			"192.0.2.6",		false },
	{ "192.0.2.7",			"192.0.2.8",		false },
	{ "192.0.2.7/32",		"192.0.2.7",		true },
	{ "192.0.2.7/32",		"192.0.2.6",		false },
	{ "192.0.2.4/31",		"192.0.2.4",		true },
	{ "192.0.2.4/31",		"192.0.2.5",		true },
	{ "192.0.2.4/31",		"192.0.2.3",		false },
	{ "192.0.2.4/31",		"192.0.2.6",		false },
	{ "198.51.100.0/23",		"198.51.101.255",	true },
	{ "198.51.100.0/23",		"198.51.102.0",		false },
	{ "2001:db8::/32",		"2001:db8::1",		true },
	{ "2001:db8::/32",		"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32",		"2001:db9::",		false },
	{ "2001:db8::/32",		"2001:db7:ffff::1",	false },
	{ "2001:db8:8000::/33",		"2001:db8:8000::",	true },
	{ "2001:db8:8000::/33",		"2001:db8:ffff::1",	true },
	{ "2001:db8:8000::/33",		"2001:db8:7fff:ffff::",	false },
	{ "2001:db8::7/128",		"2001:db8::7",		true },
	{ "2001:db8::7/128",		"2001:db8::6",		false },
	{ "2001:db8::7/128",		"2001:db8::8",		false },
	{ "2001:db8::6/127",		"2001:db8::7",		true },
	{ "2001:db8::6/127",		"2001:db8::8",		false },
	{ "::1",			"::1",			true },
	{ "::1",			"::2",			false },
	{ "::1",			"127.0.0.1",		false },
	{ "192.0.2.7",			"::ffff:192.0.2.7",	true },
	{ "192.0.2.7",			"::FFFF:192.0.2.7",	true },
	{ "192.0.2.0/24",		"::ffff:c000:2ff",	true },
	{ "192.0.2.0/24",		"::ffff:192.0.3.1",	false },
	{ "::ffff:192.0.2.0/120",	"192.0.2.9",		true },
	{ "::ffff:192.0.2.0/120",	"::ffff:192.0.2.9",	true },
	{ "::ffff:192.0.2.0/120",	"192.0.3.9",		false },
	{ "::ffff:192.0.2.7",		"192.0.2.7",		true },
	{ " 10.0.0.0/8 ,\t2001:db8::/32 ", "2001:db8::5",	true },
	{ "10.0.0.0/8, 2001:db8::/32, 192.0.2.7, ::1", "192.0.2.7", true },
	{ "10.0.0.0/8, 2001:db8::/32, 192.0.2.7, ::1", "::1",	true },
	{ "10.0.0.0/8, 2001:db8::/32, 192.0.2.7, ::1", "172.16.0.1", false },
	/* what a web server should never report, refused all the same */
	{ "0.0.0.0/0, ::/0",		NULL,			false },
	{ "0.0.0.0/0, ::/0",		"",			false },
	{ "0.0.0.0/0, ::/0",		"not-an-address",	false },
	{ "0.0.0.0/0, ::/0",		"10.0.0.256",		false },
	{ "0.0.0.0/0, ::/0",		"10.0.0",		false },
	{ "0.0.0.0/0, ::/0",		"10.0.0.1 ",		false },
	{ "0.0.0.0/0, ::/0",		" 10.0.0.1",		false },
	{ "0.0.0.0/0, ::/0",		"10.0.0.1/32",		false },
	{ "0.0.0.0/0, ::/0",		"fe80::1%eth0",		false },
	{ "0.0.0.0/0, ::/0",		"[::1]",		false },
	{ "0.0.0.0/0, ::/0",		"::1::2",		false },
};

/* Lists that must be refused, and the piece the error must name. */
static const struct {
	const char	*list;
	const char	*named;
} bad_lists[] = {
	{ "",				"entry 1 is empty" },
	{ "  ",				"entry 1 is empty" },
	{ "10.0.0.1,,10.0.0.2",		"entry 2 is empty" },
	{ "10.0.0.1,",			"entry 2 is empty" },
	{ ",10.0.0.1",			"entry 1 is empty" },
	{ "10.0.0.0/33",		"entry 1:" },
	{ "::/129",			"entry 1:" },
	{ "10.0.0.0/",			"entry 1:" },
	{ "10.0.0.0/-1",		"entry 1:" },
	{ "10.0.0.0/+8",		"entry 1:" },
	{ "10.0.0.0/8/8",		"entry 1:" },
	{ "10.0.0.0/8x",		"entry 1:" },
	{ "10.0.0.0/0008",		"entry 1:" },
	{ "10.0.0.0 / 8",		"entry 1:" },
	{ "10.0.0.0/8 10.0.0.1",	"entry 1:" },
	{ "10.0.0.0;10.0.0.1",		"entry 1:" },
	{ "example.com",		"entry 1:" },
	{ "10.0.0",			"entry 1:" },
	{ "256.0.0.0/8",		"entry 1:" },
	{ "2001:db8::/32, 2001:db8:::1", "entry 2:" },
	{ "::ffff:1.2.3.4/95",		"entry 1:" },
	{ "fe80::1%eth0",		"entry 1:" },
	{ "tok+SECRET/pasted=",		"entry 1: not an IPv4 or IPv6 address" },
	{ "10.0.0.1, tok-SECRET-pasted/8",	"entry 2: not an IPv4 or IPv6 address" },
	{ "1234567890123456789012345678901234567890123456789012345678901234567890",
	    "not an IPv4 or IPv6 address" },
};

static void
test_allowlist_permits(void)
{
	struct allowlist	*list;
	char			 err[256];
	size_t			 i;
	const struct permit_case *c;

	for (i = 0; i < nitems(permit_cases); i++) {
		c = &permit_cases[i];
		if (allowlist_parse(c->list, &list, err, sizeof(err)) == -1) {
			ok(0, "allow_from \"%s\" parses: %s", c->list, err);
			continue;
		}
		ok(allowlist_permits(list, c->addr) == c->permitted,
		    "allow_from \"%s\" %s %s", c->list,
		    c->permitted ? "permits" : "refuses", c->addr ? c->addr : "(null)");
		allowlist_free(list);
	}
	ok(allowlist_permits(NULL, "203.0.113.9"), "no list permits any address");
	ok(allowlist_permits(NULL, "2001:db8::1"), "no list permits any IPv6 address");
	ok(allowlist_permits(NULL, NULL), "no list permits even an unknown address");
}

static void
test_allowlist_errors(void)
{
	struct allowlist	*list;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(bad_lists); i++) {
		list = (struct allowlist *)&list;	/* must be reset to NULL */
		err[0] = '\0';
		rc = allowlist_parse(bad_lists[i].list, &list, err, sizeof(err));
		ok(rc == -1 && list == NULL, "allow_from \"%s\" refused", bad_lists[i].list);
		ok(strstr(err, bad_lists[i].named) != NULL,
		    "error for \"%s\" names %s: %s", bad_lists[i].list, bad_lists[i].named, err);
		/* A credential pasted at allow_from by mistake must not be printed. */
		ok(bad_lists[i].list[strspn(bad_lists[i].list, " ")] == '\0' ||
		    strstr(err, bad_lists[i].list) == NULL,
		    "error for \"%s\" does not echo it", bad_lists[i].list);
	}
}

int
main(void)
{
	test_allowlist_permits();
	test_allowlist_errors();
	return done_testing();
}
