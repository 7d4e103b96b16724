/* SPDX-License-Identifier: ISC */
/* test-jsonstrict.c: the RFC 8259 rules json-c lets through are refused, valid JSON passes. */
#include "autoconf.h"

#include <string.h>

#include "jsonstrict.h"
#include "tap.h"

struct jcase {
	const char	*text;
	size_t		 len;		/* 0: strlen */
	int		 ok;
	const char	*what;
};

static const struct jcase cases[] = {
	{ "{}", 0, 1, "empty object" },
	{ "{\"a\":1}", 0, 1, "one member" },
	{ " {\"a\":[1,2,{\"b\":null}],\"c\":false} \r\n", 0, 1, "nested, blanks around" },
	{ "{\"a\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\"}", 0, 1, "escapes, surrogate pair" },
	{ "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}", 0, 1, "UTF-8 two and four bytes" },
	{ "{\"a\":-0.5e+10,\"b\":0,\"c\":-0,\"d\":1E-5}", 0, 1, "number forms" },
	{ "{\"a\":18446744073709551615}", 0, 1, "largest unsigned 64-bit" },
	{ "{\"a\":-9223372036854775808}", 0, 1, "smallest signed 64-bit" },
	{ "{\"a\":1e308}", 0, 1, "large finite double" },
	{ "{\"a\":\"x:y\",\"b\":\"{[,]}\"}", 0, 1, "punctuation inside strings" },
	{ "{'a':1}", 0, 0, "single quotes" },
	{ "{\"a\":NaN}", 0, 0, "NaN" },
	{ "{\"a\":Infinity}", 0, 0, "Infinity" },
	{ "{\"a\":-Infinity}", 0, 0, "-Infinity" },
	{ "{\"a\":1.}", 0, 0, "1." },
	{ "{\"a\":.5}", 0, 0, ".5" },
	{ "{\"a\":01}", 0, 0, "leading zero" },
	{ "{\"a\":+1}", 0, 0, "plus sign" },
	{ "{\"a\":1e}", 0, 0, "empty exponent" },
	{ "{\"a\":\"x\ty\"}", 0, 0, "raw tab in string" },
	{ "{\"a\":\"x\ny\"}", 0, 0, "raw newline in string" },
	{ "{\"a\":\"\\x\"}", 0, 0, "bad escape" },
	{ "{\"a\":\"\\u12\"}", 0, 0, "short \\u escape" },
	{ "{\"a\":\"\\ud800\"}", 0, 0, "lone high surrogate" },
	{ "{\"a\":\"\\udc00\"}", 0, 0, "lone low surrogate" },
	{ "{\"a\":\"\\ud800\\u0041\"}", 0, 0, "high surrogate then non-surrogate" },
	{ "{\"a\":\"\\ud800\\ud800\"}", 0, 0, "two high surrogates" },
	{ "{\"a\":\"\xc0\xaf\"}", 0, 0, "overlong UTF-8" },
	{ "{\"a\":\"\xe0\x80\xaf\"}", 0, 0, "overlong three-byte UTF-8" },
	{ "{\"a\":\"\xed\xa0\x80\"}", 0, 0, "UTF-8 encoded surrogate" },
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, 0, "beyond U+10FFFF" },
	{ "{\"a\":\"\xe2\x82\"}", 0, 0, "truncated UTF-8" },
	{ "{\"a\":\"\x80\"}", 0, 0, "lone continuation byte" },
	{ "{\"a\":\"\xff\"}", 0, 0, "byte 0xff" },
	{ "{\"\\u0000\":1}", 0, 0, "\\u0000 in a member name" },
	{ "{\"a\":tru}", 0, 0, "cut literal" },
	{ "{\"a\":truex}", 0, 0, "literal with trailing letters" },
	{ "{\"a\":nul}", 0, 0, "cut null" },
	{ "{\"a\":18446744073709551616}", 0, 0, "integer above 64 bits" },
	{ "{\"a\":-9223372036854775809}", 0, 0, "integer below int64" },
	{ "{\"a\":1e400}", 0, 0, "double overflow" },
	{ "{\"a\":1}\0", 8, 0, "NUL byte after the object" },
	{ "{\"a\":\"x\0y\"}", 11, 0, "NUL byte in a string" },
	{ "{\"a\":1} /", 0, 0, "slash after the object" },
	{ "\xef\xbb\xbf{}", 0, 0, "byte order mark" },
	{ "{\"a\":\"unterminated}", 0, 0, "unterminated string" },
};

static void
test_cases(void)
{
	const char	*why;
	size_t		 i, names, len;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		why = NULL;
		rc = jsonstrict_check((const unsigned char *)cases[i].text, len, &names, &why);
		ok((rc == 0) == cases[i].ok, "%s: %s", cases[i].ok ? "accepts" : "refuses",
		    cases[i].what);
		if (!cases[i].ok)
			ok(why != NULL && why[0] != '\0', "gives a reason for %s", cases[i].what);
	}
}

static void
test_long_number(void)
{
	char		 text[600];
	const char	*why;
	size_t		 names;

	memset(text, '1', sizeof(text));
	memcpy(text, "{\"a\":", 5);
	text[sizeof(text) - 1] = '}';
	ok(jsonstrict_check((unsigned char *)text, sizeof(text), &names, &why) == -1,
	    "refuses a 594-digit number");
}

static void
test_name_count(void)
{
	const char	*why;
	size_t		 names;

	jsonstrict_check((const unsigned char *)"{\"a\":1,\"b\":{\"c\":2}}", 19, &names, &why);
	is_int(names, 3, "counts member names in nested objects");
	jsonstrict_check((const unsigned char *)"[\"a\",\"b\"]", 9, &names, &why);
	is_int(names, 0, "strings in arrays are not names");
	jsonstrict_check((const unsigned char *)"{\"a\" : \"x:y\"}", 13, &names, &why);
	is_int(names, 1, "a colon inside a string value is not a name");
	jsonstrict_check((const unsigned char *)"{\"a\":1,\"a\":2}", 13, &names, &why);
	is_int(names, 2, "a duplicate name counts twice");
}

int
main(void)
{
	test_cases();
	test_long_number();
	test_name_count();
	return done_testing();
}
