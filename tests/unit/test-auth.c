/* SPDX-License-Identifier: ISC */
/* test-auth.c: credential sets, secret files and the check of each auth kind. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "auth.h"
#include "tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/test-auth-XXXXXX";
static struct file_owner self;		/* the service: this process's user and group */

static void
test_credset(void)
{
	struct credset	*set;

	set = credset_new();
	ok(set != NULL, "credset_new");
	is_int(credset_count(set), 0, "new credset is empty");
	ok(!credset_match(set, "alpha", 5), "empty credset matches nothing");
	is_int(credset_add(set, "alpha", 5), 0, "credset_add alpha");
	is_int(credset_count(set), 1, "one secret");
	ok(credset_match(set, "alpha", 5), "alpha matches");
	ok(!credset_match(set, "alph", 4), "prefix of alpha does not match");
	ok(!credset_match(set, "alphaa", 6), "alpha plus a byte does not match");
	ok(!credset_match(set, "Alpha", 5), "alpha in another case does not match");
	ok(!credset_match(set, "", 0), "empty value does not match");
	ok(!credset_match(set, NULL, 0), "NULL value does not match");
	is_int(credset_add(set, "beta", 4), 0, "credset_add beta (rotation)");
	is_int(credset_count(set), 2, "two secrets");
	ok(credset_match(set, "alpha", 5), "old secret still matches");
	ok(credset_match(set, "beta", 4), "new secret matches");
	ok(!credset_match(set, "gamma", 5), "other secret does not match");
	ok(!credset_match(NULL, "alpha", 5), "NULL credset matches nothing");
	is_int(credset_count(NULL), 0, "NULL credset counts 0");
	credset_free(set);
	credset_free(NULL);
	ok(1, "credset_free(NULL) is harmless");
}

/* tmpdir/name with the content, chmod'ed to mode; returns a static path. */
static const char *
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char	 path[512];
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) == -1 ||
	    close(fd) == -1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

static const char *
write_text(const char *name, const char *text, mode_t mode)
{
	return write_file(name, text, strlen(text), mode);
}

/* Load a secret file into a new set; NULL and err filled on error. */
static struct credset *
load(const char *path, const char *prefix, char *err, size_t errlen)
{
	struct credset	*set = credset_new();

	err[0] = '\0';
	if (credset_load_file(set, path, prefix, &self, err, errlen) == -1) {
		credset_free(set);
		return NULL;
	}
	return set;
}

static void
test_credset_load_modes(void)
{
	static const struct {
		mode_t		 mode;
		bool		 accepted;
		const char	*why;
	} modes[] = {
		{ 0600, true,  NULL },
		{ 0400, true,  NULL },
		{ 0640, true,  NULL },
		{ 0440, true,  NULL },
		{ 0700, true,  NULL },
		{ 0644, false, "readable by others (mode 0644); make it 0600 or 0640" },
		{ 0604, false, "readable by others (mode 0604)" },
		{ 0602, false, "writable by others (mode 0602)" },
		{ 0601, false, "executable by others (mode 0601)" },
		{ 0660, false, "writable by its group (mode 0660)" },
		{ 0666, false, "readable by others (mode 0666)" },
	};
	struct credset	*set;
	char		 err[512];
	const char	*path;
	size_t		 i;

	for (i = 0; i < nitems(modes); i++) {
		path = write_text("mode-token", "tok-mode-secret\n", modes[i].mode);
		set = load(path, NULL, err, sizeof(err));
		ok((set != NULL) == modes[i].accepted, "secret file mode %04o %s",
		    (unsigned int)modes[i].mode, modes[i].accepted ? "accepted" : "refused");
		if (modes[i].accepted)
			ok(credset_match(set, "tok-mode-secret", 15), "mode %04o: token loaded",
			    (unsigned int)modes[i].mode);
		else
			ok(strncmp(err, path, strlen(path)) == 0 &&
			    strstr(err, modes[i].why) != NULL, "mode %04o: error says %s: %s",
			    (unsigned int)modes[i].mode, modes[i].why, err);
		ok(strstr(err, "tok-mode-secret") == NULL, "mode %04o: no secret in error",
		    (unsigned int)modes[i].mode);
		credset_free(set);
	}
}

