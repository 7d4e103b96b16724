/* SPDX-License-Identifier: ISC */
/*
 * fuzz-request.c: the pure core from request to reply and record. One input is
 *
 *	byte 0		which of the fixed configs below (modulo their number)
 *	byte 1		bit 0: CONTENT_LENGTH is the body's real length (the field is ignored);
 *			bits 1-2: a 200 is accepted, duplicate or conflict
 *	byte 2		bit i: parameter i is present (else NULL)
 *	bytes 3-10	seq of the record (little endian, folded into 1..INT64_MAX)
 *	bytes 11-14	its received time, seconds since 1970; bytes 15-16: milliseconds
 *	then		six NUL-terminated parameters: REQUEST_METHOD, CONTENT_LENGTH,
 *			CONTENT_TYPE, REMOTE_ADDR, HTTP_AUTHORIZATION, the custom header
 *	the rest	the body
 *
 * It runs decide_head() and decide_body() as the handler does (the body cut to what the
 * handler would read), formats the reply, and for an accepted event builds the record line
 * and reads it back. Every step is held against an oracle written from the man pages' tables
 * without the core's code: the reply code, row by row; the body against fuzz/refjson.c; the
 * event's fields; the line read back giving the same seq, id, prev, time and body digest;
 * a reply that is whole, JSON and free of every configured secret.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "auth.h"
#include "config.h"
#include "decide.h"
#include "fuzz.h"
#include "idwise.h"
#include "log-check.h"
#include "record.h"
#include "refjson.h"
#include "reply.h"
#include "util.h"

#define TOKEN_A		"tok-Alpha-7f3c9e1d"
#define TOKEN_B		"tok-Beta-0a8b4c2e"
#define BASIC_USER	"idwise"
#define PASSWORD	"pw-Gamma-55d1e0f3"
#define HEADER_VALUE	"hv-Delta-9e7a3b61"
#define NPARAMS		6
#define HEAD_BYTES	17
#define MAX_DEPTH	32

enum allow_kind { ALLOW_ANY, ALLOW_LOCAL, ALLOW_TEN };

/* The fixed configs an input chooses from. */
static const struct fixture {
	const char	*text;
	enum allow_kind	 allow;
	size_t		 max_body;
	bool		 reject_unknown;
} fixtures[] = {
	{ "auth = none\nenv = fuzz0\n", ALLOW_ANY, 65536, false },
	{ "auth = bearer\nbearer_token_file = /fuzz/tokens\n"
	  "allow_from = 127.0.0.1, ::1, 192.0.2.0/24\nunknown_events = reject\n",
	  ALLOW_LOCAL, 65536, true },
	{ "auth = basic\nbasic_user = " BASIC_USER "\nbasic_password_file = /fuzz/pw\n"
	  "max_body = 4096\n", ALLOW_ANY, 4096, false },
	{ "auth = header\nheader_name = X-IDWise-Token\nheader_value_file = /fuzz/hv\n"
	  "allow_from = 10.0.0.0/8, 2001:db8::/32\nmax_body = 512\n", ALLOW_TEN, 512, false },
	{ "auth = bearer\nbearer_token_file = /fuzz/tokens\nmax_body = 64\n"
	  "unknown_events = reject\n", ALLOW_ANY, 64, true },
};

#define NFIXTURES	(sizeof(fixtures) / sizeof(fixtures[0]))

static struct config	 configs[NFIXTURES];
static char		 basic_b64[64];
static const char	*secrets[7];

/* IDWise event names and their types (idwise-events(5), the type member). */
static const char *const type_table[][2] = {
	{ "Finished Step", "finished_step" },
	{ "Finished User Steps", "finished_user_steps" },
	{ "Finished Journey", "finished_journey" },
	{ "Manually Reviewed", "manually_reviewed" },
	{ "Updated Journey", "updated_journey" },
	{ "AML Monitor Update", "aml_monitor_update" },
	{ "Finished Spot Check", "finished_spot_check" },
	{ "Verification Update Required", "verification_update_required" },
	{ "KYC Renewal Deadline Exceeded", "kyc_renewal_deadline_exceeded" },
	{ "Finished Ongoing Check", "finished_spot_check" },
	{ "Step Submitted", "step_submitted" },
};

