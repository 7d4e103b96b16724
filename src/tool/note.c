/* SPDX-License-Identifier: ISC */
/* note.c: Ed25519 keys in signed-note texts, and notes signed and opened with them. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jsonstrict.h"
#include "note.h"
#include "util.h"

#define ED25519_LEN	32	/* a public key, or a private key's seed */
#define ED25519_SIG_LEN	64
#define ALG_ED25519	0x01	/* the signature type byte of signed notes */
#define SIGNER_PREFIX	"PRIVATE+KEY+"
#define EM_DASH		"\xe2\x80\x94"	/* U+2014, which starts a signature line */

/* --- keys ------------------------------------------------------------------------------- */

bool
note_name_ok(const char *name)
{
	size_t	 len = strlen(name), i;

	if (len == 0 || len > NOTE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '+')
			return false;
	return true;
}

/* The key ID: SHA-256(name || 0x0a || 0x01 || public key)[:4], big-endian. */
static uint32_t
key_id(const char *name, const unsigned char pub[ED25519_LEN])
{
	unsigned char	 tail[2 + ED25519_LEN], md[SHA256_LEN];

	tail[0] = '\n';
	tail[1] = ALG_ED25519;
	memcpy(tail + 2, pub, ED25519_LEN);
	sha256_pair(name, strlen(name), tail, sizeof(tail), md);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
}

static int
public_bytes(const struct note_key *k, unsigned char pub[ED25519_LEN])
{
	size_t	 len = ED25519_LEN;

	return EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) == 1 && len == ED25519_LEN ?
	    0 : -1;
}

/* Name, ID and pkey set: fill in the ID from the public key. */
static int
key_finish(struct note_key *k, const char *name, char *why, size_t whylen)
{
	unsigned char	 pub[ED25519_LEN];

	if (public_bytes(k, pub) == -1) {
		snprintf(why, whylen, "libcrypto cannot give the public key");
		return -1;
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->id = key_id(name, pub);
	return 0;
}

int
note_key_generate(const char *name, struct note_key *k, char *why, size_t whylen)
{
	memset(k, 0, sizeof(*k));
	if (!note_name_ok(name)) {
		snprintf(why, whylen, "a key name is 1 to %d printable characters, no space or '+'",
		    NOTE_NAME_MAX);
		return -1;
	}
	if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		snprintf(why, whylen, "libcrypto cannot make an Ed25519 key");
		return -1;
	}
	k->secret = true;
	if (key_finish(k, name, why, whylen) == -1) {
		note_key_free(k);
		return -1;
	}
	return 0;
}

/* "NAME+HASH+BASE64(0x01 || bytes)\n" after prefix. */
static int
key_text(const struct note_key *k, const char *prefix, const unsigned char *bytes, char *out,
    size_t size)
{
	unsigned char	 data[1 + ED25519_LEN];
	char		 b64[BASE64_LEN(sizeof(data)) + 1];
	int		 n;

	data[0] = ALG_ED25519;
	memcpy(data + 1, bytes, ED25519_LEN);
	base64_encode(data, sizeof(data), b64);
	n = snprintf(out, size, "%s%s+%08" PRIx32 "+%s\n", prefix, k->name, k->id, b64);
	OPENSSL_cleanse(data, sizeof(data));
	OPENSSL_cleanse(b64, sizeof(b64));
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int
note_key_signer_text(const struct note_key *k, char *out, size_t size)
{
	unsigned char	 seed[ED25519_LEN];
	size_t		 len = sizeof(seed);
	int		 rc = -1;

	if (k->secret && EVP_PKEY_get_raw_private_key(k->pkey, seed, &len) == 1 &&
	    len == ED25519_LEN)
		rc = key_text(k, SIGNER_PREFIX, seed, out, size);
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

int
note_key_verifier_text(const struct note_key *k, char *out, size_t size)
{
	unsigned char	 pub[ED25519_LEN];

	return public_bytes(k, pub) == 0 ? key_text(k, "", pub, out, size) : -1;
}

/* The three fields of "NAME+HASH+DATA" (a name has no '+'; base64 may): 0, or -1. */
static int
key_fields(char *text, char **name, uint32_t *id, char **data)
{
	char		*plus1, *plus2;
	long long	 n;

	if ((plus1 = strchr(text, '+')) == NULL || (plus2 = strchr(plus1 + 1, '+')) == NULL ||
	    plus2 - plus1 != 9 || strspn(plus1 + 1, "0123456789abcdef") != 8)
		return -1;
	*plus1 = '\0';
	*plus2 = '\0';
	if (parse_number(plus1 + 1, 16, 0, UINT32_MAX, &n) == -1)
		return -1;
	*name = text;
	*id = (uint32_t)n;
	*data = plus2 + 1;
	return note_name_ok(*name) ? 0 : -1;
}

/* The key's bytes from DATA: 0x01 and 32 bytes. */
static EVP_PKEY *
key_from_data(const char *data, bool secret)
{
	unsigned char	 bytes[1 + ED25519_LEN + 1];
	EVP_PKEY	*pkey = NULL;

	if (base64_decode_canonical(data, strlen(data), bytes, sizeof(bytes)) ==
	    1 + ED25519_LEN && bytes[0] == ALG_ED25519)
		pkey = secret ?
		    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, bytes + 1, ED25519_LEN) :
		    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, bytes + 1, ED25519_LEN);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return pkey;
}