static void
test_credset_load_lines(void)
{
	struct credset	*set;
	char		 err[512], *big;
	const char	*path;
	char		 link[600];

	path = write_text("lines", "  tok-one \t\r\n\n \t\r\ntok-two\r\ntok-three", 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set != NULL, "file with blanks, CRLF, empty lines and no final newline loads");
	is_int(credset_count(set), 3, "three secrets");
	ok(credset_match(set, "tok-one", 7), "surrounding blanks trimmed");
	ok(credset_match(set, "tok-two", 7), "CR trimmed");
	ok(credset_match(set, "tok-three", 9), "last line without newline");
	ok(!credset_match(set, " tok-one", 8), "untrimmed value does not match");
	ok(!credset_match(set, "", 0), "empty line is no secret");
	credset_free(set);

	path = write_text("inner", "two words\n", 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set != NULL && credset_match(set, "two words", 9), "inner blanks are kept");
	credset_free(set);

	path = write_text("prefixed", "pw-one\npw-two\n", 0600);
	set = load(path, "alice:", err, sizeof(err));
	ok(set != NULL && credset_match(set, "alice:pw-one", 12) &&
	    credset_match(set, "alice:pw-two", 12), "prefix put before every secret");
	ok(!credset_match(set, "pw-one", 6), "secret without prefix does not match");
	credset_free(set);

	path = write_text("empty", " \n\t\r\n\n", 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "no secret") != NULL, "blank file refused: %s", err);

	path = write_text("zero", "", 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "no secret") != NULL, "empty file refused: %s", err);

	big = malloc(70000);
	memset(big, 'a', 70000);
	path = write_file("long-line", big, 4097, 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "line 1") != NULL, "secret of 4097 bytes refused: %s",
	    err);
	ok(strstr(err, "aaaa") == NULL, "long secret not in error");
	path = write_file("max-line", big, 4096, 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set != NULL && credset_match(set, big, 4096), "secret of 4096 bytes accepted");
	credset_free(set);
	memset(big, '\n', 70000);
	big[0] = 'x';
	path = write_file("huge", big, 70000, 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "larger than 65536") != NULL,
	    "file over 64 KiB refused: %s", err);
	free(big);

	path = write_file("nul", "ab\0cd\n", 6, 0600);
	set = load(path, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "line 1") != NULL, "NUL byte in secret refused");

	path = write_text("target", "tok-linked\n", 0600);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	unlink(link);
	if (symlink(path, link) == -1)
		printf("# symlink: %s\n", strerror(errno));
	set = load(link, NULL, err, sizeof(err));
	ok(set != NULL && credset_match(set, "tok-linked", 10), "symlink followed");
	credset_free(set);
	unlink(link);

	set = load(tmpdir, NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "not a regular file") != NULL, "directory refused: %s",
	    err);
	set = load("/nonexistent/secret", NULL, err, sizeof(err));
	ok(set == NULL && strcmp(err, "cannot open: No such file or directory") == 0,
	    "missing file refused, its path (maybe a pasted secret) not repeated: %s", err);
	set = load("/dev/null", NULL, err, sizeof(err));
	ok(set == NULL && strstr(err, "not a regular file") != NULL, "device refused: %s",
	    err);
}

/* Accounts that are not this process's: only root can give files to them. */
#define OTHER_UID	12345
#define OTHER_GID	12345
#define THIRD_UID	23456
#define THIRD_GID	23456

/* A secret file in tmpdir owned by uid:gid (lchown: a link itself when it is one). */
static const char *
owned_file(const char *name, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
	const char	*path = write_text(name, text, mode);

	if (lchown(path, uid, gid) == -1)
		printf("# lchown %s: %s\n", path, strerror(errno));
	return path;
}

