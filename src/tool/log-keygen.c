/* SPDX-License-Identifier: ISC */
/*
 * log-keygen.c: `idwise-log keygen`: a new Ed25519 key pair for checkpoints. The signer
 * key goes into KEYFILE (made, never replaced, mode 0600) and is never printed; the
 * verifier key into KEYFILE.pub and on standard output, to hand to auditors.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "idwise-log.h"
#include "logfile.h"
#include "note.h"
#include "util.h"

#define WHY_LEN		160
#define NAME_SUFFIX	"/idwise-fcgi"

/* The default key name: this host's name, then /idwise-fcgi. */
static int
default_name(char *out, size_t size)
{
	char	 host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof(host)) == -1) {
		msg_errno("gethostname");
		return -1;
	}
	host[HOST_NAME_MAX] = '\0';
	if ((size_t)snprintf(out, size, "%s" NAME_SUFFIX, host) >= size || !note_name_ok(out)) {
		msg("the host name %s makes no key name: give one with --name", host);
		return -1;
	}
	return 0;
}

/* Make path (it must not be there), write text into it and sync it. */
static int
write_new(const char *path, const char *text, mode_t mode)
{
	int	 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) == -1) {
		msg_errno("%s", path);
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		msg_errno("%s: chmod", path);
	else if (write_all(fd, text, strlen(text)) == -1 || fsync(fd) == -1)
		msg_errno("%s: write", path);
	else
		rc = 0;
	if (close(fd) == -1 && rc == 0) {
		msg_errno("%s: close", path);
		rc = -1;
	}
	if (rc == -1)
		(void)unlink(path);
	return rc;
}

/* Both files, or neither. */
static int
write_pair(const char *keyfile, const char *pubfile, const struct note_key *k)
{
	char	 secret[NOTE_KEY_TEXT_MAX], verifier[NOTE_KEY_TEXT_MAX];
	int	 rc = EXIT_UNREADABLE;

	if (note_key_signer_text(k, secret, sizeof(secret)) == -1 ||
	    note_key_verifier_text(k, verifier, sizeof(verifier)) == -1)
		msg("libcrypto cannot give the key's bytes");
	else if (access(pubfile, F_OK) == 0)
		msg("%s: already there: a key is never replaced (remove both files first)",
		    pubfile);
	else if (write_new(keyfile, secret, 0600) == 0) {
		if (write_new(pubfile, verifier, 0644) == -1)
			(void)unlink(keyfile);
		else if (logfile_sync_dir(keyfile) == 0) {
			fputs(verifier, stdout);
			rc = EX_OK;
		}
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

static const struct option keygen_options[] = {
	{ "name",	required_argument,	NULL, 'n' },
	{ NULL,		0,			NULL, 0 }
};

int
cmd_keygen(int argc, char **argv)
{
	struct note_key	 k;
	char		 name[NOTE_NAME_MAX + 1] = "", why[WHY_LEN], *pubfile;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", keygen_options, NULL)) != -1) {
		if (ch != 'n')
			return cmd_usage(argv[0]);
		if (strlen(optarg) >= sizeof(name) || !note_name_ok(optarg)) {
			msg("--name: 1 to %d printable characters, no space or '+': %s",
			    NOTE_NAME_MAX, optarg);
			return cmd_usage(argv[0]);
		}
		snprintf(name, sizeof(name), "%s", optarg);
	}
	if (optind != argc - 1)
		return cmd_usage(argv[0]);
	if (name[0] == '\0' && default_name(name, sizeof(name)) == -1)
		return EX_USAGE;
	if (note_key_generate(name, &k, why, sizeof(why)) == -1) {
		msg("%s", why);
		return EXIT_UNREADABLE;
	}
	if (asprintf(&pubfile, "%s.pub", argv[optind]) == -1) {
		msg("out of memory");
		note_key_free(&k);
		return EXIT_UNREADABLE;
	}
	rc = write_pair(argv[optind], pubfile, &k);
	free(pubfile);
	note_key_free(&k);
	return rc;
}