/* The outcome (idwise-events(5)). */
static const char *const outcome_table[][2] = {
	{ "Complete", "approved" }, { "Approved", "approved" }, { "Passed", "approved" },
	{ "Rejected", "rejected" }, { "Refer", "review" }, { "Incomplete", "pending" },
	{ "Resubmission Requested", "resubmission" },
};

struct input {
	const struct fixture	*fx;
	struct config		*cfg;
	bool			 auto_length;
	int			 ok_kind;	/* 0 accepted, 1 duplicate, 2 conflict */
	uint64_t		 seq;
	struct timespec		 received;
	const char		*param[NPARAMS];
	const unsigned char	*body;
	size_t			 body_len;
	char			 length[32];
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[CONFIG_ERR_LEN];
	size_t	 i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NFIXTURES; i++) {
		if (config_parse(&configs[i], fixtures[i].text, strlen(fixtures[i].text),
		    "/fuzz/idwise-fcgi.conf", "/fuzz", err, sizeof(err)) == -1) {
			fprintf(stderr, "fixture %zu: %s\n", i, err);
			abort();
		}
		FUZZ_CHECK(configs[i].max_body == fixtures[i].max_body, "fixture max_body");
		if (configs[i].auth == AUTH_NONE)
			continue;
		FUZZ_CHECK((configs[i].creds = credset_new()) != NULL, "credset_new");
		switch (configs[i].auth) {
		case AUTH_BEARER:
			credset_add(configs[i].creds, TOKEN_A, strlen(TOKEN_A));
			credset_add(configs[i].creds, TOKEN_B, strlen(TOKEN_B));
			break;
		case AUTH_BASIC:
			credset_add(configs[i].creds, BASIC_USER ":" PASSWORD,
			    strlen(BASIC_USER ":" PASSWORD));
			break;
		default:
			credset_add(configs[i].creds, HEADER_VALUE, strlen(HEADER_VALUE));
			break;
		}
	}
	EVP_EncodeBlock((unsigned char *)basic_b64, (const unsigned char *)BASIC_USER ":"
	    PASSWORD, (int)strlen(BASIC_USER ":" PASSWORD));
	secrets[0] = TOKEN_A;
	secrets[1] = TOKEN_B;
	secrets[2] = PASSWORD;
	secrets[3] = BASIC_USER ":" PASSWORD;
	secrets[4] = HEADER_VALUE;
	secrets[5] = basic_b64;
	secrets[6] = NULL;
	return 0;
}

