/* SPDX-License-Identifier: ISC */
/*
 * test-note.c: signed notes and their keys against the published example of Go's
 * golang.org/x/mod/sumdb/note (its PeterNeumann key and note: Ed25519 signs the same bytes
 * the same way, so our signature must be theirs), then keys made here, and every
 * malformed key or note refused.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "note.h"
#include "tap.h"
#include "util.h"

#define GO_VKEY	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_SKEY	"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_TEXT	"If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define GO_SIG	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1" \
	"FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define GO_NOTE	GO_TEXT "\n" GO_SIG

static char	 why[256];

static int
open_with(const struct note_key *k, const char *note, size_t *textlen)
{
	return note_open(k, note, strlen(note), textlen, why, sizeof(why));
}

static void
test_go_example(void)
{
	struct note_key	 vk, sk;
	char		 text[NOTE_KEY_TEXT_MAX], note[1024];
	size_t		 len = 0;

	ok(note_key_parse(GO_VKEY, strlen(GO_VKEY), false, &vk, why, sizeof(why)) == 0,
	    "Go's verifier key is read (%s)", why);
	is_str(vk.name, "PeterNeumann", "... its name");
	is_int(vk.id, 0xc74f20a3, "... its key ID is the hash in the text");
	ok(note_key_parse(GO_SKEY "\n", strlen(GO_SKEY) + 1, true, &sk, why, sizeof(why)) == 0,
	    "Go's signer key is read, with a newline after it");
	ok(note_key_verifier_text(&sk, text, sizeof(text)) == 0 && strcmp(text, GO_VKEY "\n") == 0,
	    "the signer key's verifier text is Go's verifier key");
	ok(note_key_signer_text(&sk, text, sizeof(text)) == 0 && strcmp(text, GO_SKEY "\n") == 0,
	    "and its signer text is written back as read");
	ok(note_sign(&sk, GO_TEXT, strlen(GO_TEXT), note, sizeof(note), &len, why,
	    sizeof(why)) == 0 && len == strlen(GO_NOTE) && memcmp(note, GO_NOTE, len) == 0,
	    "signing Go's text gives Go's note, byte for byte");
	ok(open_with(&vk, GO_NOTE, &len) == 0 && len == strlen(GO_TEXT),
	    "Go's note opens with the verifier key; the text is the part before the empty line");
	ok(note_key_signer_text(&vk, text, sizeof(text)) == -1,
	    "a verifier key has no signer text");
	ok(note_sign(&vk, GO_TEXT, strlen(GO_TEXT), note, sizeof(note), &len, why,
	    sizeof(why)) == -1, "nor signs");
	note_key_free(&sk);
	note_key_free(&vk);
}

static void
test_made_keys(void)
{
	struct note_key	 k, other, vk;
	char		 text[NOTE_KEY_TEXT_MAX], note[1024], two[2048];
	size_t		 len = 0;

	ok(note_key_generate("example.org/idwise", &k, why, sizeof(why)) == 0, "a key is made");
	ok(note_key_generate("example.org/idwise", &other, why, sizeof(why)) == 0,
	    "and another of the same name");
	ok(k.id != other.id, "their key IDs differ");
	ok(note_key_verifier_text(&k, text, sizeof(text)) == 0 &&
	    note_key_parse(text, strlen(text), false, &vk, why, sizeof(why)) == 0 &&
	    vk.id == k.id, "the verifier text reads back as the same key");
	ok(note_sign(&k, "a\nb\n", 4, note, sizeof(note), &len, why, sizeof(why)) == 0,
	    "a two-line text is signed");
	ok(open_with(&vk, note, &len) == 0 && len == 4, "and opened");
	ok(open_with(&other, note, &len) == -1 && strstr(why, "not signed by the key") != NULL,
	    "another key of the same name: not signed by it (%s)", why);
	note[0] = 'A';
	ok(open_with(&vk, note, &len) == -1 && strstr(why, "does not verify") != NULL,
	    "a changed text: the signature does not verify");
	note[0] = 'a';
	snprintf(two, sizeof(two), "%s%s", note, GO_SIG);
	ok(open_with(&vk, two, &len) == 0, "a signature by an unknown key beside it is ignored");
	ok(note_sign(&k, "a\n\n", 3, note, sizeof(note), &len, why, sizeof(why)) == -1,
	    "a text ending with an empty line is not signed");
	ok(note_sign(&k, "a", 1, note, sizeof(note), &len, why, sizeof(why)) == -1,
	    "nor one without its newline");
	note_key_free(&other);
	ok(note_key_generate("a+b", &other, why, sizeof(why)) == -1 &&
	    note_key_generate("", &other, why, sizeof(why)) == -1 &&
	    note_key_generate("a b", &other, why, sizeof(why)) == -1,
	    "key names with '+', a space or nothing are refused");
	ok(other.pkey == NULL, "  and no key is left to free");
	note_key_free(&k);
	note_key_free(&vk);
}

static void
test_bad_texts(void)
{
	static const char *const keys[] = {
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+AhpcdQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3",
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\nx",
	};
	static const char *const notes[] = {
		GO_TEXT GO_SIG,			/* no empty line */
		GO_TEXT "\n",			/* no signature */
		GO_TEXT "\n" "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
		    "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",	/* a hyphen, not an em dash */
		GO_TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJ!\n",	/* bad base64 */
		"If you\tthink\n\n" GO_SIG,	/* a tab */
		GO_TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcEl"
		    "ZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",	/* no last newline */
		"\xff" GO_TEXT "\n" GO_SIG,	/* not UTF-8 */
	};
	struct note_key	 vk, bad;
	size_t		 i, len;
	int		 refused = 0;

	for (i = 0; i < nitems(keys); i++)
		refused += note_key_parse(keys[i], strlen(keys[i]), false, &bad, why,
		    sizeof(why)) == -1;
	is_int(refused, nitems(keys), "a wrong hash, key type, length, case, no key, no name or "
	    "two lines: every broken verifier key is refused");
	ok(note_key_parse(GO_VKEY, strlen(GO_VKEY), true, &bad, why, sizeof(why)) == -1,
	    "a verifier key is not taken for a signer key");
	ok(note_key_parse(GO_SKEY, strlen(GO_SKEY), false, &bad, why, sizeof(why)) == -1,
	    "nor a signer key for a verifier key");
	note_key_parse(GO_VKEY, strlen(GO_VKEY), false, &vk, why, sizeof(why));
	refused = 0;
	for (i = 0; i < nitems(notes); i++)
		if (open_with(&vk, notes[i], &len) == -1 && strstr(why, "not a signed note") != NULL)
			refused++;
		else
			printf("# note %zu: %s\n", i, why);
	is_int(refused, nitems(notes), "no empty line, no signature, a hyphen, bad base64, a tab, "
	    "no last newline, not UTF-8: every malformed note is refused as such");
	note_key_free(&vk);
}

int
main(void)
{
	test_go_example();
	test_made_keys();
	test_bad_texts();
	return done_testing();
}