/* A symlink tmpdir/name to target, owned by uid. */
static const char *
owned_link(const char *name, const char *target, uid_t uid)
{
	static char	 link[600];

	snprintf(link, sizeof(link), "%s/%s", tmpdir, name);
	unlink(link);
	if (symlink(target, link) == -1 || lchown(link, uid, (gid_t)-1) == -1)
		printf("# symlink %s: %s\n", link, strerror(errno));
	return link;
}

/* Load with service as the service's account. */
static struct credset *
load_as(const char *path, const struct file_owner *service, char *err, size_t errlen)
{
	struct credset	*set = credset_new();

	err[0] = '\0';
	if (credset_load_file(set, path, NULL, service, err, errlen) == -1) {
		credset_free(set);
		return NULL;
	}
	return set;
}

/* refused(set, err, path, why): refused, saying why, naming path, with no secret in it. */
static void
refused(struct credset *set, const char *err, const char *path, const char *why,
    const char *desc)
{
	ok(set == NULL, "%s: refused", desc);
	ok(strncmp(err, path, strlen(path)) == 0 && strstr(err, why) != NULL,
	    "%s: one line naming the file and saying \"%s\": %s", desc, why, err);
	ok(strstr(err, "SECRET") == NULL && strchr(err, '\n') == NULL,
	    "%s: no secret, one line", desc);
	credset_free(set);
}

static void
test_credset_load_owners(void)
{
	const struct file_owner	 other = { OTHER_UID, OTHER_GID };
	struct credset		*set;
	char			 err[512];
	const char		*path;

	if (geteuid() != 0) {
		ok(1, "# SKIP owners: only root can give files away");
		return;
	}
	path = owned_file("foreign", "tok-SECRET-foreign\n", 0600, THIRD_UID, THIRD_GID);
	refused(load_as(path, &self, err, sizeof(err)), err, path,
	    "owned by uid 23456; a secret file must be root's or the service user's",
	    "a file of another user");
	refused(load_as(path, &other, err, sizeof(err)), err, path, "owned by uid 23456",
	    "a file of a third user, with --user another");

	path = owned_file("service", "tok-SECRET-service\n", 0600, OTHER_UID, OTHER_GID);
	set = load_as(path, &other, err, sizeof(err));
	ok(set != NULL && credset_match(set, "tok-SECRET-service", 18),
	    "a file of the service's user is accepted: %s", err);
	credset_free(set);
	refused(load_as(path, &self, err, sizeof(err)), err, path, "owned by uid 12345",
	    "the same file, the service being root");

	path = owned_file("rootfile", "tok-SECRET-root\n", 0600, 0, 0);
	set = load_as(path, &other, err, sizeof(err));
	ok(set != NULL, "a file of root's is accepted for another service user: %s", err);
	credset_free(set);

	path = owned_file("group", "tok-SECRET-group\n", 0640, 0, THIRD_GID);
	refused(load_as(path, &other, err, sizeof(err)), err, path,
	    "readable by the group gid 23456, not root's nor the service's, gid 12345",
	    "0640 with a group not the service's");
	path = owned_file("group", "tok-SECRET-group\n", 0640, 0, OTHER_GID);
	set = load_as(path, &other, err, sizeof(err));
	ok(set != NULL, "0640 root:the service's group is accepted: %s", err);
	credset_free(set);
	path = owned_file("group", "tok-SECRET-group\n", 0600, 0, THIRD_GID);
	set = load_as(path, &other, err, sizeof(err));
	ok(set != NULL, "0600 with any group is accepted (the group cannot read it): %s", err);
	credset_free(set);
}