static uint64_t
le_bytes(const uint8_t *p, int n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Split the input; -1 when it is too short to mean anything. */
static int
split_input(const uint8_t *data, size_t size, struct input *in)
{
	const uint8_t	*p, *end = data + size, *nul;
	int		 i;

	if (size < HEAD_BYTES)
		return -1;
	memset(in, 0, sizeof(*in));
	in->fx = &fixtures[data[0] % NFIXTURES];
	in->cfg = &configs[data[0] % NFIXTURES];
	in->auto_length = (data[1] & 1) != 0;
	in->ok_kind = (data[1] >> 1 & 3) % 3;
	in->seq = le_bytes(data + 3, 8) % INT64_MAX + 1;
	in->received.tv_sec = (time_t)le_bytes(data + 11, 4);
	in->received.tv_nsec = (long)(le_bytes(data + 15, 2) % 1000) * 1000000L;
	p = data + HEAD_BYTES;
	for (i = 0; i < NPARAMS; i++) {
		if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
			break;
		if ((data[2] >> i & 1) != 0)
			in->param[i] = (const char *)p;
		p = nul + 1;
	}
	in->body = p;
	in->body_len = (size_t)(end - p);
	if (in->auto_length) {
		snprintf(in->length, sizeof(in->length), "%zu", in->body_len);
		in->param[1] = in->length;
	}
	return 0;
}

/* --- the oracle: idwise-fcgi(8) "Checks and replies", row by row ---------------------- */

static bool
ref_v4_in(const unsigned char *a, const unsigned char *net, int bits)
{
	int	 full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

static bool
ref_source_ok(enum allow_kind kind, const char *addr)
{
	static const unsigned char	 mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	static const unsigned char	 lo4[4] = { 127, 0, 0, 1 }, test4[4] = { 192, 0, 2, 0 };
	static const unsigned char	 ten[4] = { 10, 0, 0, 0 };
	static const unsigned char	 lo6[16] = { 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1 };
	static const unsigned char	 doc6[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	unsigned char			 a[16];
	const unsigned char		*v4 = NULL;
	bool				 v6 = false;

	if (kind == ALLOW_ANY)
		return true;
	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, a) == 1)
		v4 = a;
	else if (inet_pton(AF_INET6, addr, a) == 1) {
		if (memcmp(a, mapped, sizeof(mapped)) == 0)
			v4 = a + 12;
		else
			v6 = true;
	} else
		return false;
	if (kind == ALLOW_LOCAL)
		return v4 != NULL ? memcmp(v4, lo4, 4) == 0 || ref_v4_in(v4, test4, 24) :
		    v6 && memcmp(a, lo6, 16) == 0;
	return v4 != NULL ? ref_v4_in(v4, ten, 8) : v6 && memcmp(a, doc6, 4) == 0;
}

/* "Scheme", case aside, one or more spaces, then the credential. */
static const char *
ref_after_scheme(const char *authz, const char *scheme)
{
	size_t	 n = strlen(scheme);

	if (authz == NULL || strncasecmp(authz, scheme, n) != 0 || authz[n] != ' ')
		return NULL;
	for (authz += n; *authz == ' '; authz++)
		;
	return authz;
}

/* Strict base64 (alphabet, groups of 4, up to two '=' at the end) into out; length or -1. */
static int
ref_base64(const char *in, unsigned char *out, size_t outlen)
{
	static const char	 alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 len = strlen(in), i, pad = 0, n = 0;
	uint32_t		 acc = 0;
	const char		*c;
	int			 bits = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	while (pad < len && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 2)
		return -1;
	for (i = 0; i < len - pad; i++) {
		if (in[i] == '\0' || (c = strchr(alpha, in[i])) == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(c - alpha);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (int)n;
}

static bool
ref_credential_ok(const struct config *cfg, const char *authz, const char *custom)
{
	unsigned char	 plain[256];
	const char	*cred;
	int		 n;

	switch (cfg->auth) {
	case AUTH_NONE:
		return true;
	case AUTH_BEARER:
		cred = ref_after_scheme(authz, "Bearer");
		return cred != NULL && (strcmp(cred, TOKEN_A) == 0 || strcmp(cred, TOKEN_B) == 0);
	case AUTH_BASIC:
		if ((cred = ref_after_scheme(authz, "Basic")) == NULL ||
		    (n = ref_base64(cred, plain, sizeof(plain))) == -1)
			return false;
		return (size_t)n == strlen(BASIC_USER ":" PASSWORD) &&
		    memcmp(plain, BASIC_USER ":" PASSWORD, (size_t)n) == 0;
	case AUTH_HEADER:
		return custom != NULL && strcmp(custom, HEADER_VALUE) == 0;
	}
	return false;
}

/* The head's reply; *want as the handler would read. */
static enum reply_code
ref_head(const struct input *in, size_t *want)
{
	const char		*cl = in->param[1];
	unsigned long long	 v;

	if (in->param[0] == NULL || strcmp(in->param[0], "POST") != 0)
		return REPLY_METHOD;
	if (!ref_source_ok(in->fx->allow, in->param[3]))
		return REPLY_FORBIDDEN;
	if (!ref_credential_ok(in->cfg, in->param[4], in->param[5]))
		return REPLY_UNAUTHORIZED;
	*want = BODY_LEN_UNKNOWN;
	if (cl == NULL || cl[0] == '\0' || strcmp(cl, "-1") == 0)
		return REPLY_CONTINUE;
	if (strspn(cl, "0123456789") != strlen(cl))
		return REPLY_BAD_LENGTH;
	errno = 0;
	v = strtoull(cl, NULL, 10);
	if (errno == ERANGE || v > in->fx->max_body)
		return REPLY_TOO_LARGE;
	*want = (size_t)v;
	return REPLY_CONTINUE;
}

/* Missing, empty, or application/json with parameters, spaces and case aside. */
static bool
ref_json_type(const char *t)
{
	char	 buf[64];
	size_t	 len, i;

	if (t == NULL)
		return true;
	t += strspn(t, " \t");
	if (*t == '\0')
		return true;
	len = strcspn(t, ";");
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	if (len != strlen("application/json"))
		return false;
	for (i = 0; i < len; i++)
		buf[i] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] + 32 : t[i]);
	return memcmp(buf, "application/json", len) == 0;
}

static const char *
ref_type(const struct refjson_top *top)
{
	size_t	 i;

	for (i = 0; i < sizeof(type_table) / sizeof(type_table[0]); i++)
		if (top->event_len == strlen(type_table[i][0]) &&
		    memcmp(top->event, type_table[i][0], top->event_len) == 0)
			return type_table[i][1];
	return NULL;
}

static enum reply_code
ref_body(const struct input *in, size_t want, size_t body_len, const char **type)
{
	struct refjson_top	 top;

	if (want != BODY_LEN_UNKNOWN && body_len < want)
		return REPLY_TRUNCATED;
	if (body_len > in->fx->max_body)
		return REPLY_TOO_LARGE;
	if (!ref_json_type(in->param[2]))
		return REPLY_MEDIA_TYPE;
	if (refjson_check(in->body, body_len, MAX_DEPTH, &top) == -1 || !top.object)
		return REPLY_BAD_JSON;
	if (!top.event_string || !top.body_object)
		return REPLY_NOT_ENVELOPE;
	*type = ref_type(&top);
	if (*type == NULL && in->fx->reject_unknown)
		return REPLY_UNKNOWN_EVENT;
	if (*type == NULL)
		*type = "unknown";
	return REPLY_ACCEPTED;
}

static json_object *
string_or_null(json_object *body, const char *name)
{
	json_object	*v;

	if (!json_object_object_get_ex(body, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return v;
}

static const char *
ref_outcome(json_object *body)
{
	static const char *const members[] = { "finalDecision", "manualDecision",
	    "systemDecision" };
	json_object	*v;
	size_t		 i, j;

	for (i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(body, members[i], &v) || v == NULL)
			continue;
		if (!json_object_is_type(v, json_type_string))
			return "unknown";
		for (j = 0; j < sizeof(outcome_table) / sizeof(outcome_table[0]); j++)
			if ((size_t)json_object_get_string_len(v) == strlen(outcome_table[j][0]) &&
			    memcmp(json_object_get_string(v), outcome_table[j][0],
			    strlen(outcome_table[j][0])) == 0)
				return outcome_table[j][1];
		return "unknown";
	}
	return "none";
}

static bool
same_string(json_object *a, json_object *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_object_get_string_len(a) == json_object_get_string_len(b) &&
	    memcmp(json_object_get_string(a), json_object_get_string(b),
	    (size_t)json_object_get_string_len(a)) == 0;
}

/* The event's fields against idwise-events(5). */
static void
check_event(const struct input *in, const struct event *ev, const unsigned char *body,
    size_t len, const char *type)
{
	unsigned char	 digest[SHA256_LEN];
	char		 hex[SHA256_HEX_LEN + 1], fallback[80];
	json_object	*eid, *journey;

	FUZZ_CHECK(strcmp(ev->type, type) == 0, "type from the event name");
	FUZZ_CHECK(strcmp(ev->outcome, ref_outcome(ev->body)) == 0, "outcome");
	sha256(body, len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	FUZZ_CHECK(strcmp(ev->body_sha256, hex) == 0, "body_sha256 of the raw body");
	eid = string_or_null(ev->body, "eventId");
	if (eid != NULL && json_object_get_string_len(eid) > 0)
		FUZZ_CHECK(same_string(ev->id, eid), "id is eventId");
	else {
		snprintf(fallback, sizeof(fallback), "sha256:%s", hex);
		FUZZ_CHECK(strcmp(json_object_get_string(ev->id), fallback) == 0,
		    "id is sha256: + the body's hash");
	}
	journey = string_or_null(ev->body, "journeyId");
	if (journey == NULL && strcmp(type, "finished_spot_check") == 0)
		journey = string_or_null(ev->body, "spotCheckJourneyId");
	FUZZ_CHECK(same_string(ev->journey_id, journey), "journey_id");
	FUZZ_CHECK(same_string(ev->reference_no, string_or_null(ev->body, "referenceNo")),
	    "reference_no");
	FUZZ_CHECK(ev->remote_addr == in->param[3], "remote_addr as given");
}

/* record_line, then the reader and the body digest on it: the same record comes back. */
static void
check_record(const struct input *in, const struct event *ev)
{
	static struct log_reader *reader;
	struct record_place	 at;
	struct log_record	 rec;
	struct record_view	*view = &rec.view;
	unsigned char		 prev[SHA256_LEN], digest[SHA256_LEN];
	json_object		*sha;
	char			 why[160], *line;
	size_t			 len = 0;

	memset(&at, 0, sizeof(at));
	at.seq = in->seq;
	sha256(in->body, in->body_len, prev);	/* any hash will do as the previous line's */
	hex_encode(prev, SHA256_LEN, at.prev);
	at.received = in->received;
	at.conflict = in->ok_kind == 2;
	FUZZ_CHECK((line = record_line(ev, &at, &len)) != NULL, "record_line");
	FUZZ_CHECK(len > 1 && line[len - 1] == '\n' && line[len] == '\0', "one whole line");
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL, "no newline inside the line");
	FUZZ_CHECK(refjson_check((const unsigned char *)line, len - 1, MAX_DEPTH + 1, NULL) == 0,
	    "the line is strict JSON");
	FUZZ_CHECK(reader != NULL || (reader = log_reader_new()) != NULL, "log_reader_new");
	if (log_record_read(reader, line, len - 1, &rec, why, sizeof(why)) == -1) {
		fprintf(stderr, "log_record_read: %s\n%s", why, line);
		abort();
	}
	FUZZ_CHECK(view->seq == in->seq, "seq read back");
	FUZZ_CHECK(strcmp(view->prev, at.prev) == 0, "prev read back");
	FUZZ_CHECK(view->received_ms == timespec_to_ms(&in->received), "received_at read back");
	FUZZ_CHECK(view->id_len == (size_t)json_object_get_string_len(ev->id) &&
	    memcmp(view->id, json_object_get_string(ev->id), view->id_len) == 0, "id read back");
	FUZZ_CHECK(strcmp(view->type, ev->type) == 0, "type read back");
	FUZZ_CHECK(strcmp(view->outcome, ev->outcome) == 0, "outcome read back");
	FUZZ_CHECK(view->conflict == at.conflict, "conflict read back");
	FUZZ_CHECK(record_body_digest(view, digest) == 0 &&
	    memcmp(digest, ev->body_digest, SHA256_LEN) == 0,
	    "body read back has the same canonical digest");
	FUZZ_CHECK(json_object_object_get_ex(view->json, "body_sha256", &sha) &&
	    strcmp(json_object_get_string(sha), ev->body_sha256) == 0, "body_sha256 read back");
	FUZZ_CHECK(record_follows(view, in->seq - 1, prev) == NULL, "follows its prev");
	FUZZ_CHECK(record_follows(view, in->seq, prev) != NULL, "does not follow itself");
	log_record_free(&rec);
	free(line);
}

/* The reply: whole, the status of the code, JSON of the right shape, no secret. */
static void
check_reply(const struct config *cfg, enum reply_code code, uint64_t seq, const char *detail)
{
	char		 buf[REPLY_MAX], status[32];
	const char	*body, *want;
	json_object	*obj, *v;
	size_t		 len, i;
	int		 http = reply_table[code].status;

	len = reply_format(cfg, code, seq, detail, buf);
	FUZZ_CHECK(len > 0 && len < REPLY_MAX - 1 && buf[len] == '\0', "reply not cut short");
	snprintf(status, sizeof(status), "Status: %d ", http);
	FUZZ_CHECK(strncmp(buf, status, strlen(status)) == 0, "Status line first");
	FUZZ_CHECK(strstr(buf, "\r\nContent-Type: application/json\r\n") != NULL,
	    "Content-Type: application/json");
	FUZZ_CHECK((body = strstr(buf, "\r\n\r\n")) != NULL, "blank line after the headers");
	body += 4;
	FUZZ_CHECK(buf[len - 1] == '\n', "body ends with a newline");
	FUZZ_CHECK(refjson_check((const unsigned char *)body, (size_t)(buf + len - 1 - body),
	    4, NULL) == 0, "reply body is strict JSON");
	FUZZ_CHECK((obj = json_tokener_parse(body)) != NULL, "reply body parses");
	if (http == 200) {
		want = code == REPLY_DUPLICATE ? "duplicate" : "accepted";
		FUZZ_CHECK(json_object_object_get_ex(obj, "status", &v) &&
		    strcmp(json_object_get_string(v), want) == 0, "status member");
		FUZZ_CHECK(json_object_object_get_ex(obj, "seq", &v) &&
		    (uint64_t)json_object_get_int64(v) == seq, "seq member");
	} else
		FUZZ_CHECK(json_object_object_length(obj) == 1 &&
		    json_object_object_get_ex(obj, "error", &v) &&
		    json_object_is_type(v, json_type_string), "{\"error\": string}");
	json_object_put(obj);
	FUZZ_CHECK((strstr(buf, "\r\nAllow: POST\r\n") != NULL) == (code == REPLY_METHOD),
	    "Allow: POST exactly on 405");
	FUZZ_CHECK((strstr(buf, "\r\nWWW-Authenticate: ") != NULL) == (code ==
	    REPLY_UNAUTHORIZED && (cfg->auth == AUTH_BASIC || cfg->auth == AUTH_BEARER)),
	    "WWW-Authenticate exactly on 401 of basic and bearer");
	for (i = 0; secrets[i] != NULL; i++)
		FUZZ_CHECK(strstr(buf, secrets[i]) == NULL, "no secret in the reply");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input	 in;
	struct request	 req;
	struct event	 ev;
	enum reply_code	 code, want_code;
	const char	*detail = NULL, *type = NULL;
	size_t		 want = 0, ref_want = 0, room;
	uint64_t	 seq = 0;

	if (split_input(data, size, &in) == -1)
		return 0;
	memset(&req, 0, sizeof(req));
	req.method = in.param[0];
	req.content_length = in.param[1];
	req.content_type = in.param[2];
	req.remote_addr = in.param[3];
	req.authorization = in.param[4];
	req.custom_header = in.param[5];
	code = decide_head(in.cfg, &req, &want);
	want_code = ref_head(&in, &ref_want);
	if (code != want_code)
		fprintf(stderr, "decide_head: %d, oracle: %d\n", code, want_code);
	FUZZ_CHECK(code == want_code, "decide_head's reply");
	if (code == REPLY_CONTINUE) {
		FUZZ_CHECK(want == ref_want, "body length to read");
		/* What the handler reads: want bytes, or up to max_body + 1. */
		room = want == BODY_LEN_UNKNOWN ? in.fx->max_body + 1 : want;
		req.body = in.body;
		req.body_len = in.body_len < room ? in.body_len : room;
		code = decide_body(in.cfg, &req, want, &ev, &detail);
		want_code = ref_body(&in, want, req.body_len, &type);
		if (code != want_code)
			fprintf(stderr, "decide_body: %d (%s), oracle: %d\n", code,
			    detail != NULL ? detail : "", want_code);
		FUZZ_CHECK(code == want_code, "decide_body's reply");
		if (code == REPLY_ACCEPTED) {
			check_event(&in, &ev, req.body, req.body_len, type);
			check_record(&in, &ev);
			event_free(&ev);
			code = in.ok_kind == 0 ? REPLY_ACCEPTED : in.ok_kind == 1 ?
			    REPLY_DUPLICATE : REPLY_CONFLICT;
			seq = in.seq;
		}
	}
	FUZZ_CHECK(code != REPLY_CONTINUE, "a reply was decided");
	check_reply(in.cfg, code, seq, detail);
	return 0;
}