/* The key in its text (copied, to be cut into fields): 0, or -1 with why. */
static int
parse_fields(char *text, bool secret, struct note_key *k, char *why, size_t whylen)
{
	char		*name, *data;
	uint32_t	 id;

	if (secret && strncmp(text, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) != 0) {
		snprintf(why, whylen, "not a signer key (" SIGNER_PREFIX "NAME+HASH+KEY)");
		return -1;
	}
	if (key_fields(text + (secret ? strlen(SIGNER_PREFIX) : 0), &name, &id, &data) == -1) {
		snprintf(why, whylen, "not a %s key (%sNAME+HASH+KEY)", secret ? "signer" :
		    "verifier", secret ? SIGNER_PREFIX : "");
		return -1;
	}
	if ((k->pkey = key_from_data(data, secret)) == NULL) {
		snprintf(why, whylen, "not an Ed25519 key (type 0x01 and 32 bytes)");
		return -1;
	}
	k->secret = secret;
	if (key_finish(k, name, why, whylen) == -1)
		return -1;
	if (k->id != id) {
		snprintf(why, whylen, "its hash %08" PRIx32 " is not the key's, %08" PRIx32, id,
		    k->id);
		return -1;
	}
	return 0;
}

int
note_key_parse(const char *text, size_t len, bool secret, struct note_key *k, char *why,
    size_t whylen)
{
	char	 copy[NOTE_KEY_TEXT_MAX + 1];
	int	 rc;

	memset(k, 0, sizeof(*k));
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len >= sizeof(copy) || memchr(text, '\0', len) != NULL ||
	    memchr(text, '\n', len) != NULL) {
		snprintf(why, whylen, "not one line of a key");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = parse_fields(copy, secret, k, why, whylen);
	OPENSSL_cleanse(copy, sizeof(copy));
	if (rc == -1)
		note_key_free(k);
	return rc;
}