static void
test_credset_load_links(void)
{
	const struct file_owner	 other = { OTHER_UID, OTHER_GID };
	struct credset		*set;
	struct stat		 st;
	char			 err[512], target[600];
	const char		*link;

	if (geteuid() != 0) {
		ok(1, "# SKIP links: only root can give links away");
		return;
	}
	snprintf(target, sizeof(target), "%s",
	    owned_file("root-target", "tok-SECRET-root\n", 0600, 0, 0));
	link = owned_link("link-of-service", target, OTHER_UID);
	refused(load_as(link, &other, err, sizeof(err)), err, link,
	    "a symlink owned by uid 12345 to a file owned by root (uid 0)",
	    "the service user's link to a root file");
	link = owned_link("link-of-third", target, THIRD_UID);
	refused(load_as(link, &other, err, sizeof(err)), err, link,
	    "a symlink owned by uid 23456; a secret file's link must be root's",
	    "a third user's link");
	link = owned_link("link-of-root", target, 0);
	set = load_as(link, &other, err, sizeof(err));
	ok(set != NULL, "root's link to root's file is followed: %s", err);
	credset_free(set);

	snprintf(target, sizeof(target), "%s",
	    owned_file("service-target", "tok-SECRET-own\n", 0600, OTHER_UID, OTHER_GID));
	link = owned_link("link-to-own", target, OTHER_UID);
	set = load_as(link, &other, err, sizeof(err));
	ok(set != NULL && credset_match(set, "tok-SECRET-own", 14),
	    "the service user's link to its own file is followed: %s", err);
	credset_free(set);
	link = owned_link("root-link-to-service", target, 0);
	set = load_as(link, &other, err, sizeof(err));
	ok(set != NULL, "root's link to the service user's file is followed: %s", err);
	credset_free(set);

	snprintf(target, sizeof(target), "%s",
	    owned_file("third-target", "tok-SECRET-third\n", 0600, THIRD_UID, THIRD_GID));
	link = owned_link("root-link-to-third", target, 0);
	refused(load_as(link, &other, err, sizeof(err)), err, link, "owned by uid 23456",
	    "root's link to a third user's file");

	/* The finding: a link to /etc/shadow gave "28 tokens". */
	if (stat("/etc/shadow", &st) == -1 || st.st_gid == 0) {
		ok(1, "# SKIP no /etc/shadow of group shadow here");
		return;
	}
	link = owned_link("shadow", "/etc/shadow", 0);
	refused(load_as(link, &self, err, sizeof(err)), err, link, "readable by the group",
	    "root's link to /etc/shadow, as root");
	ok(strstr(err, "root:") == NULL && strstr(err, "line") == NULL,
	    "nothing of /etc/shadow in the error");
	link = owned_link("shadow", "/etc/shadow", OTHER_UID);
	refused(load_as(link, &other, err, sizeof(err)), err, link,
	    "a symlink owned by uid 12345 to a file owned by root",
	    "the service user's link to /etc/shadow");
}

/* "Basic " + base64(user:password), in a static buffer. */
static const char *
basic(const char *scheme, const char *userpass, const char *after)
{
	static char	 buf[512];
	unsigned char	 b64[256];

	EVP_EncodeBlock(b64, (const unsigned char *)userpass, (int)strlen(userpass));
	snprintf(buf, sizeof(buf), "%s%s%s", scheme, (char *)b64, after);
	return buf;
}

