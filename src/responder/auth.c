/* SPDX-License-Identifier: ISC */
/*
 * auth.c: the credentials a request may carry. Accepted secrets are kept only as SHA-256
 * digests, in memory left out of core dumps; they are read from secret files checked for
 * who may write and read them; a request's credential is compared in constant time.
 * (Who may connect at all is allowlist.c.)
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config.h"
#include "auth.h"
#include "util.h"

#define BLANKS			" \t"
#define SECRET_FILE_MAX		(64 * 1024)
#define SECRET_MAX		4096
#define B64_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define AUTHZ_B64_MAX		8192	/* longer Basic credentials are refused */

struct credset {
	size_t		 count;
	size_t		 cap;
	unsigned char	(*digests)[SHA256_LEN];
};

/* How each auth kind checks a request and what it says in a 401. */
struct scheme {
	enum auth_kind	 kind;
	const char	*challenge;
	bool		(*permits)(const struct credset *, const char *authz,
			    const char *custom_header);
};

/* Mode bits a secret file must not have, and how to say so. */
static const struct {
	mode_t		 bit;
	const char	*what;
} loose_modes[] = {
	{ S_IROTH, "readable by others" },
	{ S_IWOTH, "writable by others" },
	{ S_IXOTH, "executable by others" },
	{ S_IWGRP, "writable by its group" },
};

/* --- the digests of accepted secrets ------------------------------------------------- */

/*
 * Memory for the digests of secrets, left out of core dumps (MADV_DONTDUMP); the
 * plaintext itself is wiped as soon as it is hashed.
 */
static void *
dontdump_alloc(size_t len)
{
	void	*p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_DONTDUMP);	/* best effort: not every kernel has it */
	return p;
}

static void
dontdump_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	munmap(p, len);
}

struct credset *
credset_new(void)
{
	return calloc(1, sizeof(struct credset));
}

int
credset_add(struct credset *set, const void *secret, size_t len)
{
	unsigned char	(*grown)[SHA256_LEN];
	size_t		 cap;

	if (set->count == set->cap) {
		cap = set->cap == 0 ? 4 : set->cap * 2;
		if ((grown = dontdump_alloc(cap * SHA256_LEN)) == NULL)
			return -1;
		if (set->digests != NULL)
			memcpy(grown, set->digests, set->count * SHA256_LEN);
		dontdump_free(set->digests, set->cap * SHA256_LEN);
		set->digests = grown;
		set->cap = cap;
	}
	sha256(secret, len, set->digests[set->count++]);
	return 0;
}

size_t
credset_count(const struct credset *set)
{
	return set == NULL ? 0 : set->count;
}

/* Compares with every stored digest, never stopping early, so timing says nothing. */
bool
credset_match(const struct credset *set, const void *value, size_t len)
{
	unsigned char	 digest[SHA256_LEN];
	size_t		 i;
	int		 found = 0;

	if (set == NULL || set->count == 0 || value == NULL)
		return false;
	sha256(value, len, digest);
	for (i = 0; i < set->count; i++)
		found |= CRYPTO_memcmp(digest, set->digests[i], SHA256_LEN) == 0;
	OPENSSL_cleanse(digest, sizeof(digest));
	return found != 0;
}

void
credset_free(struct credset *set)
{
	if (set == NULL)
		return;
	dontdump_free(set->digests, set->cap * SHA256_LEN);
	free(set);
}

/* --- secret files -------------------------------------------------------------------- */

/* A secret file must be a regular file that others cannot touch and group cannot write. */
static int
check_secret_mode(const struct stat *st, const char *path, char *err, size_t errlen)
{
	size_t	 i;

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	for (i = 0; i < nitems(loose_modes); i++) {
		if ((st->st_mode & loose_modes[i].bit) != 0) {
			snprintf(err, errlen, "%s: %s (mode %04o); make it 0600 or 0640",
			    path, loose_modes[i].what, (unsigned int)(st->st_mode & 07777));
			return -1;
		}
	}
	if (st->st_size > SECRET_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, SECRET_FILE_MAX);
		return -1;
	}
	return 0;
}

/* "name (uid N)", or "uid N" for an id with no name (kind is "uid" or "gid"). */
static void
describe_id(const char *kind, unsigned long id, const char *name, char *buf, size_t len)
{
	if (name != NULL)
		snprintf(buf, len, "%.32s (%s %lu)", name, kind, id);
	else
		snprintf(buf, len, "%s %lu", kind, id);
}

static void
describe_uid(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(uid);

	describe_id("uid", (unsigned long)uid, pw != NULL ? pw->pw_name : NULL, buf, len);
}

static void
describe_gid(gid_t gid, char *buf, size_t len)
{
	struct group	*gr = getgrgid(gid);

	describe_id("gid", (unsigned long)gid, gr != NULL ? gr->gr_name : NULL, buf, len);
}

static bool
is_service_uid(uid_t uid, const struct file_owner *service)
{
	return uid == 0 || uid == service->uid;
}