void
note_key_free(struct note_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

/* --- signing ----------------------------------------------------------------------------- */

/* Ed25519 over msg with the key: 0, or -1. */
static int
ed25519_sign(EVP_PKEY *pkey, const char *msg, size_t len, unsigned char sig[ED25519_SIG_LEN])
{
	EVP_MD_CTX	*ctx;
	size_t		 siglen = ED25519_SIG_LEN;
	int		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, len) == 1 &&
	    siglen == ED25519_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static bool
ed25519_verify(EVP_PKEY *pkey, const char *msg, size_t len, const unsigned char *sig)
{
	EVP_MD_CTX	*ctx;
	bool		 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, (const unsigned char *)msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int
note_sign(const struct note_key *k, const char *text, size_t len, char *out, size_t outsize,
    size_t *outlen, char *why, size_t whylen)
{
	unsigned char	 sig[4 + ED25519_SIG_LEN];
	char		 b64[BASE64_LEN(sizeof(sig)) + 1];
	int		 n;

	if (len == 0 || text[len - 1] != '\n' || (len >= 2 && text[len - 2] == '\n')) {
		snprintf(why, whylen, "a note's text ends with one newline");
		return -1;
	}
	if (!k->secret || ed25519_sign(k->pkey, text, len, sig + 4) == -1) {
		snprintf(why, whylen, "libcrypto cannot sign with the key");
		return -1;
	}
	sig[0] = (unsigned char)(k->id >> 24);
	sig[1] = (unsigned char)(k->id >> 16);
	sig[2] = (unsigned char)(k->id >> 8);
	sig[3] = (unsigned char)k->id;
	base64_encode(sig, sizeof(sig), b64);
	n = snprintf(out, outsize, "%.*s\n" EM_DASH " %s %s\n", (int)len, text, k->name, b64);
	if (n < 0 || (size_t)n >= outsize) {
		snprintf(why, whylen, "the note is too long");
		return -1;
	}
	*outlen = (size_t)n;
	return 0;
}

/* --- opening ----------------------------------------------------------------------------- */

/* Valid UTF-8 with no control character but the newline, and a newline at the end. */
static bool
note_bytes_ok(const char *note, size_t len)
{
	const unsigned char	*p = (const unsigned char *)note, *end = p + len;
	size_t			 n;

	if (len == 0 || note[len - 1] != '\n')
		return false;
	while (p < end) {
		if (*p < 0x20 && *p != '\n')
			return false;
		if ((n = utf8_sequence(p, end)) == 0)
			return false;
		p += n;
	}
	return true;
}

size_t
note_text_length(const char *note, size_t len)
{
	size_t	 i;

	for (i = len; i > 1; i--)
		if (note[i - 1] == '\n' && note[i - 2] == '\n')
			return i - 1;
	return 0;
}

enum sig_check {
	SIG_OTHER,	/* another key's: ignored */
	SIG_GOOD,
	SIG_BAD,	/* the key's, and it does not verify */
	SIG_MALFORMED
};

/* One signature line (without its newline) over text. */
static enum sig_check
check_line(const struct note_key *k, const char *line, size_t len, const char *text,
    size_t textlen)
{
	unsigned char	 sig[4 + ED25519_SIG_LEN + 1];
	const char	*space, *name = line + strlen(EM_DASH " ");
	char		 namebuf[NOTE_NAME_MAX + 1];
	long		 n;
	uint32_t	 id;

	if (len < strlen(EM_DASH " ") || memcmp(line, EM_DASH " ", strlen(EM_DASH " ")) != 0 ||
	    (space = memchr(name, ' ', len - (size_t)(name - line))) == NULL ||
	    (size_t)(space - name) > NOTE_NAME_MAX)
		return SIG_MALFORMED;
	memcpy(namebuf, name, (size_t)(space - name));
	namebuf[space - name] = '\0';
	n = base64_decode_canonical(space + 1, len - (size_t)(space + 1 - line), sig, sizeof(sig));
	if (!note_name_ok(namebuf) || n < 5)
		return SIG_MALFORMED;
	id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
	if (strcmp(namebuf, k->name) != 0 || id != k->id)
		return SIG_OTHER;
	if (n != 4 + ED25519_SIG_LEN)
		return SIG_BAD;
	return ed25519_verify(k->pkey, text, textlen, sig + 4) ? SIG_GOOD : SIG_BAD;
}

int
note_open(const struct note_key *k, const char *note, size_t len, size_t *textlen, char *why,
    size_t whylen)
{
	const char	*line, *nl, *end = note + len;
	size_t		 start, lines = 0, good = 0;
	enum sig_check	 got;

	if (len > NOTE_MAX || !note_bytes_ok(note, len) ||
	    (start = note_text_length(note, len) + 1) < 3 || start == len) {
		snprintf(why, whylen, "not a signed note (text, an empty line, signatures)");
		return -1;
	}
	for (line = note + start; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (++lines > NOTE_SIGS_MAX ||
		    (got = check_line(k, line, (size_t)(nl - line), note, start - 1)) ==
		    SIG_MALFORMED) {
			snprintf(why, whylen, "not a signed note: signature line %zu is malformed",
			    lines);
			return -1;
		}
		if (got == SIG_BAD) {
			snprintf(why, whylen, "the signature of %s+%08" PRIx32 " does not verify",
			    k->name, k->id);
			return -1;
		}
		good += got == SIG_GOOD;
	}
	if (good == 0) {
		snprintf(why, whylen, "not signed by the key %s+%08" PRIx32, k->name, k->id);
		return -1;
	}
	*textlen = start - 1;
	return 0;
}