static void
test_basic(void)
{
	struct config	 cfg;
	char		 nopad[64];

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth = AUTH_BASIC;
	cfg.creds = credset_new();
	credset_add(cfg.creds, "alice:s3cret!", 13);
	credset_add(cfg.creds, "alice:n3w-pw", 12);

	ok(auth_permits(&cfg, basic("Basic ", "alice:s3cret!", ""), NULL),
	    "basic: correct credential");
	ok(auth_permits(&cfg, basic("Basic ", "alice:n3w-pw", ""), NULL),
	    "basic: second password (rotation)");
	ok(auth_permits(&cfg, "Basic YWxpY2U6czNjcmV0IQ==", NULL),
	    "basic: literal base64 with padding");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:wrong", ""), NULL),
	    "basic: wrong password");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret", ""), NULL),
	    "basic: password prefix");
	ok(!auth_permits(&cfg, basic("Basic ", "bob:s3cret!", ""), NULL),
	    "basic: wrong user");
	ok(!auth_permits(&cfg, basic("Basic ", "s3cret!", ""), NULL),
	    "basic: password alone");
	ok(auth_permits(&cfg, basic("basic ", "alice:s3cret!", ""), NULL),
	    "basic: lower-case scheme");
	ok(auth_permits(&cfg, basic("BASIC ", "alice:s3cret!", ""), NULL),
	    "basic: upper-case scheme");
	ok(auth_permits(&cfg, basic("Basic   ", "alice:s3cret!", ""), NULL),
	    "basic: several spaces after scheme");
	ok(!auth_permits(&cfg, basic("", "alice:s3cret!", ""), NULL),
	    "basic: missing scheme");
	ok(!auth_permits(&cfg, basic("Bearer ", "alice:s3cret!", ""), NULL),
	    "basic: other scheme");
	ok(!auth_permits(&cfg, basic("Basic\t", "alice:s3cret!", ""), NULL),
	    "basic: tab instead of space");
	ok(!auth_permits(&cfg, basic("Basicx ", "alice:s3cret!", ""), NULL),
	    "basic: longer scheme word");
	ok(!auth_permits(&cfg, basic("Basic", "alice:s3cret!", ""), NULL),
	    "basic: no space after scheme");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret!", " "), NULL),
	    "basic: trailing space");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret!", " x"), NULL),
	    "basic: trailing garbage after a space");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret!", "x"), NULL),
	    "basic: trailing garbage");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret!", "="), NULL),
	    "basic: extra padding");
	ok(!auth_permits(&cfg, basic("Basic ", "alice:s3cret!", "AAAA"), NULL),
	    "basic: extra block");
	snprintf(nopad, sizeof(nopad), "%s", basic("Basic ", "alice:s3cret!", ""));
	nopad[strlen(nopad) - 2] = '\0';
	ok(!auth_permits(&cfg, nopad, NULL), "basic: padding stripped");
	ok(!auth_permits(&cfg, "Basic YWxpY2U6czNj!mV0IQ==", NULL),
	    "basic: invalid base64 character");
	ok(!auth_permits(&cfg, "Basic YWxpY2U6czNjcmV0IQ=A", NULL),
	    "basic: padding in the middle");
	ok(!auth_permits(&cfg, "Basic ====", NULL), "basic: padding only");
	ok(!auth_permits(&cfg, "Basic YWxp Y2U6czNjcmV0IQ==", NULL),
	    "basic: space inside the credential");
	ok(!auth_permits(&cfg, "Basic YWxpY2U6czNjcmV0IQ==\n", NULL),
	    "basic: newline after the credential");
	ok(!auth_permits(&cfg, "Basic ", NULL), "basic: scheme only");
	ok(!auth_permits(&cfg, "Basic", NULL), "basic: scheme word only");
	ok(!auth_permits(&cfg, "", NULL), "basic: empty header");
	ok(!auth_permits(&cfg, NULL, NULL), "basic: no header");
	ok(!auth_permits(&cfg, NULL, "alice:s3cret!"), "basic: custom header ignored");
	is_str(auth_challenge(&cfg), "Basic realm=\"idwise-fcgi\", charset=\"UTF-8\"",
	    "basic: challenge");
	credset_free(cfg.creds);
}