/*
 * Owned by root or the service's user, and readable by no group but root's or the
 * service's: nobody else wrote it, nobody else may read it.
 */
static int
check_secret_owner(const struct stat *st, const char *path,
    const struct file_owner *service, char *err, size_t errlen)
{
	char	 who[64], svc[64];

	if (!is_service_uid(st->st_uid, service)) {
		describe_uid(st->st_uid, who, sizeof(who));
		describe_uid(service->uid, svc, sizeof(svc));
		snprintf(err, errlen, "%s: owned by %s; a secret file must be root's or the "
		    "service user's, %s", path, who, svc);
		return -1;
	}
	if ((st->st_mode & S_IRGRP) != 0 && st->st_gid != 0 && st->st_gid != service->gid) {
		describe_gid(st->st_gid, who, sizeof(who));
		describe_gid(service->gid, svc, sizeof(svc));
		snprintf(err, errlen, "%s: readable by the group %s, not root's nor the "
		    "service's, %s; make it 0600 or give it the service's group", path, who,
		    svc);
		return -1;
	}
	return 0;
}

/*
 * A symlink is root's or the service user's; one of the service user's leads only to a
 * file of its own (else it would have root read any file root may read).
 */
static int
check_secret_link(const struct stat *link, const struct stat *target, const char *path,
    const struct file_owner *service, char *err, size_t errlen)
{
	char	 who[64], whose[64];

	describe_uid(link->st_uid, who, sizeof(who));
	if (!is_service_uid(link->st_uid, service)) {
		describe_uid(service->uid, whose, sizeof(whose));
		snprintf(err, errlen, "%s: a symlink owned by %s; a secret file's link must be "
		    "root's or the service user's, %s", path, who, whose);
		return -1;
	}
	if (link->st_uid != 0 && target->st_uid != link->st_uid) {
		describe_uid(target->st_uid, whose, sizeof(whose));
		snprintf(err, errlen, "%s: a symlink owned by %s to a file owned by %s; a "
		    "link not root's is followed only to its owner's file", path, who, whose);
		return -1;
	}
	return 0;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * What path is (lstat, before and after the open) and what was opened (fstat), checked
 * against every rule. A path that changed while it was opened is refused.
 */
static int
check_secret_file(int fd, const char *path, const struct stat *before,
    const struct file_owner *service, char *err, size_t errlen)
{
	struct stat	 st, after;

	if (fstat(fd, &st) == -1 || lstat(path, &after) == -1) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	if (!same_file(before, &after) || (!S_ISLNK(before->st_mode) && !same_file(before, &st))) {
		snprintf(err, errlen, "%s: replaced while it was opened", path);
		return -1;
	}
	if (check_secret_mode(&st, path, err, errlen) == -1)
		return -1;
	if (S_ISLNK(before->st_mode) &&
	    check_secret_link(before, &st, path, service, err, errlen) == -1)
		return -1;
	return check_secret_owner(&st, path, service, err, errlen);
}

/* Read at most max bytes; more is an error. */
static int
read_bounded(int fd, const char *path, char *buf, size_t max, size_t *len,
    char *err, size_t errlen)
{
	ssize_t		 n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + *len, max + 1 - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			return -1;
		}
	}
}

/* Add one trimmed line, prefixed; scratch holds strlen(prefix) + SECRET_MAX bytes. */
static int
add_secret(struct credset *set, const char *prefix, const char *line, size_t len,
    char *scratch)
{
	size_t		 plen = strlen(prefix);

	memcpy(scratch, prefix, plen);
	memcpy(scratch + plen, line, len);
	return credset_add(set, scratch, plen + len);
}

/* Every non-empty line of buf is a secret. Says where a line is wrong, never what it holds. */
static int
add_secret_lines(struct credset *set, const char *path, const char *prefix,
    const char *buf, size_t len, char *scratch, char *err, size_t errlen)
{
	const char	*line, *end, *nl;
	size_t		 lineno = 0, added = 0;

	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL)
			nl = buf + len;
		for (end = nl; end > line && strchr(BLANKS "\r", end[-1]) != NULL; end--)
			;
		while (line < end && strchr(BLANKS "\r", *line) != NULL)
			line++;
		if (line == end)
			continue;
		if ((size_t)(end - line) > SECRET_MAX || memchr(line, '\0', (size_t)(end - line))) {
			snprintf(err, errlen, "%s: line %zu: not a secret (NUL byte, or longer "
			    "than %d bytes)", path, lineno, SECRET_MAX);
			return -1;
		}
		if (add_secret(set, prefix, line, (size_t)(end - line), scratch) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		added++;
	}
	if (added == 0) {
		snprintf(err, errlen, "%s: no secret in it", path);
		return -1;
	}
	return 0;
}

