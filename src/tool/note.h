/* SPDX-License-Identifier: ISC */
/*
 * note.h: C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, in the key texts Go's
 * golang.org/x/mod/sumdb/note reads: a verifier key "NAME+HASH+BASE64(0x01 || public
 * key)", a signer key "PRIVATE+KEY+NAME+HASH+BASE64(0x01 || 32-byte seed)", HASH being
 * the key ID (the first 4 bytes of SHA-256(NAME || 0x0a || 0x01 || public key)) as 8
 * lower-case hex digits. A note is its text (lines ended by newlines), an empty line, and
 * one line per signature: U+2014, space, NAME, space, BASE64(key ID || signature).
 */
#ifndef IDW_NOTE_H
#define IDW_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define NOTE_NAME_MAX	128			/* a key's name, in bytes */
#define NOTE_MAX	((size_t)64 * 1024)	/* the longest note read */
#define NOTE_SIGS_MAX	100			/* signature lines in a note at most */
#define NOTE_KEY_TEXT_MAX	(sizeof("PRIVATE+KEY+") + NOTE_NAME_MAX + 64)

struct note_key {
	char		 name[NOTE_NAME_MAX + 1];
	uint32_t	 id;
	EVP_PKEY	*pkey;
	bool		 secret;	/* holds the private key */
};

/*
 * A key name: 1 to NOTE_NAME_MAX bytes of printable ASCII other than space and '+'
 * (signed notes allow more; this is the part every reader agrees on).
 */
bool	note_name_ok(const char *);

/* A new Ed25519 key named name; 0, or -1 with why. */
int	note_key_generate(const char *name, struct note_key *, char *why, size_t);
/*
 * The key's texts, ended by a newline, into out (NOTE_KEY_TEXT_MAX bytes): its signer
 * text (a secret: for the key file only), or its verifier text. 0, or -1.
 */
int	note_key_signer_text(const struct note_key *, char *out, size_t);
int	note_key_verifier_text(const struct note_key *, char *out, size_t);
/*
 * A key from its text (one line; a newline after it is allowed): a signer text when
 * secret, else a verifier text. Its hash must be the key ID. 0, or -1 with why.
 */
int	note_key_parse(const char *text, size_t len, bool secret, struct note_key *, char *why,
	    size_t);
void	note_key_free(struct note_key *);

/*
 * Sign text (non-empty, ended by a newline, no empty line at its end) into a note in out;
 * its length in *outlen. 0, or -1 with why.
 */
int	note_sign(const struct note_key *, const char *text, size_t len, char *out,
	    size_t outsize, size_t *outlen, char *why, size_t);
/* The length of a note's text (up to the last empty line, its newline in), or 0 if none. */
size_t	note_text_length(const char *note, size_t len);
/*
 * Check a note with one verifier key: it is well formed, and among its signatures (those
 * of other keys are ignored) one is the key's and verifies, and none of the key's fails.
 * 0 with the length of its text (from its start, with its last newline), or -1 with why.
 */
int	note_open(const struct note_key *, const char *note, size_t len, size_t *textlen,
	    char *why, size_t);

#endif