static void
test_bearer(void)
{
	struct config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth = AUTH_BEARER;
	cfg.creds = credset_new();
	credset_add(cfg.creds, "tok-123.abc_DEF~+/=", 19);

	ok(auth_permits(&cfg, "Bearer tok-123.abc_DEF~+/=", NULL), "bearer: correct token");
	ok(auth_permits(&cfg, "bearer tok-123.abc_DEF~+/=", NULL),
	    "bearer: lower-case scheme");
	ok(auth_permits(&cfg, "BEARER  tok-123.abc_DEF~+/=", NULL),
	    "bearer: upper-case scheme, two spaces");
	ok(!auth_permits(&cfg, "Bearer tok-123.abc_DEF~+/", NULL), "bearer: token prefix");
	ok(!auth_permits(&cfg, "Bearer tok-123.abc_DEF~+/==", NULL), "bearer: token suffix");
	ok(!auth_permits(&cfg, "Bearer TOK-123.ABC_DEF~+/=", NULL), "bearer: token other case");
	ok(!auth_permits(&cfg, "Bearer tok-123.abc_DEF~+/= ", NULL),
	    "bearer: extra trailing space");
	ok(!auth_permits(&cfg, "Bearer  tok-123.abc_DEF~+/= x", NULL),
	    "bearer: trailing word");
	ok(!auth_permits(&cfg, "Basic tok-123.abc_DEF~+/=", NULL), "bearer: wrong scheme");
	ok(!auth_permits(&cfg, "Token tok-123.abc_DEF~+/=", NULL), "bearer: unknown scheme");
	ok(!auth_permits(&cfg, "tok-123.abc_DEF~+/=", NULL), "bearer: token without scheme");
	ok(!auth_permits(&cfg, "Bearertok-123.abc_DEF~+/=", NULL),
	    "bearer: no space after scheme");
	ok(!auth_permits(&cfg, "Bearer ", NULL), "bearer: scheme only");
	ok(!auth_permits(&cfg, "", NULL), "bearer: empty header");
	ok(!auth_permits(&cfg, NULL, NULL), "bearer: no header");
	ok(!auth_permits(&cfg, NULL, "tok-123.abc_DEF~+/="), "bearer: custom header ignored");
	is_str(auth_challenge(&cfg), "Bearer realm=\"idwise-fcgi\"", "bearer: challenge");
	credset_free(cfg.creds);
}

static void
test_header(void)
{
	struct config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth = AUTH_HEADER;
	cfg.creds = credset_new();
	credset_add(cfg.creds, "v4lue-Of-Header", 15);
	credset_add(cfg.creds, "second value", 12);

	ok(auth_permits(&cfg, NULL, "v4lue-Of-Header"), "header: exact value");
	ok(auth_permits(&cfg, NULL, "second value"), "header: second value (rotation)");
	ok(auth_permits(&cfg, "Bearer x", "v4lue-Of-Header"),
	    "header: Authorization ignored");
	ok(!auth_permits(&cfg, NULL, "v4lue-of-header"), "header: other case");
	ok(!auth_permits(&cfg, NULL, "v4lue-Of-Heade"), "header: prefix");
	ok(!auth_permits(&cfg, NULL, "v4lue-Of-Header!"), "header: suffix");
	ok(!auth_permits(&cfg, NULL, " v4lue-Of-Header"), "header: leading space");
	ok(!auth_permits(&cfg, NULL, "v4lue-Of-Header "), "header: trailing space");
	ok(!auth_permits(&cfg, NULL, "Bearer v4lue-Of-Header"), "header: with a scheme");
	ok(!auth_permits(&cfg, "v4lue-Of-Header", NULL), "header: value in Authorization");
	ok(!auth_permits(&cfg, NULL, ""), "header: empty");
	ok(!auth_permits(&cfg, NULL, NULL), "header: missing");
	ok(auth_challenge(&cfg) == NULL, "header: no challenge");
	credset_free(cfg.creds);
}

static void
test_none(void)
{
	struct config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth = AUTH_NONE;
	ok(auth_permits(&cfg, NULL, NULL), "none: no credential needed");
	ok(auth_permits(&cfg, "Basic Zm9vOmJhcg==", "x"), "none: any credential ignored");
	ok(auth_challenge(&cfg) == NULL, "none: no challenge");

	cfg.auth = AUTH_BEARER;
	ok(!auth_permits(&cfg, "Bearer x", NULL), "bearer without a credset refuses");
}

static void
remove_tmpdir(void)
{
	char	 cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int
main(void)
{
	self.uid = geteuid();
	self.gid = getegid();
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_credset();
	test_credset_load_modes();
	test_credset_load_lines();
	test_credset_load_owners();
	test_credset_load_links();
	test_basic();
	test_bearer();
	test_header();
	test_none();
	remove_tmpdir();
	return done_testing();
}