/* Read and hash the secrets of an open file; plaintext is wiped before returning. */
static int
load_secrets_fd(struct credset *set, int fd, const char *path, const char *prefix,
    char *err, size_t errlen)
{
	char		*buf, *scratch;
	size_t		 len, scratchlen = strlen(prefix) + SECRET_MAX;
	int		 rc = -1;

	buf = malloc(SECRET_FILE_MAX + 1);
	scratch = malloc(scratchlen);
	if (buf == NULL || scratch == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		free(scratch);
		return -1;
	}
	if (read_bounded(fd, path, buf, SECRET_FILE_MAX, &len, err, errlen) == 0)
		rc = add_secret_lines(set, path, prefix, buf, len, scratch, err, errlen);
	OPENSSL_cleanse(buf, SECRET_FILE_MAX + 1);
	OPENSSL_cleanse(scratch, scratchlen);
	free(buf);
	free(scratch);
	return rc;
}

int
credset_load_file(struct credset *set, const char *path, const char *prefix,
    const struct file_owner *service, char *err, size_t errlen)
{
	struct stat	 before;
	int		 fd, rc;

	/* O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it. */
	if (lstat(path, &before) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		/* No path: a mistyped one may be a secret pasted at the wrong key. */
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = check_secret_file(fd, path, &before, service, err, errlen);
	if (rc == 0)
		rc = load_secrets_fd(set, fd, path, prefix != NULL ? prefix : "",
		    err, errlen);
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "%s: close: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* --- a request's credential ---------------------------------------------------------- */

/*
 * "Scheme credential": the scheme case-insensitive, one or more spaces, then a
 * credential with no blank in or after it. Returns the credential, or NULL.
 */
static const char *
credential_after(const char *authz, const char *scheme)
{
	size_t		 n = strlen(scheme);
	const char	*cred;

	if (authz == NULL || strncasecmp(authz, scheme, n) != 0 || authz[n] != ' ')
		return NULL;
	cred = authz + n + strspn(authz + n, " ");
	if (*cred == '\0' || strpbrk(cred, BLANKS "\r\n") != NULL)
		return NULL;
	return cred;
}

/*
 * Strict base64 (RFC 4648 §4): the alphabet only, length a multiple of 4, at most two
 * '=' and only at the end. Returns the decoded length, or -1.
 */
static int
base64_decode(const char *in, unsigned char *out, size_t outlen)
{
	size_t		 len = strlen(in), data, pad;
	int		 n;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > outlen)
		return -1;
	data = strspn(in, B64_ALPHABET);
	pad = len - data;
	if (pad > 2 || strspn(in + data, "=") != pad)
		return -1;
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len)) < 0)
		return -1;
	return n - (int)pad;	/* EVP_DecodeBlock counts padding as zero bytes */
}

static bool
permits_any(const struct credset *creds, const char *authz, const char *custom_header)
{
	(void)creds;
	(void)authz;
	(void)custom_header;
	return true;
}

static bool
permits_basic(const struct credset *creds, const char *authz, const char *custom_header)
{
	unsigned char	 plain[AUTHZ_B64_MAX / 4 * 3];
	const char	*cred;
	int		 n;
	bool		 match;

	(void)custom_header;
	if ((cred = credential_after(authz, "Basic")) == NULL)
		return false;
	/* Wiped on every path: a failed decoding may have written some of it. */
	n = base64_decode(cred, plain, sizeof(plain));
	match = n > 0 && credset_match(creds, plain, (size_t)n);
	OPENSSL_cleanse(plain, sizeof(plain));
	return match;
}

static bool
permits_bearer(const struct credset *creds, const char *authz, const char *custom_header)
{
	const char	*token;

	(void)custom_header;
	if ((token = credential_after(authz, "Bearer")) == NULL)
		return false;
	return credset_match(creds, token, strlen(token));
}

static bool
permits_header(const struct credset *creds, const char *authz, const char *custom_header)
{
	(void)authz;
	if (custom_header == NULL || custom_header[0] == '\0')
		return false;
	return credset_match(creds, custom_header, strlen(custom_header));
}

static const struct scheme schemes[] = {
	{ AUTH_NONE,	NULL,						permits_any },
	{ AUTH_BASIC,	"Basic realm=\"idwise-fcgi\", charset=\"UTF-8\"",	permits_basic },
	{ AUTH_BEARER,	"Bearer realm=\"idwise-fcgi\"",			permits_bearer },
	{ AUTH_HEADER,	NULL,						permits_header },
};

static const struct scheme *
scheme_of(enum auth_kind kind)
{
	size_t		 i;

	for (i = 0; i < nitems(schemes); i++)
		if (schemes[i].kind == kind)
			return &schemes[i];
	return NULL;
}

bool
auth_permits(const struct config *cfg, const char *authz, const char *custom_header)
{
	const struct scheme	*s = scheme_of(cfg->auth);

	if (s == NULL)
		return false;
	return s->permits(cfg->creds, authz, custom_header);
}

const char *
auth_challenge(const struct config *cfg)
{
	const struct scheme	*s = scheme_of(cfg->auth);

	return s != NULL ? s->challenge : NULL;
}
